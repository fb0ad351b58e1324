{#-
    The incremental strategy of the graph tables (dbt_project.yml): dbt has
    built the table's rows anew into `temp_relation`; only the difference
    reaches the table, so the rows the exporter finds by `c360_batch` are
    exactly those that changed. One full join of the new rows with the table
    on the key, keeping the pairs whose hash differs, gives the changes
    (temporary table c360_row_changes); then
      - rows whose key is gone are deleted, their keys logged in
        control.graph_removed_rows with this build's batch;
      - rows whose c360_row_hash differs are replaced (the new row carries
        this build's batch);
      - rows with a new key are inserted.
    Unchanged rows are not written, so they keep their batch. When the
    columns differ from the table's (its control rows changed; dbt's
    append_new_columns has already added any new one), the table is rebuilt
    in full from the new rows, as `--full-refresh` would, with its indexes,
    and its removal log starts anew.
-#}
{% macro get_incremental_c360_row_changes_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set new_rows = arg_dict['temp_relation'] -%}
    {%- set keys = arg_dict['unique_key'] -%}
    {%- set keys = [keys] if keys is string else keys -%}
    {%- if not keys -%}
        {{ exceptions.raise_compiler_error(
            "model " ~ model.name ~ ": the c360_row_changes strategy needs the "
            ~ "row's identity as unique_key; run `c360-export models generate`"
        ) }}
    {%- endif -%}
    {%- set built = adapter.get_columns_in_relation(new_rows) -%}
    {%- set shape = [] -%}
    {%- set quoted = [] -%}
    {%- for column in built -%}
        {%- do shape.append((column.name, column.data_type)) -%}
        {#- not column.quoted: it leaves a '"' in a name undoubled -#}
        {%- do quoted.append(c360_quote(column.name)) -%}
    {%- endfor -%}
    {%- set held = [] -%}
    {%- for column in arg_dict['dest_columns'] -%}
        {%- do held.append((column.name, column.data_type)) -%}
    {%- endfor -%}
    {%- set columns = quoted | join(', ') -%}
    {%- set same_key -%}
        {%- for key in keys -%}
            {{ " and " if not loop.first }}built_rows.{{ c360_quote(key) }} = graph_rows.{{ c360_quote(key) }}
        {%- endfor -%}
    {%- endset -%}
    {%- if shape != held -%}
        {%- do log(
            model.name ~ ": its columns changed, so it is rebuilt in full", info=True
        ) -%}
drop table {{ target }};
create table {{ target }} as select * from {{ new_rows }};
        {%- for index in config.get('indexes') or [] %}
{{ get_create_index_sql(target, index) }}
        {%- endfor %}
{{ graph_removals_delete_sql(target) }};
    {%- else %}
{#- one hash join of the whole table: kept in memory, not spilled in batches -#}
set local work_mem = '512MB';

create temporary table c360_row_changes on commit drop as
select
    {%- for key in keys %}
    graph_rows.{{ c360_quote(key) }} as c360_old_{{ loop.index }},
    {%- endfor %}
    built_rows.*
from {{ new_rows }} as built_rows
full join {{ target }} as graph_rows
    on {{ same_key }}
where built_rows.c360_row_hash is distinct from graph_rows.c360_row_hash;

with removed as (
    delete from {{ target }} as graph_rows
    using c360_row_changes as changed
    where changed.c360_row_hash is null
    {%- for key in keys %}
        and graph_rows.{{ c360_quote(key) }} = changed.c360_old_{{ loop.index }}
    {%- endfor %}
    returning
    {%- for key in keys %}
        graph_rows.{{ c360_quote(key) }}{{ "," if not loop.last }}
    {%- endfor %}
)
insert into control.graph_removed_rows (table_name, row_key, c360_batch)
select
    {{ sql_literal(target.identifier) }},
    jsonb_build_object(
    {%- for key in keys %}
        {{ sql_literal(key) }}, removed.{{ c360_quote(key) }}{{ "," if not loop.last }}
    {%- endfor %}
    ),
    {{ c360_change_batch() }}
from removed;

delete from {{ target }} as graph_rows
using c360_row_changes as changed
where changed.c360_row_hash is not null
    {%- for key in keys %}
    and graph_rows.{{ c360_quote(key) }} = changed.c360_old_{{ loop.index }}
    {%- endfor %};

insert into {{ target }} ({{ columns }})
select {{ columns }}
from c360_row_changes
where c360_row_hash is not null
    {%- endif %}
{%- endmacro %}
