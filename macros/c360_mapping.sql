{#-
    The control row a generated model was written from: the `c360` entry of
    its meta (written by `c360-export models generate`). Empty at parse time.
-#}
{% macro c360_mapping() -%}
    {%- if not execute -%}
        {{ return({}) }}
    {%- endif -%}
    {{ return(model.config.get('meta', {}).get('c360', {})) }}
{%- endmacro %}


{#- A value as a single-quoted SQL string literal, or null. -#}
{% macro sql_literal(value) -%}
    {%- if value is none -%}
        null
    {%- else -%}
        '{{ value | string | replace("'", "''") }}'
    {%- endif -%}
{%- endmacro %}


{#- A list of strings as a text[] literal. -#}
{% macro sql_text_array(values) -%}
    {%- if values is none -%}
        cast(null as text[])
    {%- else -%}
        cast(array[
            {%- for value in values -%}
                {{ sql_literal(value) }}{{ ", " if not loop.last }}
            {%- endfor -%}
        ] as text[])
    {%- endif -%}
{%- endmacro %}


{#- The data type of each column of `relation`, by column name. -#}
{% macro source_column_types(relation) -%}
    {%- set types = {} -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- do types.update({column.name: column.dtype | lower}) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(types) }}
{%- endmacro %}
