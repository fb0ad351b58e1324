{#-
    Custom schemas are used verbatim (control, staging, graph) instead of dbt's
    default "<target schema>_<custom schema>": the exporter and the docs name
    them directly. Models without a custom schema land in the target schema.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
