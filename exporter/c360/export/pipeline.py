"""One export run: snapshot -> plan -> mode -> lock -> audit -> check -> write.

`run_export` opens one locked snapshot of graph tables that passed their dbt
tests (`c360.export.snapshot`), picks the mode, takes the target's lock,
starts the audited run (`audited_run`) and hands it to the mode's driver
(`c360.export.modes`), which writes table by table, reconciles and records
what the target holds. Any failure is recorded on the run before it is raised
as a `C360Error`. A caller that opened the run itself (`c360.refresh`, around
its dbt build) passes it in, and the export writes into that run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext, suppress
from pathlib import Path

import psycopg2
from neo4j import Driver

from c360.config import Settings
from c360.errors import (
    C360Error,
    ConfigError,
    ExportFailedError,
    ServerUnavailableError,
    SyncStateError,
)
from c360.export import merge, modes, script, state
from c360.export.audit import Audit, RunKind, redact
from c360.export.catalog import GraphPlan
from c360.export.lock import TargetLock, export_lock
from c360.export.options import (
    ExportOptions,
    ExportResult,
    Mode,
    NoProgress,
    Progress,
    TableResult,
)
from c360.export.reconcile import Count
from c360.export.run import Run, table_key, timed
from c360.export.snapshot import PublishedGraph, published_graph
from c360.export.target import Target, neo4j_target, script_target
from c360.neo4j_driver import verified_driver
from c360.pg import pg_connection


def resolve_mode(
    settings: Settings, options: ExportOptions, plan: GraphPlan, driver: Driver, target: Target
) -> Mode:
    """The mode `auto` stands for on this target (`choose_mode`); others as given."""
    if options.mode != "auto":
        return options.mode
    return choose_mode(
        options,
        empty=merge.count_all_nodes(driver, settings.neo4j.database) == 0,
        local=settings.stack_mode == "local" and settings.neo4j.is_local,
        on_record=lambda: _on_record(settings, plan, target),
    )


def choose_mode(
    options: ExportOptions, *, empty: bool, local: bool, on_record: Callable[[], bool]
) -> Mode:
    """`auto`: bulk for an empty local graph, sync where the last full export to this
    target is on record, merge otherwise. `on_record` is asked only when it matters."""
    if options.mode != "auto":
        return options.mode
    if not empty and not options.clear and on_record():
        return "sync"
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


class OpenRun:
    """A run holding its target's lock, with its audit row; `audited_run` opens one."""

    def __init__(self, lock: TargetLock, audit: Audit, kind: RunKind, mode: str) -> None:
        self.lock = lock
        self.audit = audit
        self.kind = kind
        self.mode = mode
        # seconds by step, recorded on the run when it ends
        self.phases: dict[str, float] = {}

    def enter(self, target: Target, mode: Mode) -> None:
        """An export starts writing in this run: to the target locked, in `mode`."""
        self.lock.confirm(target.key)
        if mode != self.mode:
            self.audit.set_mode(mode)
            self.mode = mode

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Time one step of the run into `phases`, whether it succeeds or not."""
        with timed(self.phases, name):
            yield


@contextmanager
def audited_run(
    settings: Settings, target: Target, mode: str, kind: RunKind = "export"
) -> Iterator[OpenRun]:
    """Hold the target's lock and one audited run for the block.

    The run ends `completed` when the block returns, `failed` with what it raised
    (raised on as a C360Error), or `failed` as `interrupted` on Ctrl-C or SIGTERM;
    its phases are recorded either way. Raises ExportBusyError at once when
    another run holds the target.
    """
    dsn = settings.postgres.dsn()
    with (
        export_lock(dsn, target.key, target.display) as lock,
        pg_connection(dsn, autocommit=True) as audit_conn,
    ):
        opened = OpenRun(lock, Audit.start(audit_conn, mode, target, kind), kind, mode)
        try:
            yield opened
        except Exception as error:
            raise _failed(opened, error) from error
        except BaseException:
            with suppress(psycopg2.Error):
                opened.audit.finish("interrupted", opened.phases)
            raise
        opened.audit.finish(phases=opened.phases)


@contextmanager
def reached_target(
    settings: Settings,
    retry_seconds: float,
    *,
    mode: Mode,
    kind: RunKind = "export",
    record: bool = True,
) -> Iterator[tuple[Driver, Target]]:
    """A driver to Neo4j and the target it is; with `record`, a target out of reach
    is a failed run on record before ServerUnavailableError is raised."""
    try:
        driver = verified_driver(settings, retry_seconds)
    except ServerUnavailableError as error:
        if record:
            _record_unreachable(settings, mode, kind, error)
        raise
    with driver:
        yield driver, neo4j_target(settings, driver)


def run_export(
    settings: Settings,
    options: ExportOptions,
    *,
    progress: Progress | None = None,
    within: OpenRun | None = None,
) -> ExportResult:
    """Export the selected graph tables; raises a C360Error after recording a failure.

    Everything the run reads of the graph tables comes from one locked snapshot
    of tables dbt published after their tests (`c360.export.snapshot`). With
    `within`, the export writes into that run, whose lock it must be, and leaves
    ending and recording the run to its opener.
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
            target = script_target(output)
            return _run(settings, options, graph, plan, "cypher", target, progress, within)
        with reached_target(
            settings,
            options.retry_seconds,
            mode=options.mode,
            record=not options.dry_run and within is None,
        ) as (driver, target):
            mode = resolve_mode(settings, options, plan, driver, target)
            return _run(settings, options, graph, plan, mode, target, progress, within, driver)


def _record_unreachable(settings: Settings, mode: Mode, kind: RunKind, error: C360Error) -> None:
    """A run that could not reach its target is still a failed run on record."""
    display = redact(f"{settings.neo4j.uri}/{settings.neo4j.database}")
    with pg_connection(settings.postgres.dsn(), autocommit=True) as conn:
        Audit.start(conn, mode, Target(display, f"unreached:{display}"), kind).finish(str(error))


def _run(
    settings: Settings,
    options: ExportOptions,
    graph: PublishedGraph,
    plan: GraphPlan,
    mode: Mode,
    target: Target,
    progress: Progress,
    within: OpenRun | None,
    driver: Driver | None = None,
) -> ExportResult:
    _check_mode(mode, plan)
    output = _output(settings, options, mode)
    if options.dry_run:
        tables = [TableResult(t.kind, t.name, graph.rows[table_key(t)]) for t in plan.tables]
        return ExportResult(
            mode, target.display, True, tables, output=str(output) if output else None
        )
    started = time.monotonic()
    # a run opened by the caller is ended and recorded by the caller
    scope = nullcontext(within) if within is not None else audited_run(settings, target, mode)
    with scope as opened:
        opened.enter(target, mode)
        run = Run(settings, options, graph, plan, target, progress, opened.audit)
        counts: list[Count] = []
        try:
            graph.check_published(plan)
            if mode == "cypher":
                assert output is not None
                modes.run_script(run, output)
            elif mode == "sync":
                assert driver is not None
                counts = modes.run_sync(run, driver)
            else:
                assert driver is not None
                counts = modes.run_full(run, mode, driver, output)
        finally:
            opened.phases.update(run.phases)
    return ExportResult(
        mode,
        target.display,
        False,
        list(run.results.values()),
        run_id=opened.audit.run_id,
        counts=counts,
        seconds=time.monotonic() - started,
        status="completed",
        output=str(output) if output else None,
        phases=run.phases,
    )


def _failed(run: OpenRun, error: Exception) -> C360Error:
    """The error to raise for a failed run, once the run is recorded as failed.

    With PostgreSQL gone, the run cannot be recorded: it stays `running` until
    the next run to the target marks it `abandoned`.
    """
    message = str(error) if isinstance(error, C360Error) else f"{type(error).__name__}: {error}"
    with suppress(psycopg2.Error):
        run.audit.finish(message, run.phases)
    if isinstance(error, C360Error):
        return error
    if isinstance(error, (psycopg2.OperationalError, psycopg2.InterfaceError)):
        return ServerUnavailableError(
            f"lost the connection to PostgreSQL during the {run.kind} ({run.mode}): "
            f"{' '.join(str(error).split())}. Nothing is recorded as exported; once "
            f"PostgreSQL is back, {run.kind} again (the next run marks this one abandoned)"
        )
    return ExportFailedError(f"{run.kind} failed ({run.mode}): {redact(message)}")


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
