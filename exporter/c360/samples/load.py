"""Create and fill the three reference source databases.

Shared by the sample story (`samples.py`) and the scale-factor generator
(`generator.py`): (re)create a database, apply `sources/<kind>/schema.sql`,
stream rows in with COPY, give the kind's read-only login role SELECT.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import psycopg2
from psycopg2 import sql
from psycopg2.extensions import connection as pg_connection
from psycopg2.extensions import encrypt_password

from c360.config import Settings, local_secret
from c360.errors import ConfigError, ExportFailedError
from c360.pg import connect

SourceKind = Literal["profiles_db", "streaming_db", "support_db"]
SOURCE_KINDS: tuple[SourceKind, ...] = ("profiles_db", "streaming_db", "support_db")

# Tables of each kind, in load order (referenced tables first).
SOURCE_TABLES: Mapping[SourceKind, tuple[str, ...]] = {
    "profiles_db": ("accounts", "plans", "payment_methods", "subscriptions"),
    "streaming_db": ("media_content", "play_events"),
    "support_db": ("agents", "tickets", "ticket_tags", "ticket_tag_link"),
}

# Serial keys filled with explicit values by COPY; their sequences are moved past them.
SERIAL_COLUMNS: Mapping[str, str] = {
    "plans": "plan_id",
    "play_events": "event_id",
    "ticket_tags": "tag_id",
}

READER_ROLES: Mapping[SourceKind, str] = {
    "profiles_db": "profiles_reader",
    "streaming_db": "streaming_reader",
    "support_db": "support_reader",
}

PASSWORD_ENV_VARS: Mapping[SourceKind, str] = {
    "profiles_db": "C360_PROFILES_DB_PASSWORD",
    "streaming_db": "C360_STREAMING_DB_PASSWORD",
    "support_db": "C360_SUPPORT_DB_PASSWORD",
}

# psycopg2 asks the file for this many bytes per read; our readers return whole chunks.
COPY_READ_SIZE = 1 << 20


@dataclass(frozen=True)
class SourceTargets:
    """The database name each source kind is written to (tests use throwaway names)."""

    profiles_db: str = "profiles_db"
    streaming_db: str = "streaming_db"
    support_db: str = "support_db"

    def database(self, kind: SourceKind) -> str:
        return str(getattr(self, kind))

    @classmethod
    def with_prefix(cls, prefix: str) -> SourceTargets:
        return cls(*(f"{prefix}{kind}" for kind in SOURCE_KINDS))


@dataclass(frozen=True)
class TableLoad:
    """One table's rows as COPY text-format lines, produced lazily in chunks."""

    table: str
    columns: tuple[str, ...]
    chunks: Iterable[str]
    expected_rows: int


def recreate_database(settings: Settings, database: str) -> None:
    """Drop `database` (disconnecting its users) and create it empty."""
    conn = connect(settings, "postgres")
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            name = sql.Identifier(database)
            cur.execute(sql.SQL("drop database if exists {} with (force)").format(name))
            cur.execute(sql.SQL("create database {}").format(name))
    except psycopg2.Error as error:
        raise ExportFailedError(f"cannot recreate database {database!r}: {error}") from error
    finally:
        conn.close()


def drop_database(settings: Settings, database: str) -> None:
    conn = connect(settings, "postgres")
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            stmt = sql.SQL("drop database if exists {} with (force)")
            cur.execute(stmt.format(sql.Identifier(database)))
    finally:
        conn.close()


def schema_path(settings: Settings, kind: SourceKind) -> Path:
    """`sources/<kind>/schema.sql` of the project, or of this checkout as a fallback."""
    candidates = (
        settings.project_dir / "sources" / kind / "schema.sql",
        Path(__file__).resolve().parents[3] / "sources" / kind / "schema.sql",
    )
    for path in candidates:
        if path.is_file():
            return path
    raise ConfigError(
        f"schema file for {kind} not found (looked at {candidates[0]}); "
        "run from the project directory or set C360_PROJECT_DIR"
    )


def apply_schema(conn: pg_connection, path: Path) -> None:
    with conn.cursor() as cur:
        cur.execute(path.read_text())


class ChunkReader:
    """A file-like object over an iterator of text chunks, for `copy_expert`.

    `read` returns one whole chunk whatever size is asked: psycopg2 sends each
    returned string as one COPY data message, so no re-buffering is needed.
    """

    def __init__(self, chunks: Iterable[str], on_chunk: Callable[[str], None]) -> None:
        self._chunks: Iterator[str] = iter(chunks)
        self._on_chunk = on_chunk

    def read(self, size: int = -1) -> str:
        del size
        for chunk in self._chunks:
            if chunk:
                self._on_chunk(chunk)
                return chunk
        return ""

    def readline(self, size: int = -1) -> str:
        return self.read(size)


def copy_table(
    conn: pg_connection, load: TableLoad, on_chunk: Callable[[str], None] | None = None
) -> int:
    """COPY `load` into its table; returns the number of rows PostgreSQL stored."""
    # freeze: the table was created in this transaction, so rows can skip later hint-bit writes
    statement = sql.SQL("copy {} ({}) from stdin with (freeze)").format(
        sql.Identifier(load.table), sql.SQL(", ").join(map(sql.Identifier, load.columns))
    )
    reader = ChunkReader(load.chunks, on_chunk or (lambda _chunk: None))
    with conn.cursor() as cur:
        try:
            cur.copy_expert(statement.as_string(conn), reader, size=COPY_READ_SIZE)
        except psycopg2.Error as error:
            raise ExportFailedError(f"COPY into {load.table} failed: {error}") from error
        rows = cur.rowcount
    if rows != load.expected_rows:
        raise ExportFailedError(
            f"COPY into {load.table} stored {rows} rows, expected {load.expected_rows}"
        )
    return rows


@dataclass(frozen=True)
class ForeignKey:
    table: str
    name: str
    definition: str


def drop_foreign_keys(conn: pg_connection) -> list[ForeignKey]:
    """Drop the schema's foreign keys so COPY skips the per-row checks.

    Re-adding them validates every row with one join, several times faster
    than a trigger per row (play_events loads about 3x faster).
    """
    with conn.cursor() as cur:
        cur.execute(
            "select conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "from pg_constraint where contype = 'f' and connamespace = 'public'::regnamespace "
            "order by conname"
        )
        keys = [ForeignKey(*row) for row in cur.fetchall()]
        for key in keys:
            cur.execute(
                sql.SQL("alter table {} drop constraint {}").format(
                    sql.Identifier(key.table), sql.Identifier(key.name)
                )
            )
    return keys


def restore_foreign_keys(conn: pg_connection, keys: Iterable[ForeignKey]) -> None:
    with conn.cursor() as cur:
        for key in keys:
            statement = sql.SQL("alter table {} add constraint {} ").format(
                sql.Identifier(key.table), sql.Identifier(key.name)
            ) + sql.SQL(key.definition)
            try:
                cur.execute(statement)
            except psycopg2.Error as error:
                raise ExportFailedError(
                    f"loaded rows break foreign key {key.name} on {key.table}: {error}"
                ) from error


def reset_serials(conn: pg_connection, tables: Iterable[str]) -> None:
    """Move each serial's sequence past the explicit keys COPY wrote."""
    with conn.cursor() as cur:
        for table in tables:
            column = SERIAL_COLUMNS.get(table)
            if column is None:
                continue
            cur.execute(
                sql.SQL(
                    "select setval(pg_get_serial_sequence(%s, %s), "
                    "coalesce((select max({c}) from {t}), 0) + 1, false)"
                ).format(c=sql.Identifier(column), t=sql.Identifier(table)),
                (table, column),
            )


def reader_password(settings: Settings, kind: SourceKind, env: Mapping[str, str]) -> str:
    """The read-only role's password: from the environment, else a local stack secret."""
    var = PASSWORD_ENV_VARS[kind]
    value = env.get(var)
    if value:
        return value
    if settings.stack_mode == "local":
        return local_secret(settings.home, kind)
    raise ConfigError(f"C360_STACK=external needs {var} (the password of {READER_ROLES[kind]})")


def grant_reader(
    conn: pg_connection,
    database: str,
    kind: SourceKind,
    password: str,
) -> None:
    """Create or update the kind's login role and let it read `database`.

    The password is sent as a SCRAM verifier computed by libpq, so the plain
    text reaches neither SQL files nor the server's statement log.
    """
    role = READER_ROLES[kind]
    verifier = encrypt_password(password, role, conn, "scram-sha-256")
    ident = sql.Identifier(role)
    with conn.cursor() as cur:
        cur.execute("select 1 from pg_roles where rolname = %s", (role,))
        if cur.fetchone() is None:
            cur.execute(sql.SQL("create role {} login").format(ident))
        cur.execute(sql.SQL("alter role {} login password %s").format(ident), (verifier,))
        cur.execute(
            sql.SQL("grant connect on database {} to {}").format(sql.Identifier(database), ident)
        )
        cur.execute(sql.SQL("grant usage on schema public to {}").format(ident))
        cur.execute(sql.SQL("grant select on all tables in schema public to {}").format(ident))


def load_database(
    settings: Settings,
    kind: SourceKind,
    database: str,
    loads: Iterable[TableLoad],
    on_chunk: Callable[[TableLoad, str], None] | None = None,
    env: Mapping[str, str] | None = None,
) -> dict[str, int]:
    """Recreate `database` with the kind's schema, COPY every load, grant, ANALYZE."""
    password = reader_password(settings, kind, os.environ if env is None else env)
    recreate_database(settings, database)
    conn = connect(settings, database)
    counts: dict[str, int] = {}
    try:
        apply_schema(conn, schema_path(settings, kind))
        foreign_keys = drop_foreign_keys(conn)
        for load in loads:
            callback = _bind(on_chunk, load)
            counts[load.table] = copy_table(conn, load, callback)
        restore_foreign_keys(conn, foreign_keys)
        reset_serials(conn, counts)
        grant_reader(conn, database, kind, password)
        conn.commit()
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("analyze")
    finally:
        conn.close()
    return counts


def load_databases(
    settings: Settings,
    targets: SourceTargets,
    plan: Mapping[SourceKind, Iterable[TableLoad]],
    on_chunk: Callable[[TableLoad, str], None] | None = None,
) -> dict[str, int]:
    """`load_database` for each kind, in parallel threads.

    Creating, committing and analysing a database is server-side waiting;
    overlapping the three hides it behind the Python work of generating rows.
    """
    with ThreadPoolExecutor(max_workers=len(plan), thread_name_prefix="c360-load") as pool:
        futures = [
            pool.submit(load_database, settings, kind, targets.database(kind), loads, on_chunk)
            for kind, loads in plan.items()
        ]
        counts: dict[str, int] = {}
        for future in futures:
            counts.update(future.result())
    return counts


def _bind(
    on_chunk: Callable[[TableLoad, str], None] | None, load: TableLoad
) -> Callable[[str], None] | None:
    if on_chunk is None:
        return None
    return lambda chunk: on_chunk(load, chunk)


def copy_text(value: Any) -> str:
    """One value in COPY text format: NULL as \\N, specials backslash-escaped."""
    if value is None:
        return "\\N"
    text = value if isinstance(value, str) else str(value)
    if "\\" in text or "\n" in text or "\r" in text or "\t" in text:
        text = (
            text.replace("\\", "\\\\")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
            .replace("\t", "\\t")
        )
    return text


def rows_to_chunks(rows: Iterable[tuple[Any, ...]], chunk_rows: int = 5000) -> Iterator[str]:
    """Small tables given as tuples, turned into COPY text chunks."""
    lines: list[str] = []
    for row in rows:
        lines.append("\t".join(map(copy_text, row)))
        if len(lines) >= chunk_rows:
            yield "\n".join(lines) + "\n"
            lines = []
    if lines:
        yield "\n".join(lines) + "\n"
