{#-
    The rows of graph.graph_catalog, read at execute time from the meta of the
    generated node and edge models in dbt's `graph` context: table names are
    the models' own names, so the naming rule lives only in
    c360.transform.naming. Nodes get execution_order 0 (load before any
    relationship). An edge's key_columns are its relationship key (one
    relationship per junction row), NULL for one per (start, end) pair.
-#}
{% macro graph_catalog_select() -%}
    {%- set rows = [] -%}
    {%- if execute -%}
        {%- for node in graph.nodes.values() | sort(attribute='name')
            if node.resource_type == 'model'
            and node.config.get('meta', {}).get('c360') is not none -%}
            {%- set meta = node.config.meta.c360 -%}
            {%- set owner = 'model ' ~ node.name -%}
            {%- set kind = c360_checked_meta(meta, ['kind'], owner).kind -%}
            {%- if kind == 'node' -%}
                {%- set mapping = c360_checked_meta(
                    meta, ['label', 'key_columns'], owner
                ) -%}
                {%- do rows.append([
                    "'node'", sql_literal(mapping.label), sql_literal(node.alias),
                    sql_text_array(mapping.key_columns), "null", "null",
                    sql_text_array(none), sql_text_array(none), "0"
                ]) -%}
            {%- elif kind == 'edge' -%}
                {%- set mapping = c360_checked_meta(meta, [
                    'relationship_type', 'from_label', 'to_label',
                    'start_columns', 'end_columns', 'execution_order',
                    'key_columns'
                ], owner) -%}
                {%- do rows.append([
                    "'edge'", sql_literal(mapping.relationship_type),
                    sql_literal(node.alias),
                    sql_text_array(mapping.key_columns or none),
                    sql_literal(mapping.from_label), sql_literal(mapping.to_label),
                    sql_text_array(mapping.start_columns),
                    sql_text_array(mapping.end_columns),
                    mapping.execution_order | int | string
                ]) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
with

catalog_rows (
    kind, name, table_name, key_columns, from_label, to_label,
    start_columns, end_columns, execution_order
) as (

    {%- if rows %}
    values
    {%- for row in rows %}
    (
        {%- for value in row %}
        {{ value }}{{ "," if not loop.last }}
        {%- endfor %}
    ){{ "," if not loop.last }}
    {%- endfor %}
    {%- else %}
    select
        null, null, null, cast(null as text[]), null, null,
        cast(null as text[]), cast(null as text[]), null
    where false
    {%- endif %}

)

select
    cast(kind as text) as kind,
    cast(name as text) as name,
    cast(table_name as text) as table_name,
    key_columns,
    cast(from_label as text) as from_label,
    cast(to_label as text) as to_label,
    start_columns,
    end_columns,
    cast(execution_order as integer) as execution_order
from catalog_rows
{%- endmacro %}
