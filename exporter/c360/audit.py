"""The audit trail: `control.etl_run_logs` and `control.etl_table_logs`.

Written on its own autocommit connection, so a row is on disk the moment it is
written and a run that dies still leaves `running`/`failed` behind, never a
false `completed`. Targets are recorded without credentials; errors are
redacted the same way.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from psycopg2.extensions import connection as pg_connection_type

SCHEMA_SQL = """
create schema if not exists control;
create table if not exists control.etl_run_logs (
    run_id uuid primary key,
    started_at timestamptz not null default now(),
    ended_at timestamptz,
    mode text not null,
    target text not null,
    status text not null check (status in ('running', 'completed', 'failed')),
    error text
);
create table if not exists control.etl_table_logs (
    run_id uuid not null references control.etl_run_logs (run_id),
    kind text not null check (kind in ('node', 'edge')),
    name text not null,
    rows_read bigint not null default 0,
    rows_written bigint not null default 0,
    seconds double precision not null default 0,
    status text not null check (status in ('running', 'completed', 'failed')),
    error text,
    primary key (run_id, kind, name)
);
-- sync deletes nodes and relationships; older audit tables lack the column
alter table control.etl_table_logs add column if not exists rows_deleted bigint not null default 0;
"""

_CREDENTIALS = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]*@")
_PASSWORD_PARAM = re.compile(r"(password\s*=\s*)\S+", re.IGNORECASE)
_MAX_ERROR = 4000


def redact(text: str) -> str:
    """`text` without `user:password@` in URIs nor `password=...` pairs."""
    text = _CREDENTIALS.sub(r"\g<scheme>", text)
    return _PASSWORD_PARAM.sub(r"\1***", text)


@dataclass(frozen=True)
class Audit:
    """The audit rows of one run; every method commits at once."""

    conn: pg_connection_type
    run_id: str

    @classmethod
    def start(cls, conn: pg_connection_type, mode: str, target: str) -> Audit:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(SCHEMA_SQL)
            run_id = str(uuid.uuid4())
            cur.execute(
                "insert into control.etl_run_logs (run_id, mode, target, status)"
                " values (%s, %s, %s, 'running')",
                (run_id, mode, redact(target)),
            )
        return cls(conn, run_id)

    def table_started(self, kind: str, name: str) -> None:
        with self.conn.cursor() as cur:
            cur.execute(
                "insert into control.etl_table_logs (run_id, kind, name, status)"
                " values (%s, %s, %s, 'running')"
                " on conflict (run_id, kind, name) do update set status = 'running'",
                (self.run_id, kind, name),
            )

    def table_finished(
        self,
        kind: str,
        name: str,
        *,
        rows_read: int,
        rows_written: int,
        seconds: float,
        rows_deleted: int = 0,
        error: str | None = None,
    ) -> None:
        with self.conn.cursor() as cur:
            cur.execute(
                "insert into control.etl_table_logs (run_id, kind, name, rows_read,"
                " rows_written, rows_deleted, seconds, status, error)"
                " values (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
                " on conflict (run_id, kind, name) do update set"
                " rows_read = excluded.rows_read, rows_written = excluded.rows_written,"
                " rows_deleted = excluded.rows_deleted,"
                " seconds = excluded.seconds, status = excluded.status, error = excluded.error",
                (
                    self.run_id,
                    kind,
                    name,
                    rows_read,
                    rows_written,
                    rows_deleted,
                    seconds,
                    "failed" if error else "completed",
                    _clip(error),
                ),
            )

    def table_failed(self, kind: str, name: str, error: str) -> None:
        """Mark a table failed, keeping the counts already recorded."""
        with self.conn.cursor() as cur:
            cur.execute(
                "insert into control.etl_table_logs (run_id, kind, name, status, error)"
                " values (%s, %s, %s, 'failed', %s)"
                " on conflict (run_id, kind, name) do update set"
                " status = 'failed', error = excluded.error",
                (self.run_id, kind, name, _clip(error)),
            )

    def finish(self, error: str | None = None) -> None:
        with self.conn.cursor() as cur:
            if error is not None:
                # a table still `running` was not written to the end
                cur.execute(
                    "update control.etl_table_logs set status = 'failed',"
                    " error = coalesce(error, 'the run failed before this table finished')"
                    " where run_id = %s and status = 'running'",
                    (self.run_id,),
                )
            cur.execute(
                "update control.etl_run_logs set ended_at = now(), status = %s, error = %s"
                " where run_id = %s",
                ("failed" if error else "completed", _clip(error), self.run_id),
            )


def _clip(error: str | None) -> str | None:
    return None if error is None else redact(error)[:_MAX_ERROR]
