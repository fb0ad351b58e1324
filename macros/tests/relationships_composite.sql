{#-
    The composite-key `relationships` test: fails for each row of `model`
    whose `columns` match no row of `to` on `fields` (position by position).
-#}
{#- `model` may come as a filtered subquery with its own alias (get_where_subquery) -#}
{% test relationships_composite(model, columns, to, fields) -%}
    with

    child as (

        select * from {{ model }}

    )

    select child.*
    from child
    where not exists (
        select 1
        from {{ to }} as parent
        where
        {%- for column in columns %}
            {{ "and " if not loop.first }}child.{{ c360_quote(column) }}
                = parent.{{ c360_quote(fields[loop.index0]) }}
        {%- endfor %}
    )
{%- endtest %}
