"""Run dbt as a subprocess with the connection settings of a c360 stack.

profiles.example.yml reads PGHOST, PGPORT, PGUSER, PGPASSWORD and
C360_STAGING_DB; this module sets them from `Settings` so tests and scripts
call dbt exactly as `eval "$(c360-export stack env)" && dbt ...` would.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from c360.config import Settings


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
