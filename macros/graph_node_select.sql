{#-
    The select of a node table: the calling model's contract columns (key and
    properties, in its YAML) read from `staging_relation` and converted to
    their graph types. One row per source row, or with `one_node_per_key` one
    row per distinct non-null key (identity nodes such as IPAddress). A lone
    column sits on the select line, several on lines of their own (sqlfluff).
-#}
{% macro graph_node_select(staging_relation) -%}
    {#- the meta, the columns and the input tables exist only at execution -#}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set mapping = c360_mapping(['key_columns', 'one_node_per_key']) -%}
    {%- set source_types = source_column_types(staging_relation) -%}
    {%- set distinct_keys = mapping.one_node_per_key -%}
    {%- set select = "select distinct" if distinct_keys else "select" -%}
    {%- set columns = [] -%}
    {%- for name, graph_type in c360_contract_types().items() -%}
        {%- do columns.append([
            graph_column_expression(name, source_types.get(name), graph_type),
            c360_quote(name)
        ]) -%}
    {%- endfor -%}
with

source_rows as (

    select * from {{ staging_relation }}

),

nodes as (

    {{ select }}
    {%- if columns | length == 1 %} {{ c360_select_target(
        columns[0][0], columns[0][1], column=5 + select | length, indent=4
    ) }}
    {%- else %}
    {%- for expression, alias in columns %}
        {{ c360_select_target(expression, alias) }}{{ "," if not loop.last }}
    {%- endfor %}
    {%- endif %}
    from source_rows
    {%- if distinct_keys %}
    where
    {%- for key in mapping.key_columns %}
        {{ "and " if not loop.first }}{{ c360_quote(key) }} is not null
    {%- endfor %}
    {%- endif %}

)

select * from nodes
{%- endmacro %}
