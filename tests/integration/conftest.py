"""The real pipeline once per session: samples -> attach -> generate -> dbt build.

`graph_tables` yields the test stack's Settings once the graph tables exist;
the helpers below read the graph back out of Neo4j in a comparable form.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from c360.cli import app
from c360.config import Settings
from c360.export import ExportOptions, ExportResult, open_driver, run_export
from c360.rows import pg_connection
from neo4j import Driver
from typer.testing import CliRunner

PROJECT = Path(__file__).resolve().parents[2]


def stack_env(settings: Settings) -> dict[str, str]:
    """The environment a subprocess needs to reach the test stack (CLI, dbt)."""
    env = dict(os.environ)
    env.update(
        C360_PROJECT_DIR=str(settings.project_dir),
        C360_HOME=str(settings.home),
        C360_STACK=settings.stack_mode,
        C360_PG_PORT=str(settings.postgres.port),
        C360_NEO4J_BOLT_PORT=str(settings.bolt_port),
        C360_NEO4J_HTTP_PORT=str(settings.http_port),
        C360_STAGING_DB=settings.postgres.staging_database,
        PGHOST=settings.postgres.host,
        PGPORT=str(settings.postgres.port),
        PGUSER=settings.postgres.user,
        PGPASSWORD=settings.postgres.password or "",
    )
    return env


def cli(settings: Settings, *args: str) -> Any:
    """Run `c360-export args` in-process against the test stack."""
    return CliRunner().invoke(app, list(args), env=stack_env(settings), catch_exceptions=False)


def dbt(settings: Settings, tmp: Path, *args: str) -> None:
    profiles = tmp / "profiles"
    profiles.mkdir(exist_ok=True)
    shutil.copy(PROJECT / "profiles.example.yml", profiles / "profiles.yml")
    env = stack_env(settings) | {"DBT_PROFILES_DIR": str(profiles)}
    dbt_bin = Path(sys.executable).parent / "dbt"
    done = subprocess.run(
        [str(dbt_bin), *args, "--target-path", str(tmp / "target"), "--log-path", str(tmp)],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]


@pytest.fixture(scope="session")
def dbt_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("dbt")


@pytest.fixture(scope="session")
def graph_tables(stack: Settings, dbt_dir: Path) -> Iterator[Settings]:
    """The test stack with sample sources loaded and the graph tables built by dbt."""
    for command in (("samples", "load"), ("sources", "attach"), ("models", "generate")):
        result = cli(stack, *command)
        assert result.exit_code == 0, result.output
    dbt(stack, dbt_dir, "build")
    return stack


@pytest.fixture(scope="session")
def driver(graph_tables: Settings) -> Iterator[Driver]:
    with open_driver(graph_tables) as neo4j_driver:
        yield neo4j_driver


def export(settings: Settings, **options: Any) -> ExportResult:
    return run_export(settings, ExportOptions(**options))


def pg_rows(settings: Settings, query: str, database: str | None = None) -> list[tuple[Any, ...]]:
    with pg_connection(settings.postgres.dsn(database)) as conn, conn.cursor() as cur:
        cur.execute("set TimeZone = 'UTC'")
        cur.execute(query)
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
