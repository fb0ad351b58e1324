"""One run's state: audit rows, progress, results, phase timings; the same for every mode."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace

from neo4j import Driver

from c360.config import Settings
from c360.errors import ExportFailedError
from c360.export import sync
from c360.export.audit import Audit
from c360.export.catalog import GraphPlan, TablePlan
from c360.export.guard import Loss, check_deletes
from c360.export.options import ExportOptions, Progress, TableResult
from c360.export.reconcile import Count, reconcile
from c360.export.snapshot import PublishedGraph
from c360.export.target import Target


def table_key(plan: TablePlan) -> str:
    """`kind:name`, how rows and results of one table are keyed."""
    return f"{plan.kind}:{plan.name}"


@contextmanager
def timed(phases: dict[str, float], name: str) -> Iterator[None]:
    """Add the block's seconds to `phases[name]`, whether it succeeds or not."""
    started = time.monotonic()
    try:
        yield
    finally:
        phases[name] = phases.get(name, 0.0) + time.monotonic() - started


class Run:
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
        self.rows = {table_key(t): graph.rows[table_key(t)] for t in plan.tables}
        self.results: dict[str, TableResult] = {
            table_key(t): TableResult(
                t.kind, t.name, self.rows[table_key(t)], dangling=graph.dangling(t)
            )
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
        with timed(self.phases, name):
            yield

    def record(self, plan: TablePlan, **changes: object) -> None:
        self.results[table_key(plan)] = replace(self.results[table_key(plan)], **changes)  # type: ignore[arg-type]

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
        self.progress.start(
            plan.kind, plan.name, self.rows[table_key(plan)] if total is None else total
        )
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

    def retire(self, kind: str, name: str, delete: Callable[[], int]) -> None:
        """Run `delete`, emptying Neo4j of a label or type the catalog no longer
        lists, with its audit row and its result (rows deleted)."""
        self.audit.table_started(kind, name)
        started = time.monotonic()
        try:
            deleted = delete()
        except Exception as error:
            self.audit.table_failed(kind, name, f"{kind} {name}: {error}")
            raise
        seconds = time.monotonic() - started
        self.audit.table_finished(
            kind, name, rows_read=0, rows_written=0, rows_deleted=deleted, seconds=seconds
        )
        self.results[f"{kind}:{name}"] = TableResult(
            kind, name, 0, rows_deleted=deleted, seconds=seconds, status="completed"
        )

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

    def check_counts(
        self, driver: Driver, hint: Callable[[Sequence[Count]], str] | None = None
    ) -> list[Count]:
        """Neo4j's counts against the graph tables'; failing ones are audited and
        raised, with what `hint` says to do about them."""
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
                "reconciliation failed: "
                + "; ".join(c.describe() for c in bad)
                + (hint(bad) if hint else "")
            )
        return counts

    def check_deletes(self, losses: Iterable[Loss]) -> None:
        """Stop before deleting more of a label or type than the options allow."""
        if not self.options.allow_mass_delete:
            check_deletes(losses, self.options.max_delete_share)


def describe(plan: TablePlan) -> str:
    return f"{'label' if plan.kind == 'node' else 'type'} {plan.name}"
