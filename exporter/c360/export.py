"""One export run: plan -> lock -> audit -> write -> reconcile -> record.

The writers (`bulk`, `merge`, `script`, `sync`) know nothing of audit or locking;
this module drives them table by table, records each step on the audit
connection and fails the run on any error or count mismatch. A bulk or merge
run that passed reconciliation records what the target now holds (`c360.state`),
which the next `sync` diffs against.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal, Protocol

from neo4j import Driver, GraphDatabase

from c360 import bulk, catalog, merge, script, state, sync
from c360.audit import Audit, redact
from c360.catalog import GraphPlan, LabelPlan, TablePlan, TypePlan
from c360.config import Settings
from c360.errors import (
    C360Error,
    ConfigError,
    ExportFailedError,
    ServerUnavailableError,
    SyncStateError,
)
from c360.lock import export_lock
from c360.reconcile import Count, neo4j_count, reconcile
from c360.rows import batches, pg_connection

Mode = Literal["auto", "bulk", "merge", "cypher", "sync"]
MODES: tuple[Mode, ...] = ("auto", "bulk", "merge", "cypher", "sync")
DEFAULT_BATCH_SIZE = 10_000
DEFAULT_WRITERS = 2


class Progress(Protocol):
    """Where a run reports how far it got; the CLI draws bars, tests ignore it."""

    def start(self, kind: str, name: str, total: int) -> None: ...

    def advance(self, rows: int) -> None: ...

    def finish(self) -> None: ...


class NoProgress:
    def start(self, kind: str, name: str, total: int) -> None:
        pass

    def advance(self, rows: int) -> None:
        pass

    def finish(self) -> None:
        pass


class LocalNeo4j(Protocol):
    """What bulk mode needs from the local stack: stop, import, start."""

    def stop(self) -> None: ...

    def start(self) -> None: ...

    def admin(self, args: list[str]) -> None: ...


@dataclass(frozen=True)
class ExportOptions:
    mode: Mode = "auto"
    labels: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    clear: bool = False
    dry_run: bool = False
    batch_size: int = DEFAULT_BATCH_SIZE
    # sessions writing batches at once where they cannot deadlock (c360.merge)
    writers: int = DEFAULT_WRITERS
    # cypher mode: where the script goes; bulk mode: where the CSV files go
    output: Path | None = None
    # how long the driver retries a transaction on transient errors
    retry_seconds: float = 30.0


@dataclass(frozen=True)
class TableResult:
    kind: str
    name: str
    rows: int
    rows_written: int = 0
    seconds: float = 0.0
    status: str = "planned"
    error: str | None = None
    rows_deleted: int = 0

    @property
    def rows_per_second(self) -> float:
        done = self.rows_written + self.rows_deleted
        return done / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class ExportResult:
    mode: str
    target: str
    dry_run: bool
    tables: list[TableResult]
    run_id: str | None = None
    counts: list[Count] = field(default_factory=list)
    seconds: float = 0.0
    status: str = "planned"
    error: str | None = None
    output: str | None = None
    # seconds of the steps that are not one table's write, by name
    phases: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "run_id": self.run_id,
            "mode": self.mode,
            "target": self.target,
            "dry_run": self.dry_run,
            "status": self.status,
            "error": self.error,
            "seconds": round(self.seconds, 3),
            "output": self.output,
            "phases": {name: round(seconds, 3) for name, seconds in self.phases.items()},
            "tables": [
                {
                    "kind": t.kind,
                    "name": t.name,
                    "rows": t.rows,
                    "rows_written": t.rows_written,
                    "rows_deleted": t.rows_deleted,
                    "seconds": round(t.seconds, 3),
                    "rows_per_second": round(t.rows_per_second, 1),
                    "status": t.status,
                    "error": t.error,
                }
                for t in self.tables
            ],
            "reconciliation": [
                {
                    "kind": c.kind,
                    "name": c.name,
                    "expected": c.expected,
                    "actual": c.actual,
                    "ok": c.ok,
                }
                for c in self.counts
            ],
        }


def neo4j_target(settings: Settings) -> str:
    return redact(f"{settings.neo4j.uri}/{settings.neo4j.database}")


def open_driver(settings: Settings, retry_seconds: float = 30.0) -> Driver:
    return GraphDatabase.driver(
        settings.neo4j.uri,
        auth=(settings.neo4j.user, settings.neo4j.password),
        max_transaction_retry_time=retry_seconds,
    )


@contextmanager
def connected_driver(settings: Settings, retry_seconds: float = 30.0) -> Iterator[Driver]:
    driver = open_driver(settings, retry_seconds)
    try:
        try:
            driver.verify_connectivity()
        except Exception as error:
            raise ServerUnavailableError(
                f"cannot reach Neo4j at {redact(settings.neo4j.uri)}: {error}; "
                "start it with `c360-export stack up` or check NEO4J_URI"
            ) from error
        yield driver
    finally:
        driver.close()


def _key(plan: TablePlan) -> str:
    return f"{plan.kind}:{plan.name}"


class _Run:
    """The state of one run; only `run_export` builds it."""

    def __init__(
        self,
        settings: Settings,
        options: ExportOptions,
        plan: GraphPlan,
        rows: dict[str, int],
        progress: Progress,
        audit: Audit,
    ) -> None:
        self.settings = settings
        self.options = options
        self.plan = plan
        self.rows = rows
        self.progress = progress
        self.audit = audit
        self.results: dict[str, TableResult] = {
            _key(t): TableResult(t.kind, t.name, rows[_key(t)]) for t in plan.tables
        }
        self.phases: dict[str, float] = {}

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Time a step of the run that is not one table's write (import, constraints...)."""
        started = time.monotonic()
        try:
            yield
        finally:
            self.phases[name] = self.phases.get(name, 0.0) + time.monotonic() - started

    def record(self, plan: TablePlan, **changes: object) -> None:
        self.results[_key(plan)] = replace(self.results[_key(plan)], **changes)  # type: ignore[arg-type]

    def write_table(
        self,
        plan: TablePlan,
        write: Callable[[Callable[[int], None]], int | sync.Written],
        total: int | None = None,
    ) -> None:
        """Run one table's writer, with its audit rows and progress bar.

        A writer returns its rows written, or (sync) what it read, wrote and deleted.
        """
        self.audit.table_started(plan.kind, plan.name)
        self.progress.start(plan.kind, plan.name, self.rows[_key(plan)] if total is None else total)
        started = time.monotonic()
        try:
            done = write(self.progress.advance)
        except Exception as error:
            seconds = time.monotonic() - started
            message = f"{plan.kind} {plan.name}: {error}"
            self.audit.table_failed(plan.kind, plan.name, message)
            self.record(plan, seconds=seconds, status="failed", error=message)
            raise
        finally:
            self.progress.finish()
        seconds = time.monotonic() - started
        if not isinstance(done, sync.Written):
            done = sync.Written(rows_read=done, rows_written=done, rows_deleted=0)
        self.audit.table_finished(
            plan.kind,
            plan.name,
            rows_read=done.rows_read,
            rows_written=done.rows_written,
            rows_deleted=done.rows_deleted,
            seconds=seconds,
        )
        self.record(
            plan,
            rows_written=done.rows_written,
            rows_deleted=done.rows_deleted,
            seconds=seconds,
            status="completed",
        )

    def check_counts(self, driver: Driver) -> list[Count]:
        counts = reconcile(driver, self.settings.neo4j.database, self.plan.tables, self.rows)
        bad = [c for c in counts if not c.ok]
        for count in bad:
            table = next(
                t for t in self.plan.tables if t.name == count.name and t.kind == count.kind
            )
            message = f"reconciliation failed: {count.describe()}"
            self.audit.table_failed(count.kind, count.name, message)
            self.record(table, status="failed", error=message)
        if bad:
            raise ExportFailedError(
                "reconciliation failed: " + "; ".join(c.describe() for c in bad)
            )
        return counts


def read_plan(settings: Settings, options: ExportOptions) -> tuple[GraphPlan, dict[str, int]]:
    """The selected labels and types, with their tables' row counts."""
    with pg_connection(settings.postgres.dsn()) as conn:
        plan = catalog.read_plan(conn).select(options.labels, options.types)
        rows = {_key(t): catalog.count_rows(conn, t.table) for t in plan.tables}
    return plan, rows


def resolve_mode(settings: Settings, options: ExportOptions, plan: GraphPlan) -> Mode:
    """`auto`: bulk for an empty local graph, sync where the last full export to this
    target is on record, merge otherwise."""
    if options.mode != "auto":
        return options.mode
    with connected_driver(settings) as driver:
        empty = merge.count_all_nodes(driver, settings.neo4j.database) == 0
    if not empty and not options.clear and _on_record(settings, plan):
        return "sync"
    local = settings.stack_mode == "local" and settings.neo4j.is_local
    # a full import would drop every label not selected
    if empty and local and not (options.labels or options.types):
        return "bulk"
    return "merge"


def _on_record(settings: Settings, plan: GraphPlan) -> bool:
    with pg_connection(settings.postgres.dsn()) as conn:
        try:
            state.load(conn, neo4j_target(settings), plan.tables)
        except SyncStateError:
            return False
    return True


def run_export(
    settings: Settings,
    options: ExportOptions,
    *,
    progress: Progress | None = None,
    local_neo4j: LocalNeo4j | None = None,
) -> ExportResult:
    """Export the selected graph tables; raises a C360Error after recording a failure."""
    if options.batch_size < 1:
        raise ConfigError("--batch-size must be at least 1")
    if options.writers < 1:
        raise ConfigError("--writers must be at least 1")
    progress = progress or NoProgress()
    plan, rows = read_plan(settings, options)
    mode = resolve_mode(settings, options, plan)
    _check_selection(mode, plan)
    output = _output(settings, options, mode)
    target = str(output) if mode == "cypher" else neo4j_target(settings)
    tables = [TableResult(t.kind, t.name, rows[_key(t)]) for t in plan.tables]
    if options.dry_run:
        return ExportResult(mode, target, True, tables, output=str(output) if output else None)
    started = time.monotonic()
    dsn = settings.postgres.dsn()
    with export_lock(dsn, target), pg_connection(dsn, autocommit=True) as audit_conn:
        audit = Audit.start(audit_conn, mode, target)
        run = _Run(settings, options, plan, rows, progress, audit)
        counts: list[Count] = []
        try:
            if mode == "cypher":
                assert output is not None
                _write_script(run, output)
            elif mode == "sync":
                counts = _sync(run)
            else:
                with pg_connection(dsn) as conn:
                    # before any writer reads: equal OIDs afterwards = the rows written
                    oids = state.graph_oids(conn, plan.tables)
                pending = state.PendingState(dsn, target, plan.tables).start()
                try:
                    counts = _merge(run) if mode == "merge" else _bulk(run, output, local_neo4j)
                except BaseException:
                    pending.cancel()
                    raise
                with run.phase("state_wait"):
                    rows = pending.wait()
                with run.phase("state_record"), pg_connection(dsn) as conn:
                    state.record_full(
                        conn,
                        target,
                        plan.tables,
                        rows,
                        oids,
                        audit.run_id,
                        replaced_database=mode == "bulk",
                        cleared_labels=[p.name for p in plan.labels] if options.clear else (),
                    )
        except Exception as error:
            message = (
                str(error) if isinstance(error, C360Error) else f"{type(error).__name__}: {error}"
            )
            audit.finish(message)
            if isinstance(error, C360Error):
                raise
            raise ExportFailedError(f"export failed ({mode}): {redact(message)}") from error
        except BaseException:
            audit.finish("interrupted")
            raise
        audit.finish()
    return ExportResult(
        mode,
        target,
        False,
        list(run.results.values()),
        run_id=audit.run_id,
        counts=counts,
        seconds=time.monotonic() - started,
        status="completed",
        output=str(output) if output else None,
        phases=run.phases,
    )


def _check_selection(mode: Mode, plan: GraphPlan) -> None:
    if mode != "bulk":
        return
    labels = {p.name for p in plan.labels}
    for edge in plan.types:
        for end in (edge.from_label, edge.to_label):
            if end not in labels:
                raise ConfigError(
                    f"bulk mode replaces the whole database, so type {edge.name} needs "
                    f"label {end} in the same run: add --label {end} or use --mode merge"
                )


def _output(settings: Settings, options: ExportOptions, mode: Mode) -> Path | None:
    if mode == "cypher":
        return options.output or Path("graph.cypher")
    if mode == "bulk":
        return options.output or StackNeo4j(settings).import_dir()
    return None


def _merge(run: _Run) -> list[Count]:
    settings, options = run.settings, run.options
    database = settings.neo4j.database
    dsn = settings.postgres.dsn()
    with connected_driver(settings, options.retry_seconds) as driver:
        with run.phase("constraints"):
            merge.ensure_constraints(driver, database, run.plan.labels)
        if options.clear:
            with run.phase("clear"):
                merge.clear(
                    driver,
                    database,
                    [p.name for p in run.plan.labels],
                    [p.name for p in run.plan.types],
                )

        def write_label(advance: Callable[[int], None], plan: LabelPlan) -> int:
            # inside the table's audit: a server lost here fails this label
            empty = neo4j_count(driver, database, plan) == 0
            statement = merge.node_statement(plan, empty=empty)
            return merge.write(
                driver,
                database,
                statement,
                batches(dsn, plan, options.batch_size, params=True),
                advance,
                writers=options.writers,
            )

        def write_type(advance: Callable[[int], None], plan: TypePlan) -> int:
            empty = neo4j_count(driver, database, plan) == 0
            return merge.write(
                driver,
                database,
                merge.relationship_statement(plan, empty=empty),
                batches(dsn, plan, options.batch_size, params=True),
                advance,
                writers=options.writers if empty else 1,
            )

        for label in run.plan.labels:
            run.write_table(label, lambda advance, p=label: write_label(advance, p))
        for edge in run.plan.types:
            run.write_table(edge, lambda advance, p=edge: write_type(advance, p))
        with run.phase("reconcile"):
            return run.check_counts(driver)


def _sync(run: _Run) -> list[Count]:
    """Diff against the target's record, write only the changes, reconcile, record."""
    settings, options = run.settings, run.options
    database = settings.neo4j.database
    dsn = settings.postgres.dsn()
    states: list[state.TableState] = []
    committed = False
    with pg_connection(dsn) as conn:
        try:
            states = state.load(conn, neo4j_target(settings), run.plan.tables)
            with run.phase("diff"):
                diffs = sync.compute(dsn, states)
            for diff in diffs:
                # Neo4j must match the graph tables as of the diff, not as of the plan
                run.rows[_key(diff.plan)] = diff.expected_rows
                run.record(diff.plan, rows=diff.expected_rows)
            with connected_driver(settings, options.retry_seconds) as driver:
                with run.phase("constraints"):
                    merge.ensure_constraints(driver, database, run.plan.labels)
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
                    counts = run.check_counts(driver)
            with run.phase("state_record"):
                sync.commit(conn, diffs, run.audit.run_id)
            committed = True
        finally:
            if not committed:
                sync.discard(dsn, states)
    return counts


def _write_script(run: _Run, output: Path) -> None:
    dsn = run.settings.postgres.dsn()
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("w", encoding="utf-8") as out:
        script.write_header(out, run.plan)
        if run.options.clear:
            script.write_clear(out, run.plan)
        for table in run.plan.tables:
            run.write_table(
                table,
                lambda advance, p=table: script.write_table(
                    out, p, batches(dsn, p, run.options.batch_size), advance
                ),
            )


def _bulk(run: _Run, directory: Path | None, local_neo4j: LocalNeo4j | None) -> list[Count]:
    settings = run.settings
    if settings.stack_mode != "local" or not settings.neo4j.is_local:
        raise ConfigError(
            "bulk mode imports into the local stack's Neo4j only; use --mode merge "
            "for a remote server"
        )
    assert directory is not None
    server = local_neo4j or StackNeo4j(settings)
    for table in run.plan.tables:
        run.audit.table_started(table.kind, table.name)
    read: dict[str, int] = {}
    copy_seconds: dict[str, float] = {}

    reporting = threading.Lock()

    def copied(table: TablePlan, count: int, seconds: float) -> None:
        # called from the COPY workers: one table's report at a time
        with reporting:
            read[_key(table)] = count
            copy_seconds[_key(table)] = seconds
            run.progress.start(table.kind, table.name, run.rows[_key(table)])
            run.progress.advance(count)
            run.progress.finish()

    largest_first = sorted(run.plan.tables, key=lambda t: run.rows[_key(t)], reverse=True)
    with run.phase("copy"):
        files = bulk.write_csvs(settings.postgres.dsn(), largest_first, directory, copied)
    report = directory / "import.report"
    import_started = time.monotonic()
    with run.phase("neo4j_stop"):
        server.stop()
    try:
        with run.phase("import"):
            server.admin(bulk.import_args(files, settings.neo4j.database, report))
    finally:
        with run.phase("neo4j_start"):
            server.start()
    with connected_driver(settings, run.options.retry_seconds) as driver:
        with run.phase("constraints"):
            merge.ensure_constraints(driver, settings.neo4j.database, run.plan.labels)
        import_seconds = time.monotonic() - import_started
        with run.phase("reconcile"):
            counts = run.check_counts(driver)
    total = max(1, sum(read.values()))
    for table in run.plan.tables:
        count = read[_key(table)]
        # one import for all files: each table's share of it is its share of the rows
        seconds = copy_seconds[_key(table)] + import_seconds * count / total
        run.audit.table_finished(
            table.kind, table.name, rows_read=count, rows_written=count, seconds=seconds
        )
        run.record(table, rows_written=count, seconds=seconds, status="completed")
    return counts


@dataclass(frozen=True)
class StackNeo4j:
    """The local stack's Neo4j server, through `c360.stack.neo4j`."""

    settings: Settings

    def stop(self) -> None:
        from c360.stack import neo4j  # lazily: only bulk mode needs the stack

        neo4j.stop(self.settings)

    def start(self) -> None:
        from c360.stack import neo4j

        neo4j.start(self.settings)

    def admin(self, args: list[str]) -> None:
        from c360.stack import neo4j

        neo4j.admin(self.settings, args)

    def import_dir(self) -> Path:
        from c360.stack.neo4j import Neo4jPaths

        return Neo4jPaths.of(self.settings).import_dir
