{#-
    The control row a generated model was written from: the `c360` entry of
    its meta (written by `c360-export models generate`), holding every one of
    `keys` (the keys the caller reads). At execution only: the graph macros
    render nothing at parse time. dbt gives a unit test no meta: the test
    states the row instead, as `overrides: {macros: {c360_mapping: {...}}}`.
-#}
{% macro c360_mapping(keys) -%}
    {%- do c360_unit_test_override_missing('c360_mapping', 'its control row') -%}
    {{ return(c360_checked_meta(
        model.config.get('meta', {}).get('c360'), keys, 'model ' ~ model.name
    )) }}
{%- endmacro %}


{#-
    `meta`, the `meta.c360` of `owner` (`model node_account`), once it holds
    every one of `keys`. Its shape is c360.transform.meta's; a file written
    by another version of c360, or edited by hand, would otherwise compile to
    broken SQL.
-#}
{% macro c360_checked_meta(meta, keys, owner) -%}
    {%- set meta = meta or {} -%}
    {%- set missing = [] -%}
    {%- for key in keys if key not in meta -%}
        {%- do missing.append(key) -%}
    {%- endfor -%}
    {%- if missing -%}
        {{ exceptions.raise_compiler_error(
            owner ~ ": its meta.c360 has no " ~ missing | join(', ')
            ~ " (docs/architecture.md lists the keys); run "
            ~ "`c360-export models generate` to write the generated files again"
        ) }}
    {%- endif -%}
    {{ return(meta) }}
{%- endmacro %}


{#-
    The data type of each column of the calling model's YAML (its contract),
    by source column name, in YAML order; at execution only. dbt gives a
    unit test no columns: the test states them instead, as
    `overrides: {macros: {c360_contract_types: {column: type, ...}}}`.
-#}
{% macro c360_contract_types() -%}
    {%- do c360_unit_test_override_missing('c360_contract_types', 'its columns') -%}
    {{ return(contract_column_types(model.columns)) }}
{%- endmacro %}


{#-
    Stops a unit test whose model reads, through the macro `macro_name`,
    something dbt does not give unit tests (`what`): the test must override
    that macro with the value. An overridden macro never runs, so this only
    fires when the override is missing.
-#}
{% macro c360_unit_test_override_missing(macro_name, what) -%}
    {%- if model.resource_type == 'unit_test' -%}
        {{ exceptions.raise_compiler_error(
            "unit test " ~ model.name ~ ": dbt does not give a unit test "
            ~ what ~ ", which the graph macros read through " ~ macro_name
            ~ "(); state it in the test as overrides: {macros: {"
            ~ macro_name ~ ": ...}} (see models/graph_macro_tests)"
        ) }}
    {%- endif -%}
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
    `relation`, e.g. the model a generic test checks, or empty; at execution
    only. A unit test, whose `graph` is empty, states the node as an override.
-#}
{% macro c360_model_of(relation) -%}
    {%- do c360_unit_test_override_missing(
        'c360_model_of', "the checked model's node (meta, columns)"
    ) -%}
    {%- for node in graph.nodes.values()
        if node.resource_type == 'model'
        and node.schema == relation.schema
        and node.alias == relation.identifier -%}
        {{ return(node) }}
    {%- endfor -%}
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


{#-
    The data type of each column of `relation`, by column name; at execution
    only. A unit test's inputs are CTEs of its given rows, not tables: the
    test states the types instead, as
    `overrides: {macros: {source_column_types: {column: type}}}`.
-#}
{% macro source_column_types(relation) -%}
    {%- do c360_unit_test_override_missing(
        'source_column_types', 'the column types of its inputs'
    ) -%}
    {%- set types = {} -%}
    {%- for column in adapter.get_columns_in_relation(relation) -%}
        {%- do types.update({column.name: column.dtype | lower}) -%}
    {%- endfor -%}
    {{ return(types) }}
{%- endmacro %}
