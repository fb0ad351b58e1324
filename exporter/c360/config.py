"""Settings for every c360 command, read once from the environment.

Two ways to run: `local` (default) uses the project's own PostgreSQL and Neo4j
under `.c360/`, started by `c360-export stack up`; `external` starts nothing
and uses the servers named by libpq's `PG*` variables and `NEO4J_*`.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from psycopg2.extensions import make_dsn

from c360.errors import ConfigError

StackMode = Literal["local", "external"]

DEFAULT_PG_PORT = 55432
DEFAULT_BOLT_PORT = 57687
DEFAULT_HTTP_PORT = 57474
# Modest: PostgreSQL and dbt share the machine. A graph larger than the page
# cache is read from disk on every lookup, so a big merge wants more of it.
DEFAULT_NEO4J_HEAP = "2g"
DEFAULT_NEO4J_PAGECACHE = "2g"
_MEMORY_SIZE = re.compile(r"[1-9][0-9]*[kmg]?", re.IGNORECASE)
DEFAULT_STAGING_DB = "c360"
LOCAL_PG_USER = "c360"


@dataclass(frozen=True)
class PostgresSettings:
    host: str
    port: int
    user: str
    password: str | None
    staging_database: str

    def dsn(self, database: str | None = None) -> str:
        """A libpq connection string for `database` (the staging one by default)."""
        return make_dsn(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            dbname=database or self.staging_database,
        )


@dataclass(frozen=True)
class Neo4jSettings:
    uri: str
    user: str
    password: str
    database: str

    @property
    def is_local(self) -> bool:
        return any(h in self.uri for h in ("://localhost", "://127.0.0.1", "://[::1]"))


@dataclass(frozen=True)
class Settings:
    project_dir: Path
    home: Path
    stack_mode: StackMode
    postgres: PostgresSettings
    neo4j: Neo4jSettings
    http_port: int
    neo4j_heap: str = DEFAULT_NEO4J_HEAP
    neo4j_pagecache: str = DEFAULT_NEO4J_PAGECACHE

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, project_dir: Path | None = None
    ) -> Settings:
        env = os.environ if env is None else env
        project = (project_dir or Path(env.get("C360_PROJECT_DIR", Path.cwd()))).resolve()
        home = Path(env.get("C360_HOME", project / ".c360")).resolve()
        mode = env.get("C360_STACK", "local")
        if mode not in ("local", "external"):
            raise ConfigError(f"C360_STACK must be 'local' or 'external', not {mode!r}")
        local = mode == "local"
        pg_port = _port(env, "C360_PG_PORT", DEFAULT_PG_PORT)
        bolt_port = _port(env, "C360_NEO4J_BOLT_PORT", DEFAULT_BOLT_PORT)
        postgres = PostgresSettings(
            host=env.get("PGHOST", "127.0.0.1") if not local else "127.0.0.1",
            port=_port(env, "PGPORT", pg_port) if not local else pg_port,
            user=env.get("PGUSER", LOCAL_PG_USER) if not local else LOCAL_PG_USER,
            password=env.get("PGPASSWORD") if not local else local_secret(home, "postgres"),
            staging_database=env.get("C360_STAGING_DB", DEFAULT_STAGING_DB),
        )
        neo4j_password = env.get("NEO4J_PASSWORD")
        if neo4j_password is None:
            if not local:
                raise ConfigError("C360_STACK=external needs NEO4J_PASSWORD")
            neo4j_password = local_secret(home, "neo4j")
        neo4j = Neo4jSettings(
            uri=env.get("NEO4J_URI", f"bolt://127.0.0.1:{bolt_port}"),
            user=env.get("NEO4J_USER", "neo4j"),
            password=neo4j_password,
            database=env.get("NEO4J_DATABASE", "neo4j"),
        )
        return cls(
            project_dir=project,
            home=home,
            stack_mode=mode,  # type: ignore[arg-type]
            postgres=postgres,
            neo4j=neo4j,
            http_port=_port(env, "C360_NEO4J_HTTP_PORT", DEFAULT_HTTP_PORT),
            neo4j_heap=_memory(env, "C360_NEO4J_HEAP", DEFAULT_NEO4J_HEAP),
            neo4j_pagecache=_memory(env, "C360_NEO4J_PAGECACHE", DEFAULT_NEO4J_PAGECACHE),
        )

    @property
    def bolt_port(self) -> int:
        return int(self.neo4j.uri.rsplit(":", 1)[1].split("/")[0])


def local_secret(home: Path, name: str) -> str:
    """The local stack's password `name`, generated on first use, kept mode 600."""
    path = home / "secrets" / name
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    value = secrets.token_urlsafe(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value)
    return value


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ConfigError(f"{name} must be a TCP port number, not {raw!r}")
    return int(raw)


def _memory(env: Mapping[str, str], name: str, default: str) -> str:
    raw = env.get(name, default)
    if not _MEMORY_SIZE.fullmatch(raw):
        raise ConfigError(f"{name} must be a size such as 512m or 4g, not {raw!r}")
    return raw
