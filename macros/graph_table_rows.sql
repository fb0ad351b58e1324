{#-
    The rows of a graph table: `rows_sql` (a graph_node_select or
    graph_edge_select), each with the two change columns the incremental
    strategy and the exporter's sync read (graph_change_columns):
      c360_row_hash  a 64-bit hash of the row's values (hash_record_extended:
                     the stored values, so neither TimeZone nor DateStyle
                     changes it), computed once here for dbt and the exporter;
      c360_batch     the change batch of this build (c360_change_batch): a
                     row keeps the batch of the build that last changed it.
-#}
{% macro graph_table_rows(rows_sql) -%}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
with

graph_rows as (

{{ rows_sql | indent(4, first=true) }}

)

select
    graph_rows.*,
    hash_record_extended(graph_rows, 0) as c360_row_hash,
    cast({{ c360_change_batch() }} as bigint) as c360_batch
from graph_rows
{%- endmacro %}


{#- The change columns every graph table ends with: {name: type}. -#}
{% macro graph_change_columns() -%}
    {{ return({'c360_row_hash': 'bigint', 'c360_batch': 'bigint'}) }}
{%- endmacro %}


{#-
    A new change batch number, from control.graph_change_batch (created by
    graph_change_log_ddl at run start): increasing, so the exporter finds
    what changed since it last read a table by `c360_batch > <last seen>`.
    Commands that write no table (compile, docs, show) run no on-run-start
    and get 0.
-#}
{% macro c360_change_batch() -%}
    {%- if flags.WHICH not in ('build', 'run') -%}
        {{ return(0) }}
    {%- endif -%}
    {%- set batch = run_query("select nextval('control.graph_change_batch')") -%}
    {{ return(batch.columns[0].values()[0] | int) }}
{%- endmacro %}


{#-
    on-run-start: the sequence of change batches, and the log of the graph
    rows an incremental build removed (their keys as jsonb, their batch),
    which the exporter's sync turns into deletes.
-#}
{% macro graph_change_log_ddl() -%}
create schema if not exists control;
create sequence if not exists control.graph_change_batch;
create table if not exists control.graph_removed_rows (
    table_name text not null,
    row_key jsonb not null,
    c360_batch bigint not null
);
create index if not exists graph_removed_rows_by_batch
on control.graph_removed_rows (table_name, c360_batch);
{%- endmacro %}


{#-
    A graph table's post-hook: a build in full (first build, `--full-refresh`)
    starts the table's history anew, so its removal log goes; the exporter
    notices the new table and compares it in full.
-#}
{% macro graph_removals_reset_sql() -%}
    {%- if not execute or model.config.materialized != 'incremental' or is_incremental() -%}
        {{ return('') }}
    {%- endif -%}
{{ graph_removals_delete_sql(this) }}
{%- endmacro %}


{% macro graph_removals_delete_sql(relation) -%}
delete from control.graph_removed_rows
where table_name = {{ sql_literal(relation.identifier) }}
{%- endmacro %}
