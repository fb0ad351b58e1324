{#-
    A source table's columns now, read from the source database's own catalog
    (the foreign table over its information_schema.columns that `c360-export
    sources attach` creates), against the columns `c360-export models generate`
    recorded in the test's meta.c360: the foreign table itself cannot tell,
    being imported at attach time. A column the staging model reads that is
    gone or retyped stops the build here, naming source, table and column, so
    the staging model reading it is skipped; a new column, or a change to an
    excluded one, is a warning (the test's severity is warn), and the rows
    returned are those warnings.
-#}
{% test source_columns_match(model) -%}
    {#- the meta is read at execution only: at parse time dbt's config gives text -#}
    {%- if not execute -%}
        {{ return('select 1 as parsed where false') }}
    {%- endif -%}
    {%- set recorded = c360_checked_meta(
        config.get('meta', {}).get('c360'),
        ['source_name', 'remote_schema', 'remote_table', 'catalog_schema', 'catalog_table',
         'columns'],
        'the source_columns_match test of ' ~ model
    ) -%}
    {%- set drift = source_column_drift_sql(recorded) -%}
    {%- set advice = 'Run `c360-export sources attach && c360-export models generate` (its '
        ~ 'rules say whether the control rows still fit the table), then `dbt build` again.' -%}
    {%- if execute and flags.WHICH in ('build', 'test', 'retry') -%}
        {%- set found = run_query(drift) -%}
        {%- set errors = [] -%}
        {%- for row in found.rows -%}
            {%- set line = row[0] ~ ' (' ~ row[1] ~ '): ' ~ row[2] -%}
            {%- if row[3] -%}
                {%- do errors.append('  - ' ~ line) -%}
            {%- else -%}
                {%- do exceptions.warn(line ~ '. ' ~ advice) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if errors -%}
            {%- do exceptions.raise_compiler_error(
                'a source table changed since `c360-export models generate`: a column '
                ~ 'its staging model reads is gone or retyped:\n' ~ (errors | join('\n'))
                ~ '\n' ~ advice ~ ' The staging model reading it was not rebuilt.'
            ) -%}
        {%- endif -%}
    {%- endif %}
select source_name, source_table, problem
from ({{ drift }}) as drift
where not is_error
{%- endtest %}


{#-
    One row per difference between the recorded columns (`recorded`, a
    source_columns meta.c360) and the source's catalog: (source_name,
    source_table, problem, is_error). is_error: a column the staging model
    reads (not excluded) is gone or has another type.
-#}
{% macro source_column_drift_sql(recorded) -%}
with

recorded_columns as (

    select *
    from jsonb_to_recordset(
        cast({{ sql_literal(tojson(recorded.columns)) }} as jsonb)
    ) as recorded_column (
        name text,
        type text,
        data_type text,
        udt_name text,
        numeric_precision integer,
        numeric_scale integer,
        read boolean
    )

),

source_columns as (

    select
        column_name as name,
        data_type,
        udt_name,
        numeric_precision,
        numeric_scale,
        -- as c360.types.SourceType writes a type
        case
            when data_type = 'ARRAY' then ltrim(udt_name, '_') || '[]'
            when data_type = 'numeric' and numeric_precision is not null
                then 'numeric(' || numeric_precision || ','
                || coalesce(numeric_scale, 0) || ')'
            else data_type
        end as type
    from {{ c360_quote(recorded.catalog_schema) }}.{{ c360_quote(recorded.catalog_table) }}
    where
        table_schema = {{ sql_literal(recorded.remote_schema) }}
        and table_name = {{ sql_literal(recorded.remote_table) }}

),

changes as (

    select
        coalesce(recorded_columns.name, source_columns.name) as column_name,
        recorded_columns.type as recorded_type,
        source_columns.type as source_type,
        coalesce(recorded_columns.read, false) as is_read,
        case
            when source_columns.name is null then 'gone'
            when recorded_columns.name is null then 'new'
            else 'retyped'
        end as change
    from recorded_columns
    full outer join source_columns
        on recorded_columns.name = source_columns.name
    where
        recorded_columns.name is null
        or source_columns.name is null
        or (
            recorded_columns.data_type,
            recorded_columns.udt_name,
            recorded_columns.numeric_precision,
            recorded_columns.numeric_scale
        ) is distinct from (
            source_columns.data_type,
            source_columns.udt_name,
            source_columns.numeric_precision,
            source_columns.numeric_scale
        )

)

select
    'source ' || {{ sql_literal(recorded.source_name) }} as source_name,
    {{ sql_literal(recorded.remote_schema ~ '.' ~ recorded.remote_table) }}
        as source_table,
    'column ' || column_name || case change
        when 'gone' then ' (' || recorded_type || ') is gone from the source'
        when 'new' then ' (' || source_type || ') is new in the source, not read yet'
        else ' was ' || recorded_type || ' when the models were generated and is '
            || source_type || ' now'
    end || case when is_read or change = 'new' then '' else ' (an excluded column)' end
        as problem,
    is_read and change <> 'new' as is_error
from changes
order by column_name
{%- endmacro %}
