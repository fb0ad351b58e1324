{#-
    A query returning one row per problem in the control rows:
    (seed_name, row_identity, problem). Rules mirror c360.control (patterns
    come from the same dbt_project.yml vars); tables and columns are checked
    against the foreign tables attached in the src_<source> schemas, for
    active rows only.
-#}
{% macro control_row_problems_sql() -%}
    {%- set label_pattern = var('c360_label_pattern') -%}
    {%- set source_pattern = var('c360_source_name_pattern') -%}
    {%- set env_var_pattern = var('c360_env_var_pattern') -%}
    {%- set prefix = var('c360_source_schema_prefix') -%}
with

sources as (

    select * from {{ ref('source_databases') }}

),

nodes as (

    select * from {{ ref('node_label_mappings') }}

),

exclusions as (

    select * from {{ ref('field_exclusion_rules') }}

),

relationships as (

    select * from {{ ref('relationship_mappings') }}

),

attached_columns as (

    select
        substr(table_schema, {{ prefix | length + 1 }}) as source_name,
        table_name,
        column_name
    from information_schema.columns
    where left(table_schema, {{ prefix | length }}) = {{ sql_literal(prefix) }}

),

attached_tables as (

    select distinct source_name, table_name from attached_columns

),

excluded_columns as (

    select source_name, table_name, column_name
    from exclusions
    where is_excluded

),

node_columns as (

    select
        nodes.label,
        nodes.source_name,
        nodes.table_name,
        nodes.is_active,
        nodes.one_node_per_key,
        listed.column_name,
        listed.role
    from nodes
    cross join lateral (
        select column_name, 'key' as role
        from regexp_split_to_table(
            trim(coalesce(nodes.key_columns, '')), '\s+'
        ) as key_column (column_name)
        union all
        select column_name, 'property' as role
        from regexp_split_to_table(
            trim(coalesce(nodes.property_columns, '')), '\s+'
        ) as property_column (column_name)
    ) as listed
    where listed.column_name <> ''

),

relationship_columns as (

    select
        relationships.relationship_type,
        relationships.is_active,
        used.side,
        used.source_name,
        used.table_name,
        used.column_name
    from relationships
    left join nodes as from_nodes
        on relationships.from_label = from_nodes.label
    left join nodes as to_nodes
        on relationships.to_label = to_nodes.label
    cross join lateral (
        values
            ('from_column', from_nodes.source_name, from_nodes.table_name,
                relationships.from_column),
            ('to_column', to_nodes.source_name, to_nodes.table_name,
                relationships.to_column),
            ('via_from_column', relationships.via_source_name,
                relationships.via_table_name, relationships.via_from_column),
            ('via_to_column', relationships.via_source_name,
                relationships.via_table_name, relationships.via_to_column)
    ) as used (side, source_name, table_name, column_name)
    where used.source_name is not null and used.table_name is not null

),

source_problems as (

    select
        'source_name=' || coalesce(source_name, '<blank>') as row_identity,
        'source_name must match {{ source_pattern }}' as problem
    from sources
    where source_name is null or source_name !~ {{ sql_literal(source_pattern) }}
    union all
    select
        'source_name=' || source_name,
        'duplicate source_name (' || count(*) || ' rows)'
    from sources
    group by source_name
    having count(*) > 1
    union all
    select
        'source_name=' || coalesce(source_name, '<blank>'),
        'password_env_var must name an environment variable (matching '
        || '{{ env_var_pattern }}), never hold a password'
    from sources
    where
        password_env_var is null
        or password_env_var !~ {{ sql_literal(env_var_pattern) }}
    union all
    select
        'source_name=' || coalesce(source_name, '<blank>'),
        'database_name and user_name are required'
    from sources
    where database_name is null or user_name is null
    union all
    select
        'source_name=' || coalesce(source_name, '<blank>'),
        'fetch_size must be a positive integer'
    from sources
    where fetch_size is not null and fetch_size < 1
    union all
    select
        'source_name=' || coalesce(source_name, '<blank>'),
        'is_active must be true or false'
    from sources
    where is_active is null
    union all
    {{ jinja_problems(
        'sources', "'source_name=' || coalesce(sources.source_name, '<blank>')"
    ) }}

),

node_problems as (

    select
        'label=' || coalesce(label, '<blank>') as row_identity,
        'label must match {{ label_pattern }}' as problem
    from nodes
    where label is null or label !~ {{ sql_literal(label_pattern) }}
    union all
    select
        'label=' || label,
        'duplicate mapping for label ' || label || ' (' || count(*) || ' rows)'
    from nodes
    group by label
    having count(*) > 1
    union all
    select
        'label=' || coalesce(label, '<blank>'),
        'is_active and one_node_per_key must be true or false'
    from nodes
    where is_active is null or one_node_per_key is null
    union all
    select
        'label=' || coalesce(nodes.label, '<blank>'),
        'unknown source ' || coalesce('''' || nodes.source_name || '''', '<blank>')
        || ' (not in source_databases)'
    from nodes
    left join sources on nodes.source_name = sources.source_name
    where sources.source_name is null
    union all
    select
        'label=' || nodes.label,
        'source ''' || nodes.source_name || ''' is inactive'
    from nodes
    inner join sources on nodes.source_name = sources.source_name
    where nodes.is_active and not sources.is_active
    union all
    select
        'label=' || coalesce(label, '<blank>'),
        'key_columns is empty'
    from nodes
    where nullif(trim(key_columns), '') is null
    union all
    select
        'label=' || nodes.label,
        'table ''' || nodes.table_name || ''' does not exist in source '''
        || nodes.source_name || ''' (schema {{ prefix }}' || nodes.source_name
        || '; run `c360-export sources attach` after adding a table)'
    from nodes
    inner join sources on nodes.source_name = sources.source_name
    left join attached_tables
        on
            nodes.source_name = attached_tables.source_name
            and nodes.table_name = attached_tables.table_name
    where nodes.is_active and attached_tables.table_name is null
    union all
    select
        'label=' || node_columns.label,
        node_columns.role || ' column ''' || node_columns.column_name
        || ''' does not exist in ' || node_columns.source_name || '.'
        || node_columns.table_name
    from node_columns
    inner join attached_tables
        on
            node_columns.source_name = attached_tables.source_name
            and node_columns.table_name = attached_tables.table_name
    left join attached_columns
        on
            node_columns.source_name = attached_columns.source_name
            and node_columns.table_name = attached_columns.table_name
            and node_columns.column_name = attached_columns.column_name
    where node_columns.is_active and attached_columns.column_name is null
    union all
    select
        'label=' || node_columns.label,
        node_columns.role || ' column ''' || node_columns.column_name
        || ''' is excluded by field_exclusion_rules'
    from node_columns
    inner join excluded_columns
        on
            node_columns.source_name = excluded_columns.source_name
            and node_columns.table_name = excluded_columns.table_name
            and node_columns.column_name = excluded_columns.column_name
    where node_columns.is_active
    union all
    select
        'label=' || label,
        'one_node_per_key nodes carry only their key: property column '''
        || column_name || ''' is not a key column'
    from node_columns
    where
        one_node_per_key
        and role = 'property'
        and column_name not in (
            select key_columns.column_name
            from node_columns as key_columns
            where
                key_columns.label = node_columns.label
                and key_columns.role = 'key'
        )
    union all
    {{ jinja_problems('nodes', "'label=' || coalesce(nodes.label, '<blank>')") }}

),

exclusion_problems as (

    select
        'source_name=' || coalesce(exclusions.source_name, '<blank>')
        || ' table_name=' || coalesce(exclusions.table_name, '<blank>')
        || ' column_name=' || coalesce(exclusions.column_name, '<blank>')
            as row_identity,
        'unknown source (not in source_databases)' as problem
    from exclusions
    left join sources on exclusions.source_name = sources.source_name
    where sources.source_name is null
    union all
    select
        'source_name=' || exclusions.source_name
        || ' table_name=' || coalesce(exclusions.table_name, '<blank>')
        || ' column_name=' || coalesce(exclusions.column_name, '<blank>'),
        'column does not exist in the attached source table'
    from exclusions
    inner join sources
        on exclusions.source_name = sources.source_name and sources.is_active
    left join attached_columns
        on
            exclusions.source_name = attached_columns.source_name
            and exclusions.table_name = attached_columns.table_name
            and exclusions.column_name = attached_columns.column_name
    where attached_columns.column_name is null
    union all
    select
        'source_name=' || source_name || ' table_name=' || table_name
        || ' column_name=' || column_name,
        'duplicate exclusion rule (' || count(*) || ' rows)'
    from exclusions
    group by source_name, table_name, column_name
    having count(*) > 1
    union all
    select
        'source_name=' || coalesce(source_name, '<blank>')
        || ' table_name=' || coalesce(table_name, '<blank>')
        || ' column_name=' || coalesce(column_name, '<blank>'),
        'is_excluded must be true or false'
    from exclusions
    where is_excluded is null
    union all
    {{ jinja_problems(
        'exclusions',
        "'source_name=' || coalesce(exclusions.source_name, '<blank>')
        || ' table_name=' || coalesce(exclusions.table_name, '<blank>')
        || ' column_name=' || coalesce(exclusions.column_name, '<blank>')"
    ) }}

),

relationship_problems as (

    select
        'relationship_type=' || coalesce(relationship_type, '<blank>')
            as row_identity,
        'relationship_type must match {{ label_pattern }}' as problem
    from relationships
    where
        relationship_type is null
        or relationship_type !~ {{ sql_literal(label_pattern) }}
    union all
    select
        'relationship_type=' || relationship_type,
        'duplicate mapping for relationship type ' || relationship_type
        || ' (' || count(*) || ' rows)'
    from relationships
    group by relationship_type
    having count(*) > 1
    union all
    select
        'relationship_type=' || relationships.relationship_type,
        ends.side || ' ' || coalesce('''' || ends.label || '''', '<blank>')
        || ' is not a label of node_label_mappings'
    from relationships
    cross join lateral (
        values
            ('from_label', relationships.from_label),
            ('to_label', relationships.to_label)
    ) as ends (side, label)
    left join nodes on ends.label = nodes.label
    where nodes.label is null
    union all
    select
        'relationship_type=' || relationships.relationship_type,
        'the relationship is active but its ' || ends.side || ' '''
        || ends.label || ''' is inactive'
    from relationships
    cross join lateral (
        values
            ('from_label', relationships.from_label),
            ('to_label', relationships.to_label)
    ) as ends (side, label)
    inner join nodes on ends.label = nodes.label
    where relationships.is_active and not nodes.is_active
    union all
    select
        'relationship_type=' || coalesce(relationship_type, '<blank>'),
        'from_column and to_column are required'
    from relationships
    where from_column is null or to_column is null
    union all
    select
        'relationship_type=' || coalesce(relationship_type, '<blank>'),
        'via_source_name, via_table_name, via_from_column and via_to_column '
        || 'must be all set or all blank'
    from relationships
    where
        num_nonnulls(
            via_source_name, via_table_name, via_from_column, via_to_column
        ) not in (0, 4)
    union all
    select
        'relationship_type=' || relationships.relationship_type,
        'unknown via_source_name ''' || relationships.via_source_name
        || ''' (not in source_databases)'
    from relationships
    left join sources on relationships.via_source_name = sources.source_name
    where
        relationships.via_source_name is not null
        and sources.source_name is null
    union all
    select
        'relationship_type=' || relationships.relationship_type,
        'via table ''' || relationships.via_table_name
        || ''' does not exist in source ''' || relationships.via_source_name
        || ''''
    from relationships
    inner join sources
        on relationships.via_source_name = sources.source_name
    left join attached_tables
        on
            relationships.via_source_name = attached_tables.source_name
            and relationships.via_table_name = attached_tables.table_name
    where relationships.is_active and attached_tables.table_name is null
    union all
    select
        'relationship_type=' || relationship_columns.relationship_type,
        relationship_columns.side || ' '''
        || relationship_columns.column_name || ''' does not exist in '
        || relationship_columns.source_name || '.'
        || relationship_columns.table_name
    from relationship_columns
    inner join attached_tables
        on
            relationship_columns.source_name = attached_tables.source_name
            and relationship_columns.table_name = attached_tables.table_name
    left join attached_columns
        on
            relationship_columns.source_name = attached_columns.source_name
            and relationship_columns.table_name = attached_columns.table_name
            and relationship_columns.column_name = attached_columns.column_name
    where
        relationship_columns.is_active
        and relationship_columns.column_name is not null
        and attached_columns.column_name is null
    union all
    select
        'relationship_type=' || relationship_columns.relationship_type,
        relationship_columns.side || ' '''
        || relationship_columns.column_name
        || ''' is excluded by field_exclusion_rules'
    from relationship_columns
    inner join excluded_columns
        on
            relationship_columns.source_name = excluded_columns.source_name
            and relationship_columns.table_name = excluded_columns.table_name
            and relationship_columns.column_name = excluded_columns.column_name
    where relationship_columns.is_active
    union all
    select
        'relationship_type=' || coalesce(relationship_type, '<blank>'),
        'normalize must be blank or one of '
        || {{ sql_literal(var('c360_normalize_values') | join(', ')) }}
    from relationships
    where
        normalize is not null
        and normalize not in (
            {%- for value in var('c360_normalize_values') -%}
                {{ sql_literal(value) }}{{ ", " if not loop.last }}
            {%- endfor -%}
        )
    union all
    select
        'relationship_type=' || coalesce(relationship_type, '<blank>'),
        'execution_order must be a positive integer, is_active true or false'
    from relationships
    where execution_order is null or execution_order < 1 or is_active is null
    union all
    select
        'relationship_type=' || coalesce(relationship_type, '<blank>'),
        'dangling_severity must be blank or one of '
        || {{ sql_literal(var('c360_dangling_severity_values') | join(', ')) }}
    from relationships
    where
        dangling_severity is not null
        and dangling_severity not in (
            {%- for value in var('c360_dangling_severity_values') -%}
                {{ sql_literal(value) }}{{ ", " if not loop.last }}
            {%- endfor -%}
        )
    union all
    {{ jinja_problems(
        'relationships',
        "'relationship_type=' || coalesce(relationships.relationship_type, '<blank>')"
    ) }}

),

problems as (

    select 'source_databases' as seed_name, * from source_problems
    union all
    select 'node_label_mappings' as seed_name, * from node_problems
    union all
    select 'field_exclusion_rules' as seed_name, * from exclusion_problems
    union all
    select 'relationship_mappings' as seed_name, * from relationship_problems

)

select * from problems
{%- endmacro %}


{#-
    Run `query` (one row per problem, first columns seed_name, row_identity,
    problem) when tests run, and stop the build with every problem named and
    `advice` appended. Returns `query` so the test also fails on its rows.
-#}
{% macro raise_on_problems(query, heading, advice) -%}
    {%- if execute and flags.WHICH in ('build', 'test', 'retry') -%}
        {%- set found = run_query(query) -%}
        {%- if found.rows | length > 0 -%}
            {%- set lines = [] -%}
            {%- for row in found.rows -%}
                {%- do lines.append(
                    '  - ' ~ row[0] ~ ' (' ~ row[1] ~ '): ' ~ row[2]
                ) -%}
            {%- endfor -%}
            {%- do exceptions.raise_compiler_error(
                heading ~ ':\n' ~ (lines | join('\n')) ~ '\n' ~ advice
            ) -%}
        {%- endif -%}
    {%- endif -%}
    {{ return(query) }}
{%- endmacro %}


{#-
    One problem per value of the rows of CTE `rows` holding a Jinja delimiter
    (the c360_jinja_pattern var): dbt would evaluate it where `c360-export
    models generate` writes the value (descriptions, meta). `identity` is the
    SQL of the row's identity.
-#}
{% macro jinja_problems(rows, identity) -%}
    select
        {{ identity }},
        fields.key || ' holds Jinja delimiters (an opening brace followed by '
        || 'a brace, % or #), which dbt would evaluate in the generated files; '
        || 'remove them'
    from {{ rows }}
    cross join lateral json_each_text(to_json({{ rows }})) as fields
    where fields.value ~ {{ sql_literal(var('c360_jinja_pattern')) }}
{%- endmacro %}
