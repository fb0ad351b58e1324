"""Write the dbt files that must exist at parse time, from the control rows.

dbt resolves `ref()` and `source()` before it runs any SQL, so the list of
models cannot come from seed rows at run time. `c360-export models generate`
renders them instead: per mapped source table a staging model and its source
entry, per label a node model, per relationship type an edge model, their YAML
(descriptions, contracts typed from the attached foreign tables, key and
endpoint tests, each model's control row as `meta.c360`), the catalog model,
the `neo4j_graph` exposure, and the test `generated_models_match_control_rows`
with every control row as its `meta.c360`, which stops a `dbt build` whose
seeds were edited since. The SQL bodies are calls to the project's macros.
Names come from `c360.transform.naming`, the checks from `c360.transform.checks`,
the shape of `meta.c360` from `c360.transform.meta`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from c360 import types
from c360.config import Settings
from c360.control.load import load_control_rows
from c360.control.model import (
    APPEND_ONLY,
    CONTROL_FILES,
    DEFAULT_SCHEMA,
    ChangeTracking,
    ControlRows,
    NodeMapping,
    RelationshipMapping,
    Table,
    local_schema,
)
from c360.control.rules import check_columns
from c360.pg import connect
from c360.transform import diagram
from c360.transform.checks import (
    check_column_names,
    check_no_jinja,
    check_types,
    check_unique_names,
    check_watermarks,
    dangling_side,
)
from c360.transform.columns import (
    RemoteSchemas,
    SourceColumn,
    TableColumns,
    extension_columns,
    introspect_columns,
    node_columns,
    relationship_columns,
    reserved_words,
)
from c360.transform.files import SQL_HEADER, YAML_HEADER
from c360.transform.meta import (
    ControlRowsMeta,
    EdgeMeta,
    ExtensionMeta,
    NodeMeta,
    RecordedColumn,
    SourceColumnsMeta,
    StagingMeta,
)
from c360.transform.model_columns import model_columns
from c360.transform.naming import (
    CHANGE_BATCH_COLUMN,
    ROW_HASH_COLUMN,
    dbt_source,
    edge_model,
    node_model,
    read_model,
    staging_model,
)

PLAIN_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
CONTROL_SEEDS = tuple(sorted(f.seed for f in CONTROL_FILES))
ROWS_TEST = "generated_models_match_control_rows"


def render(
    rows: ControlRows,
    columns: TableColumns,
    reserved: frozenset[str],
    remote_schemas: RemoteSchemas | None = None,
) -> dict[Path, str]:
    """Every generated file, path relative to the project -> content.

    `reserved`: the keywords a column name must be quoted for (reserved_words);
    `remote_schemas`: the schema each attached source table comes from (a
    table it does not name: `public`).
    """
    remote_schemas = {
        Table(*table): (remote_schemas or {}).get(table, DEFAULT_SCHEMA)
        for table in columns
        if not Table(*table).is_model
    }
    check_columns(
        rows, {key: [c.name for c in cols] for key, cols in columns.items()}, remote_schemas
    )
    check_unique_names(rows)
    staged = {table: _staged_columns(rows, columns, table) for table in rows.read_tables()}
    check_column_names(rows, staged)
    check_types(rows, staged)
    check_watermarks(rows, staged)
    names = _Names(reserved)
    files: dict[Path, str] = {}
    for source_name in sorted({t.source_name or "" for t in rows.staging_tables()}):
        tables = [t for t in rows.staging_tables() if t.source_name == source_name]
        folder = Path("models") / "staging" / source_name
        files[folder / f"_{source_name}__sources.yml"] = _sources_yaml(
            rows, source_name, tables, columns, remote_schemas
        )
        files[folder / f"_{source_name}__models.yml"] = _staging_yaml(
            rows, tables, staged, remote_schemas, names
        )
        for table in tables:
            sql_path = folder / f"{staging_model(source_name, table.table_name)}.sql"
            files[sql_path] = _staging_sql(
                table, dbt_source(source_name, remote_schemas[table]), staged[table], names, rows
            )
    nodes = Path("models") / "graph" / "nodes"
    node_entries = []
    for node in rows.active_nodes:
        files[nodes / f"{node_model(node.label)}.sql"] = _node_sql(node, rows)
        node_entries.append(_node_entry(node, rows, staged, names))
    files[nodes / "_nodes__models.yml"] = _yaml({"models": node_entries})
    edges = Path("models") / "graph" / "edges"
    edge_entries = []
    for rel in sorted(rows.active_relationships, key=lambda r: r.execution_order):
        files[edges / f"{edge_model(rel.relationship_type)}.sql"] = _edge_sql(rel, rows)
        edge_entries.append(_edge_entry(rel, rows, staged, names))
    files[edges / "_edges__models.yml"] = _yaml({"models": edge_entries})
    graph_models = [node_model(n.label) for n in rows.active_nodes] + [
        edge_model(r.relationship_type) for r in rows.active_relationships
    ]
    files[Path("models") / "graph" / "graph_catalog.sql"] = _catalog_sql(graph_models)
    files[Path("models") / "graph" / "_graph__exposures.yml"] = _exposure_yaml(rows, graph_models)
    files[diagram.ASSET] = diagram.svg(rows)
    tests = Path("data-tests")
    files[tests / f"{ROWS_TEST}.sql"] = _rows_test_sql()
    files[tests / f"{ROWS_TEST}.yml"] = _rows_test_yaml(rows)
    files.update(_unique_key_tests(rows))
    files[Path("macros") / "generated" / "c360_active_sources.sql"] = _active_sources_macro(rows)
    check_no_jinja(files)
    return files


def render_project(settings: Settings, project_dir: Path) -> dict[Path, str]:
    """Validate the control rows, read the attached columns, render every file."""
    rows = load_control_rows(project_dir)
    conn = connect(settings, hint="run `c360-export sources attach` first")
    try:
        attached, remote_schemas = introspect_columns(conn, rows)
        columns = {**attached, **model_columns(conn, project_dir, rows.model_tables())}
        reserved = reserved_words(conn)
    finally:
        conn.close()
    return render(rows, columns, reserved, remote_schemas)


@dataclass(frozen=True)
class _Names:
    """How a column name is written: plain when PostgreSQL reads it unquoted."""

    reserved: frozenset[str]

    def needs_quotes(self, name: str) -> bool:
        return not PLAIN_NAME.match(name) or name in self.reserved

    def sql(self, name: str) -> str:
        return '"' + name.replace('"', '""') + '"' if self.needs_quotes(name) else name

    def yaml(self, name: str) -> dict[str, Any]:
        """The `name` (and `quote`) of a YAML column entry. dbt quotes a name with
        `quote: true` but does not double its '"'s, so they come doubled."""
        if self.needs_quotes(name):
            return {"name": name.replace('"', '""'), "quote": True}
        return {"name": name}


# ---- staging ----------------------------------------------------------------


def _staged_columns(
    rows: ControlRows, columns: TableColumns, table: Table
) -> tuple[SourceColumn, ...]:
    """The columns a graph model can read from `table`: a staging model's, or a
    model's of this project as its YAML declares them."""
    excluded = set(rows.excluded_columns(*table))
    return tuple(c for c in columns[table] if c.name not in excluded)


def _staging_sql(
    table: Table,
    source_entry: str,
    columns: Iterable[SourceColumn],
    names: _Names,
    rows: ControlRows,
) -> str:
    """A staging model: the table's columns, excluded ones left out. Of a table
    whose change-tracking row is incremental, an incremental run reads only the
    rows past (or at) the watermark (macros/changed_rows_where.sql), and
    dbt_project.yml's post-hook deletes the rows gone from the source."""
    listing = ",\n".join(f"        {names.sql(c.name)}" for c in columns)
    tracked = rows.change_tracking(table)
    source = f"source('{source_entry}', '{table.remote_table}')"
    changed_rows = ""
    if tracked is not None and tracked.is_incremental:
        watermark = _jinja_string(tracked.watermark_column or "")
        # the macro's clause starts on a line of its own (its `{{-` trims this one)
        changed_rows = (
            "\n    {%- if is_incremental() %}\n"
            "        {{- changed_rows_where(\n"
            f"            {source}, {watermark}, {_jinja_string(tracked.strategy)}\n"
            "        ) }}\n"
            "    {%- endif %}"
        )
    return (
        f"{SQL_HEADER}\n"
        "with\n\n"
        "source as (\n\n"
        f"    select * from {{{{ {source} }}}}{changed_rows}\n\n"
        "),\n\n"
        "renamed as (\n\n"
        "    select\n"
        f"{listing}\n\n"
        "    from source\n\n"
        ")\n\n"
        "select * from renamed\n"
    )


def _sources_yaml(
    rows: ControlRows,
    source_name: str,
    tables: list[Table],
    columns: TableColumns,
    remote_schemas: RemoteSchemas,
) -> str:
    """One dbt source per schema of the source that mapped tables come from,
    over its local schema; each table tested against the source's own catalog."""
    source = rows.source(source_name)
    entries = []
    for schema in (s for s in source.schemas if any(remote_schemas[t] == s for t in tables)):
        entry = {
            "name": dbt_source(source_name, schema),
            "description": (
                f"{source.description} Schema {schema} of database {source.database_name}, "
                f"attached through postgres_fdw by `c360-export sources attach` as foreign "
                f"tables in {local_schema(source_name, schema)}."
            ).strip(),
            "schema": local_schema(source_name, schema),
            "config": {
                "meta": {
                    "c360": {
                        "source_name": source_name,
                        "database_name": source.database_name,
                        "remote_schema": schema,
                    }
                }
            },
            "tables": [
                {
                    "name": t.remote_table,
                    "description": (
                        f"Foreign table over {source.database_name}.{schema}.{t.remote_table}."
                    ),
                    "data_tests": [_source_columns_test(rows, t, schema, columns[t])],
                }
                for t in tables
                if remote_schemas[t] == schema
            ],
        }
        entries.append(entry)
    return _yaml({"sources": entries})


def _source_columns_test(
    rows: ControlRows, table: Table, remote_schema: str, columns: tuple[SourceColumn, ...]
) -> dict[str, Any]:
    """The test that fails `dbt build` when a column the staging model reads is
    gone from the source or retyped, and warns of a new one (its meta.c360
    records the columns; macros/tests/source_columns_match.sql compares)."""
    excluded = set(rows.excluded_columns(*table))
    recorded = tuple(
        RecordedColumn(
            c.name,
            str(c.source_type),
            c.data_type,
            c.udt_name,
            c.numeric_precision,
            c.numeric_scale,
            c.name not in excluded,
        )
        for c in columns
    )
    meta = SourceColumnsMeta.of(table, remote_schema, recorded)
    # warn: a new column; a read column gone or retyped stops the build from the macro
    return {
        "source_columns_match": {"config": {"severity": "warn", "meta": {"c360": meta.as_meta()}}}
    }


def _staging_yaml(
    rows: ControlRows,
    tables: list[Table],
    staged: Mapping[Table, tuple[SourceColumn, ...]],
    remote_schemas: RemoteSchemas,
    names: _Names,
) -> str:
    models = []
    for table in tables:
        source_name = table.source_name or ""
        excluded = list(rows.excluded_columns(*table))
        removed = f" Excluded columns removed: {', '.join(excluded)}." if excluded else ""
        tracked = rows.change_tracking(table)
        config = _incremental_config(tracked, names) if tracked is not None else {}
        meta = StagingMeta.of(rows, table, dbt_source(source_name, remote_schemas[table]))
        models.append(
            {
                "name": staging_model(source_name, table.table_name),
                "description": (
                    f"One row per row of {table}, source types kept.{removed}"
                    f"{_tracking_sentence(tracked)}"
                ),
                "config": {**config, "meta": {"c360": meta.as_meta()}},
                "columns": [
                    {
                        **names.yaml(c.name),
                        "description": f"{c.name} ({c.source_type}) from the source.",
                    }
                    for c in staged[table]
                ],
            }
        )
    return _yaml({"models": models})


def _incremental_config(tracked: ChangeTracking, names: _Names) -> dict[str, Any]:
    """The dbt config of a staging model whose table is tracked incrementally:
    changed rows replace the staged rows of their key (delete+insert makes a row
    read twice harmless), and a change of columns stops the build rather than
    staging rows of two shapes (`dbt build --full-refresh` rebuilds it)."""
    if not tracked.is_incremental:
        return {}
    return {
        "materialized": "incremental",
        "incremental_strategy": "delete+insert",
        # dbt writes these into its delete unquoted: quoted here where a name needs it
        "unique_key": [names.sql(k) for k in tracked.key_columns],
        "on_schema_change": "fail",
    }


def _tracking_sentence(tracked: ChangeTracking | None) -> str:
    """What the description says of a change-tracking row (nothing without one)."""
    if tracked is None:
        return ""
    if not tracked.is_incremental:
        return " Every row is read again on every build (table_change_tracking: full)."
    past = "past" if tracked.strategy == APPEND_ONLY else "at or past"
    return (
        f" Incremental ({tracked.strategy}): a build reads the rows whose "
        f"{tracked.watermark_column} is {past} the newest one staged, and deletes the "
        f"staged rows whose {', '.join(tracked.key_columns)} left the source; "
        "`dbt build --full-refresh` reads every row again."
    )


# ---- nodes ------------------------------------------------------------------


def _depends_on_seeds() -> str:
    return "".join(f"-- depends_on: {{{{ ref('{seed}') }}}}\n" for seed in CONTROL_SEEDS)


def _node_sql(node: NodeMapping, rows: ControlRows) -> str:
    relation = f"ref('{read_model(node.table)}')"
    extensions = rows.extensions_of(node.label)
    if extensions:
        listed = ", ".join(f"ref('{read_model(e.table)}')" for e in extensions)
        call = f"graph_node_select(\n    {relation},\n    extension_relations=[{listed}]\n)"
    else:
        call = f"graph_node_select({relation})"
    return f"{SQL_HEADER}{_depends_on_seeds()}\n{{{{ graph_table_rows({call}) }}}}\n"


def _node_entry(
    node: NodeMapping, rows: ControlRows, staged: TableColumns, names: _Names
) -> dict[str, Any]:
    grain = (
        "one row per distinct non-null " + ", ".join(node.key_columns)
        if node.one_node_per_key
        else "one row per row"
    )
    extensions = rows.extensions_of(node.label)
    added = [(e, extension_columns(e, staged[e.table])) for e in extensions]
    extended = "".join(
        f" Properties {', '.join(c.name for c in columns)} from {e.table}." for e, columns in added
    )
    single_key = len(node.key_columns) == 1
    meta = NodeMeta.of(
        node,
        tuple(
            ExtensionMeta(e.source_name, e.table_name, tuple(c.name for c in columns))
            for e, columns in added
        ),
    )
    entry: dict[str, Any] = {
        "name": node_model(node.label),
        "description": (
            f"(:{node.label}) nodes: {grain} of {node.table}.{extended} {node.description}"
        ).strip(),
        "config": {
            **_change_config(node.key_columns, names),
            "meta": {"c360": meta.as_meta()},
        },
    }
    if not single_key:
        entry["data_tests"] = [
            {"unique_combination_of_columns": {"arguments": {"columns": list(node.key_columns)}}}
        ]
    carried = [(node.table, c) for c in node_columns(node, staged[node.table])]
    carried += [(e.table, c) for e, columns in added for c in columns]
    entry["columns"] = []
    for table, column in carried:
        is_key = column.name in node.key_columns
        role = "Key" if is_key else "Property"
        col: dict[str, Any] = {
            **names.yaml(column.name),
            "data_type": column.graph_type,
            "description": (
                f"{role} {column.name} of :{node.label}, from "
                f"{table}.{column.name} ({column.source_type})."
            ),
        }
        tests = (["not_null", "unique"] if single_key else ["not_null"]) if is_key else []
        tests.extend(_value_tests(column.graph_type))
        if tests:
            col["data_tests"] = tests
        entry["columns"].append(col)
    entry["columns"].extend(_CHANGE_COLUMNS)
    return entry


def _value_tests(graph_type: str) -> list[Any]:
    """The tests failing `dbt build` for values of `graph_type` that Neo4j cannot
    store (an infinite or BC date, a list holding NULL), before any export."""
    tests: list[Any] = []
    if types.is_temporal(graph_type):
        tests.append({"finite_temporal": {"arguments": {"data_type": graph_type}}})
    if types.element_type(graph_type) is not None:
        tests.append("storable_list")
    return tests


# ---- edges ------------------------------------------------------------------


def _edge_relations(rel: RelationshipMapping, rows: ControlRows) -> dict[str, str]:
    """The edge macro's and dangling_rows test's relation arguments, as `ref()` text."""
    relations = {
        "from_relation": f"ref('{read_model(rows.node(rel.from_label).table)}')",
        "to_relation": f"ref('{read_model(rows.node(rel.to_label).table)}')",
    }
    if rel.via is not None:
        relations["via_relation"] = f"ref('{read_model(rel.via)}')"
    return relations


def _edge_sql(rel: RelationshipMapping, rows: ControlRows) -> str:
    call = ",\n".join(f"    {name}={ref}" for name, ref in _edge_relations(rel, rows).items())
    return (
        f"{SQL_HEADER}{_depends_on_seeds()}\n"
        f"{{{{ graph_table_rows(graph_edge_select(\n{call}\n)) }}}}\n"
    )


def _edge_entry(
    rel: RelationshipMapping,
    rows: ControlRows,
    staged: TableColumns,
    names: _Names,
) -> dict[str, Any]:
    start, end = rows.node(rel.from_label), rows.node(rel.to_label)
    meta = EdgeMeta.of(rel, rows)
    start_columns, end_columns = list(meta.start_columns), list(meta.end_columns)
    via = f" through {rel.via}" if rel.via is not None else ""
    identity = list(rel.key_columns) or start_columns + end_columns
    columns: list[dict[str, Any]] = []
    tests: list[dict[str, Any]] = [
        {"unique_combination_of_columns": {"arguments": {"columns": identity}}}
    ]
    for node, edge_columns, side in ((start, start_columns, "start"), (end, end_columns, "end")):
        types = {c.name: c for c in staged[node.table]}
        for key, edge_column in zip(node.key_columns, edge_columns, strict=True):
            columns.append(
                {
                    **names.yaml(edge_column),
                    "data_type": types[key].graph_type,
                    "description": f"Key {key} of the {side} (:{node.label}) node.",
                    "data_tests": ["not_null", *_value_tests(types[key].graph_type)],
                }
            )
        # not dbt's `relationships`: it writes `field` into SQL unquoted
        tests.append(
            {
                "relationships_composite": {
                    "arguments": {
                        "columns": list(edge_columns),
                        "to": f"ref('{node_model(node.label)}')",
                        "fields": list(node.key_columns),
                    }
                }
            }
        )
    properties_table = rel.via or start.table
    for column in relationship_columns(rel, staged[properties_table]):
        role = "Key" if column.name in rel.key_columns else "Property"
        col: dict[str, Any] = {
            **names.yaml(column.name),
            "data_type": column.graph_type,
            "description": (
                f"{role} {column.name} of [:{rel.relationship_type}], from "
                f"{properties_table}.{column.name} ({column.source_type})."
            ),
        }
        value_tests = (["not_null"] if role == "Key" else []) + _value_tests(column.graph_type)
        if value_tests:
            col["data_tests"] = value_tests
        columns.append(col)
    tests.append(
        {
            "dangling_rows": {
                "arguments": {"side": dangling_side(rel, rows), **_edge_relations(rel, rows)},
                # it reads the source rows, not the edge table's changed ones
                "config": {
                    "severity": meta.dangling_severity,
                    "meta": {"c360_changed_rows_only": False},
                },
            }
        }
    )
    grain = (
        f"one row per {rel.via} row, keyed by {', '.join(rel.key_columns)}"
        if rel.key_columns
        else "one row per distinct (start, end) pair"
    )
    return {
        "name": edge_model(rel.relationship_type),
        "description": (
            f"(:{rel.from_label})-[:{rel.relationship_type}]->(:{rel.to_label}) "
            f"relationships: {grain}, matching "
            f"{rel.from_label}.{rel.from_column} to {rel.to_label}.{rel.to_column}{via}"
            f"{' after lower(trim())' if rel.normalize == 'lower_trim' else ''}. "
            f"{rel.description}"
        ).strip(),
        "config": {
            **_change_config(start_columns + end_columns + list(rel.key_columns), names),
            "meta": {"c360": meta.as_meta()},
        },
        "data_tests": tests,
        "columns": [*columns, *_CHANGE_COLUMNS],
    }


# The columns graph_table_rows adds to every graph table, for its contract.
_CHANGE_COLUMNS = (
    {
        "name": ROW_HASH_COLUMN,
        "data_type": "bigint",
        "description": "Hash of the row's values: the exporter's sync compares it.",
    },
    {
        "name": CHANGE_BATCH_COLUMN,
        "data_type": "bigint",
        "description": "Change batch of the build that last wrote the row.",
    },
)


def _change_config(identity: Sequence[str], names: _Names) -> dict[str, Any]:
    """The incremental config of a graph table whose rows `identity` identifies
    (a label's key; a type's start and end keys and its relationship key): the
    strategy's unique_key, a unique index on it (dbt writes index columns into
    SQL as given, so quoted where needed), an index on the change batch."""
    return {
        "unique_key": list(identity),
        "indexes": [
            {"columns": [names.sql(c) for c in identity], "unique": True},
            {"columns": [CHANGE_BATCH_COLUMN]},
        ],
    }


# ---- catalog and exposure ---------------------------------------------------


def _catalog_sql(graph_models: list[str]) -> str:
    depends = "".join(f"-- depends_on: {{{{ ref('{m}') }}}}\n" for m in sorted(graph_models))
    return f"{SQL_HEADER}{depends}\n{{{{ graph_catalog_select() }}}}\n"


def _exposure_yaml(rows: ControlRows, graph_models: list[str]) -> str:
    exposure = {
        "name": "neo4j_graph",
        "label": "Neo4j graph",
        "type": "application",
        "maturity": "medium",
        "description": diagram.exposure_description(rows),
        "owner": {"name": "c360"},
        "depends_on": [f"ref('{m}')" for m in ["graph_catalog", *sorted(graph_models)]],
    }
    return _yaml({"exposures": [exposure]})


# ---- the control rows' test ----------------------------------------------


def _rows_test_sql() -> str:
    return (
        f"{SQL_HEADER}{_depends_on_seeds()}\n"
        "{{ raise_on_problems(\n"
        "    generated_model_mismatches_sql(),\n"
        "    'the control rows (seeds/control/*.csv) differ from the rows the '\n"
        "    ~ 'generated dbt files were made from',\n"
        "    'Run `c360-export models generate`, which checks the rows against the '\n"
        "    ~ 'rules of c360.control, then `dbt build` again; no graph table was '\n"
        "    ~ 'replaced.'\n"
        ") }}\n"
    )


def _rows_test_yaml(rows: ControlRows) -> str:
    test = {
        "name": ROWS_TEST,
        "description": (
            "Stops the build, before any graph table is replaced, when a control row "
            "differs from the rows the generated files were made from (meta.c360, every "
            "column of every row of every control file), naming seed, row and column."
        ),
        "config": {"meta": {"c360": ControlRowsMeta.of(rows).as_meta()}},
    }
    return _yaml({"data_tests": [test]})


def _unique_key_tests(rows: ControlRows) -> dict[Path, str]:
    """A test per table or model whose key a row relies on being unique there,
    where no graph table test catches it before the graph table is built: a
    label read from a model, an extension, a keyed junction. Each runs before
    the graph model reading it, and stops the build naming the row."""
    relied_on: list[tuple[str, Table, tuple[str, ...], str]] = [
        (node_model(n.label), n.table, n.key_columns, str(n.ref))
        for n in rows.active_nodes
        if n.table.is_model and not n.one_node_per_key
    ]
    relied_on += [
        (f"{node_model(e.label)}__{e.table_name}", e.table, e.key_columns, str(e.ref))
        for e in rows.active_extensions
    ]
    relied_on += [
        (edge_model(r.relationship_type), r.via, r.key_columns, str(r.ref))
        for r in rows.active_relationships
        if r.via is not None and r.key_columns
    ]
    files = {}
    for name, table, keys, row in relied_on:
        key_list = ", ".join(_jinja_string(k) for k in keys)
        files[Path("data-tests") / "row_keys" / f"unique_row_key__{name}.sql"] = (
            f"{SQL_HEADER}\n"
            "{{ raise_on_problems(\n"
            f"    duplicate_key_problems_sql(\n"
            f"        ref('{read_model(table)}'), [{key_list}],\n"
            f"        {_jinja_string(row)}\n"
            "    ),\n"
            "    'a control row relies on a key that is not unique in the table or model '\n"
            "    ~ 'it reads',\n"
            "    'Each key value must name one row there: fix the rows, or the key_columns '\n"
            "    ~ 'of the control row; no graph table reading it was replaced.'\n"
            ") }}\n"
        )
    return files


def _active_sources_macro(rows: ControlRows) -> str:
    """The names of the active sources, for hand-written models to enable
    themselves by (c360_source_is_active): a model reading a source's staging
    models must not be parsed when the source's rows are switched off, since
    those staging models are then not generated."""
    names = ", ".join(_jinja_string(s.source_name) for s in rows.active_sources)
    return (
        f"{SQL_HEADER}\n"
        "{% macro c360_active_sources() -%}\n"
        f"    {{{{ return([{names}]) }}}}\n"
        "{%- endmacro %}\n"
    )


def _jinja_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class _Dumper(yaml.SafeDumper):
    """safe_dump, but text of several lines as a `|` block, as a person writes it."""


def _represent_text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _represent_text)


def _yaml(document: Mapping[str, Any]) -> str:
    body = yaml.dump(
        dict(document),
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        width=88,
        allow_unicode=True,
    )
    return f"{YAML_HEADER}\n{body}"
