"""The local stack: a PostgreSQL cluster and a Neo4j server under `Settings.home`.

`up`, `down` and `status` act on both; `env_exports` gives the shell variables
that point psql, dbt and the Neo4j tools at them. With `C360_STACK=external`
nothing is started or stopped: the servers belong to someone else.

The bulk exporter replaces the database through `c360.stack.neo4j_admin`
(`replace_database`: import beside the running server, swap on success).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

from c360.config import Settings
from c360.stack import neo4j, postgres
from c360.stack._system import Report, file_lock, quiet, require_free_port

__all__ = [
    "ServerStatus",
    "down",
    "env_exports",
    "is_external",
    "neo4j",
    "postgres",
    "status",
    "up",
]


@dataclass(frozen=True)
class ServerStatus:
    name: str
    running: bool
    pid: int | None
    address: str
    port: int
    data_dir: Path
    log_file: Path


def is_external(settings: Settings) -> bool:
    return settings.stack_mode == "external"


def _lock(settings: Settings) -> Path:
    return settings.home / "stack.lock"


def up(settings: Settings, report: Report = quiet) -> list[ServerStatus]:
    """Start whatever is not running and wait until both answer a query.

    Safe to repeat: running servers are detected from their pid files and only
    checked. Raises ServerUnavailableError naming the cause and the log file.
    """
    if is_external(settings):
        return []
    # Two shells or test sessions starting the same home at once would race on
    # initdb and the pid files.
    with file_lock(_lock(settings)):
        # Every clash is reported before anything starts, so a failed `up` does
        # not leave one server running.
        if postgres.pid(settings) is None:
            require_free_port(settings.postgres.port, "PostgreSQL", "C360_PG_PORT")
        if neo4j.pid(settings) is None:
            require_free_port(settings.bolt_port, "Neo4j Bolt", "C360_NEO4J_BOLT_PORT")
            require_free_port(settings.http_port, "Neo4j HTTP", "C360_NEO4J_HTTP_PORT")
        postgres.start(settings, report)
        neo4j.start(settings, report)
    return status(settings)


def down(settings: Settings, report: Report = quiet) -> list[ServerStatus]:
    """Stop both servers; stopping a stopped server is not an error."""
    if is_external(settings):
        return []
    with file_lock(_lock(settings)):
        if neo4j.stop(settings):
            report("stopped Neo4j")
        if postgres.stop(settings):
            report("stopped PostgreSQL")
    return status(settings)


def status(settings: Settings) -> list[ServerStatus]:
    """What runs, from the pid files (no connection is attempted)."""
    if is_external(settings):
        return []
    pg_paths = postgres.PostgresPaths.of(settings)
    neo_paths = neo4j.Neo4jPaths.of(settings)
    pg_pid = postgres.pid(settings)
    neo_pid = neo4j.pid(settings)
    return [
        ServerStatus(
            name="postgresql",
            running=pg_pid is not None,
            pid=pg_pid,
            address=f"127.0.0.1:{settings.postgres.port}",
            port=settings.postgres.port,
            data_dir=pg_paths.data,
            log_file=pg_paths.log_file,
        ),
        ServerStatus(
            name="neo4j",
            running=neo_pid is not None,
            pid=neo_pid,
            address=settings.neo4j.uri,
            port=settings.bolt_port,
            data_dir=neo_paths.data,
            log_file=neo_paths.log_file,
        ),
    ]


def env_exports(settings: Settings) -> list[str]:
    """`export NAME=value` lines for `eval "$(c360-export stack env)"`.

    libpq's PG* variables make `psql -d profiles_db` and dbt's profile work as
    they are; NEO4J_* are what `Settings.from_env` and Neo4j's tools read.
    """
    pg = settings.postgres
    values = {
        "PGHOST": pg.host,
        "PGPORT": str(pg.port),
        "PGUSER": pg.user,
        "PGPASSWORD": pg.password or "",
        "NEO4J_URI": settings.neo4j.uri,
        "NEO4J_USER": settings.neo4j.user,
        "NEO4J_PASSWORD": settings.neo4j.password,
    }
    return [f"export {name}={shlex.quote(value)}" for name, value in values.items()]
