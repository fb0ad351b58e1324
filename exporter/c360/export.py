"""One export run: snapshot -> plan -> lock -> audit -> guard -> write -> reconcile -> record.

The writers (`bulk`, `merge`, `script`, `sync`) know nothing of audit or locking;
this module drives them table by table, records each step on the audit
connection and fails the run on any error or count mismatch. Every run reads
one locked snapshot of graph tables that passed their dbt tests
(`c360.snapshot`), and stops before deleting more of a label or type than
allowed (`check_deletes`). A bulk or merge run that passed reconciliation
records what the target now holds (`c360.state`), which the next `sync` diffs
against.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal, Protocol

import psycopg2
from neo4j import Driver, GraphDatabase
from neo4j.exceptions import AuthError

from c360 import bulk, merge, script, state, sync
from c360.audit import Audit, redact
from c360.catalog import GraphPlan, TablePlan
from c360.config import Settings
from c360.errors import (
    C360Error,
    ConfigError,
    ExportFailedError,
    MassDeleteError,
    ServerUnavailableError,
    SyncStateError,
)
from c360.lock import export_lock
from c360.pg import pg_connection
from c360.reconcile import Count, neo4j_count, neo4j_holdings, reconcile
from c360.rows import batches
from c360.snapshot import PublishedGraph, published_graph
from c360.target import Target, neo4j_target, script_target

Mode = Literal["auto", "bulk", "merge", "cypher", "sync"]
MODES: tuple[Mode, ...] = ("auto", "bulk", "merge", "cypher", "sync")
DEFAULT_BATCH_SIZE = 10_000
DEFAULT_WRITERS = 2
DEFAULT_MAX_DELETE_SHARE = 0.5


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
    # the share of a label or type Neo4j holds that a run may delete (check_deletes)
    max_delete_share: float = DEFAULT_MAX_DELETE_SHARE
    allow_mass_delete: bool = False


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
    # source rows dbt's dangling_rows test found without a partner (edges only)
    dangling: int | None = None

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
                    "rows_dangling": t.dangling,
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


def open_driver(settings: Settings, retry_seconds: float = 30.0) -> Driver:
    return GraphDatabase.driver(
        settings.neo4j.uri,
        auth=(settings.neo4j.user, settings.neo4j.password),
        max_transaction_retry_time=retry_seconds,
    )


def verified_driver(settings: Settings, retry_seconds: float = 30.0) -> Driver:
    """A driver that has reached the server, or ServerUnavailableError saying why not."""
    driver = open_driver(settings, retry_seconds)
    uri = redact(settings.neo4j.uri)
    try:
        driver.verify_connectivity()
    except AuthError as error:
        driver.close()
        raise ServerUnavailableError(
            f"Neo4j at {uri} refused the credentials of user {settings.neo4j.user!r} "
            f"({error.message}); check NEO4J_USER and NEO4J_PASSWORD"
        ) from None
    except Exception as error:
        driver.close()
        raise ServerUnavailableError(
            f"cannot reach Neo4j at {uri}: {error}; "
            "start it with `c360-export stack up` or check NEO4J_URI"
        ) from None
    return driver


@contextmanager
def connected_driver(settings: Settings, retry_seconds: float = 30.0) -> Iterator[Driver]:
    with verified_driver(settings, retry_seconds) as driver:
        yield driver


def _key(plan: TablePlan) -> str:
    return f"{plan.kind}:{plan.name}"


class _Run:
    """The state of one run; only `run_export` builds it."""

    def __init__(
        self,
        settings: Settings,
        options: ExportOptions,
        graph: PublishedGraph,
        plan: GraphPlan,
        target: Target,
        progress: Progress,
        audit: Audit,
    ) -> None:
        self.settings = settings
        self.options = options
        self.graph = graph
        self.plan = plan
        self.target = target
        self.progress = progress
        self.audit = audit
        self.rows = {_key(t): graph.rows[_key(t)] for t in plan.tables}
        self.results: dict[str, TableResult] = {
            _key(t): TableResult(t.kind, t.name, self.rows[_key(t)], dangling=graph.dangling(t))
            for t in plan.tables
        }
        self.phases: dict[str, float] = {}

    @property
    def dsn(self) -> str:
        return self.settings.postgres.dsn()

    @property
    def database(self) -> str:
        return self.settings.neo4j.database

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
        if not isinstance(done, sync.Written):
            done = sync.Written(rows_read=done, rows_written=done, rows_deleted=0)
        self.table_done(plan, done, time.monotonic() - started)

    def table_done(self, plan: TablePlan, done: sync.Written, seconds: float) -> None:
        """One table written: its audit row and its result, the same for every mode."""
        self.audit.table_finished(
            plan.kind,
            plan.name,
            rows_read=done.rows_read,
            rows_written=done.rows_written,
            rows_deleted=done.rows_deleted,
            rows_dangling=self.graph.dangling(plan),
            seconds=seconds,
        )
        self.record(
            plan,
            rows_written=done.rows_written,
            rows_deleted=done.rows_deleted,
            seconds=seconds,
            status="completed",
        )

    def check_counts(self, driver: Driver, hint: str = "") -> list[Count]:
        counts = reconcile(driver, self.database, self.plan.tables, self.rows)
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
                "reconciliation failed: " + "; ".join(c.describe() for c in bad) + hint
            )
        return counts

    def check_deletes(self, losses: Iterable[Loss]) -> None:
        """Stop before deleting more of a label or type than the options allow."""
        if not self.options.allow_mass_delete:
            check_deletes(losses, self.options.max_delete_share)


@dataclass(frozen=True)
class Loss:
    """What a run would delete of one label or type that Neo4j holds."""

    what: str
    held: int
    deleting: int


def check_deletes(losses: Iterable[Loss], max_share: float) -> None:
    """MassDeleteError naming each label or type that would lose more than `max_share`."""
    over = [
        f"{loss.what}: {loss.deleting:,} of {loss.held:,} ({loss.deleting / loss.held:.0%})"
        for loss in losses
        if loss.held > 0 and loss.deleting > max_share * loss.held
    ]
    if over:
        raise MassDeleteError(
            f"stopped before deleting more than {max_share:.0%} of what Neo4j holds of "
            + "; ".join(over)
            + ". Nothing was deleted. If that is intended (a source emptied, a mapping "
            "removed), run again with --allow-mass-delete"
        )


def _describe(plan: TablePlan) -> str:
    return f"{'label' if plan.kind == 'node' else 'type'} {plan.name}"


def resolve_mode(
    settings: Settings, options: ExportOptions, plan: GraphPlan, driver: Driver, target: Target
) -> Mode:
    """`auto`: bulk for an empty local graph, sync where the last full export to this
    target is on record, merge otherwise."""
    if options.mode != "auto":
        return options.mode
    empty = merge.count_all_nodes(driver, settings.neo4j.database) == 0
    if not empty and not options.clear and _on_record(settings, plan, target):
        return "sync"
    local = settings.stack_mode == "local" and settings.neo4j.is_local
    # a full import would drop every label not selected
    if empty and local and not (options.labels or options.types):
        return "bulk"
    return "merge"


def _on_record(settings: Settings, plan: GraphPlan, target: Target) -> bool:
    with pg_connection(settings.postgres.dsn()) as conn:
        try:
            state.load(conn, target.key, plan.tables)
        except SyncStateError:
            return False
    return True


def run_export(
    settings: Settings, options: ExportOptions, *, progress: Progress | None = None
) -> ExportResult:
    """Export the selected graph tables; raises a C360Error after recording a failure.

    Everything the run reads of the graph tables comes from one locked snapshot
    of tables dbt published after their tests (`c360.snapshot`).
    """
    if options.batch_size < 1:
        raise ConfigError("--batch-size must be at least 1")
    if options.writers < 1:
        raise ConfigError("--writers must be at least 1")
    if not 0 <= options.max_delete_share <= 1:
        raise ConfigError("--max-delete-share must be between 0 and 1")
    progress = progress or NoProgress()
    with published_graph(settings.postgres.dsn()) as graph:
        plan = graph.plan.select(options.labels, options.types)
        if options.mode == "cypher":
            output = options.output or Path("graph.cypher")
            return _run(settings, options, graph, plan, "cypher", script_target(output), progress)
        try:
            driver = verified_driver(settings, options.retry_seconds)
        except ServerUnavailableError as error:
            if not options.dry_run:
                _record_unreachable(settings, options.mode, error)
            raise
        with driver:
            target = neo4j_target(settings, driver)
            mode = resolve_mode(settings, options, plan, driver, target)
            return _run(settings, options, graph, plan, mode, target, progress, driver)


def _record_unreachable(settings: Settings, mode: Mode, error: C360Error) -> None:
    """A run that could not reach its target is still a failed run on record."""
    display = redact(f"{settings.neo4j.uri}/{settings.neo4j.database}")
    with pg_connection(settings.postgres.dsn(), autocommit=True) as conn:
        Audit.start(conn, mode, Target(display, f"unreached:{display}")).finish(str(error))


def _run(
    settings: Settings,
    options: ExportOptions,
    graph: PublishedGraph,
    plan: GraphPlan,
    mode: Mode,
    target: Target,
    progress: Progress,
    driver: Driver | None = None,
) -> ExportResult:
    _check_mode(mode, plan)
    output = _output(settings, options, mode)
    if options.dry_run:
        tables = [TableResult(t.kind, t.name, graph.rows[_key(t)]) for t in plan.tables]
        return ExportResult(
            mode, target.display, True, tables, output=str(output) if output else None
        )
    started = time.monotonic()
    dsn = settings.postgres.dsn()
    with (
        export_lock(dsn, target.key, target.display),
        pg_connection(dsn, autocommit=True) as audit_conn,
    ):
        audit = Audit.start(audit_conn, mode, target)
        run = _Run(settings, options, graph, plan, target, progress, audit)
        counts: list[Count] = []
        try:
            graph.check_published(plan)
            if mode == "cypher":
                assert output is not None
                _write_script(run, output)
            elif mode == "sync":
                assert driver is not None
                counts = _sync(run, driver)
            else:
                assert driver is not None
                counts = _full(run, mode, driver, output)
        except Exception as error:
            raise _failed(audit, mode, error) from error
        except BaseException:
            with suppress(psycopg2.Error):
                audit.finish("interrupted")
            raise
        audit.finish()
    return ExportResult(
        mode,
        target.display,
        False,
        list(run.results.values()),
        run_id=audit.run_id,
        counts=counts,
        seconds=time.monotonic() - started,
        status="completed",
        output=str(output) if output else None,
        phases=run.phases,
    )


def _failed(audit: Audit, mode: Mode, error: Exception) -> C360Error:
    """The error to raise for a failed run, once the run is recorded as failed.

    With PostgreSQL gone, the run cannot be recorded: it stays `running` until
    the next export to the target marks it `abandoned`.
    """
    message = str(error) if isinstance(error, C360Error) else f"{type(error).__name__}: {error}"
    with suppress(psycopg2.Error):
        audit.finish(message)
    if isinstance(error, C360Error):
        return error
    if isinstance(error, (psycopg2.OperationalError, psycopg2.InterfaceError)):
        return ServerUnavailableError(
            f"lost the connection to PostgreSQL during the export ({mode}): "
            f"{' '.join(str(error).split())}. Nothing is recorded as exported; once "
            "PostgreSQL is back, export again (the next run marks this one abandoned)"
        )
    return ExportFailedError(f"export failed ({mode}): {redact(message)}")


def _check_mode(mode: Mode, plan: GraphPlan) -> None:
    """ConfigError, before anything is opened or written, for what `mode` cannot carry."""
    if mode == "cypher":
        script.check_plan(plan)
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
        from c360.stack.neo4j import Neo4jPaths  # lazily: only bulk mode needs the stack

        return options.output or Neo4jPaths.of(settings).import_dir
    return None


def _full(run: _Run, mode: Mode, driver: Driver, output: Path | None) -> list[Count]:
    """A bulk or merge run, and the record of what the target now holds.

    The record is hashed from the same snapshot while the writer runs, and
    becomes the target's record only once reconciliation passed.
    """
    with pg_connection(run.dsn) as conn:
        target_id = state.ensure_target(conn, run.target.key)
    pending = state.PendingState(run.graph.snapshot, target_id, run.plan.tables).start()
    try:
        counts = _merge(run, driver) if mode == "merge" else _bulk(run, driver, output)
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


def _merge(run: _Run, driver: Driver) -> list[Count]:
    options, database = run.options, run.database
    if options.clear:
        run.check_deletes(
            Loss(_describe(t), held, held - run.rows[_key(t)])
            for t in run.plan.tables
            if (held := neo4j_count(driver, database, t))
        )
    with run.phase("constraints"):
        merge.ensure_constraints(driver, database, run.plan.labels)
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
        return run.check_counts(driver)


# After a sync, Neo4j differs from the graph tables only if it also differs from
# the record: it was changed by hand, or a full export to it was interrupted.
_SYNC_HINT = (
    ". Neo4j no longer holds what the record of the last export says (changed by "
    "another writer, or a full export was interrupted): run `c360-export --mode merge` "
    "to rewrite these labels and types and renew the record"
)


def _sync(run: _Run, driver: Driver) -> list[Count]:
    """Diff against the target's record, write only the changes, reconcile, record."""
    options, database, dsn = run.options, run.database, run.dsn
    with pg_connection(dsn) as conn:
        states = state.load(conn, run.target.key, run.plan.tables)
    committed = False
    try:
        with run.phase("diff"):
            diffs = sync.compute(run.graph.snapshot, states)
        run.check_deletes(Loss(_describe(d.plan), d.state.rows, d.deleted) for d in diffs)
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
            counts = run.check_counts(driver, _SYNC_HINT)
        with run.phase("state_record"), pg_connection(dsn) as conn:
            sync.commit(conn, diffs, run.audit.run_id)
        committed = True
    finally:
        if not committed:
            with suppress(psycopg2.Error, C360Error):
                sync.discard(dsn, states)
    return counts


def _write_script(run: _Run, output: Path) -> None:
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


def _bulk(run: _Run, driver: Driver, directory: Path | None) -> list[Count]:
    """CSV files by COPY, then a new database imported beside the running one and
    swapped in only if the import succeeds (`c360.stack.neo4j.replace_database`)."""
    settings = run.settings
    if settings.stack_mode != "local" or not settings.neo4j.is_local:
        raise ConfigError(
            "bulk mode imports into the local stack's Neo4j only; use --mode merge "
            "for a remote server"
        )
    from c360.stack import neo4j as stack_neo4j  # lazily: only bulk mode needs the stack

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
            read[_key(table)] = count
            copy_seconds[_key(table)] = seconds
            run.progress.start(table.kind, table.name, run.rows[_key(table)])
            run.progress.advance(count)
            run.progress.finish()

    largest_first = sorted(run.plan.tables, key=lambda t: run.rows[_key(t)], reverse=True)
    with run.phase("copy"):
        files = bulk.write_csvs(run.graph.snapshot, largest_first, directory, copied)
    import_started = time.monotonic()
    with run.phase("import"):
        stack_neo4j.replace_database(
            settings,
            bulk.import_args(files, run.database, directory / "import.report"),
            directory / "import.report",
        )
    # a new driver: the old one's bookmarks name transactions the new store never had
    with connected_driver(settings, run.options.retry_seconds) as fresh:
        with run.phase("constraints"):
            merge.ensure_constraints(fresh, run.database, run.plan.labels)
        import_seconds = time.monotonic() - import_started
        with run.phase("reconcile"):
            counts = run.check_counts(fresh)
    total = max(1, sum(read.values()))
    for table in run.plan.tables:
        count = read[_key(table)]
        # one import for all files: each table's share of it is its share of the rows
        seconds = copy_seconds[_key(table)] + import_seconds * count / total
        run.table_done(table, sync.Written(count, count, 0), seconds)
    return counts
