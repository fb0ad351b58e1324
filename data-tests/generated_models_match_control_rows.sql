-- The generated staging, node and edge models must match the active control
-- rows: otherwise stop the build before any graph table is replaced.
{{ raise_on_problems(
    generated_model_mismatches_sql(),
    'the generated dbt models do not match the control rows '
    ~ '(seeds/control/*.csv)',
    'Run `c360-export models generate`, then `dbt build` again.'
) }}
