{#-
    The select of a node table: the calling model's contract columns (key and
    properties, in its YAML) read from `staging_relation` and converted to
    their graph types. One row per source row, or with `one_node_per_key` one
    row per distinct non-null key (identity nodes such as IPAddress). Each of
    `extension_relations` (the label's property extensions, in the order of
    meta.c360.extensions) adds its columns, joined on the key: nodes without a
    row there get NULL. A lone column sits on the select line, several on
    lines of their own (sqlfluff).
-#}
{% macro graph_node_select(staging_relation, extension_relations=[]) -%}
    {#- the meta, the columns and the input tables exist only at execution -#}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set mapping = c360_mapping(['key_columns', 'one_node_per_key', 'extensions']) -%}
    {%- set source_types = source_column_types(staging_relation) -%}
    {%- set distinct_keys = mapping.one_node_per_key -%}
    {%- set select = "select distinct" if distinct_keys else "select" -%}
    {%- set contract_types = c360_contract_types() -%}
    {%- set extended = [] -%}
    {%- for extension in mapping.extensions -%}
        {%- do extended.extend(extension.property_columns) -%}
    {%- endfor -%}
    {%- set columns = [] -%}
    {%- for name, graph_type in contract_types.items() if name not in extended -%}
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
{%- if extension_relations %},
{%- for relation in extension_relations %}

{{ node_extension_rows(
    'extension_' ~ loop.index, relation, mapping.key_columns,
    mapping.extensions[loop.index0].property_columns, contract_types
) }}{{ "," if not loop.last }}
{%- endfor %}

select
    nodes.*
    {%- for relation in extension_relations %}
    {%- set cte = 'extension_' ~ loop.index %}
    {%- for name in mapping.extensions[loop.index0].property_columns %},
    {{ cte }}.{{ c360_quote(name) }}
    {%- endfor %}
    {%- endfor %}
from nodes
{%- for relation in extension_relations %}
{%- set cte = 'extension_' ~ loop.index %}
left join {{ cte }}
    on
    {%- for key in mapping.key_columns %}
        {{ "and " if not loop.first }}nodes.{{ c360_quote(key) }} = {{ cte }}.{{ c360_quote(key) }}
    {%- endfor %}
{%- endfor %}
{%- else %}

select * from nodes
{%- endif %}
{%- endmacro %}


{#-
    A CTE `cte_name` with the key columns and `property_columns` of a
    property extension `relation`, each converted to its type in the node
    model's contract (`contract_types`), keys as the node table has them.
-#}
{% macro node_extension_rows(cte_name, relation, key_columns, property_columns, contract_types) -%}
    {%- set source_types = source_column_types(relation) -%}
{{ cte_name }} as (

    select
    {%- for name in key_columns + property_columns %}
        {{ c360_select_target(
            graph_column_expression(name, source_types.get(name), contract_types[name]),
            c360_quote(name)
        ) }}{{ "," if not loop.last }}
    {%- endfor %}
    from {{ relation }}

)
{%- endmacro %}
