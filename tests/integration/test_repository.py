"""The committed project itself: generated dbt files current, SQL lint-clean.

Both need a database where the sources are attached and the graph is built, so
they run here, on the test stack, rather than in `make lint` alone.
"""

from __future__ import annotations

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
