"""Sync: only what changed since the last export goes to Neo4j, deletes included.

1. `compute`: every selected graph table's change since the target's record
   (`c360.export.state`) goes to an unlogged table `c360_state.d<target>_<table>`
   (`c360_op` i/u/d, the keys, the new hash, the new row). While the table is
   the one the record saw (same OID: dbt changed it in place), only its rows of
   later change batches and the removals dbt logged after the record's batch are
   read, through the `c360_batch` index, and joined to the record by key;
   otherwise (dbt rebuilt it in full) the whole table is compared with the
   record by a FULL JOIN on the keys. The diff workers read the export's
   snapshot (`c360.export.snapshot`), so a relationship's end nodes are diffed
   as of the same moment, and never a table dbt swapped in meanwhile.
2. `write_table`: the diff's deletes by key (`DETACH DELETE` for nodes), then its
   inserts and updates through the merge writer's own MERGE statements, rows
   streamed from the diff table by a server-side cursor.
3. `commit`: after reconciliation, the diffs are applied to the record and
   dropped, all in one transaction.

Labels go first (deletes, then upserts), then types (deletes, then upserts).
Relationship upserts need both end nodes, which are written before them; a node
deleted takes its relationships along, and the relationship deletes that follow
find nothing to do; a key is in a diff at most once, so no delete undoes an upsert.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial

from neo4j import Driver
from psycopg2 import sql
from psycopg2.extensions import connection as pg_connection_type
from psycopg2.extensions import cursor as pg_cursor

from c360 import parallel
from c360.export import cypher, merge, state
from c360.export.catalog import Column, LabelPlan, TablePlan
from c360.export.rows import query_batches
from c360.export.snapshot import GraphSnapshot
from c360.export.state import HASH_COLUMN, Position, TableState
from c360.pg import pg_connection
from c360.transform.naming import CHANGE_BATCH_COLUMN, ROW_HASH_COLUMN

OP_COLUMN = "c360_op"
# Deleted rows exist only on the record's side, so their keys are taken from there.
KEY_PREFIX = "c360_k"
# Enough for the hash join of an 8 M-row table to stay in memory (one batch).
DIFF_WORK_MEM = "512MB"
# Diffs computed at once: one per core of a small server.
DIFF_WORKERS = 2


@dataclass(frozen=True)
class TableDiff:
    state: TableState
    diff_table: str
    inserted: int
    updated: int
    deleted: int
    # where the table stands in the snapshot: the record's position once committed
    position: Position

    @property
    def plan(self) -> TablePlan:
        return self.state.plan

    @property
    def changed(self) -> int:
        return self.inserted + self.updated + self.deleted

    @property
    def table(self) -> sql.Composable:
        return state.schema_table(self.diff_table)


@dataclass(frozen=True)
class Written:
    """One table's sync: rows read from the diff, written (upserted), deleted."""

    rows_read: int
    rows_written: int
    rows_deleted: int


def _keys(plan: TablePlan) -> tuple[Column, ...]:
    return state.key_columns(plan)


def _diff_sql(entry: TableState, diff_table: str) -> sql.Composed:
    plan = entry.plan
    keys = _keys(plan)
    g_keys = [sql.Identifier("g", c.name) for c in keys]
    s_keys = [sql.Identifier("s", c.name) for c in keys]
    g_hash = sql.Identifier("g", HASH_COLUMN)
    s_hash = sql.Identifier("s", HASH_COLUMN)
    return sql.SQL(
        "create unlogged table {diff} as select"
        " case when {s_hash} is null then 'i' when {g_hash} is null then 'd' else 'u' end as {op},"
        " {g_hash} as {hash}, {coalesced}, {g_columns}"
        " from (select {columns}, {row_hash} as {hash} from {graph} g) g"
        " full join {state} s on {join}"
        " where {g_hash} is distinct from {s_hash}"
    ).format(
        diff=state.schema_table(diff_table),
        s_hash=s_hash,
        g_hash=g_hash,
        op=sql.Identifier(OP_COLUMN),
        hash=sql.Identifier(HASH_COLUMN),
        coalesced=sql.SQL(", ").join(
            sql.SQL("coalesce({}, {}) as {}").format(g, s, sql.Identifier(f"{KEY_PREFIX}{i}"))
            for i, (g, s) in enumerate(zip(g_keys, s_keys, strict=True))
        ),
        g_columns=sql.SQL(", ").join(sql.Identifier("g", c.name) for c in plan.columns),
        columns=sql.SQL(", ").join(sql.Identifier("g", c.name) for c in plan.columns),
        row_hash=sql.Identifier("g", ROW_HASH_COLUMN),
        graph=state.graph_table(plan),
        state=entry.table,
        join=sql.SQL(" and ").join(
            sql.SQL("{} = {}").format(g, s) for g, s in zip(g_keys, s_keys, strict=True)
        ),
    )


def _change_diff_sql(entry: TableState, diff_table: str, since: int) -> sql.Composed:
    """The diff of the rows dbt changed after change batch `since`: rows of later
    batches are inserts or updates (unless their hash is what the record holds),
    keys removed later and not back in the table are deletes of recorded rows."""
    plan = entry.plan
    keys = _keys(plan)

    def match(left: str, right: str) -> sql.Composable:
        return sql.SQL(" and ").join(
            sql.SQL("{} = {}").format(sql.Identifier(left, c.name), sql.Identifier(right, c.name))
            for c in keys
        )

    return sql.SQL(
        "create unlogged table {diff} as"
        " with changed as (select {columns}, {row_hash} as {hash} from {graph} g"
        "  where {batch} > {since}),"
        " removed as (select distinct {removed_keys} from {removals} r,"
        "  jsonb_populate_record(cast(null as {graph}), r.row_key) k"
        "  where r.table_name = {name} and r.c360_batch > {since})"
        " select case when s.{hash} is null then 'i' else 'u' end as {op}, c.{hash},"
        "  {changed_keys}, {changed_columns}"
        " from changed c left join {state} s on {changed_match}"
        " where c.{hash} is distinct from s.{hash}"
        " union all"
        " select 'd', null, {deleted_keys}, {no_columns}"
        " from removed r join {state} s on {removed_match}"
        " where not exists (select from {graph} g where {graph_match})"
    ).format(
        diff=state.schema_table(diff_table),
        columns=sql.SQL(", ").join(sql.Identifier("g", c.name) for c in plan.columns),
        row_hash=sql.Identifier("g", ROW_HASH_COLUMN),
        hash=sql.Identifier(HASH_COLUMN),
        graph=state.graph_table(plan),
        batch=sql.Identifier("g", CHANGE_BATCH_COLUMN),
        since=sql.Literal(since),
        removed_keys=sql.SQL(", ").join(sql.Identifier("k", c.name) for c in keys),
        removals=state.REMOVALS_TABLE,
        name=sql.Literal(plan.table),
        op=sql.Identifier(OP_COLUMN),
        changed_keys=sql.SQL(", ").join(
            sql.SQL("c.{} as {}").format(sql.Identifier(c.name), sql.Identifier(f"{KEY_PREFIX}{i}"))
            for i, c in enumerate(keys)
        ),
        changed_columns=sql.SQL(", ").join(sql.Identifier("c", c.name) for c in plan.columns),
        state=entry.table,
        changed_match=match("c", "s"),
        deleted_keys=sql.SQL(", ").join(sql.Identifier("r", c.name) for c in keys),
        no_columns=sql.SQL(", ").join(sql.SQL("null") for _ in plan.columns),
        removed_match=match("r", "s"),
        graph_match=match("g", "r"),
    )


def compute(snapshot: GraphSnapshot, states: Sequence[TableState]) -> list[TableDiff]:
    """Every table's diff against the record, all as of `snapshot`; the diffs are committed.

    Each diff is one single-threaded hash join, so `DIFF_WORKERS` connections run
    them side by side, largest table first.
    """
    largest_first = sorted(states, key=lambda e: e.rows, reverse=True)
    diffs = parallel.share(largest_first, DIFF_WORKERS, lambda mine: _diff_worker(snapshot, mine))
    done = {d.plan: d for d in diffs}
    return [done[entry.plan] for entry in states]


def _diff_worker(snapshot: GraphSnapshot, states: Iterator[TableState]) -> list[TableDiff]:
    diffs = []
    with snapshot.connection() as conn:
        with conn.cursor() as cur:
            cur.execute("set local work_mem = %s", (DIFF_WORK_MEM,))
            diffs.extend(_diff_table(cur, entry) for entry in states)
        conn.commit()
    return diffs


def _diff_table(cur: pg_cursor, entry: TableState) -> TableDiff:
    diff_table = diff_table_name(entry)
    table = state.schema_table(diff_table)
    position = state.read_position(cur, entry.plan)
    in_place = position.table_oid == entry.position.table_oid
    cur.execute(sql.SQL("drop table if exists {}").format(table))
    if in_place:
        # a record that saw no batch saw an empty table with nothing removed
        cur.execute(_change_diff_sql(entry, diff_table, entry.position.change_batch or 0))
    else:
        cur.execute(_diff_sql(entry, diff_table))
    cur.execute(
        sql.SQL("select {}, count(*) from {} group by 1").format(sql.Identifier(OP_COLUMN), table)
    )
    ops = {op: int(count) for op, count in cur.fetchall()}
    return TableDiff(
        entry,
        diff_table,
        ops.get("i", 0),
        ops.get("u", 0),
        ops.get("d", 0),
        position,
    )


def diff_table_name(entry: TableState) -> str:
    return state.table_name("d", entry.target_id, entry.plan)


def _deleted_sql(diff: TableDiff) -> sql.Composed:
    keys = [Column(f"{KEY_PREFIX}{i}", c.pg_type) for i, c in enumerate(_keys(diff.plan))]
    return sql.SQL("select {} from {} where {} = 'd'").format(
        sql.SQL(", ").join(c.value_sql() for c in keys),
        diff.table,
        sql.Identifier(OP_COLUMN),
    )


def _upserted_sql(diff: TableDiff) -> sql.Composed:
    return sql.SQL("select {} from {} where {} <> 'd'").format(
        # parameters of merge's upsert statements
        sql.SQL(", ").join(c.param_sql() for c in diff.plan.columns),
        diff.table,
        sql.Identifier(OP_COLUMN),
    )


def delete_statement(plan: TablePlan) -> str:
    if isinstance(plan, LabelPlan):
        return cypher.delete_nodes(plan.name, plan.key_names, "$rows")
    return cypher.delete_relationships(
        plan.name,
        plan.from_label,
        plan.from_keys,
        plan.to_label,
        plan.to_keys,
        "$rows",
        plan.key_names,
    )


def write_table(
    driver: Driver,
    database: str,
    dsn: str,
    diff: TableDiff,
    batch_size: int,
    on_batch: Callable[[int], None] | None = None,
    *,
    writers: int = 1,
) -> Written:
    """Apply one table's diff to Neo4j: its deletes, then its inserts and updates.

    `writers` sessions upsert a label's nodes at once (see `c360.export.merge`); deletes
    detach relationships, so they and relationship upserts have one writer.
    """
    name = f"c360_sync_{diff.plan.kind}_{diff.plan.name}"
    deleted = written = 0
    if diff.deleted:
        deleted = merge.write(
            driver,
            database,
            delete_statement(diff.plan),
            query_batches(partial(pg_connection, dsn), _deleted_sql(diff), name, batch_size),
            on_batch,
        )
    if diff.inserted or diff.updated:
        written = merge.write(
            driver,
            database,
            merge.upsert_statement(diff.plan),
            query_batches(partial(pg_connection, dsn), _upserted_sql(diff), name, batch_size),
            on_batch,
            writers=writers if merge.parallel_safe(diff.plan, empty=False) else 1,
        )
    return Written(rows_read=diff.changed, rows_written=written, rows_deleted=deleted)


def commit(
    conn: pg_connection_type,
    diffs: Sequence[TableDiff],
    run_id: str,
    retired: Sequence[state.Retired] = (),
) -> None:
    """Apply the diffs to the record and drop them, forget the retired labels
    and types, and drop the logged removals no record needs any more, in one
    transaction.

    A plain keyed DELETE, UPDATE and INSERT each, not INSERT ... ON CONFLICT:
    its speculative insertion costs several times the work per row.
    """
    conn.rollback()
    with conn.cursor() as cur:
        for diff in diffs:
            keys = _keys(diff.plan)
            match = sql.SQL(" and ").join(
                sql.SQL("s.{} = d.{}").format(
                    sql.Identifier(c.name), sql.Identifier(f"{KEY_PREFIX}{i}")
                )
                for i, c in enumerate(keys)
            )
            op = sql.Identifier(OP_COLUMN)
            hash_column = sql.Identifier(HASH_COLUMN)
            if diff.deleted:
                cur.execute(
                    sql.SQL("delete from {} s using {} d where d.{} = 'd' and {}").format(
                        diff.state.table, diff.table, op, match
                    )
                )
            if diff.updated:
                cur.execute(
                    sql.SQL(
                        "update {} s set {hash} = d.{hash} from {} d where d.{} = 'u' and {}"
                    ).format(diff.state.table, diff.table, op, match, hash=hash_column)
                )
            if diff.inserted:
                cur.execute(
                    sql.SQL("insert into {} ({}, {}) select {}, {} from {} where {} = 'i'").format(
                        diff.state.table,
                        sql.SQL(", ").join(sql.Identifier(c.name) for c in keys),
                        hash_column,
                        sql.SQL(", ").join(
                            sql.Identifier(f"{KEY_PREFIX}{i}") for i in range(len(keys))
                        ),
                        hash_column,
                        diff.table,
                        op,
                    )
                )
            state.advance(cur, diff.state, diff.inserted - diff.deleted, diff.position, run_id)
            cur.execute(sql.SQL("drop table {}").format(diff.table))
        state.forget_retired(cur, retired)
        state.prune_removals(cur, [diff.plan for diff in diffs])
    conn.commit()


def discard(dsn: str, states: Sequence[TableState]) -> None:
    """Drop the diff tables of a sync that did not commit (best effort, own connection)."""
    if not states:
        return
    with pg_connection(dsn) as conn:
        with conn.cursor() as cur:
            for entry in states:
                table = state.schema_table(diff_table_name(entry))
                cur.execute(sql.SQL("drop table if exists {}").format(table))
        conn.commit()
