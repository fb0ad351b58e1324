"""The real pipeline once per session: samples -> attach -> generate -> dbt build.

`graph_tables` yields the test stack's Settings once the sample sources are
loaded and dbt has built the graph tables, in a copy of the dbt project so the
working tree is never touched.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from c360.config import Settings
from c360.neo4j_driver import open_driver
from c360.transform.dbt import copy_project
from graph_helpers import LocalServer, cli, dbt
from neo4j import Driver

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def dbt_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the dbt project, with the example profile beside it."""
    return copy_project(PROJECT, tmp_path_factory.mktemp("dbt_project"))


@pytest.fixture(scope="session")
def graph_tables(stack: Settings, dbt_project: Path) -> Settings:
    """The test stack with the sample sources loaded and the graph tables built by dbt."""
    for command in (
        ("samples", "load"),
        ("sources", "attach", "--project-dir", str(dbt_project)),
        ("models", "generate", "--project-dir", str(dbt_project)),
    ):
        result = cli(stack, *command)
        assert result.exit_code == 0, result.output
    # the sources were just loaded again: staging tables left by an earlier
    # session (incremental ones among them) are rebuilt from every row
    dbt(stack, dbt_project, "build", "--full-refresh")
    return stack


@pytest.fixture(scope="module")
def driver(graph_tables: Settings) -> Iterator[Driver]:
    """A driver per module: bulk mode replaces the database, after which a
    driver's bookmarks name transactions the new store never had, and the server
    would wait for them (60 s per query) before failing."""
    with open_driver(graph_tables) as neo4j_driver:
        yield neo4j_driver


@pytest.fixture(scope="session")
def neo4j_server(graph_tables: Settings) -> LocalServer:
    return LocalServer(graph_tables)
