{#-
    dbt's hook for a test's `where` (overridden here, as dbt documents): the
    tests of graph tables (meta c360_changed_rows_only, dbt_project.yml) read
    only the rows of the table's last change batch, the rows its last build
    wrote: after `--full-refresh` every row, after an incremental build only
    the changed ones (found through the c360_batch index). Uniqueness of the
    row's identity over the whole table is the unique index's job. Every
    other test keeps dbt's behaviour.
-#}
{% macro get_where_subquery(relation) -%}
    {#- while dbt parses, config.get returns '' -#}
    {%- if (config.get('meta') or {}).get('c360_changed_rows_only') -%}
        {%- set changed -%}
            (
                select * from {{ relation }}
                where c360_batch = (select max(c360_batch) from {{ relation }})
            ) as changed_rows
        {%- endset -%}
        {%- do return(changed) -%}
    {%- endif -%}
    {%- do return(adapter.dispatch('get_where_subquery', 'dbt')(relation)) -%}
{%- endmacro %}
