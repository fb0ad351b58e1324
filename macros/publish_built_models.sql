{#-
    Write-audit-publish, the publish step: run by `on-run-end` with dbt's
    `results`. dbt replaces a model's table before its tests run, so a table
    that failed its tests is already in place; this record says which tables
    passed. For every model this invocation built or fully tested, one row of
    control.graph_builds: the table's OID now, and
      published  built (or unchanged) and every test attached to it ran here
                 and passed or warned;
      failed     the model errored or was skipped, or a test failed;
      untested   built, but not every attached test ran here (`dbt run`).
    c360-export exports a table only while its OID is the published one, so a
    table replaced since, or never tested, is refused (c360/snapshot.py).
    `dangling_rows` carries the failures of the `dangling_rows` test: the
    source rows that found no partner for the edge table.
-#}
{% macro publish_built_models(results) -%}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set outcome = {} -%}
    {%- for result in results -%}
        {%- do outcome.update({result.node.unique_id: result}) -%}
    {%- endfor -%}
    {%- set rows = [] -%}
    {%- for model in graph.nodes.values() -%}
        {%- if model.resource_type == 'model'
            and model.config.materialized != 'ephemeral' -%}
            {%- set row = built_model_record(model, outcome) -%}
            {%- if row -%}
                {%- do rows.append(row) -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
create schema if not exists control;
create table if not exists control.graph_builds (
    schema_name text not null,
    table_name text not null,
    table_oid oid,
    invocation_id text not null,
    status text not null
        check (status in ('published', 'failed', 'untested')),
    detail text,
    dangling_rows bigint,
    recorded_at timestamptz not null default now(),
    primary key (schema_name, table_name)
);
    {%- if rows %}
insert into control.graph_builds (
    schema_name, table_name, table_oid, invocation_id, status, detail,
    dangling_rows
)
values
    {%- for row in rows %}
    ({{ row | join(', ') }}){{ ',' if not loop.last }}
    {%- endfor %}
on conflict (schema_name, table_name) do update set
    table_oid = excluded.table_oid,
    invocation_id = excluded.invocation_id,
    status = excluded.status,
    detail = excluded.detail,
    dangling_rows = excluded.dangling_rows,
    recorded_at = now();
    {%- endif %}
{%- endmacro %}


{#-
    The values of `model`'s control.graph_builds row as SQL literals, or none
    when this invocation neither built it nor ran all of its tests.
-#}
{% macro built_model_record(model, outcome) -%}
    {%- set built = outcome.get(model.unique_id) -%}
    {%- set failed = [] -%}
    {%- set not_run = [] -%}
    {%- set dangling = [] -%}
    {%- for test in model_tests(model) -%}
        {%- set result = outcome.get(test.unique_id) -%}
        {%- if result is none or result.status == 'skipped' -%}
            {%- do not_run.append(test.name) -%}
        {%- elif result.status not in ('pass', 'warn') -%}
            {%- do failed.append(
                test.name ~ ' (' ~ (result.failures or result.status) ~ ')'
            ) -%}
        {%- endif -%}
        {%- if result is not none and test.test_metadata
            and test.test_metadata.name == 'dangling_rows' -%}
            {%- do dangling.append(result.failures or 0) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if built is not none and built.status != 'success' -%}
        {%- set status, detail = 'failed', 'the model did not build: '
            ~ built.status ~ ' ' ~ (built.message or '') -%}
    {%- elif failed -%}
        {%- set status, detail = 'failed', 'failed tests: ' ~ failed | join(', ') -%}
    {%- elif not not_run -%}
        {%- set status, detail = 'published', none -%}
    {%- elif built is not none -%}
        {%- set status, detail = 'untested', 'tests not run: '
            ~ not_run | join(', ') -%}
    {%- else -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return([
        sql_literal(model.schema),
        sql_literal(model.alias),
        "to_regclass(format('%I.%I', " ~ sql_literal(model.schema) ~ ", "
            ~ sql_literal(model.alias) ~ "))::oid",
        sql_literal(invocation_id),
        sql_literal(status),
        sql_literal(detail),
        (dangling | sum | string) if dangling else 'null',
    ]) }}
{%- endmacro %}


{#-
    The data tests that check `model`: generic tests attached to it, and
    singular tests that read it.
-#}
{% macro model_tests(model) -%}
    {%- set tests = [] -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'test' -%}
        {%- if node.attached_node == model.unique_id
            or (not node.attached_node
                and model.unique_id in node.depends_on.nodes) -%}
            {%- do tests.append(node) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(tests) }}
{%- endmacro %}
