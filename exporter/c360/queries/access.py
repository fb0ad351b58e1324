"""The access log: `control.access_log`, one row per run of an audited query.

A query whose header says `// audit: access PARAM` (the person 360 view) is
recorded here: who ran it (the OS user, or the name given with `--as`), when
(the server's `now()`), which query and subject (PARAM's value), and how many
rows it returned. The log lives in the staging PostgreSQL database, beside the
export audit (`c360.export.audit`), not in Neo4j: a graph that a bulk import
replaces wholesale is no place for a record that must outlive it.

Append-only for every role: a statement-level trigger refuses UPDATE, DELETE
and TRUNCATE, enabled ALWAYS so `session_replication_role = replica` does not
silence it, and PUBLIC holds none of those privileges. The table's owner (and
any superuser) can still drop or disable the trigger, or drop the table: the
guarantee is against changes by mistake or through the application, not
against the database's administrators.

The row is written after the query returned, never before: only then is the
row count known, and a row written first would claim an access that may fail
(fixing it afterwards would take the UPDATE the log refuses).
"""

from __future__ import annotations

import getpass
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from psycopg2.extensions import connection as pg_connection_type

from c360.config import Settings
from c360.errors import ConfigError
from c360.pg import pg_connection

if TYPE_CHECKING:
    from c360.queries.catalog import Query
    from c360.queries.params import ParamValue

TABLE = "control.access_log"
TRIGGER = "access_log_append_only"

# Serialized by an advisory lock: two first uses at once would otherwise race to
# create the same table and function. Runs as one implicit transaction.
SCHEMA_SQL = f"""
select pg_advisory_xact_lock(hashtext('c360 {TABLE}'));
create schema if not exists control;
create table if not exists {TABLE} (
    access_id bigint generated always as identity primary key,
    accessed_at timestamptz not null default now(),
    -- the OS user or `--as`: who says they ran it
    accessed_by text not null check (accessed_by <> ''),
    -- the PostgreSQL login that wrote the row, which `--as` cannot change
    db_user text not null default session_user,
    query text not null,
    subject_param text not null,
    subject text not null,
    row_count bigint not null check (row_count >= 0)
);
comment on table {TABLE} is
    'c360 access log: one row per run of an audited query; append-only (trigger {TRIGGER})';
create or replace function control.refuse_access_log_change() returns trigger
language plpgsql as $$
begin
    raise exception '{TABLE} is append-only: % refused', tg_op
        using hint = 'its rows are never changed or removed; see docs/architecture.md';
end
$$;
do $$ begin
    if not exists (
        select from pg_trigger
        where tgrelid = '{TABLE}'::regclass and tgname = '{TRIGGER}'
    ) then
        create trigger {TRIGGER}
            before update or delete or truncate on {TABLE}
            for each statement execute function control.refuse_access_log_change();
    end if;
end $$;
alter table {TABLE} enable always trigger {TRIGGER};
revoke update, delete, truncate on {TABLE} from public;
"""

# Set up once: then a role that may only insert and select can keep the log,
# without the ownership the DDL above needs.
_READY_SQL = f"""
select exists (
    select from pg_trigger
    where tgrelid = to_regclass('{TABLE}') and tgname = '{TRIGGER}' and tgenabled = 'A'
)
"""

_COLUMNS = "access_id, accessed_at, accessed_by, db_user, query, subject_param, subject, row_count"


@dataclass(frozen=True)
class Access:
    """One row of the log."""

    access_id: int
    accessed_at: datetime
    accessed_by: str
    db_user: str
    query: str
    subject_param: str
    subject: str
    row_count: int

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "accessed_at": self.accessed_at.isoformat()}


def actor(given: str | None = None) -> str:
    """Who runs the query: `given` (`--as`), else the OS user."""
    if given is not None:
        if not given.strip():
            raise ConfigError("--as needs a name: who is running the query")
        return given.strip()
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        # a container user without a passwd entry, and no USER/LOGNAME set
        raise ConfigError(
            "cannot tell which OS user runs this; name yourself with --as NAME"
        ) from None


@dataclass(frozen=True)
class AccessLog:
    """The log, ready to take rows on an autocommit connection to the staging database."""

    conn: pg_connection_type
    accessed_by: str

    @classmethod
    def open(cls, conn: pg_connection_type, accessed_by: str) -> AccessLog:
        """The log, created at first use; open it before the query runs, so a log that
        cannot be written stops the query instead of leaving it unrecorded."""
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(_READY_SQL)
            row = cur.fetchone()
            if not (row and row[0]):
                cur.execute(SCHEMA_SQL)
        return cls(conn, accessed_by)

    def record(self, query: Query, values: dict[str, ParamValue], rows: int) -> None:
        """One row for a run of `query` that returned `rows` rows."""
        assert query.audit is not None
        with self.conn.cursor() as cur:
            cur.execute(
                f"insert into {TABLE} (accessed_by, query, subject_param, subject, row_count)"
                " values (%s, %s, %s, %s, %s)",
                (self.accessed_by, query.key, query.audit, str(values[query.audit]), rows),
            )


def read(settings: Settings, *, subject: str | None = None, limit: int = 50) -> list[Access]:
    """The newest `limit` rows of the log (of `subject` only, when given), newest first;
    none when nothing was ever recorded."""
    if limit < 1:
        raise ConfigError(f"--limit must be at least 1, not {limit}")
    where = "" if subject is None else " where subject = %(subject)s"
    with pg_connection(settings.postgres.dsn()) as conn, conn.cursor() as cur:
        cur.execute("select to_regclass(%s) is not null", (TABLE,))
        row = cur.fetchone()
        if not (row and row[0]):
            return []
        cur.execute(
            f"select {_COLUMNS} from {TABLE}{where}"
            " order by accessed_at desc, access_id desc limit %(limit)s",
            {"subject": subject, "limit": limit},
        )
        return [Access(*r) for r in cur.fetchall()]
