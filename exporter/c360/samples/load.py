"""Create and fill the reference source databases.

Shared by every sample domain's story and generator (`domains.py`):
(re)create a database, apply `sources/<kind>/schema.sql`,
stream rows in with COPY in the column order that file declares (read by
`schema.py`), keep every `updated_at` column current with a trigger, give
the reader role its control row names SELECT.

Each fact lives in one file, read here: tables and columns in schema.sql; the
read-only role and its password variable in the source's row of
`seeds/control/source_databases.csv`, the row `sources attach` logs in with,
and the role's password by attach's own rule (`source_password`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg2
from psycopg2 import sql
from psycopg2.extensions import connection as pg_connection
from psycopg2.extensions import encrypt_password

from c360.config import Settings
from c360.control.load import load_control_rows
from c360.control.model import CONTROL_DIR, SourceDatabase
from c360.errors import ConfigError, ExportFailedError
from c360.pg import connect
from c360.samples.schema import (  # SOURCE_KINDS, SourceKind: callers import them from here too
    SOURCE_KINDS,
    SOURCES_DIR,
    SourceKind,
    SourceSchema,
    Table,
    read_schema,
)
from c360.transform.attach import source_password

# The checkout this module belongs to, for commands run outside the project directory.
CHECKOUT = Path(__file__).resolve().parents[3]

# psycopg2 asks the file for this many bytes per read; our readers return whole chunks.
COPY_READ_SIZE = 1 << 20
# Rows per COPY chunk of generated lines: big enough to amortise the per-message
# cost, small enough that memory does not grow with the scale factor.
CHUNK_ROWS = 20_000
# A column of this name, in any table of any reference source, is the time of
# the row's last insert or update, kept by a trigger (what the updated_at
# change tracking strategy reads past). schema.sql cannot hold the function:
# the loader reads that file, which holds plain `create table` statements only.
UPDATED_AT_COLUMN = "updated_at"
TOUCH_FUNCTION = "c360_touch_updated_at"
_TOUCH_FUNCTION_SQL = f"""
create or replace function public.{TOUCH_FUNCTION}() returns trigger
language plpgsql as $$
begin
    new.{UPDATED_AT_COLUMN} := now();
    return new;
end
$$
"""


@dataclass(frozen=True)
class SourceTargets:
    """The database name each source kind is written to (tests use throwaway names)."""

    profiles_db: str = "profiles_db"
    streaming_db: str = "streaming_db"
    support_db: str = "support_db"
    core_banking_db: str = "core_banking_db"
    kyc_db: str = "kyc_db"
    payments_db: str = "payments_db"

    def database(self, kind: SourceKind) -> str:
        return str(getattr(self, kind))

    @classmethod
    def with_prefix(cls, prefix: str) -> SourceTargets:
        return cls(*(f"{prefix}{kind}" for kind in SOURCE_KINDS))


@dataclass(frozen=True)
class TableLoad:
    """One table's rows as COPY text-format lines, produced lazily in chunks.

    Each line holds a value for every column of the table, in the order its
    schema.sql declares them.
    """

    table: str
    chunks: Iterable[str]
    expected_rows: int

    @classmethod
    def of_lines(cls, table: str, lines: Iterable[str], rows: int) -> TableLoad:
        """Lines already in COPY text format (generated), sent in chunks of CHUNK_ROWS."""
        return cls(table, line_chunks(lines), rows)

    @classmethod
    def of_rows(cls, table: str, rows: Sequence[tuple[Any, ...]]) -> TableLoad:
        """Rows of Python values (a story's, a fixed lookup's), turned into COPY text."""
        return cls(table, rows_to_chunks(rows), len(rows))


# Each source kind's tables in load order: what a story or a generator hands the loader.
LoadPlan = dict[SourceKind, list[TableLoad]]


def project_root(project_dir: Path, folder: Path) -> Path:
    """The project holding `folder` (`sources/`, the control rows): `project_dir`
    (C360_PROJECT_DIR, else the working directory), else this checkout."""
    for candidate in (project_dir, CHECKOUT):
        if (candidate / folder).is_dir():
            return candidate
    raise ConfigError(
        f"no {folder}/ in {project_dir}; run from the project directory or set C360_PROJECT_DIR"
    )


def source_schema(project_dir: Path, kind: SourceKind) -> SourceSchema:
    """The tables and columns of `sources/<kind>/schema.sql`."""
    return read_schema(project_root(project_dir, SOURCES_DIR), kind)


def reference_rows(
    project_dir: Path, kinds: Iterable[SourceKind] = SOURCE_KINDS
) -> dict[SourceKind, SourceDatabase]:
    """Each of `kinds`' control row: its `user_name` is the read-only role the
    loader creates, its `password_env_var` holds the role's password."""
    rows = load_control_rows(project_root(project_dir, CONTROL_DIR)).sources
    return reference_rows_from(rows, kinds)


def reference_rows_from(
    sources: Iterable[SourceDatabase], kinds: Iterable[SourceKind] = SOURCE_KINDS
) -> dict[SourceKind, SourceDatabase]:
    """Each of `kinds`' control row: the one whose database_name is the kind.

    The unprefixed name: in the user's project a reference source is the
    database named after its kind. Prefixed copies are made by the loader
    (`SourceTargets`) and by `copy_project`, which prefixes `database_name`
    only: one role serves every copy, as roles belong to the server.
    """
    found: dict[SourceKind, list[SourceDatabase]] = {kind: [] for kind in kinds}
    for source in sources:
        if source.database_name in found:
            found[source.database_name].append(source)  # type: ignore[index]
    problems = [
        f"{', '.join(str(row.ref) for row in rows)} all name database_name {kind}"
        if rows
        else f"no source_databases row (in {CONTROL_DIR}) names database_name {kind}"
        for kind, rows in found.items()
        if len(rows) != 1
    ]
    if problems:
        raise ConfigError(
            "; ".join(problems) + ": the sample loader needs one row per reference source, "
            "whose user_name is the role it creates and password_env_var holds its password"
        )
    return {kind: rows[0] for kind, rows in found.items()}


def reader_password(settings: Settings, kind: SourceKind, env: Mapping[str, str]) -> str:
    """The password the loader gives the kind's read-only role: the one `sources
    attach` logs in with for the kind's control row."""
    return source_password(settings, reference_rows(settings.project_dir, (kind,))[kind], env)


def reader_environment(settings: Settings, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Each reference row's password variable set to the password its role gets.

    Whoever attaches prefixed copies in the local stack passes these on: without
    the variable, `sources attach` falls back to the secret named after the
    (prefixed) database, while the role's password is the one named after its kind.
    """
    env = os.environ if env is None else env
    return {
        row.password_env_var: source_password(settings, row, env)
        for row in reference_rows(settings.project_dir).values()
    }


def recreate_database(settings: Settings, database: str) -> None:
    """Drop `database` (disconnecting its users) and create it empty."""
    _drop_and_create(settings, database, create=True)


def drop_database(settings: Settings, database: str) -> None:
    _drop_and_create(settings, database, create=False)


def _drop_and_create(settings: Settings, database: str, create: bool) -> None:
    conn = connect(settings, "postgres")
    try:
        # DROP and CREATE DATABASE refuse to run inside a transaction block.
        conn.autocommit = True
        with conn.cursor() as cur:
            name = sql.Identifier(database)
            cur.execute(sql.SQL("drop database if exists {} with (force)").format(name))
            if create:
                cur.execute(sql.SQL("create database {}").format(name))
    except psycopg2.Error as error:
        what = "recreate" if create else "drop"
        raise ExportFailedError(f"cannot {what} database {database!r}: {error}") from error
    finally:
        conn.close()


# The database's own schemas (not PostgreSQL's), where schema.sql creates tables.
_USER_SCHEMAS = "n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast')"
# Every ordinary or partitioned table of those schemas and its columns, in order.
_CREATED_COLUMNS = f"""
select n.nspname::text, c.relname::text, array_agg(a.attname::text order by a.attnum)
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
where {_USER_SCHEMAS} and c.relkind in ('r', 'p')
group by n.nspname, c.relname
"""


def apply_schema(conn: pg_connection, schema: SourceSchema) -> None:
    """Run the schema.sql `schema` was read from; check PostgreSQL created what was read."""
    with conn.cursor() as cur:
        cur.execute(schema.sql)
        cur.execute(_CREATED_COLUMNS)
        created = {f"{ns}.{table}": tuple(columns) for ns, table, columns in cur.fetchall()}
    read = {f"{table.schema}.{table.name}": table.column_names for table in schema.tables}
    differences = [
        f"{table}: read {read.get(table)}, created {created.get(table)}"
        for table in sorted(read.keys() | created.keys())
        if read.get(table) != created.get(table)
    ]
    if differences:
        raise ConfigError(
            f"{schema.path} does not read as what PostgreSQL creates from it "
            f"({'; '.join(differences)}): keep it to plain `create table` statements"
        )


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
    conn: pg_connection,
    load: TableLoad,
    table: Table,
    on_chunk: Callable[[str], None] | None = None,
) -> int:
    """COPY `load` into `table`, in its columns; returns the number of rows PostgreSQL stored."""
    # freeze: the table was created in this transaction, so rows can skip later hint-bit writes
    statement = sql.SQL("copy {} ({}) from stdin with (freeze)").format(
        sql.Identifier(table.schema, table.name),
        sql.SQL(", ").join(map(sql.Identifier, table.column_names)),
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
    schema: str
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
            "select n.nspname, c.relname, con.conname, pg_get_constraintdef(con.oid) "
            "from pg_constraint con join pg_class c on c.oid = con.conrelid "
            f"join pg_namespace n on n.oid = c.relnamespace where con.contype = 'f' and "
            f"{_USER_SCHEMAS} order by con.conname"
        )
        keys = [ForeignKey(*row) for row in cur.fetchall()]
        for key in keys:
            cur.execute(
                sql.SQL("alter table {} drop constraint {}").format(
                    sql.Identifier(key.schema, key.table), sql.Identifier(key.name)
                )
            )
    return keys


def restore_foreign_keys(conn: pg_connection, keys: Iterable[ForeignKey]) -> None:
    with conn.cursor() as cur:
        for key in keys:
            statement = sql.SQL("alter table {} add constraint {} ").format(
                sql.Identifier(key.schema, key.table), sql.Identifier(key.name)
            ) + sql.SQL(key.definition)
            try:
                cur.execute(statement)
            except psycopg2.Error as error:
                raise ExportFailedError(
                    f"loaded rows break foreign key {key.name} on {key.table}: {error}"
                ) from error


def reset_sequences(conn: pg_connection, tables: Iterable[Table]) -> None:
    """Move each serial's sequence past the explicit keys COPY wrote."""
    with conn.cursor() as cur:
        for table in tables:
            name = sql.Identifier(table.schema, table.name)
            for column in table.sequence_columns:
                cur.execute(
                    sql.SQL(
                        "select setval(pg_get_serial_sequence(%s, %s), "
                        "coalesce((select max({c}) from {t}), 0) + 1, false)"
                    ).format(c=sql.Identifier(column), t=name),
                    (name.as_string(conn), column),
                )


def install_updated_at_triggers(conn: pg_connection, tables: Iterable[Table]) -> list[str]:
    """Give each table having an `updated_at` column a trigger setting it to the
    time of every later insert and update, whatever the writer says; returns
    the tables. Installed after COPY, so the rows loaded keep their values."""
    touched = [table for table in tables if UPDATED_AT_COLUMN in table.column_names]
    if not touched:
        return []
    with conn.cursor() as cur:
        cur.execute(_TOUCH_FUNCTION_SQL)
        for table in touched:
            cur.execute(
                sql.SQL(
                    "create trigger {} before insert or update on {} "
                    "for each row execute function {}()"
                ).format(
                    sql.Identifier(f"{table.name}_touch_{UPDATED_AT_COLUMN}"),
                    sql.Identifier(table.schema, table.name),
                    sql.Identifier("public", TOUCH_FUNCTION),
                )
            )
    return [table.name for table in touched]


def grant_reader(
    conn: pg_connection,
    database: str,
    schemas: Iterable[str],
    row: SourceDatabase,
    password: str,
) -> None:
    """Create or update the row's login role (`user_name`) and let it read the
    tables of `schemas` in `database`.

    The password is sent as a SCRAM verifier computed by libpq, so the plain
    text reaches neither SQL files nor the server's statement log.
    """
    role = row.user_name
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
        for schema in schemas:
            name = sql.Identifier(schema)
            cur.execute(sql.SQL("grant usage on schema {} to {}").format(name, ident))
            cur.execute(
                sql.SQL("grant select on all tables in schema {} to {}").format(name, ident)
            )


def load_database(
    settings: Settings,
    schema: SourceSchema,
    database: str,
    loads: Iterable[TableLoad],
    row: SourceDatabase,
    password: str,
    on_chunk: Callable[[TableLoad, str], None] | None = None,
) -> dict[str, int]:
    """Recreate `database` with `schema`, COPY every load, install the updated_at
    triggers, grant the row's role, ANALYZE."""
    recreate_database(settings, database)
    conn = connect(settings, database)
    counts: dict[str, int] = {}
    try:
        apply_schema(conn, schema)
        foreign_keys = drop_foreign_keys(conn)
        for load in loads:
            callback = _bind(on_chunk, load)
            counts[load.table] = copy_table(conn, load, schema.table(load.table), callback)
        restore_foreign_keys(conn, foreign_keys)
        reset_sequences(conn, map(schema.table, counts))
        install_updated_at_triggers(conn, schema.tables)
        grant_reader(conn, database, schema.schemas, row, password)
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
    env: Mapping[str, str] | None = None,
) -> dict[str, int]:
    """`load_database` for each kind, in parallel threads.

    Schemas, control rows and passwords are resolved before any database is touched;
    only the planned kinds need a control row. Creating, committing and analysing
    a database is server-side waiting; overlapping them hides it behind the
    Python work of generating rows.
    """
    env = os.environ if env is None else env
    schemas = {kind: source_schema(settings.project_dir, kind) for kind in plan}
    rows = reference_rows(settings.project_dir, plan)
    passwords = {kind: source_password(settings, rows[kind], env) for kind in plan}
    with ThreadPoolExecutor(max_workers=len(plan), thread_name_prefix="c360-load") as pool:
        futures = [
            pool.submit(
                load_database,
                settings,
                schemas[kind],
                targets.database(kind),
                loads,
                rows[kind],
                passwords[kind],
                on_chunk,
            )
            for kind, loads in plan.items()
        ]
        counts: dict[str, int] = {}
        for future in futures:
            counts.update(future.result())
    return counts


def source_rows(
    settings: Settings, database: str, query: str, params: Mapping[str, Any] | None = None
) -> list[tuple[Any, ...]]:
    """The rows `query` returns in one reference database (answers are read one silo at a time)."""
    conn = connect(settings, database)
    try:
        with conn.cursor() as cur:
            cur.execute(query, params)
            return list(cur.fetchall())
    finally:
        conn.close()


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
    return line_chunks(("\t".join(map(copy_text, row)) for row in rows), chunk_rows)


def line_chunks(lines: Iterable[str], chunk_rows: int = CHUNK_ROWS) -> Iterator[str]:
    """COPY text lines joined into chunks of `chunk_rows` lines, each ending in a newline."""
    batch: list[str] = []
    append = batch.append
    for line in lines:
        append(line)
        if len(batch) >= chunk_rows:
            yield "\n".join(batch) + "\n"
            batch.clear()
    if batch:
        yield "\n".join(batch) + "\n"
