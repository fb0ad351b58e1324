"""Helpers of the export and query tests: CLI, dbt, SQL, and the graph read back."""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg2
from c360.cli import app
from c360.config import Settings
from c360.export.options import ExportOptions, ExportResult
from c360.export.pipeline import run_export
from c360.pg import pg_connection
from c360.stack import neo4j as stack_neo4j
from c360.transform.dbt import run_dbt
from neo4j import Driver
from typer.testing import CliRunner


def cli(settings: Settings, *args: str) -> Any:
    """Run `c360-export args` in-process (the stack fixture points the environment at it)."""
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def dbt(settings: Settings, project: Path, *args: str) -> None:
    done = run_dbt(settings, project, args, profiles_dir=project)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]


@dataclass(frozen=True)
class LocalServer:
    """The test stack's Neo4j: killed hard (SIGKILL) and started through the stack library."""

    settings: Settings

    def kill(self) -> None:
        pid = stack_neo4j.pid(self.settings)
        assert pid is not None, "Neo4j is not running"
        os.kill(pid, signal.SIGKILL)

    def start(self) -> None:
        stack_neo4j.start(self.settings)


def write_rows(project: Path, seed: str, rows: list[str]) -> None:
    """Replace a control file's rows: the seed's header as the project has it, then `rows`."""
    path = project / "seeds" / "control" / f"{seed}.csv"
    header = path.read_text(encoding="utf-8").splitlines()[0]
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")


def export(settings: Settings, **options: Any) -> ExportResult:
    return run_export(settings, ExportOptions(**options))


def pg_rows(
    settings: Settings, query: str, database: str | None = None, params: Any = None
) -> list[tuple[Any, ...]]:
    with pg_connection(settings.postgres.dsn(database)) as conn, conn.cursor() as cur:
        cur.execute("set TimeZone = 'UTC'")
        cur.execute(query, params)
        return list(cur.fetchall())


def pg_execute(settings: Settings, statement: str, database: str) -> None:
    conn = psycopg2.connect(settings.postgres.dsn(database))
    try:
        with conn, conn.cursor() as cur:
            cur.execute(statement)
    finally:
        conn.close()


def wipe(driver: Driver, settings: Settings) -> None:
    driver.execute_query("MATCH (n) DETACH DELETE n", database_=settings.neo4j.database)


def snapshot(driver: Driver, settings: Settings) -> dict[str, Any]:
    """Every node (labels, properties with their Neo4j types) and relationship."""
    db = settings.neo4j.database
    nodes, _, _ = driver.execute_query(
        "MATCH (n) RETURN elementId(n) AS id, labels(n) AS labels, properties(n) AS props",
        database_=db,
    )
    ident = {
        r["id"]: (tuple(sorted(r["labels"])), tuple(sorted(r["props"].items(), key=_by_name)))
        for r in nodes
    }
    rels, _, _ = driver.execute_query(
        "MATCH (a)-[r]->(b) RETURN elementId(a) AS a, type(r) AS t, properties(r) AS p, "
        "elementId(b) AS b",
        database_=db,
    )
    return {
        "nodes": sorted((_typed(v) for v in ident.values()), key=repr),
        "relationships": sorted(
            ((ident[r["a"]], r["t"], tuple(sorted(r["p"].items())), ident[r["b"]]) for r in rels),
            key=repr,
        ),
    }


def _by_name(item: tuple[str, Any]) -> str:
    return item[0]


def _typed(node: tuple[Any, ...]) -> tuple[Any, ...]:
    labels, props = node
    # the type names make a string "1" differ from an integer 1
    return labels, tuple((k, type(v).__name__, v) for k, v in props)


def graph_table_oids(settings: Settings, database: str | None = None) -> dict[str, int]:
    """Each node and edge table's OID: the same while dbt changes the table in place."""
    return dict(
        pg_rows(
            settings,
            "select c.relname, c.oid::bigint from pg_class c join pg_namespace n"
            " on n.oid = c.relnamespace where n.nspname = 'graph' and c.relkind = 'r'"
            " and c.relname <> 'graph_catalog'",
            database,
        )
    )
