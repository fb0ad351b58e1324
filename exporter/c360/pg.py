"""PostgreSQL connections for every c360 command, with one actionable error.

Every connection c360 opens goes through `open_connection`, so an unreachable
server, a wrong password or a missing database gives the same one-line
ServerUnavailableError (exit code 3) from any command, never a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2
from psycopg2 import sql
from psycopg2.extensions import connection, parse_dsn

from c360.config import Settings
from c360.errors import ServerUnavailableError

DEFAULT_HINT = "is the stack up? try `c360-export stack up`"


def describe(dsn: str) -> str:
    """`database 'x' at host:port as user`, without the password."""
    parts = parse_dsn(dsn)
    where = f"{parts.get('host', 'localhost')}:{parts.get('port', 5432)}"
    return f"database {parts.get('dbname', '?')!r} at {where} as {parts.get('user', '?')}"


def open_connection(
    dsn: str,
    *,
    autocommit: bool = False,
    application_name: str = "c360",
    hint: str = DEFAULT_HINT,
    connect_timeout: int | None = None,
) -> connection:
    """A connection to `dsn`, or ServerUnavailableError naming what could not be reached."""
    try:
        conn = psycopg2.connect(
            dsn, application_name=application_name, connect_timeout=connect_timeout
        )
    except psycopg2.OperationalError as error:
        reason = " ".join(str(error).split())
        raise ServerUnavailableError(
            f"cannot connect to PostgreSQL {describe(dsn)}: {reason} ({hint})"
        ) from None
    conn.autocommit = autocommit
    return conn


@contextmanager
def pg_connection(
    dsn: str, *, autocommit: bool = False, application_name: str = "c360-export"
) -> Iterator[connection]:
    """`open_connection` for the length of a block."""
    conn = open_connection(dsn, autocommit=autocommit, application_name=application_name)
    try:
        yield conn
    finally:
        conn.close()


def connect(
    settings: Settings, database: str | None = None, *, hint: str = DEFAULT_HINT
) -> connection:
    """A connection to `database` (the staging database by default)."""
    return open_connection(
        settings.postgres.dsn(database or settings.postgres.staging_database), hint=hint
    )


def ensure_staging_database(settings: Settings) -> bool:
    """Create the staging database if it is missing; True when it was created."""
    name = settings.postgres.staging_database
    conn = connect(settings, "postgres")
    try:
        # CREATE DATABASE refuses to run inside a transaction block.
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("select 1 from pg_database where datname = %s", (name,))
            if cur.fetchone() is not None:
                return False
            cur.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
            return True
    finally:
        conn.close()
