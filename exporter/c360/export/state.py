"""What each Neo4j target holds: per graph table, its keys and a 64-bit hash of each row.

A sync diffs the graph tables against this record instead of against Neo4j, so
the comparison is set-based SQL inside PostgreSQL and Neo4j only sees the rows
that changed. The record lives in schema `c360_state`, one table per target and
graph table (`t<target_id>_<graph table>`: the key columns with their graph
types, `c360_hash`, primary key on the keys), described by `c360_state.tables`.

The record is unlogged: a sync rewrites ~1 % of its rows scattered over the
whole table, and logged, each touched page would cost a full-page image in the
WAL (minutes at 30 M rows). PostgreSQL empties an unlogged table after a crash;
`load` sees an empty table where the record counts rows and asks for a full
export, the one way to rebuild it.

It is written only after Neo4j was written and reconciled, in one transaction,
so it never claims more than the target holds. A record that lags behind (the
process died between the Neo4j writes and the commit) only makes the next sync
rewrite rows already there, which MERGE and keyed deletes make harmless.

The hash is the graph table's own `c360_row_hash`, computed once by dbt
(macros/graph_table_rows.sql). Each table's record also keeps where the
target stands in the table's history: the table's OID and the newest change
batch (`c360_batch`) it has seen. While the OID is the same (dbt only changed
rows in place), a sync reads the rows of later batches and the removals dbt
logged after it, and nothing else; a table dbt rebuilt in full has a new OID
and is compared with the record in full.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass

from psycopg2 import sql
from psycopg2.extensions import connection as pg_connection_type
from psycopg2.extensions import cursor as pg_cursor

from c360.errors import ConfigError, SyncStateError
from c360.export.catalog import GRAPH_SCHEMA, Column, LabelPlan, TablePlan, TypePlan
from c360.export.snapshot import GraphSnapshot
from c360.pg import pg_connection
from c360.transform.naming import CHANGE_BATCH_COLUMN, ROW_HASH_COLUMN

SCHEMA = "c360_state"
HASH_COLUMN = "c360_hash"
# Every column the state and diff tables add starts with this; a graph column
# may not, or it would collide with them.
RESERVED_PREFIX = "c360_"
_MAX_IDENTIFIER = 63

SCHEMA_SQL = """
create schema if not exists c360_state;
create table if not exists c360_state.targets (
    target_id integer generated always as identity primary key,
    target text not null unique
);
create table if not exists c360_state.tables (
    target_id integer not null references c360_state.targets (target_id),
    kind text not null check (kind in ('node', 'edge')),
    name text not null,
    state_table text not null,
    shape text not null,
    from_label text,
    to_label text,
    rows bigint not null,
    run_id uuid not null,
    updated_at timestamptz not null default now(),
    primary key (target_id, kind, name)
);
alter table c360_state.tables add column if not exists table_oid oid;
alter table c360_state.tables add column if not exists change_batch bigint;
"""
# written by macros/graph_table_rows.sql: the keys of graph rows dbt removed
REMOVALS_TABLE = sql.Identifier("control", "graph_removed_rows")


@dataclass(frozen=True)
class Position:
    """Where a record stands in its graph table's history: the table's OID and
    the newest change batch of it that the target holds (None: unknown)."""

    table_oid: int | None
    change_batch: int | None


@dataclass(frozen=True)
class Built:
    """A full export's record of one table: its rows and its `Position`."""

    rows: int
    position: Position


@dataclass(frozen=True)
class TableState:
    """The record of one graph table on one target."""

    target_id: int
    plan: TablePlan
    state_table: str
    rows: int
    position: Position

    @property
    def table(self) -> sql.Composable:
        return _ident(self.state_table)


def key_columns(plan: TablePlan) -> tuple[Column, ...]:
    """What identifies a row: a label's keys, or a type's start and end columns
    and its relationship key (a junction row that moves to other nodes is a
    delete and an insert)."""
    return plan.keys if isinstance(plan, LabelPlan) else plan.start + plan.end + plan.keys


def shape(plan: TablePlan) -> str:
    """Everything a recorded hash depends on; a different shape makes the record useless."""
    keys = ",".join(c.name for c in key_columns(plan))
    columns = ",".join(f"{c.name}:{c.pg_type}" for c in plan.columns)
    return f"{plan.table}|{keys}|{columns}"


def check_columns(plan: TablePlan) -> None:
    clashing = [c.name for c in plan.columns if c.name.startswith(RESERVED_PREFIX)]
    if clashing:
        raise ConfigError(
            f"{GRAPH_SCHEMA}.{plan.table}: columns {clashing} start with {RESERVED_PREFIX!r}, "
            "which sync reserves for its own columns; rename them in the control rows"
        )


def _regclass_name(plan: TablePlan) -> sql.Composed:
    """The graph table's name as `regclass` reads it: each part quoted as an
    identifier, as the table was created."""
    return sql.SQL("format('%I.%I', {}, {})").format(
        sql.Literal(GRAPH_SCHEMA), sql.Literal(plan.table)
    )


def position_sql(plan: TablePlan) -> sql.Composed:
    """The `Position` of the graph table as the current snapshot sees it: its OID,
    and the newest change batch among its rows and its logged removals."""
    return sql.SQL(
        "select {table}::regclass::oid, greatest("
        "(select max({batch}) from {graph}),"
        " (select max(c360_batch) from {removals} where table_name = {name}))"
    ).format(
        table=_regclass_name(plan),
        batch=sql.Identifier(CHANGE_BATCH_COLUMN),
        graph=graph_table(plan),
        removals=REMOVALS_TABLE,
        name=sql.Literal(plan.table),
    )


def prune_removals_sql(plan: TablePlan) -> sql.Composed:
    """Delete the graph table's logged removals that every record of it, on any
    target, has passed: a sync reads only removals above its record's batch.

    Only records of the table as it is now (same OID) count; a record of an
    earlier table, or none, compares the table whole. A record whose batch is
    unknown keeps the whole log. The newest removals a record has seen stay
    (`<`, not `<=`), so the table's position never drops below a record's. A
    table dropped meanwhile (`to_regclass` is null) prunes nothing.
    """
    return sql.SQL(
        "delete from {removals} as removed using ("
        "select case when bool_or(change_batch is null) then null"
        " else min(change_batch) end as kept_from"
        " from c360_state.tables where kind = {kind} and name = {label}"
        " and table_oid = to_regclass({table})::oid"
        ") as needed"
        " where removed.table_name = {name} and removed.c360_batch < needed.kept_from"
    ).format(
        removals=REMOVALS_TABLE,
        kind=sql.Literal(plan.kind),
        label=sql.Literal(plan.name),
        table=_regclass_name(plan),
        name=sql.Literal(plan.table),
    )


def prune_removals(cur: pg_cursor, plans: Sequence[TablePlan]) -> None:
    """`prune_removals_sql` for each table, once its record is written."""
    for plan in plans:
        cur.execute(prune_removals_sql(plan))


def read_position(cur: pg_cursor, plan: TablePlan) -> Position:
    cur.execute(position_sql(plan))
    oid, batch = cur.fetchone()
    return Position(int(oid), None if batch is None else int(batch))


def table_name(prefix: str, target_id: int, plan: TablePlan) -> str:
    """`<prefix><target_id>_<graph table>`, kept within PostgreSQL's 63-byte names."""
    name = f"{prefix}{target_id}_{plan.table}"
    if len(name.encode()) <= _MAX_IDENTIFIER:
        return name
    # PostgreSQL would silently truncate, and two long names could then collide
    digest = hashlib.sha256(name.encode()).hexdigest()[:10]
    return f"{name.encode()[: _MAX_IDENTIFIER - 11].decode(errors='ignore')}_{digest}"


def _ident(name: str) -> sql.Composable:
    return sql.Identifier(SCHEMA, name)


def graph_table(plan: TablePlan) -> sql.Composable:
    return sql.Identifier(GRAPH_SCHEMA, plan.table)


def ensure_schema(conn: pg_connection_type) -> None:
    with conn.cursor() as cur:
        cur.execute(SCHEMA_SQL)


def target_id(conn: pg_connection_type, target: str, *, create: bool) -> int | None:
    with conn.cursor() as cur:
        if create:
            cur.execute(
                "insert into c360_state.targets (target) values (%s)"
                " on conflict (target) do nothing",
                (target,),
            )
        cur.execute("select target_id from c360_state.targets where target = %s", (target,))
        row = cur.fetchone()
    return None if row is None else int(row[0])


def _is_empty(conn: pg_connection_type, state_table: str) -> bool:
    with conn.cursor() as cur:
        cur.execute(sql.SQL("select not exists (select from {})").format(_ident(state_table)))
        return bool(cur.fetchone()[0])


def load(conn: pg_connection_type, target: str, plans: Sequence[TablePlan]) -> list[TableState]:
    """The record of every table in `plans` on `target` (a `Target.key`); SyncStateError
    naming what lacks one."""
    ensure_schema(conn)
    tid = target_id(conn, target, create=False)
    recorded: dict[tuple[str, str], tuple[str, str, int, Position]] = {}
    if tid is not None:
        with conn.cursor() as cur:
            cur.execute(
                "select kind, name, state_table, shape, rows, table_oid, change_batch"
                " from c360_state.tables where target_id = %s",
                (tid,),
            )
            recorded = {
                (k, n): (t, s, int(r), Position(o, b)) for k, n, t, s, r, o, b in cur.fetchall()
            }
    conn.commit()
    states, missing, changed, lost = [], [], [], []
    for plan in plans:
        check_columns(plan)
        what = f"{'label' if plan.kind == 'node' else 'type'} {plan.name}"
        entry = recorded.get((plan.kind, plan.name))
        if entry is None:
            missing.append(what)
        elif entry[1] != shape(plan):
            changed.append(what)
        elif entry[2] > 0 and _is_empty(conn, entry[0]):
            lost.append(what)
        else:
            states.append(TableState(tid, plan, entry[0], entry[2], entry[3]))
    conn.rollback()
    if missing or changed or lost:
        problems = []
        if len(missing) == len(plans):
            problems.append("no completed bulk or merge export to it is recorded")
        elif missing:
            problems.append(f"no completed full export recorded for {', '.join(missing)}")
        if changed:
            problems.append(
                f"the graph tables of {', '.join(changed)} changed columns since the last export"
            )
        if lost:
            problems.append(
                f"the record of {', '.join(lost)} was emptied by a PostgreSQL restart after a crash"
            )
        raise SyncStateError(
            f"cannot sync: {'; '.join(problems)}. Run a full export first "
            "(`c360-export --mode bulk` on the local stack, or `c360-export --mode merge "
            "--clear`), then sync"
        )
    return states


@dataclass(frozen=True)
class Retired:
    """A label or type the record holds for a target but the catalog no longer
    lists: its mapping was removed or switched off by its control rows."""

    target_id: int
    kind: str
    name: str
    rows: int

    def describe(self) -> str:
        return f"{'label' if self.kind == 'node' else 'type'} {self.name}"


def retired(conn: pg_connection_type, target: str, plans: Sequence[TablePlan]) -> list[Retired]:
    """What the record of `target` holds beyond `plans` (the whole catalog):
    types first, as they go before the labels they join."""
    tid = target_id(conn, target, create=False)
    if tid is None:
        return []
    listed = {(p.kind, p.name) for p in plans}
    with conn.cursor() as cur:
        cur.execute(
            "select kind, name, rows from c360_state.tables where target_id = %s"
            " order by kind = 'node', name",
            (tid,),
        )
        found = [Retired(tid, k, n, int(r)) for k, n, r in cur.fetchall() if (k, n) not in listed]
    conn.rollback()
    return found


def forget_retired(cur: pg_cursor, entries: Sequence[Retired]) -> None:
    """Drop the record of retired labels and types, once Neo4j no longer holds them."""
    for entry in entries:
        _forget(cur, entry.target_id, (entry.kind, entry.name))


class PendingState:
    """A full export's record, hashed on its own connection while the writer runs.

    It reads the export's own snapshot, so it hashes exactly the rows written.
    Building it costs one scan and one index per table; overlapped with the
    writes, which mostly wait on Neo4j or neo4j-admin, it adds little to the
    run. The tables (`p<target>_<table>`) become the record only in
    `record_full`, after reconciliation passed; a run that fails drops them.
    """

    def __init__(self, snapshot: GraphSnapshot, target_id: int, plans: Sequence[TablePlan]) -> None:
        self._snapshot = snapshot
        self._target_id = target_id
        self._plans = tuple(plans)
        self._conn: pg_connection_type | None = None
        self._error: BaseException | None = None
        self.built: dict[tuple[str, str], Built] = {}
        self._thread = threading.Thread(target=self._build, name="c360-state", daemon=True)

    def start(self) -> PendingState:
        for plan in self._plans:
            check_columns(plan)
        self._thread.start()
        return self

    def _build(self) -> None:
        try:
            with self._snapshot.connection() as conn:
                self._conn = conn
                with conn.cursor() as cur:
                    for plan in self._plans:
                        self.built[(plan.kind, plan.name)] = _build_table(
                            cur, self._target_id, plan
                        )
                conn.commit()
        except BaseException as error:  # handed to wait(), which re-raises it
            self._error = error

    def wait(self) -> dict[tuple[str, str], Built]:
        """Each table's record once every one is built; the build's error, if it failed."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self.built

    def cancel(self) -> None:
        """Stop a build still running (the export failed) and drop what it built."""
        if self._thread.is_alive() and self._conn is not None:
            with suppress(Exception):
                self._conn.cancel()
        self._thread.join()
        # best effort: PostgreSQL may be what failed
        with suppress(Exception), pg_connection(self._snapshot.dsn) as conn:
            with conn.cursor() as cur:
                for plan in self._plans:
                    pending = _ident(table_name("p", self._target_id, plan))
                    cur.execute(sql.SQL("drop table if exists {}").format(pending))
            conn.commit()


def ensure_target(conn: pg_connection_type, target: str) -> int:
    """The id of `target` (a `Target.key`) in the record, created if new; committed."""
    ensure_schema(conn)
    tid = target_id(conn, target, create=True)
    assert tid is not None
    conn.commit()
    return tid


def forget(conn: pg_connection_type, target: str, plans: Sequence[TablePlan]) -> None:
    """Drop the record of `plans` (and of the types touching their labels) on `target`.

    Before `merge --clear` deletes them from Neo4j: a run killed midway must
    not leave a record that claims what Neo4j no longer holds, or the next
    export would pick sync and never write those rows back.
    """
    tid = ensure_target(conn, target)
    labels = [p.name for p in plans if p.kind == "node"]
    with conn.cursor() as cur:
        cur.execute("select 1 from c360_state.targets where target_id = %s for update", (tid,))
        cur.execute(
            "select kind, name from c360_state.tables where target_id = %s"
            " and ((kind, name) in (select * from unnest(%s::text[], %s::text[]))"
            " or from_label = any(%s) or to_label = any(%s))",
            (tid, [p.kind for p in plans], [p.name for p in plans], labels, labels),
        )
        for kind, name in cur.fetchall():
            _forget(cur, tid, (kind, name))
    conn.commit()


def record_full(
    conn: pg_connection_type,
    target: str,
    plans: Sequence[TablePlan],
    pending: dict[tuple[str, str], Built],
    run_id: str,
    *,
    replaced_database: bool,
) -> None:
    """After a completed full export: the pending tables become the record, in one transaction.

    `replaced_database` (bulk) forgets every other table.
    """
    tid = ensure_target(conn, target)
    with conn.cursor() as cur:
        # one writer of a target's record at a time, even outside the export lock
        cur.execute("select 1 from c360_state.targets where target_id = %s for update", (tid,))
        written = {(p.kind, p.name) for p in plans}
        if replaced_database:
            _forget(cur, tid, None, keep=written)
        for plan in plans:
            _promote(cur, tid, plan, pending[(plan.kind, plan.name)], run_id)
        prune_removals(cur, plans)
    conn.commit()


def _forget(
    cur: pg_cursor,
    tid: int,
    which: tuple[str, str] | None,
    keep: set[tuple[str, str]] = frozenset(),
) -> None:
    """Drop the record of one table (`which`), or of every table not in `keep`."""
    cur.execute(
        "select kind, name, state_table from c360_state.tables where target_id = %s", (tid,)
    )
    for kind, name, state_table in cur.fetchall():
        if (which is not None and (kind, name) != which) or (kind, name) in keep:
            continue
        cur.execute(sql.SQL("drop table if exists {}").format(_ident(state_table)))
        cur.execute(
            "delete from c360_state.tables where target_id = %s and kind = %s and name = %s",
            (tid, kind, name),
        )


def _build_table(cur: pg_cursor, tid: int, plan: TablePlan) -> Built:
    """`p<target>_<table>`: the graph table's keys and row hashes."""
    name = table_name("p", tid, plan)
    keys = key_columns(plan)
    cur.execute(sql.SQL("drop table if exists {}").format(_ident(name)))
    cur.execute(
        sql.SQL("create unlogged table {} as select {}, {} as {} from {} g").format(
            _ident(name),
            sql.SQL(", ").join(sql.Identifier("g", c.name) for c in keys),
            sql.Identifier("g", ROW_HASH_COLUMN),
            sql.Identifier(HASH_COLUMN),
            graph_table(plan),
        )
    )
    rows = int(cur.rowcount)
    position = read_position(cur, plan)
    cur.execute(
        sql.SQL("alter table {} add primary key ({})").format(
            _ident(name), sql.SQL(", ").join(sql.Identifier(c.name) for c in keys)
        )
    )
    return Built(rows, position)


def _promote(cur: pg_cursor, tid: int, plan: TablePlan, built: Built, run_id: str) -> None:
    name = table_name("t", tid, plan)
    cur.execute(sql.SQL("drop table if exists {}").format(_ident(name)))
    cur.execute(
        sql.SQL("alter table {} rename to {}").format(
            _ident(table_name("p", tid, plan)), sql.Identifier(name)
        )
    )
    from_label, to_label = (
        (plan.from_label, plan.to_label) if isinstance(plan, TypePlan) else (None, None)
    )
    cur.execute(
        "insert into c360_state.tables (target_id, kind, name, state_table, shape,"
        " from_label, to_label, rows, run_id, table_oid, change_batch)"
        " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " on conflict (target_id, kind, name) do update set state_table = excluded.state_table,"
        " shape = excluded.shape, from_label = excluded.from_label,"
        " to_label = excluded.to_label, rows = excluded.rows, run_id = excluded.run_id,"
        " table_oid = excluded.table_oid, change_batch = excluded.change_batch,"
        " updated_at = now()",
        (
            tid,
            plan.kind,
            plan.name,
            name,
            shape(plan),
            from_label,
            to_label,
            built.rows,
            run_id,
            built.position.table_oid,
            built.position.change_batch,
        ),
    )


def advance(cur: pg_cursor, state: TableState, delta: int, position: Position, run_id: str) -> None:
    """Note a sync's run, the table's new row count and `Position` on the record."""
    cur.execute(
        "update c360_state.tables set rows = rows + %s, run_id = %s, table_oid = %s,"
        " change_batch = %s, updated_at = now()"
        " where target_id = %s and kind = %s and name = %s",
        (
            delta,
            run_id,
            position.table_oid,
            position.change_batch,
            state.target_id,
            state.plan.kind,
            state.plan.name,
        ),
    )


def schema_table(name: str) -> sql.Composable:
    return _ident(name)
