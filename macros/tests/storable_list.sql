{#-
    Fails for each row whose list `column_name` Neo4j or neo4j-admin cannot
    store as it is: a NULL element (Neo4j lists in properties hold none), more
    than one dimension, a single empty text (neo4j-admin reads the empty field
    as no value), or an element holding U+001F, bulk mode's element separator
    (c360.types.LIST_SEPARATOR).
-#}
{% test storable_list(model, column_name) -%}
    select {{ column_name }}
    from {{ model }}
    where
        case
            when array_ndims({{ column_name }}) > 1 then true
            else
                array_position({{ column_name }}, null) is not null
                or (
                    cardinality({{ column_name }}) = 1
                    and cast(({{ column_name }})[1] as text) = ''
                )
                or strpos(array_to_string({{ column_name }}, ''), chr(31)) > 0
        end
{%- endtest %}
