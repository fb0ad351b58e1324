{#-
    A source column converted to the graph type its model contract declares:
    inet via host() (the address without the /32), anything else by a cast
    unless the types already agree. The type rule itself (uuid -> text,
    numeric -> double precision, ...) lives in c360.scaffold.GRAPH_TYPES,
    which writes the contracts.
-#}
{% macro graph_column_expression(column_name, source_type, graph_type) -%}
    {%- set column = adapter.quote(column_name) -%}
    {%- if source_type == 'inet' -%}
        host({{ column }})
    {%- elif source_type is not none and source_type == (graph_type | lower) -%}
        {{ column }}
    {%- else -%}
        cast({{ column }} as {{ graph_type }})
    {%- endif -%}
{%- endmacro %}


{#-
    The value a relationship joins on: the column as is, or lower(trim(text))
    when the relationship row asks for `normalize = lower_trim`.
-#}
{% macro join_value_expression(column_name, normalize) -%}
    {%- set column = adapter.quote(column_name) -%}
    {%- if normalize == 'lower_trim' -%}
        lower(trim(cast({{ column }} as text)))
    {%- else -%}
        {{ column }}
    {%- endif -%}
{%- endmacro %}
