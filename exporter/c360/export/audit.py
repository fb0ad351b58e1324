"""The audit trail: `control.etl_run_logs` and `control.etl_table_logs`.

Written on its own autocommit connection, so a row is on disk the moment it is
written and a run that dies still leaves `running`/`failed` behind, never a
false `completed`. A run left `running` by a process that died (or lost
PostgreSQL) is marked `abandoned` by the next run to the same target, which
holds the target's lock and so knows no other run is alive. Targets are
recorded without credentials; errors are redacted the same way. A refresh
(`c360.refresh`) is one run of kind `refresh`, its export's tables included;
every run's `phases` holds the seconds of its steps.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from psycopg2.extensions import connection as pg_connection_type
from psycopg2.extras import Json

if TYPE_CHECKING:
    from c360.export.target import Target

SCHEMA_SQL = """
create schema if not exists control;
create table if not exists control.etl_run_logs (
    run_id uuid primary key,
    started_at timestamptz not null default now(),
    ended_at timestamptz,
    mode text not null,
    target text not null,
    status text not null
        check (status in ('running', 'completed', 'failed', 'abandoned')),
    error text
);
-- older audit tables: the key runs are found by, and the `abandoned` status
alter table control.etl_run_logs add column if not exists target_key text;
do $$ begin
    if exists (
        select from pg_constraint
        where conrelid = 'control.etl_run_logs'::regclass
            and conname = 'etl_run_logs_status_check'
            and pg_get_constraintdef(oid) not like '%abandoned%'
    ) then
        alter table control.etl_run_logs drop constraint etl_run_logs_status_check;
        alter table control.etl_run_logs add constraint etl_run_logs_status_check
            check (status in ('running', 'completed', 'failed', 'abandoned'));
    end if;
end $$;
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
-- edge source rows that found no partner (dbt's dangling_rows test), as published
alter table control.etl_table_logs add column if not exists rows_dangling bigint;
-- a refresh is one run of three steps (c360.refresh); older rows are exports
alter table control.etl_run_logs add column if not exists kind text not null default 'export'
    check (kind in ('export', 'refresh'));
-- the seconds of each step, as the JSON summary's `phases`
alter table control.etl_run_logs add column if not exists phases jsonb;
"""

# `export`: `c360-export`; `refresh`: `c360-export refresh`, whose export step writes
# its tables into the refresh's run
RunKind = Literal["export", "refresh"]

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
    def start(
        cls, conn: pg_connection_type, mode: str, target: Target, kind: RunKind = "export"
    ) -> Audit:
        """A new `running` run; call with the target's export lock held."""
        conn.autocommit = True
        run_id = str(uuid.uuid4())
        with conn.cursor() as cur:
            cur.execute(SCHEMA_SQL)
            cur.execute(
                "update control.etl_run_logs set status = 'abandoned', ended_at = now(),"
                " error = 'the process ended (or lost PostgreSQL) before the run finished;"
                " marked by run ' || %s"
                " where target_key = %s and status = 'running'",
                (run_id, target.key),
            )
            cur.execute(
                "insert into control.etl_run_logs"
                " (run_id, kind, mode, target, target_key, status)"
                " values (%s, %s, %s, %s, %s, 'running')",
                (run_id, kind, mode, redact(target.display), target.key),
            )
        return cls(conn, run_id)

    def set_mode(self, mode: str) -> None:
        """The mode the run writes in, once resolved (a refresh starts as `auto`)."""
        with self.conn.cursor() as cur:
            cur.execute(
                "update control.etl_run_logs set mode = %s where run_id = %s", (mode, self.run_id)
            )

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
        rows_dangling: int | None = None,
        error: str | None = None,
    ) -> None:
        with self.conn.cursor() as cur:
            cur.execute(
                "insert into control.etl_table_logs (run_id, kind, name, rows_read,"
                " rows_written, rows_deleted, rows_dangling, seconds, status, error)"
                " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
                " on conflict (run_id, kind, name) do update set"
                " rows_read = excluded.rows_read, rows_written = excluded.rows_written,"
                " rows_deleted = excluded.rows_deleted, rows_dangling = excluded.rows_dangling,"
                " seconds = excluded.seconds, status = excluded.status, error = excluded.error",
                (
                    self.run_id,
                    kind,
                    name,
                    rows_read,
                    rows_written,
                    rows_deleted,
                    rows_dangling,
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

    def finish(self, error: str | None = None, phases: Mapping[str, float] | None = None) -> None:
        """The run's end: completed, or failed with `error`; `phases`: seconds by step."""
        seconds = None if phases is None else Json({n: round(s, 3) for n, s in phases.items()})
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
                "update control.etl_run_logs set ended_at = now(), status = %s, error = %s,"
                " phases = %s where run_id = %s",
                ("failed" if error else "completed", _clip(error), seconds, self.run_id),
            )


def _clip(error: str | None) -> str | None:
    return None if error is None else redact(error)[:_MAX_ERROR]
