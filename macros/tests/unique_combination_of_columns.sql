{#- Fails for each combination of `columns` that occurs more than once. -#}
{% test unique_combination_of_columns(model, columns) -%}
    select
    {%- for column in columns %}
        {{ c360_quote(column) }},
    {%- endfor %}
        count(*) as occurrences
    from {{ model }}
    group by
    {%- for column in columns %}
        {{ c360_quote(column) }}{{ "," if not loop.last }}
    {%- endfor %}
    having count(*) > 1
{%- endtest %}
