"""The two baselines of bench/run.py, on the graph tables dbt built.

(a) `original`: the original pipeline's way of loading, written by us as it did it:
    one `CREATE (n:Label {prop: literal, ...})` per row, values inlined as literals
    (the original built its Cypher by string concatenation; we escape them properly,
    which costs the same), each sent on its own as an auto-commit `session.run`, then
    one `MATCH (a:From), (b:To) WHERE a.x = b.y CREATE (a)-[:T]->(b)` per relationship
    type. No index or constraint. It reads the rows from the graph tables, so it does
    none of the original's per-row transformation work: a baseline in its favour.
    Junction types (`via_*` control rows) match through the junction's own label
    (`TicketTagLink`, `PlayEvent`) and keep one relationship per pair (`WITH DISTINCT`),
    so (a) builds the same graph as c360; its counts are checked afterwards.

(b) `lower_bound`: COPY of every graph table to CSV (the same SELECT and typed
    header as bulk mode, so the import does the same work) and one
    `neo4j-admin database import full` of those files. Neo4j's stop and start around
    the import are not counted, nor constraints or checks.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from c360.config import Settings
from c360.export import bulk, catalog, cypher
from c360.export.catalog import LabelPlan
from c360.export.rows import select_sql
from c360.pg import pg_connection
from c360.stack import neo4j as stack_neo4j
from c360.stack import neo4j_admin
from neo4j import GraphDatabase, Query

Note = Callable[[str], None]


def empty_graph(settings: Settings, directory: Path) -> None:
    """An empty database with no index or constraint: import of a header-only file."""
    directory.mkdir(parents=True, exist_ok=True)
    header = directory / "empty.header.csv"
    data = directory / "empty.csv"
    header.write_text(":ID\n")
    data.write_text("")
    stack_neo4j.stop(settings)
    try:
        neo4j_admin.admin(
            settings,
            [
                "database",
                "import",
                "full",
                settings.neo4j.database,
                "--overwrite-destination=true",
                f"--report-file={directory / 'import.report'}",
                f"--nodes={header},{data}",
            ],
        )
    finally:
        stack_neo4j.start(settings)


def lower_bound(settings: Settings, directory: Path) -> dict[str, Any]:
    """Baseline (b): COPY to CSV + neo4j-admin import full, timed; nothing else."""
    directory.mkdir(parents=True, exist_ok=True)
    files: list[bulk.CsvFile] = []
    started = time.perf_counter()
    with pg_connection(settings.postgres.dsn()) as conn:
        plan = catalog.read_plan(conn)
        with conn.cursor() as cur:
            cur.execute("SET TimeZone = 'UTC'")
            cur.execute("SET extra_float_digits = 1")
            for table in plan.tables:
                is_node = isinstance(table, LabelPlan)
                stem = f"{'nodes' if is_node else 'relationships'}_{table.name}"
                header = directory / f"{stem}.header.csv"
                data = directory / f"{stem}.csv"
                columns = bulk.node_header(table) if is_node else bulk.relationship_header(table)
                header.write_text(",".join(columns) + "\n")
                with data.open("wb") as handle:
                    cur.copy_expert(bulk.copy_sql(table), handle, size=1 << 20)
                files.append(bulk.CsvFile(table, header, data, cur.rowcount))
        conn.rollback()
    copy_seconds = time.perf_counter() - started
    rows = sum(f.rows for f in files)
    stack_neo4j.stop(settings)
    try:
        started = time.perf_counter()
        neo4j_admin.admin(
            settings,
            bulk.import_args(files, settings.neo4j.database, directory / "import.report"),
        )
        import_seconds = time.perf_counter() - started
    finally:
        stack_neo4j.start(settings)
    seconds = copy_seconds + import_seconds
    return {
        "name": "lower_bound",
        "seconds": round(seconds, 3),
        "copy_seconds": round(copy_seconds, 3),
        "import_seconds": round(import_seconds, 3),
        "rows": rows,
        "rows_per_s": round(rows / seconds, 1) if seconds else 0.0,
        "csv_bytes": sum(f.data.stat().st_size for f in files),
    }


def _control_rows(project: Path, name: str) -> list[dict[str, str]]:
    with (project / "seeds" / "control" / f"{name}.csv").open(newline="") as handle:
        return [r for r in csv.DictReader(handle) if r.get("is_active", "true") == "true"]


def _side(variable: str, column: str, normalize: str) -> str:
    value = f"{variable}.{cypher.prop(column)}"
    return f"toLower(trim({value}))" if normalize == "lower_trim" else value


def relationship_statements(project: Path) -> tuple[list[tuple[str, str]], list[str]]:
    """(type, statement): the original's one MATCH ... WHERE ... CREATE per type;
    and the types it cannot express: a junction that is no label's table (the
    original matched junction rows as nodes), such as TRANSFERRED's transactions."""
    labels = _control_rows(project, "node_label_mappings")
    rows = sorted(
        _control_rows(project, "relationship_mappings"), key=lambda r: int(r["execution_order"])
    )
    statements, skipped = [], []
    for row in rows:
        a, b, t = (cypher.label(row[k]) for k in ("from_label", "to_label", "relationship_type"))
        norm = row.get("normalize") or ""
        if not row.get("via_table_name"):
            statement = (
                f"MATCH (a:{a}), (b:{b}) "
                f"WHERE {_side('a', row['from_column'], norm)} = "
                f"{_side('b', row['to_column'], norm)} "
                f"CREATE (a)-[:{t}]->(b)"
            )
        else:
            via = next(
                (
                    label
                    for label in labels
                    if label["source_name"] == row["via_source_name"]
                    and label["table_name"] == row["via_table_name"]
                    and label["one_node_per_key"] != "true"
                ),
                None,
            )
            if via is None:
                skipped.append(row["relationship_type"])
                continue
            v = cypher.label(via["label"])
            statement = (
                f"MATCH (a:{a}), (v:{v}), (b:{b}) "
                f"WHERE {_side('a', row['from_column'], norm)} = "
                f"{_side('v', row['via_from_column'], norm)} "
                f"AND {_side('v', row['via_to_column'], norm)} = "
                f"{_side('b', row['to_column'], norm)} "
                f"WITH DISTINCT a, b CREATE (a)-[:{t}]->(b)"
            )
        statements.append((row["relationship_type"], statement))
    return statements, skipped


def original(
    settings: Settings,
    project: Path,
    timeout: float,
    expected_nodes: int,
    expected_rels: int,
    note: Note = lambda _m: None,
) -> dict[str, Any]:
    """Baseline (a) on an empty graph, stopped at `timeout` seconds."""
    config = settings.neo4j
    started = time.perf_counter()
    deadline = started + timeout
    nodes_done = 0
    rels_done = 0
    node_seconds = rel_seconds = 0.0
    finished = True
    types_done: list[str] = []
    with pg_connection(settings.postgres.dsn()) as conn:
        plan = catalog.read_plan(conn)
        with conn.cursor() as cur:
            cur.execute("set TimeZone = 'UTC'")
        driver = GraphDatabase.driver(config.uri, auth=(config.user, config.password))
        try:
            with driver.session(database=config.database) as session:
                for label in plan.labels:
                    names = [cypher.prop(c.name) for c in label.columns]
                    prefix = f"CREATE (n:{cypher.label(label.name)} {{"
                    with conn.cursor(name=f"original_{label.name}") as cur:
                        cur.itersize = 10_000
                        cur.execute(select_sql(label))
                        for row in cur:
                            body = ", ".join(
                                f"{n}: {cypher.literal(v)}" for n, v in zip(names, row, strict=True)
                            )
                            session.run(prefix + body + "})").consume()
                            nodes_done += 1
                            if time.perf_counter() > deadline:
                                finished = False
                                break
                    conn.rollback()
                    if not finished:
                        break
                node_seconds = time.perf_counter() - started
                note(f"(a) {nodes_done:,} nodes in {node_seconds:.1f}s")
                statements, skipped = relationship_statements(project)
                if finished:
                    for type_name, statement in statements:
                        remaining = deadline - time.perf_counter()
                        if remaining <= 0:
                            finished = False
                            break
                        try:
                            summary = session.run(Query(statement, timeout=remaining)).consume()
                        except Exception as error:  # the transaction timeout
                            note(f"(a) {type_name} stopped: {error}")
                            finished = False
                            break
                        rels_done += summary.counters.relationships_created
                        types_done.append(type_name)
                rel_seconds = time.perf_counter() - started - node_seconds
            seconds = time.perf_counter() - started
            records, _, _ = driver.execute_query(
                "MATCH (n) RETURN count(n) AS n", database_=config.database
            )
            graph_nodes = int(records[0]["n"])
            records, _, _ = driver.execute_query(
                "MATCH ()-[r]->() RETURN count(r) AS r", database_=config.database
            )
            graph_rels = int(records[0]["r"])
        finally:
            driver.close()
    result: dict[str, Any] = {
        "name": "original",
        "finished": finished,
        "timeout_seconds": timeout,
        "seconds": round(seconds, 3),
        "node_seconds": round(node_seconds, 3),
        "relationship_seconds": round(rel_seconds, 3),
        "rows": nodes_done + rels_done,
        "rows_per_s": round((nodes_done + rels_done) / seconds, 1) if seconds else 0.0,
        "nodes_per_s": round(nodes_done / node_seconds, 1) if node_seconds else 0.0,
        "nodes_created": nodes_done,
        "relationships_created": rels_done,
        "types_done": types_done,
        "types_not_expressible": skipped,
        # with a type it cannot express, the original's graph is smaller by design
        "counts_match_graph_tables": (
            finished and graph_nodes == expected_nodes and graph_rels == expected_rels
            if not skipped
            else None
        ),
        "neo4j_nodes": graph_nodes,
        "neo4j_relationships": graph_rels,
        "estimated_seconds": None,
    }
    if not finished and nodes_done:
        # an estimate, marked so: the node phase at its measured rate (relationships
        # not included, so the true time is longer)
        result["estimated_seconds"] = round(node_seconds / nodes_done * expected_nodes, 1)
        result["estimate_note"] = "node phase only, extrapolated linearly from its rate"
    return result
