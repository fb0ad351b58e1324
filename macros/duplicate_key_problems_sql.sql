{#-
    A query returning one row per key value that names more than one row of
    `relation`, in raise_on_problems' shape: (the control row `row` reading
    the relation, the key value, how many rows). At most ten are listed.
-#}
{% macro duplicate_key_problems_sql(relation, key_columns, row) -%}
select
    {{ sql_literal(row) }} as control_row,
    concat_ws(
        ', '
        {%- for key in key_columns %},
        {{ sql_literal(key ~ '=') }} || coalesce(cast({{ c360_quote(key) }} as text), 'NULL')
        {%- endfor %}
    ) as key_value,
    count(*) || ' rows of ' || {{ sql_literal(relation.identifier) }} || ' have this key'
        as problem
from {{ relation }}
group by
{%- for key in key_columns %}
    {{ c360_quote(key) }}{{ "," if not loop.last }}
{%- endfor %}
having count(*) > 1
order by count(*) desc
limit 10
{%- endmacro %}
