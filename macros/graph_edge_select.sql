{#-
    The select of an edge table: one row per distinct (start node, end node)
    pair, as MERGE would give, or with key_columns one row per junction row
    (parallel relationships kept). `from_relation` and `to_relation` are the
    models the two labels read, `via_relation` the optional junction. Joins
    follow the calling model's meta (its relationship row):
      from.from_column = to.to_column, or with a junction
      from.from_column = via.via_from_column and via.via_to_column = to.to_column,
    both sides normalised when the row says so. Key columns come out as
    start_<key>/end_<key>, converted like the node tables' keys; then the
    relationship's properties (its key columns first) from the junction, or
    for a direct match from the start side, converted to their graph types.
-#}
{% macro graph_edge_select(from_relation, to_relation, via_relation=none) -%}
    {#- the meta, the columns and the input tables exist only at execution -#}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set mapping = c360_mapping(c360_edge_keys(via_relation is not none)) -%}
    {%- set types = c360_contract_types() -%}
    {%- set properties = mapping.property_columns -%}
    {%- set keyed = mapping.key_columns | length > 0 -%}
    {%- set from_properties = properties if mapping.properties_from == 'from' else [] -%}
    {%- set properties_cte = 'start_rows' if from_properties else 'via_rows' -%}
with

{{ edge_endpoint_rows(
    'start_rows', from_relation, mapping, 'from', types, properties=from_properties
) }},

{{ edge_endpoint_rows('end_rows', to_relation, mapping, 'to', types) }},
{%- if via_relation is not none %}

{{ edge_via_rows(
    'via_rows', via_relation, mapping, distinct=not keyed,
    properties=properties, types=types
) }},
{%- endif %}

edges as (

    select {{- " distinct" if not keyed }}
    {%- for column in mapping.start_columns %}
        start_rows.{{ c360_quote(column) }},
    {%- endfor %}
    {%- for column in mapping.end_columns %}
        end_rows.{{ c360_quote(column) }}{{ "," if not loop.last or properties }}
    {%- endfor %}
    {%- for column in properties %}
        {{ properties_cte }}.{{ c360_quote(column) }}{{ "," if not loop.last }}
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
    `relation`, the `side` ('from' or 'to') of the relationship row `mapping`:
    the label's key columns renamed to the edge columns and typed as `types`
    (the edge contract) says, then `properties` (relationship properties the
    start side holds) typed the same way, plus the join column as
    `join_value`. Rows with a null key or join value take part in no
    relationship and are left out. `distinct=false` keeps one row per source
    row (the dangling_rows test).
-#}
{% macro edge_endpoint_rows(
    cte_name, relation, mapping, side, types, distinct=true, properties=[]
) -%}
    {%- set prefix = 'start' if side == 'from' else 'end' -%}
    {%- set key_columns = mapping[side ~ '_key_columns'] -%}
    {%- set edge_columns = mapping[prefix ~ '_columns'] -%}
    {%- set join_column = mapping[side ~ '_column'] -%}
    {%- set source_types = source_column_types(relation) -%}
{{ cte_name }} as (

    select {{- " distinct" if distinct }}
    {%- for key in key_columns %}
        {%- set edge_column = edge_columns[loop.index0] %}
        {{ c360_select_target(
            graph_column_expression(
                key, source_types.get(key), types.get(edge_column) or 'text'
            ),
            c360_quote(edge_column)
        ) }},
    {%- endfor %}
    {{- edge_property_targets(properties, source_types, types) }}
        {{ c360_select_target(
            join_value_expression(join_column, mapping.normalize),
            'join_value'
        ) }}
    from {{ relation }}
    where
    {%- for column in (key_columns + [join_column]) | unique(case_sensitive=true) %}
        {{ "and " if not loop.first }}{{ c360_quote(column) }} is not null
    {%- endfor %}

)
{%- endmacro %}


{#-
    A CTE `cte_name` with the junction's two join values (`from_value`,
    `to_value`) and the relationship `properties` (typed as `types`, the edge
    contract, says) per distinct combination, or per junction row with
    `distinct=false`; rows with a null join value or key link nothing and
    are left out.
-#}
{% macro edge_via_rows(
    cte_name, via_relation, mapping, distinct=true, properties=[], types={}
) -%}
    {%- set normalize = mapping.normalize -%}
    {%- set source_types = source_column_types(via_relation) if properties else {} -%}
{{ cte_name }} as (

    select {{- " distinct" if distinct }}
    {{- edge_property_targets(properties, source_types, types) }}
        {{ c360_select_target(
            join_value_expression(mapping.via_from_column, normalize),
            'from_value'
        ) }},
        {{ c360_select_target(
            join_value_expression(mapping.via_to_column, normalize),
            'to_value'
        ) }}
    from {{ via_relation }}
    where
        {{ c360_quote(mapping.via_from_column) }} is not null
        and {{ c360_quote(mapping.via_to_column) }} is not null
    {%- for key in mapping.get('key_columns') or [] %}
        and {{ c360_quote(key) }} is not null
    {%- endfor %}

)
{%- endmacro %}


{#-
    The select targets of relationship properties, each followed by a comma:
    `names` converted from `source_types` to the edge contract's `types`.
-#}
{% macro edge_property_targets(names, source_types, types) -%}
    {%- for name in names %}
        {{ c360_select_target(
            graph_column_expression(name, source_types.get(name), types[name]),
            c360_quote(name)
        ) }},
    {%- endfor %}
{%- endmacro %}


{#-
    The keys of an edge model's meta.c360 that graph_edge_select and the
    dangling_rows test read, the junction's columns only when there is one.
-#}
{% macro c360_edge_keys(through_junction) -%}
    {%- set keys = [
        'from_column', 'to_column', 'normalize', 'from_key_columns',
        'to_key_columns', 'start_columns', 'end_columns', 'key_columns',
        'property_columns', 'properties_from'
    ] -%}
    {{ return(keys + (['via_from_column', 'via_to_column'] if through_junction else [])) }}
{%- endmacro %}


{#-
    The data type of each column of a model's YAML (`columns`) that the
    select makes, by column name: graph_table_rows adds the change columns.
-#}
{% macro contract_column_types(columns) -%}
    {%- set types = {} -%}
    {%- set added = graph_change_columns() -%}
    {%- for column in columns.values() if c360_column_name(column) not in added -%}
        {%- do types.update({c360_column_name(column): column.data_type}) -%}
    {%- endfor -%}
    {{ return(types) }}
{%- endmacro %}
