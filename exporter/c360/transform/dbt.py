"""Run dbt as a subprocess with the connection settings of a c360 stack.

profiles.example.yml reads PGHOST, PGPORT, PGUSER, PGPASSWORD and
C360_STAGING_DB; this module sets them from `Settings` so tests and scripts
call dbt exactly as `eval "$(c360-export stack env)" && dbt ...` would.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from c360.config import Settings

# What a c360 dbt project is made of: enough to build it somewhere else.
PROJECT_FILES = ("dbt_project.yml", "models", "macros", "seeds", "data-tests", "assets")
SOURCE_ROWS = Path("seeds") / "control" / "source_databases.csv"
# dbt's text log: a `HH:MM:SS` stamp, then the message
_STAMP = re.compile(r"^\d{2}:\d{2}:\d{2}  ")
# the first line of a node's entry in dbt's end-of-run summary
_ENTRY = re.compile(r"^(?:[A-Z][A-Za-z ]*)?(?:Failure|Error|Warning) in \S+ \S+")
# summary lines kept, so a build failing thousands of tests still gives a short error
MAX_SUMMARY_LINES = 40


def dbt_environment(
    settings: Settings, profiles_dir: Path, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """`base` (default: this process's environment) plus what the profile reads."""
    env = dict(os.environ if base is None else base)
    pg = settings.postgres
    env.update(
        PGHOST=pg.host,
        PGPORT=str(pg.port),
        PGUSER=pg.user,
        C360_STAGING_DB=pg.staging_database,
        DBT_PROFILES_DIR=str(profiles_dir),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
    )
    if pg.password is not None:
        env["PGPASSWORD"] = pg.password
    return env


def profiles_directory(project_dir: Path, env: Mapping[str, str]) -> Path:
    """Where `dbt` run in `project_dir` finds profiles.yml: DBT_PROFILES_DIR, the
    project itself, or ~/.dbt."""
    if env.get("DBT_PROFILES_DIR"):
        return Path(env["DBT_PROFILES_DIR"])
    if (project_dir / "profiles.yml").is_file():
        return project_dir
    return Path.home() / ".dbt"


def failure_summary(output: str) -> list[str]:
    """The lines of dbt's output that say what failed: the failing nodes' entries of its
    end-of-run summary (warnings left out), or, when dbt stopped before running any
    node (a parse error, an unreachable database), what it said last."""
    lines = [_STAMP.sub("", line).rstrip() for line in output.splitlines()]
    texts = [line.strip() for line in lines]
    if "Encountered an error:" in texts and not any(t.startswith("Completed with") for t in texts):
        start = texts.index("Encountered an error:")
        return [line for line in lines[start:] if line][:MAX_SUMMARY_LINES]
    start = next((i for i, t in enumerate(texts) if t.startswith("Completed with")), None)
    if start is None:
        return [line for line in lines if line][-MAX_SUMMARY_LINES:]
    found, keep = [], False
    for line, text in zip(lines[start + 1 :], texts[start + 1 :], strict=True):
        if text.startswith("Done."):
            break
        if _ENTRY.match(text):
            keep = not text.startswith("Warning")
        if keep and text and not text.startswith("compiled code at"):
            found.append(line)
    if len(found) > MAX_SUMMARY_LINES:
        left = len(found) - MAX_SUMMARY_LINES
        return [*found[:MAX_SUMMARY_LINES], f"... and {left} more lines (dbt's log has them)"]
    return found


def dbt_executable() -> str:
    """The dbt installed beside this Python (the project's virtualenv)."""
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else "dbt"


def run_dbt(
    settings: Settings,
    project_dir: Path,
    args: Sequence[str],
    profiles_dir: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `dbt <args>` in `project_dir`; output captured, never raises on failure."""
    env = dbt_environment(settings, profiles_dir or project_dir)
    return subprocess.run(
        [dbt_executable(), *args, "--no-use-colors"],
        cwd=project_dir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def copy_project(project: Path, destination: Path, database_prefix: str = "") -> Path:
    """A scratch copy of the dbt project at `project`, with the example profile
    as its profiles.yml, to build without touching the original.

    With `database_prefix`, the copy's source rows name the prefixed source
    databases (`<prefix>profiles_db`, ...), so throwaway copies of the sources
    can be attached and built beside the reference ones.
    """
    shutil.rmtree(destination, ignore_errors=True)
    destination.mkdir(parents=True)
    for name in PROJECT_FILES:
        source = project / name
        if source.is_dir():
            shutil.copytree(
                source, destination / name, ignore=shutil.ignore_patterns("target", "logs")
            )
        elif source.exists():
            shutil.copy(source, destination / name)
    shutil.copy(project / "profiles.example.yml", destination / "profiles.yml")
    if database_prefix:
        _prefix_source_databases(destination / SOURCE_ROWS, database_prefix)
    return destination


def _prefix_source_databases(path: Path, prefix: str) -> None:
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row["database_name"] = prefix + row["database_name"]
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
