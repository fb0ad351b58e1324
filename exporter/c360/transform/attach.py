"""Attach the source databases to the staging database through postgres_fdw.

For every active `source_databases` control row: one foreign server
(`src_<source_name>`, options host/port/dbname/fetch_size), a user mapping for
the current user whose password comes only from the environment variable the
row names, and the source's `public` schema imported into the local schema
`src_<source_name>`, replaced on every run. Each source is attached in its own
transaction: one that cannot be reached changes nothing and is reported with
its name and the reason. dbt never sees a password.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import psycopg2
from psycopg2 import sql
from psycopg2.extensions import connection as pg_connection_type

from c360.config import Settings, local_secret
from c360.control.load import load_control_rows
from c360.control.model import SourceDatabase, source_schema
from c360.errors import ConfigError, ServerUnavailableError
from c360.pg import connect, ensure_staging_database

REMOTE_SCHEMA = "public"


@dataclass(frozen=True)
class AttachedSource:
    source_name: str
    schema: str
    tables: tuple[str, ...]


def source_password(settings: Settings, source: SourceDatabase, env: Mapping[str, str]) -> str:
    """The password of a source's login role: from the environment variable the
    row names, else (local stack only) the stack's secret named after the database."""
    value = env.get(source.password_env_var)
    if value:
        return value
    if settings.stack_mode == "local":
        return local_secret(settings.home, source.database_name)
    raise ConfigError(
        f"source {source.source_name!r}: environment variable {source.password_env_var} "
        f"(the password of {source.user_name} on {source.database_name}) is not set"
    )


def attach_sources(
    settings: Settings,
    project_dir: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> list[AttachedSource]:
    """Attach every active source; raise ServerUnavailableError naming each failure."""
    env = os.environ if env is None else env
    rows = load_control_rows(project_dir or settings.project_dir)
    # Resolve every password before touching anything.
    passwords = {s.source_name: source_password(settings, s, env) for s in rows.active_sources}
    ensure_staging_database(settings)
    conn = connect(settings, settings.postgres.staging_database)
    attached: list[AttachedSource] = []
    failures: list[str] = []
    try:
        with conn.cursor() as cur:
            cur.execute("create extension if not exists postgres_fdw")
        conn.commit()
        local_host, local_port = _own_address(conn)
        for source in rows.active_sources:
            try:
                password = passwords[source.source_name]
                attached.append(_attach(conn, source, password, local_host, local_port))
                conn.commit()
            except (psycopg2.Error, ConfigError) as error:
                conn.rollback()
                failures.append(_failure(source, local_host, local_port, error))
    finally:
        conn.close()
    if failures:
        raise ServerUnavailableError(
            "cannot attach "
            + "; ".join(failures)
            + ". Check that the source server is up, the database and role exist and the "
            "password variable is right, then run `c360-export sources attach` again."
        )
    return attached


def _attach(
    conn: pg_connection_type,
    source: SourceDatabase,
    password: str,
    local_host: str,
    local_port: int,
) -> AttachedSource:
    schema = source_schema(source.source_name)
    server = sql.Identifier(schema)
    options = {
        "host": source.host or local_host,
        "port": str(source.port or local_port),
        "dbname": source.database_name,
        "fetch_size": str(source.fetch_size),
    }
    option_list = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(k), sql.Literal(v)) for k, v in options.items()
    )
    with conn.cursor() as cur:
        # IMPORT FOREIGN SCHEMA cannot refresh a schema, so it is dropped with its
        # foreign tables and imported anew; the staging tables built from them
        # are ordinary tables and stay until the next `dbt build`.
        cur.execute(sql.SQL("drop schema if exists {} cascade").format(server))
        cur.execute(sql.SQL("drop server if exists {} cascade").format(server))
        cur.execute(
            sql.SQL("create server {} foreign data wrapper postgres_fdw options ({})").format(
                server, option_list
            )
        )
        # The password travels as a bound parameter; it is stored only in the mapping.
        cur.execute(
            sql.SQL(
                "create user mapping for current_user server {} options (user %s, password %s)"
            ).format(server),
            (source.user_name, password),
        )
        cur.execute(sql.SQL("create schema {}").format(server))
        cur.execute(
            sql.SQL("import foreign schema {} from server {} into {}").format(
                sql.Identifier(REMOTE_SCHEMA), server, server
            )
        )
        cur.execute(
            "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
            " where n.nspname = %s and c.relkind = 'f' order by c.relname",
            (schema,),
        )
        tables = tuple(name for (name,) in cur.fetchall())
        if not tables:
            raise ConfigError(
                f"source {source.source_name!r}: database {source.database_name} has no "
                f"tables in schema {REMOTE_SCHEMA} (or {source.user_name} may not read them)"
            )
        # A real round trip through the FDW: fails here when the remote refuses us.
        cur.execute(
            sql.SQL("select 1 from {}.{} limit 1").format(server, sql.Identifier(tables[0]))
        )
    return AttachedSource(source.source_name, schema, tables)


def _own_address(conn: pg_connection_type) -> tuple[str, int]:
    """How the staging server reaches itself: its first socket directory, else
    the address it was reached on, and its port."""
    with conn.cursor() as cur:
        cur.execute(
            "select current_setting('unix_socket_directories'), "
            "host(inet_server_addr()), current_setting('port')::int"
        )
        sockets, address, port = cur.fetchone()
    directories = [d.strip() for d in (sockets or "").split(",") if d.strip()]
    host = directories[0] if directories else (address or "127.0.0.1")
    return host, int(port)


def _failure(source: SourceDatabase, host: str, port: int, error: Exception) -> str:
    detail = error.pgerror if isinstance(error, psycopg2.Error) else None
    reason = " ".join((detail or str(error)).split())
    where = f"{source.host or host}:{source.port or port}"
    return (
        f"source {source.source_name!r} ({source.database_name} at {where} as "
        f"{source.user_name}): {reason}"
    )
