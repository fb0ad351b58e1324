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


{#-
    A column or table name as a quoted SQL identifier. adapter.quote() does
    not double an embedded '"', so a source column named with one would end
    the identifier early.
-#}
{% macro c360_quote(name) -%}
    "{{ name | replace('"', '""') }}"
{%- endmacro %}


{#-
    The name of a column of a model's YAML: `models generate` writes a name
    that needs quoting with `quote: true` and its '"' doubled, the form dbt's
    own DDL and column tests need (they quote with adapter.quote()).
-#}
{% macro c360_column_name(column) -%}
    {{ return(column.name | replace('""', '"') if column.quote else column.name) }}
{%- endmacro %}


{#-
    The graph node (dbt's `graph` context) of the model whose table is
    `relation`, e.g. the model a generic test checks; empty at parse time.
-#}
{% macro c360_model_of(relation) -%}
    {%- if execute -%}
        {%- for node in graph.nodes.values()
            if node.resource_type == 'model'
            and node.schema == relation.schema
            and node.alias == relation.identifier -%}
            {{ return(node) }}
        {%- endfor -%}
    {%- endif -%}
    {{ return({}) }}
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
