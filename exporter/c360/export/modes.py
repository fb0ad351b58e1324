"""Each mode's driver: the writer of `c360.export.<mode>` run table by table through a Run."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from contextlib import suppress
from pathlib import Path

import psycopg2
from neo4j import Driver

from c360.errors import C360Error, ConfigError
from c360.export import bulk, merge, script, state, sync
from c360.export.catalog import TablePlan
from c360.export.guard import Loss
from c360.export.options import Mode
from c360.export.reconcile import Count, neo4j_count, neo4j_holdings
from c360.export.rows import batches
from c360.export.run import Run, describe, table_key
from c360.neo4j_driver import connected_driver
from c360.pg import pg_connection


def run_full(run: Run, mode: Mode, driver: Driver, output: Path | None) -> list[Count]:
    """A bulk or merge run, and the record of what the target now holds.

    The record is hashed from the same snapshot while the writer runs, and
    becomes the target's record only once reconciliation passed.
    """
    with pg_connection(run.dsn) as conn:
        target_id = state.ensure_target(conn, run.target.key)
    pending = state.PendingState(run.graph.snapshot, target_id, run.plan.tables).start()
    try:
        counts = run_merge(run, driver) if mode == "merge" else run_bulk(run, driver, output)
    except BaseException:
        pending.cancel()
        raise
    with run.phase("state_wait"):
        rows = pending.wait()
    with run.phase("state_record"), pg_connection(run.dsn) as conn:
        state.record_full(
            conn,
            run.target.key,
            run.plan.tables,
            rows,
            run.audit.run_id,
            replaced_database=mode == "bulk",
        )
    return counts


def run_merge(run: Run, driver: Driver) -> list[Count]:
    options, database = run.options, run.database
    if options.clear:
        run.check_deletes(
            Loss(describe(t), held, held - run.rows[table_key(t)])
            for t in run.plan.tables
            if (held := neo4j_count(driver, database, t))
        )
    with run.phase("constraints"):
        merge.ensure_constraints(driver, database, run.plan)
    if options.clear:
        with pg_connection(run.dsn) as conn:
            # a run killed while clearing must not leave a record of what it deleted
            state.forget(conn, run.target.key, run.plan.tables)
        with run.phase("clear"):
            merge.clear(
                driver,
                database,
                [p.name for p in run.plan.labels],
                [p.name for p in run.plan.types],
            )

    def write(advance: Callable[[int], None], plan: TablePlan) -> int:
        # inside the table's audit: a server lost here fails this table
        empty = neo4j_count(driver, database, plan) == 0
        return merge.write(
            driver,
            database,
            merge.upsert_statement(plan, empty=empty),
            batches(run.graph.snapshot, plan, options.batch_size, params=True),
            advance,
            writers=options.writers if merge.parallel_safe(plan, empty=empty) else 1,
        )

    for table in run.plan.tables:
        run.write_table(table, lambda advance, p=table: write(advance, p))
    with run.phase("reconcile"):
        return run.check_counts(driver, None if options.clear else merge_hint)


def _holds_more(bad: Sequence[Count]) -> bool:
    """Neo4j holds more of some label or type than its graph table: only
    `--clear` (or a sync from a true record) removes what is beyond the tables."""
    return any(count.actual > count.expected for count in bad)


def merge_hint(bad: Sequence[Count]) -> str:
    """A merge without --clear adds and updates; what Neo4j holds beyond the
    graph tables stays, and only the counts show it."""
    if not _holds_more(bad):
        return ""
    return (
        ". A merge deletes nothing: Neo4j also holds nodes or relationships the graph "
        "tables no longer have (removed from the sources since the last full export, or "
        "written by another staging database or by hand): run `c360-export --mode merge "
        "--clear` to rewrite these labels and types"
    )


def sync_hint(bad: Sequence[Count]) -> str:
    """After a sync, Neo4j differs from the graph tables only if it also differs
    from the record: changed by another writer, or a full export to it was
    interrupted. A merge puts back what is missing; beyond that, --clear."""
    fix = "--mode merge --clear" if _holds_more(bad) else "--mode merge"
    return (
        ". Neo4j no longer holds what the record of the last export says (changed by "
        f"another writer, or a full export was interrupted): run `c360-export {fix}` "
        "to rewrite these labels and types and renew the record"
    )


def run_sync(run: Run, driver: Driver) -> list[Count]:
    """Diff against the target's record, write only the changes, reconcile, record.

    Labels and types on record that the catalog no longer lists (their rows
    switched off or removed) are deleted from Neo4j first, then forgotten with
    the sync's record: a run that dies between the two deletes them again.
    """
    options, database, dsn = run.options, run.database, run.dsn
    with pg_connection(dsn) as conn:
        states = state.load(conn, run.target.key, run.plan.tables)
        # a run limited to some labels or types says nothing about the others
        selected = options.labels or options.types
        retired = [] if selected else state.retired(conn, run.target.key, run.plan.tables)
    committed = False
    try:
        with run.phase("diff"):
            diffs = sync.compute(run.graph.snapshot, states)
        run.check_deletes(
            [Loss(describe(d.plan), d.state.rows, d.deleted) for d in diffs]
            + [Loss(r.describe(), r.rows, r.rows) for r in retired]
        )
        for gone in retired:
            labels, types = ([gone.name], []) if gone.kind == "node" else ([], [gone.name])
            run.retire(
                gone.kind,
                gone.name,
                lambda labels=labels, types=types: merge.clear(driver, database, labels, types),
            )
        with run.phase("constraints"):
            merge.ensure_constraints(driver, database, run.plan)
        for diff in diffs:
            run.write_table(
                diff.plan,
                lambda advance, d=diff: sync.write_table(
                    driver,
                    database,
                    dsn,
                    d,
                    options.batch_size,
                    advance,
                    writers=options.writers,
                ),
                total=diff.changed,
            )
        with run.phase("reconcile"):
            counts = run.check_counts(driver, sync_hint)
        with run.phase("state_record"), pg_connection(dsn) as conn:
            sync.commit(conn, diffs, run.audit.run_id, retired)
        committed = True
    finally:
        if not committed:
            with suppress(psycopg2.Error, C360Error):
                sync.discard(dsn, states)
    return counts


def run_script(run: Run, output: Path) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("w", encoding="utf-8") as out:
        script.write_header(out, run.plan)
        if run.options.clear:
            script.write_clear(out, run.plan)
        for table in run.plan.tables:
            run.write_table(
                table,
                lambda advance, p=table: script.write_table(
                    out, p, batches(run.graph.snapshot, p, run.options.batch_size), advance
                ),
            )


def run_bulk(run: Run, driver: Driver, directory: Path | None) -> list[Count]:
    """CSV files by COPY, then a new database imported beside the running one and
    swapped in only if the import succeeds (`c360.stack.neo4j_admin.replace_database`)."""
    settings = run.settings
    if settings.stack_mode != "local" or not settings.neo4j.is_local:
        raise ConfigError(
            "bulk mode imports into the local stack's Neo4j only; use --mode merge "
            "for a remote server"
        )
    from c360.stack import neo4j_admin  # lazily: only bulk mode needs the stack

    assert directory is not None
    run.check_deletes(
        Loss(what, held, held - run.rows.get(key, 0))
        for key, (what, held) in neo4j_holdings(driver, run.database).items()
    )
    for table in run.plan.tables:
        run.audit.table_started(table.kind, table.name)
    read: dict[str, int] = {}
    copy_seconds: dict[str, float] = {}
    reporting = threading.Lock()

    def copied(table: TablePlan, count: int, seconds: float) -> None:
        # called from the COPY workers: one table's report at a time
        with reporting:
            read[table_key(table)] = count
            copy_seconds[table_key(table)] = seconds
            run.progress.start(table.kind, table.name, run.rows[table_key(table)])
            run.progress.advance(count)
            run.progress.finish()

    largest_first = sorted(run.plan.tables, key=lambda t: run.rows[table_key(t)], reverse=True)
    with run.phase("copy"):
        files = bulk.write_csvs(run.graph.snapshot, largest_first, directory, copied)
    import_started = time.monotonic()
    with run.phase("import"):
        neo4j_admin.replace_database(
            settings,
            bulk.import_args(files, run.database, directory / "import.report"),
            directory / "import.report",
        )
    # a new driver: the old one's bookmarks name transactions the new store never had
    with connected_driver(settings, run.options.retry_seconds) as fresh:
        with run.phase("constraints"):
            merge.ensure_constraints(fresh, run.database, run.plan)
        import_seconds = time.monotonic() - import_started
        with run.phase("reconcile"):
            counts = run.check_counts(fresh)
    total = max(1, sum(read.values()))
    for table in run.plan.tables:
        count = read[table_key(table)]
        # one import for all files: each table's share of it is its share of the rows
        seconds = copy_seconds[table_key(table)] + import_seconds * count / total
        run.table_done(table, sync.Written(count, count, 0), seconds)
    return counts
