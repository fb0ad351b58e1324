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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from c360 import types
from c360.config import Settings
from c360.control.load import load_control_rows
from c360.control.model import (
    CONTROL_FILES,
    ControlRows,
    NodeMapping,
    RelationshipMapping,
    source_schema,
)
from c360.control.rules import check_columns
from c360.pg import connect
from c360.transform.checks import (
    check_column_names,
    check_no_jinja,
    check_types,
    check_unique_names,
    dangling_side,
)
from c360.transform.columns import (
    SourceColumn,
    TableColumns,
    introspect_columns,
    node_columns,
    reserved_words,
)
from c360.transform.files import SQL_HEADER, YAML_HEADER
from c360.transform.meta import ControlRowsMeta, EdgeMeta, NodeMeta, StagingMeta
from c360.transform.naming import edge_model, node_model, staging_model

PLAIN_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
CONTROL_SEEDS = tuple(sorted(f.seed for f in CONTROL_FILES))
ROWS_TEST = "generated_models_match_control_rows"


def render(rows: ControlRows, columns: TableColumns, reserved: frozenset[str]) -> dict[Path, str]:
    """Every generated file, path relative to the project -> content.

    `reserved`: the keywords a column name must be quoted for (reserved_words).
    """
    check_columns(rows, {key: [c.name for c in cols] for key, cols in columns.items()})
    check_unique_names(rows)
    staged = {table: _staged_columns(rows, columns, *table) for table in rows.staging_tables()}
    check_column_names(rows, staged)
    check_types(rows, staged)
    names = _Names(reserved)
    files: dict[Path, str] = {}
    for source_name in sorted({source for source, _ in staged}):
        tables = sorted(t for s, t in staged if s == source_name)
        folder = Path("models") / "staging" / source_name
        files[folder / f"_{source_name}__sources.yml"] = _sources_yaml(rows, source_name, tables)
        files[folder / f"_{source_name}__models.yml"] = _staging_yaml(
            rows, source_name, tables, staged, names
        )
        for table in tables:
            sql_path = folder / f"{staging_model(source_name, table)}.sql"
            files[sql_path] = _staging_sql(source_name, table, staged[(source_name, table)], names)
    nodes = Path("models") / "graph" / "nodes"
    node_entries = []
    for node in rows.active_nodes:
        carried = node_columns(node, staged[(node.source_name, node.table_name)])
        files[nodes / f"{node_model(node.label)}.sql"] = _node_sql(node)
        node_entries.append(_node_entry(node, carried, names))
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
    files[Path("models") / "graph" / "_graph__exposures.yml"] = _exposure_yaml(graph_models)
    tests = Path("data-tests")
    files[tests / f"{ROWS_TEST}.sql"] = _rows_test_sql()
    files[tests / f"{ROWS_TEST}.yml"] = _rows_test_yaml(rows)
    check_no_jinja(files)
    return files


def render_project(settings: Settings, project_dir: Path) -> dict[Path, str]:
    """Validate the control rows, read the attached columns, render every file."""
    rows = load_control_rows(project_dir)
    conn = connect(settings, hint="run `c360-export sources attach` first")
    try:
        columns = introspect_columns(conn, rows)
        reserved = reserved_words(conn)
    finally:
        conn.close()
    return render(rows, columns, reserved)


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
    rows: ControlRows, columns: TableColumns, source_name: str, table_name: str
) -> tuple[SourceColumn, ...]:
    excluded = set(rows.excluded_columns(source_name, table_name))
    return tuple(c for c in columns[(source_name, table_name)] if c.name not in excluded)


def _staging_sql(
    source_name: str, table_name: str, columns: Iterable[SourceColumn], names: _Names
) -> str:
    listing = ",\n".join(f"        {names.sql(c.name)}" for c in columns)
    return (
        f"{SQL_HEADER}\n"
        "with\n\n"
        "source as (\n\n"
        f"    select * from {{{{ source('{source_name}', '{table_name}') }}}}\n\n"
        "),\n\n"
        "renamed as (\n\n"
        "    select\n"
        f"{listing}\n\n"
        "    from source\n\n"
        ")\n\n"
        "select * from renamed\n"
    )


def _sources_yaml(rows: ControlRows, source_name: str, tables: list[str]) -> str:
    source = rows.source(source_name)
    entry = {
        "name": source_name,
        "description": (
            f"{source.description} Database {source.database_name}, attached through "
            f"postgres_fdw by `c360-export sources attach` as foreign tables."
        ).strip(),
        "schema": source_schema(source_name),
        "tables": [
            {"name": t, "description": f"Foreign table over {source.database_name}.public.{t}."}
            for t in tables
        ],
    }
    return _yaml({"sources": [entry]})


def _staging_yaml(
    rows: ControlRows,
    source_name: str,
    tables: list[str],
    staged: Mapping[tuple[str, str], tuple[SourceColumn, ...]],
    names: _Names,
) -> str:
    models = []
    for table in tables:
        excluded = list(rows.excluded_columns(source_name, table))
        removed = f" Excluded columns removed: {', '.join(excluded)}." if excluded else ""
        models.append(
            {
                "name": staging_model(source_name, table),
                "description": (
                    f"One row per row of {source_name}.{table}, source types kept.{removed}"
                ),
                "config": {"meta": {"c360": StagingMeta.of(rows, source_name, table).as_meta()}},
                "columns": [
                    {
                        **names.yaml(c.name),
                        "description": f"{c.name} ({c.source_type}) from the source.",
                    }
                    for c in staged[(source_name, table)]
                ],
            }
        )
    return _yaml({"models": models})


# ---- nodes ------------------------------------------------------------------


def _depends_on_seeds() -> str:
    return "".join(f"-- depends_on: {{{{ ref('{seed}') }}}}\n" for seed in CONTROL_SEEDS)


def _node_sql(node: NodeMapping) -> str:
    stg = staging_model(node.source_name, node.table_name)
    return f"{SQL_HEADER}{_depends_on_seeds()}\n{{{{ graph_node_select(ref('{stg}')) }}}}\n"


def _node_entry(node: NodeMapping, columns: list[SourceColumn], names: _Names) -> dict[str, Any]:
    grain = (
        "one row per distinct non-null " + ", ".join(node.key_columns)
        if node.one_node_per_key
        else "one row per row"
    )
    single_key = len(node.key_columns) == 1
    entry: dict[str, Any] = {
        "name": node_model(node.label),
        "description": (
            f"(:{node.label}) nodes: {grain} of {node.source_name}.{node.table_name}. "
            f"{node.description}"
        ).strip(),
        "config": {"meta": {"c360": NodeMeta.of(node).as_meta()}},
    }
    if not single_key:
        entry["data_tests"] = [
            {"unique_combination_of_columns": {"arguments": {"columns": list(node.key_columns)}}}
        ]
    entry["columns"] = []
    for column in columns:
        is_key = column.name in node.key_columns
        role = "Key" if is_key else "Property"
        col: dict[str, Any] = {
            **names.yaml(column.name),
            "data_type": column.graph_type,
            "description": (
                f"{role} {column.name} of :{node.label}, from "
                f"{node.source_name}.{node.table_name}.{column.name} ({column.source_type})."
            ),
        }
        tests = (["not_null", "unique"] if single_key else ["not_null"]) if is_key else []
        tests.extend(_value_tests(column.graph_type))
        if tests:
            col["data_tests"] = tests
        entry["columns"].append(col)
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


def _edge_sql(rel: RelationshipMapping, rows: ControlRows) -> str:
    start, end = rows.node(rel.from_label), rows.node(rel.to_label)
    from_ref = f"ref('{staging_model(start.source_name, start.table_name)}')"
    to_ref = f"ref('{staging_model(end.source_name, end.table_name)}')"
    args = [f"    from_relation={from_ref}", f"    to_relation={to_ref}"]
    if rel.via is not None:
        args.append(f"    via_relation=ref('{staging_model(*rel.via)}')")
    call = ",\n".join(args)
    return f"{SQL_HEADER}{_depends_on_seeds()}\n{{{{ graph_edge_select(\n{call}\n) }}}}\n"


def _edge_entry(
    rel: RelationshipMapping,
    rows: ControlRows,
    staged: Mapping[tuple[str, str], tuple[SourceColumn, ...]],
    names: _Names,
) -> dict[str, Any]:
    start, end = rows.node(rel.from_label), rows.node(rel.to_label)
    meta = EdgeMeta.of(rel, rows)
    start_columns, end_columns = list(meta.start_columns), list(meta.end_columns)
    via = f" through {rel.via[0]}.{rel.via[1]}" if rel.via is not None else ""
    columns: list[dict[str, Any]] = []
    tests: list[dict[str, Any]] = [
        {"unique_combination_of_columns": {"arguments": {"columns": start_columns + end_columns}}}
    ]
    for node, edge_columns, side in ((start, start_columns, "start"), (end, end_columns, "end")):
        types = {c.name: c for c in staged[(node.source_name, node.table_name)]}
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
    relations = {
        "from_relation": f"ref('{staging_model(start.source_name, start.table_name)}')",
        "to_relation": f"ref('{staging_model(end.source_name, end.table_name)}')",
    }
    if rel.via is not None:
        relations["via_relation"] = f"ref('{staging_model(*rel.via)}')"
    tests.append(
        {
            "dangling_rows": {
                "arguments": {"side": dangling_side(rel, rows), **relations},
                "config": {"severity": meta.dangling_severity},
            }
        }
    )
    return {
        "name": edge_model(rel.relationship_type),
        "description": (
            f"(:{rel.from_label})-[:{rel.relationship_type}]->(:{rel.to_label}) "
            f"relationships: one row per distinct (start, end) pair, matching "
            f"{rel.from_label}.{rel.from_column} to {rel.to_label}.{rel.to_column}{via}"
            f"{' after lower(trim())' if rel.normalize == 'lower_trim' else ''}. "
            f"{rel.description}"
        ).strip(),
        "config": {"meta": {"c360": meta.as_meta()}},
        "data_tests": tests,
        "columns": columns,
    }


# ---- catalog and exposure ---------------------------------------------------


def _catalog_sql(graph_models: list[str]) -> str:
    depends = "".join(f"-- depends_on: {{{{ ref('{m}') }}}}\n" for m in sorted(graph_models))
    return f"{SQL_HEADER}{depends}\n{{{{ graph_catalog_select() }}}}\n"


def _exposure_yaml(graph_models: list[str]) -> str:
    exposure = {
        "name": "neo4j_graph",
        "label": "Neo4j graph",
        "type": "application",
        "maturity": "medium",
        "description": (
            "The Customer 360 graph in Neo4j, loaded by `c360-export` from "
            "graph.graph_catalog and the node and edge tables it lists."
        ),
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
            "column of every row of the four control files), naming seed, row and column."
        ),
        "config": {"meta": {"c360": ControlRowsMeta.of(rows).as_meta()}},
    }
    return _yaml({"data_tests": [test]})


def _yaml(document: Mapping[str, Any]) -> str:
    body = yaml.safe_dump(
        dict(document), sort_keys=False, default_flow_style=False, width=88, allow_unicode=True
    )
    return f"{YAML_HEADER}\n{body}"
