"""Attach the source databases to the staging database through postgres_fdw.

For every active `source_databases` control row: one foreign server
(`src_<source_name>`, options host/port/dbname/fetch_size), a user mapping for
the current user whose password comes only from the environment variable the
row names, each schema the row names (`schemas`, blank: `public`) imported
into its local schema (`c360.control.model.local_schema`), and a foreign table
over the source's `information_schema.columns` (`source_catalog.<source_name>`),
which dbt's test `source_columns_match` reads at build time to find columns
added, dropped or retyped since: the imported foreign tables keep the columns
they had. All is replaced on every run. Each source is attached in its own
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
from psycopg2.extensions import cursor as pg_cursor

from c360.config import Settings, local_secret
from c360.control.load import load_control_rows
from c360.control.model import (
    DEFAULT_SCHEMA,
    SourceDatabase,
    catalog_table,
    local_schema,
)
from c360.errors import ConfigError, ServerUnavailableError
from c360.pg import connect, ensure_staging_database

# postgres_fdw's error for IMPORT FOREIGN SCHEMA of a schema the source lacks
FDW_SCHEMA_NOT_FOUND = "HV00Q"
# The columns of information_schema.columns the drift test reads, as the catalog
# foreign table declares them.
_CATALOG_COLUMNS = (
    ("table_schema", "text"),
    ("table_name", "text"),
    ("column_name", "text"),
    ("ordinal_position", "integer"),
    ("data_type", "text"),
    ("udt_name", "text"),
    ("numeric_precision", "integer"),
    ("numeric_scale", "integer"),
)


@dataclass(frozen=True)
class AttachedSchema:
    remote_schema: str
    local_schema: str
    tables: tuple[str, ...]


@dataclass(frozen=True)
class AttachedSource:
    source_name: str
    schemas: tuple[AttachedSchema, ...]


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
    """Attach every active source, or raise naming each failure: ConfigError when
    every failure is in the control rows (a schema the database lacks),
    ServerUnavailableError when a server, database, role or password failed."""
    env = os.environ if env is None else env
    rows = load_control_rows(project_dir or settings.project_dir)
    # Resolve every password before touching anything.
    passwords = {s.source_name: source_password(settings, s, env) for s in rows.active_sources}
    ensure_staging_database(settings)
    conn = connect(settings, settings.postgres.staging_database)
    attached: list[AttachedSource] = []
    failures: list[str] = []
    row_mistakes: list[str] = []
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
            except ConfigError as error:
                conn.rollback()
                row_mistakes.append(str(error))
            except psycopg2.Error as error:
                conn.rollback()
                failures.append(_failure(source, local_host, local_port, error))
    finally:
        conn.close()
    if row_mistakes and not failures:
        raise ConfigError(
            "cannot attach: "
            + "; ".join(row_mistakes)
            + ". Correct the row, then run `c360-export sources attach` again."
        )
    failures.extend(row_mistakes)
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
    # the server is named as the local schema of the source's public schema
    server = sql.Identifier(local_schema(source.source_name, DEFAULT_SCHEMA))
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
        # IMPORT FOREIGN SCHEMA cannot refresh a schema, so the server is dropped
        # with every foreign table of it (those of a schema no longer listed too)
        # and each schema imported anew; the staging tables built from them are
        # ordinary tables and stay until the next `dbt build`.
        for schema in source.schemas:
            local = sql.Identifier(local_schema(source.source_name, schema))
            cur.execute(sql.SQL("drop schema if exists {} cascade").format(local))
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
        schemas = tuple(_import_schema(cur, source, schema, server) for schema in source.schemas)
        _create_catalog(cur, source, server)
    return AttachedSource(source.source_name, schemas)


def _import_schema(
    cur: pg_cursor, source: SourceDatabase, schema: str, server: sql.Identifier
) -> AttachedSchema:
    """Import one schema of the source into its local schema; ConfigError naming
    the source's row when the schema is missing or shows no table."""
    local = local_schema(source.source_name, schema)
    cur.execute(sql.SQL("create schema {}").format(sql.Identifier(local)))
    try:
        cur.execute(
            sql.SQL("import foreign schema {} from server {} into {}").format(
                sql.Identifier(schema), server, sql.Identifier(local)
            )
        )
    except psycopg2.Error as error:
        if error.pgcode != FDW_SCHEMA_NOT_FOUND:
            raise
        raise ConfigError(
            f"{source.ref}: schema {schema!r} (in schemas) does not exist in database "
            f"{source.database_name}"
        ) from error
    cur.execute(
        "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = %s and c.relkind = 'f' order by c.relname",
        (local,),
    )
    tables = tuple(name for (name,) in cur.fetchall())
    if not tables:
        raise ConfigError(
            f"{source.ref}: database {source.database_name} has no tables in schema {schema} "
            f"(or {source.user_name} may not use the schema or read its tables)"
        )
    # A real round trip through the FDW: fails here when the remote refuses us.
    cur.execute(
        sql.SQL("select 1 from {}.{} limit 1").format(
            sql.Identifier(local), sql.Identifier(tables[0])
        )
    )
    return AttachedSchema(schema, local, tables)


def _create_catalog(cur: pg_cursor, source: SourceDatabase, server: sql.Identifier) -> None:
    """The foreign table over the source's information_schema.columns."""
    schema, table = catalog_table(source.source_name)
    cur.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))
    columns = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(kind))
        for name, kind in _CATALOG_COLUMNS
    )
    cur.execute(
        sql.SQL(
            "create foreign table {}.{} ({}) server {} "
            "options (schema_name 'information_schema', table_name 'columns')"
        ).format(sql.Identifier(schema), sql.Identifier(table), columns, server)
    )


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
