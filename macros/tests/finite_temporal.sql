{#-
    Fails for each row whose `column_name`, a date or time of graph type
    `data_type` (or a list of them), holds a value Neo4j cannot take: infinity,
    -infinity, a date before year 1 (BC) or after 9999. A timestamp with time
    zone is judged in UTC, as the exporter writes it.
-#}
{% test finite_temporal(model, column_name, data_type) -%}
    {%- set is_list = data_type.endswith('[]') -%}
    {%- set value = 'element' if is_list else column_name -%}
    {%- set in_utc = data_type.startswith('timestamp with time zone') -%}
    {%- set year_value = value ~ " at time zone 'UTC'" if in_utc else value -%}
    {%- set unstorable -%}
        not (
            isfinite({{ value }})
            and extract(year from {{ year_value }}) between 1 and 9999
        )
    {%- endset -%}
    select {{ column_name }}
    from {{ model }}
    where
    {%- if is_list %}
        exists (
            select from unnest({{ column_name }}) as elements (element)
            where {{ unstorable }}
        )
    {%- else %}
        {{ unstorable }}
    {%- endif %}
{%- endtest %}
