"""Run dbt as a subprocess with the connection settings of a c360 stack.

profiles.example.yml reads PGHOST, PGPORT, PGUSER, PGPASSWORD and
C360_STAGING_DB; this module sets them from `Settings` so tests and scripts
call dbt exactly as `eval "$(c360-export stack env)" && dbt ...` would.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from c360.config import Settings

# What a c360 dbt project is made of: enough to build it somewhere else.
PROJECT_FILES = ("dbt_project.yml", "models", "macros", "seeds", "data-tests")
SOURCE_ROWS = Path("seeds") / "control" / "source_databases.csv"


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
