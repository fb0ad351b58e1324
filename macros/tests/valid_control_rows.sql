{#-
    Fails (with a compiler error naming every offending row) when the control
    rows of `model`'s seed break a rule of control_row_problems_sql().
-#}
{% test valid_control_rows(model) -%}
    {%- set query -%}
        select * from (
            {{ control_row_problems_sql() }}
        ) as problems
        where seed_name = {{ sql_literal(model.identifier) }}
    {%- endset -%}
    {{ raise_on_problems(
        query,
        'invalid control rows in seeds/control/' ~ model.identifier ~ '.csv',
        'Fix those rows; no graph table was replaced. Then run '
        ~ '`c360-export models generate` and `dbt build` again.'
    ) }}
{%- endtest %}
