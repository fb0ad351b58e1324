{#-
    One row per source row whose relationship is lost because the other side
    has no match, for the edge model `model` (its relationship row is its
    meta). `side`, chosen by `c360-export models generate`:
      from / to  rows of that side's label whose non-null join value matches
                 no row of the other label (the side whose join column is not
                 its label's key: play events whose media_id has no Media);
      via        junction rows, both values non-null, whose from value or to
                 value matches no row of its label.
    The joins are graph_edge_select's own CTEs, so the rows counted are the
    rows the edge table leaves out.
-#}
{% test dangling_rows(model, side, from_relation, to_relation, via_relation=none) -%}
    {#- the meta, the columns and the input tables exist only at execution -#}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set edge = c360_model_of(model) -%}
    {%- set mapping = c360_checked_meta(
        edge.get('config', {}).get('meta', {}).get('c360'),
        c360_edge_keys(side == 'via'),
        'model ' ~ edge.get('name', model)
    ) -%}
    {%- set types = contract_column_types(edge.get('columns', {})) -%}
with

{{ edge_endpoint_rows(
    'start_rows', from_relation, mapping, 'from', types, distinct=(side != 'from')
) }},

{{ edge_endpoint_rows(
    'end_rows', to_relation, mapping, 'to', types, distinct=(side != 'to')
) }},
{%- if side == 'via' %}

{{ edge_via_rows('via_rows', via_relation, mapping, distinct=false) }},

dangling as (

    select via_rows.*
    from via_rows
    where
        not exists (
            select 1 from start_rows
            where start_rows.join_value = via_rows.from_value
        )
        or not exists (
            select 1 from end_rows
            where end_rows.join_value = via_rows.to_value
        )

)
{%- else %}
    {%- set rows, others = ('start_rows', 'end_rows') if side == 'from'
        else ('end_rows', 'start_rows') %}

dangling as (

    select {{ rows }}.*
    from {{ rows }}
    where not exists (
        select 1 from {{ others }}
        where {{ others }}.join_value = {{ rows }}.join_value
    )

)
{%- endif %}

select * from dangling
{%- endtest %}
