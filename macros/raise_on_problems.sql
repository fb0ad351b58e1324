{#-
    Run `query` (one row per problem: seed_name, row_key, problem) when tests
    run, and stop the build with every problem named and `advice` appended.
    Returns `query` so the test also fails on its rows.
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
