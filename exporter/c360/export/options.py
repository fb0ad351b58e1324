"""What an export is asked to do and what it reports: options, progress, results."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from c360.export.reconcile import Count

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
    # sessions writing batches at once where they cannot deadlock (c360.export.merge)
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
