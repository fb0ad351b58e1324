{#-
    A query returning one row per difference between the generated models
    (their meta in dbt's `graph` context, written by `c360-export models
    generate`) and the active control rows: (kind, name, problem).
-#}
{% macro generated_model_mismatches_sql() -%}
    {%- set generated = [] -%}
    {%- if execute -%}
        {%- for node in graph.nodes.values() | sort(attribute='name') -%}
            {%- set mapping = node.config.get('meta', {}).get('c360', {}) -%}
            {%- if node.resource_type == 'model' and mapping.get('kind') -%}
                {%- do generated.append([
                    mapping.kind, generated_model_identity(mapping),
                    generated_model_signature(mapping), node.name
                ]) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
with

generated (kind, identity, signature, model_name) as (

    {%- if generated %}
    values
    {%- for row in generated %}
        (
            {%- for value in row -%}
                {{ sql_literal(value) }}{{ ", " if not loop.last }}
            {%- endfor -%}
        ){{ "," if not loop.last }}
    {%- endfor %}
    {%- else %}
    select null, null, null, null where false
    {%- endif %}

),

nodes as (

    select * from {{ ref('node_label_mappings') }} where is_active

),

relationships as (

    select * from {{ ref('relationship_mappings') }} where is_active

),

exclusions as (

    select * from {{ ref('field_exclusion_rules') }} where is_excluded

),

{#- `sources` is referenced so that this test runs before every graph model. #}
sources as (

    select * from {{ ref('source_databases') }}

),

staging_tables as (

    select source_name, table_name from nodes
    union
    select via_source_name, via_table_name
    from relationships
    where via_table_name is not null

),

expected as (

    select
        'staging' as kind,
        staging_tables.source_name || '.' || staging_tables.table_name
            as identity,
        coalesce(string_agg(
            exclusions.column_name, ' '
            order by exclusions.column_name collate "C"
        ), '') as signature
    from staging_tables
    left join exclusions
        on
            staging_tables.source_name = exclusions.source_name
            and staging_tables.table_name = exclusions.table_name
    group by staging_tables.source_name, staging_tables.table_name
    union all
    select
        'node' as kind,
        label as identity,
        concat_ws(
            '|', source_name, table_name,
            regexp_replace(trim(key_columns), '\s+', ' ', 'g'),
            coalesce(regexp_replace(trim(property_columns), '\s+', ' ', 'g'), ''),
            cast(one_node_per_key as text)
        ) as signature
    from nodes
    union all
    select
        'edge' as kind,
        relationship_type as identity,
        concat_ws(
            '|', from_label, from_column, to_label, to_column,
            coalesce(via_source_name, ''), coalesce(via_table_name, ''),
            coalesce(via_from_column, ''), coalesce(via_to_column, ''),
            coalesce(normalize, ''), cast(execution_order as text),
            coalesce(
                dangling_severity,
                {{ sql_literal(var('c360_dangling_severity_values')[0]) }}
            )
        ) as signature
    from relationships

),

mismatches as (

    select
        coalesce(expected.kind, generated.kind) as kind,
        coalesce(expected.identity, generated.identity) as identity,
        case
            when generated.identity is null
                then 'active control rows need a generated model, none exists'
            when expected.identity is null
                then 'generated model ' || generated.model_name
                || ' has no active control row'
            else 'generated model ' || generated.model_name
                || ' was written from other control rows ('
                || generated.signature || ' vs ' || expected.signature || ')'
        end as problem
    from expected
    full outer join generated
        on
            expected.kind = generated.kind
            and expected.identity = generated.identity
    where
        generated.identity is null
        or expected.identity is null
        or expected.signature <> generated.signature

)

select * from mismatches
{%- endmacro %}


{#- What a generated model stands for: its label, type or source table. -#}
{% macro generated_model_identity(mapping) -%}
    {%- if mapping.kind == 'staging' -%}
        {{ return(mapping.source_name ~ '.' ~ mapping.table_name) }}
    {%- elif mapping.kind == 'node' -%}
        {{ return(mapping.label) }}
    {%- else -%}
        {{ return(mapping.relationship_type) }}
    {%- endif -%}
{%- endmacro %}


{#- The control-row fields a generated model was written from, as one string. -#}
{% macro generated_model_signature(mapping) -%}
    {%- if mapping.kind == 'staging' -%}
        {{ return(mapping.excluded_columns | join(' ')) }}
    {%- elif mapping.kind == 'node' -%}
        {{ return([
            mapping.source_name, mapping.table_name,
            mapping.key_columns | join(' '),
            mapping.property_columns | join(' '),
            'true' if mapping.one_node_per_key else 'false'
        ] | join('|')) }}
    {%- else -%}
        {{ return([
            mapping.from_label, mapping.from_column, mapping.to_label,
            mapping.to_column, mapping.via_source_name or '',
            mapping.via_table_name or '', mapping.via_from_column or '',
            mapping.via_to_column or '', mapping.normalize or '',
            mapping.execution_order | string, mapping.dangling_severity or ''
        ] | join('|')) }}
    {%- endif -%}
{%- endmacro %}
