{#-
    The select of an edge table: one row per distinct (start node, end node)
    pair, as MERGE would give. `from_relation` and `to_relation` are the
    staging models of the two labels, `via_relation` the optional junction
    table. Joins follow the calling model's meta (its relationship row):
      from.from_column = to.to_column, or with a junction
      from.from_column = via.via_from_column and via.via_to_column = to.to_column,
    both sides normalised when the row says so. Key columns come out as
    start_<key>/end_<key>, converted like the node tables' keys.
-#}
{% macro graph_edge_select(from_relation, to_relation, via_relation=none) -%}
    {%- set mapping = c360_mapping() -%}
    {%- set normalize = mapping.get('normalize') -%}
    {%- set contract = model.columns if execute else {} -%}
with

{{ edge_endpoint_rows(
    'start_rows', from_relation, mapping.get('from_key_columns', []),
    mapping.get('start_columns', []), mapping.get('from_column'), normalize,
    contract
) }},

{{ edge_endpoint_rows(
    'end_rows', to_relation, mapping.get('to_key_columns', []),
    mapping.get('end_columns', []), mapping.get('to_column'), normalize,
    contract
) }},
{%- if via_relation is not none %}

via_rows as (

    select distinct
        {{ join_value_expression(mapping.get('via_from_column'), normalize) }}
            as from_value,
        {{ join_value_expression(mapping.get('via_to_column'), normalize) }}
            as to_value
    from {{ via_relation }}
    where
        {{ adapter.quote(mapping.get('via_from_column')) }} is not null
        and {{ adapter.quote(mapping.get('via_to_column')) }} is not null

),
{%- endif %}

edges as (

    select distinct
    {%- for column in mapping.get('start_columns', []) %}
        start_rows.{{ adapter.quote(column) }},
    {%- endfor %}
    {%- for column in mapping.get('end_columns', []) %}
        end_rows.{{ adapter.quote(column) }}{{ "," if not loop.last }}
    {%- endfor %}
    from start_rows
    {%- if via_relation is not none %}
    inner join via_rows
        on start_rows.join_value = via_rows.from_value
    inner join end_rows
        on via_rows.to_value = end_rows.join_value
    {%- else %}
    inner join end_rows
        on start_rows.join_value = end_rows.join_value
    {%- endif %}

)

select * from edges
{%- endmacro %}


{#-
    A CTE `cte_name` with one row per distinct (endpoint key, join value) of
    `relation`: the label's key columns renamed to the edge columns and typed
    as the edge contract says, plus the join column as `join_value`.
-#}
{% macro edge_endpoint_rows(
    cte_name, relation, key_columns, edge_columns, join_column, normalize,
    contract
) -%}
    {%- set source_types = source_column_types(relation) -%}
{{ cte_name }} as (

    select distinct
    {%- for key in key_columns %}
        {%- set edge_column = edge_columns[loop.index0] %}
        {%- set graph_type = contract.get(edge_column, {}).get('data_type') or 'text' %}
        {{ graph_column_expression(key, source_types.get(key), graph_type) }}
            as {{ adapter.quote(edge_column) }},
    {%- endfor %}
        {{ join_value_expression(join_column, normalize) }} as join_value
    from {{ relation }}
    where
    {%- for key in key_columns %}
        {{ adapter.quote(key) }} is not null and
    {%- endfor %}
        {{ adapter.quote(join_column) }} is not null

)
{%- endmacro %}
