{#-
    The composite-key `relationships` test: fails for each row of `model`
    whose `columns` match no row of `to` on `fields` (position by position).
-#}
{% test relationships_composite(model, columns, to, fields) -%}
    select child.*
    from {{ model }} as child
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
