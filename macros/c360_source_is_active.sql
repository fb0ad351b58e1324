{#-
    Whether the source `source_name` has an active row in source_databases,
    as of the last `c360-export models generate`. A hand-written model reading
    a source's staging models enables itself by it,
      {{ config(enabled=c360_source_is_active('payments')) }},
    so that switching a domain off by its control rows also leaves out the
    models built on it: dbt could not parse their ref()s to staging models that
    are no longer generated. Parse time is fine: it reads a generated macro.
-#}
{% macro c360_source_is_active(source_name) -%}
    {{ return(source_name in c360_active_sources()) }}
{%- endmacro %}
