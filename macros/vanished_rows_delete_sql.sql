{#-
    The post-hook of an incremental staging model (dbt_project.yml): a delete
    of the staged rows whose key (meta.c360 key_columns) no longer exists in
    the source table, found by an anti-join on the key alone, so postgres_fdw
    fetches the key columns only. Empty for the models rebuilt in full (no
    change tracking row, strategy full, `dbt build --full-refresh`) and at
    parse time, so dbt runs nothing for them.
-#}
{% macro vanished_rows_delete_sql() -%}
    {%- if not execute or not is_incremental() -%}
        {{ return('') }}
    {%- endif -%}
    {%- set tracked = c360_checked_meta(
        model.config.get('meta', {}).get('c360'),
        ['dbt_source', 'remote_table', 'key_columns'],
        'model ' ~ model.name
    ) -%}
delete from {{ this }} as staged
where not exists (
    select from {{ source(tracked.dbt_source, tracked.remote_table) }} as source_rows
    where
    {%- for key in tracked.key_columns %}
        {{ "and " if not loop.first }}source_rows.{{ c360_quote(key) }} = staged.{{ c360_quote(key) }}
    {%- endfor %}
)
{%- endmacro %}
