{#-
    A query returning one row per difference between the control seeds and
    the rows the generated files were made from (the calling test's
    `meta.c360`, written by `c360-export models generate`):
    (seed_name, row_key, problem), the row named by its key columns
    (`label=Account`). Every column of every row, inactive ones included, is
    compared as dbt loaded it, so any edit not followed by `models generate`
    stops the build, whatever it would change. The rules the rows must keep
    are not checked here: `models generate` applies them (c360.control.rules).
-#}
{% macro generated_model_mismatches_sql() -%}
    {%- set seeds = c360_control_rows() -%}
with

generated_rows as (

    select
        'generated' as side,
        control_files.key as seed_name,
        control_files.value -> 'key_columns' as key_columns,
        file_rows.value as row_values
    from jsonb_each(
        cast({{ sql_literal(tojson(seeds)) }} as jsonb)
    ) as control_files
    cross join lateral
        jsonb_array_elements(control_files.value -> 'rows') as file_rows

),

seed_rows as (
    {%- for seed_name, control_file in seeds.items() %}

    select
        'seed' as side,
        {{ sql_literal(seed_name) }} as seed_name,
        cast({{ sql_literal(tojson(control_file.key_columns)) }} as jsonb)
            as key_columns,
        to_jsonb(seed_table) as row_values
    from {{ ref(seed_name) }} as seed_table
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

keyed_rows as (

    select
        all_rows.side,
        all_rows.seed_name,
        all_rows.row_values,
        (
            select
                string_agg(
                    keys.key_column || '='
                    || coalesce(all_rows.row_values ->> keys.key_column, '<blank>'),
                    ' ' order by keys.position
                )
            from jsonb_array_elements_text(all_rows.key_columns)
                with ordinality as keys (key_column, position)
        ) as row_key
    from (
        select * from generated_rows
        union all
        select * from seed_rows
    ) as all_rows

),

rows_per_key as (

    select
        seed_name,
        row_key,
        count(*) filter (where side = 'seed') as in_seed,
        count(*) filter (where side = 'generated') as in_generated
    from keyed_rows
    group by seed_name, row_key

),

column_values as (

    select
        keyed_rows.side,
        keyed_rows.seed_name,
        keyed_rows.row_key,
        fields.key as column_name,
        fields.value
    from keyed_rows
    inner join rows_per_key
        on
            keyed_rows.seed_name = rows_per_key.seed_name
            and keyed_rows.row_key = rows_per_key.row_key
    cross join lateral jsonb_each(keyed_rows.row_values) as fields
    where rows_per_key.in_seed = 1 and rows_per_key.in_generated = 1

),

problems as (

    select
        seed_name,
        row_key,
        case
            when in_generated = 0
                then 'a row the generated files were not made from'
            when in_seed = 0
                then 'the generated files were made from this row, '
                || 'which the seed no longer holds'
            else in_seed || ' rows with this key; the generated files were '
                || 'made from ' || in_generated
        end as problem
    from rows_per_key
    where in_seed <> in_generated
    union all
    select
        coalesce(seed_values.seed_name, generated_values.seed_name),
        coalesce(seed_values.row_key, generated_values.row_key),
        'column '
        || coalesce(seed_values.column_name, generated_values.column_name)
        || ' differs from the row the generated files were made from'
    from (
        select * from column_values where side = 'seed'
    ) as seed_values
    full outer join (
        select * from column_values where side = 'generated'
    ) as generated_values
        on
            seed_values.seed_name = generated_values.seed_name
            and seed_values.row_key = generated_values.row_key
            and seed_values.column_name = generated_values.column_name
    where seed_values.value is distinct from generated_values.value

)

select * from problems
order by seed_name, row_key, problem
{%- endmacro %}


{#-
    The rows the generated files were made from, by seed: the calling test's
    meta.c360 `seeds` ({seed: {key_columns, rows}}). Empty at parse time.
-#}
{% macro c360_control_rows() -%}
    {%- if not execute -%}
        {{ return({}) }}
    {%- endif -%}
    {%- set meta = c360_checked_meta(
        model.config.get('meta', {}).get('c360'), ['seeds'], 'test ' ~ model.name
    ) -%}
    {%- for seed_name, control_file in meta.seeds.items() -%}
        {%- do c360_checked_meta(
            control_file, ['key_columns', 'rows'],
            'test ' ~ model.name ~ ' (seeds.' ~ seed_name ~ ')'
        ) -%}
    {%- endfor -%}
    {{ return(meta.seeds) }}
{%- endmacro %}
