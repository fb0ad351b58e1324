{#-
    The select of a node table: the calling model's contract columns (key and
    properties, in its YAML) read from `staging_relation` and converted to
    their graph types. One row per source row, or with `one_node_per_key` one
    row per distinct non-null key (identity nodes such as IPAddress).
-#}
{% macro graph_node_select(staging_relation) -%}
    {%- set mapping = c360_mapping() -%}
    {%- set source_types = source_column_types(staging_relation) -%}
    {%- set distinct_keys = mapping.get('one_node_per_key', false) -%}
with

source_rows as (

    select * from {{ staging_relation }}

),

nodes as (

    select {{- " distinct" if distinct_keys }}
    {%- for column in model.columns.values() %}
        {%- set name = c360_column_name(column) %}
        {{ graph_column_expression(
            name, source_types.get(name), column.data_type
        ) }} as {{ c360_quote(name) }}
        {{- "," if not loop.last }}
    {%- endfor %}
    from source_rows
    {%- if distinct_keys %}
    where
    {%- for key in mapping.get('key_columns', []) %}
        {{ "and " if not loop.first }}{{ c360_quote(key) }} is not null
    {%- endfor %}
    {%- endif %}

)

select * from nodes
{%- endmacro %}
