{#-
    The where clause an incremental staging model reads `source_relation`
    with: the rows written since the last build, judged by the newest value
    of `watermark_column` already staged (in the calling model, `this`).
      append_only  the column only grows as rows are inserted (event_id):
                   rows past it;
      updated_at   each insert and update sets it to the time (updated_at):
                   rows at or past it, so a row committed later with the same
                   time is read again (delete+insert replaces the staged one).
    The newest staged value is read first and written into the query as a
    literal, so postgres_fdw sends the condition to the source, which
    returns only those rows. No clause (every row) when nothing is staged
    yet, or when the source's newest value is older than the newest staged:
    the source was reloaded or restored, and a row put back as it was is no
    newer than what is staged (with the post-hook's delete, the build then
    stages what `--full-refresh` would). Laid out as sqlfluff wants the
    compiled SQL, under the `select * from` of the generated model.
-#}
{% macro changed_rows_where(source_relation, watermark_column, strategy) -%}
    {%- set operators = {'append_only': '>', 'updated_at': '>='} -%}
    {%- if strategy not in operators -%}
        {{ exceptions.raise_compiler_error(
            "model " ~ model.name ~ ": change tracking strategy " ~ strategy
            ~ " reads no watermark; run `c360-export models generate`"
        ) }}
    {%- endif -%}
    {%- set column = c360_quote(watermark_column) -%}
    {%- set newest -%}
        select
            cast(max(staged.{{ column }}) as text),
            cast(pg_typeof(max(staged.{{ column }})) as text),
            (select max({{ column }}) from {{ source_relation }})
                < max(staged.{{ column }})
        from {{ this }} as staged
    {%- endset -%}
    {%- set staged_value, value_type, reloaded = run_query(newest).rows[0] -%}
    {%- if reloaded -%}
        {%- do log(
            model.name ~ ": the newest " ~ watermark_column ~ " of "
            ~ source_relation ~ " is older than the newest staged, so the "
            ~ "source was reloaded or restored: reading every row", info=True
        ) -%}
    {%- endif -%}
    {%- if staged_value is not none and not reloaded %}
    where
        {{ column }}
        {{ operators[strategy] }} cast({{ sql_literal(staged_value) }} as {{ value_type }})
    {%- endif -%}
{%- endmacro %}
