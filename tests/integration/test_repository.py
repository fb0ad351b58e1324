"""The committed project itself: generated dbt files current, SQL lint-clean.

Both need a database where the sources are attached and the graph is built, so
they run here, on the test stack, rather than in `make lint` alone.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from c360.config import Settings
from c360.transform.dbt import dbt_environment
from graph_helpers import cli

PROJECT = Path(__file__).resolve().parents[2]


def test_committed_generated_files_match_the_control_rows(graph_tables: Settings):
    result = cli(graph_tables, "models", "check", "--project-dir", str(PROJECT))
    assert result.exit_code == 0, result.output


def test_models_pass_sqlfluff(graph_tables: Settings, dbt_project: Path):
    done = subprocess.run(
        [str(Path(sys.executable).parent / "sqlfluff"), "lint", "models", "--nocolor"],
        cwd=PROJECT,
        env=dbt_environment(graph_tables, profiles_dir=dbt_project),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]


def test_compiled_models_pass_sqlfluff(graph_tables: Settings, dbt_project: Path):
    """The SQL dbt runs, macros expanded: compiled inside the project (where
    sqlfluff finds .sqlfluff), in a directory of this run's own."""
    env = dbt_environment(graph_tables, profiles_dir=dbt_project)
    env["C360_BIN"] = str(Path(sys.executable).parent)
    (PROJECT / "target").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lint-", dir=PROJECT / "target") as compiled:
        done = subprocess.run(
            [str(PROJECT / "scripts" / "lint-compiled-sql.sh"), compiled],
            cwd=PROJECT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]


def test_dbt_docs_show_the_graph_model_on_the_exposure(graph_tables: Settings, dbt_project: Path):
    """What `make docs` builds (its DOCS_SELECTION), before the screenshot: the
    picture is an asset dbt copies, and the exposure's description shows it."""
    done = subprocess.run(
        [
            *(str(Path(sys.executable).parent / "dbt"), "docs", "generate", "--static"),
            *("--exclude", "config.materialized:ephemeral", "--no-use-colors"),
        ],
        cwd=dbt_project,
        env=dbt_environment(graph_tables, profiles_dir=dbt_project),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    target = dbt_project / "target"
    assert (target / "assets" / "graph-model.svg").read_text().startswith("<svg")
    assert (target / "static_index.html").stat().st_size > 0
    manifest = json.loads((target / "manifest.json").read_text())
    description = manifest["exposures"]["exposure.c360.neo4j_graph"]["description"]
    assert "![The graph model](assets/graph-model.svg)" in description
    assert "```mermaid\nflowchart LR\n" in description
