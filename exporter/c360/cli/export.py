"""`c360-export` with no subcommand: export the graph tables to Neo4j."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from c360.cli._errors import user_errors
from c360.config import Settings
from c360.console import stderr, stdout
from c360.export.options import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_DELETE_SHARE,
    DEFAULT_WRITERS,
    ExportOptions,
    ExportResult,
    Mode,
)
from c360.export.pipeline import run_export

# The options `refresh` shares with the export.
MaxDeleteShare = Annotated[
    float,
    typer.Option(
        help="Stop before a sync, merge --clear or bulk deletes more than this share "
        "of a label or type Neo4j holds.",
        min=0.0,
        max=1.0,
        envvar="C360_MAX_DELETE_SHARE",
    ),
]
AllowMassDelete = Annotated[
    bool,
    typer.Option(
        "--allow-mass-delete",
        help="Delete whatever the graph tables no longer hold, however much.",
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print the summary as JSON on stdout.")]


class RowsPerSecond(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} rows/s" if speed else "", style="progress.data.speed")


class BarProgress:
    """One rich bar per label and type, on stderr."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task: TaskID | None = None

    def start(self, kind: str, name: str, total: int) -> None:
        self._task = self._progress.add_task(f"{kind} {name}", total=max(total, 1))

    def advance(self, rows: int) -> None:
        if self._task is not None:
            self._progress.advance(self._task, rows)

    def finish(self) -> None:
        if self._task is not None:
            task = self._progress.tasks[self._task]
            self._progress.update(self._task, completed=max(task.completed, task.total or 0))
            self._progress.stop_task(self._task)


def progress_bars(disable: bool = False) -> Progress:
    """The bars an export draws on stderr, one per label and type (BarProgress)."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RowsPerSecond(),
        TimeElapsedColumn(),
        console=stderr(),
        transient=False,
        disable=disable,
    )


def summary(result: ExportResult) -> Table:
    """The export's table: per label and type, rows, writes and their rate."""
    title = f"{'plan' if result.dry_run else 'export'}: {result.mode} -> {result.target}"
    written = sum(t.rows_written + t.rows_deleted for t in result.tables)
    caption = (
        None
        if result.dry_run
        else f"{written:,} rows in {result.seconds:.1f}s: "
        f"{written / result.seconds if result.seconds else 0:,.0f} rows/s overall"
    )
    deletes = result.mode == "sync" and not result.dry_run
    dangling = any(t.dangling for t in result.tables)
    table = Table(title=title, caption=caption)
    table.add_column("kind")
    table.add_column("name")
    table.add_column("rows", justify="right")
    if not result.dry_run:
        table.add_column("written", justify="right")
        if deletes:
            table.add_column("deleted", justify="right")
        if dangling:
            table.add_column("dangling", justify="right")
        table.add_column("in Neo4j", justify="right")
        table.add_column("seconds", justify="right")
        table.add_column("rows/s", justify="right")
        table.add_column("status")
    counts = {(c.kind, c.name): c.actual for c in result.counts}
    for t in result.tables:
        cells = [t.kind, t.name, f"{t.rows:,}"]
        if not result.dry_run:
            actual = counts.get((t.kind, t.name))
            cells += [
                f"{t.rows_written:,}",
                *([f"{t.rows_deleted:,}"] if deletes else []),
                *([f"{t.dangling:,}" if t.dangling else ""] if dangling else []),
                "" if actual is None else f"{actual:,}",
                f"{t.seconds:.2f}",
                f"{t.rows_per_second:,.0f}",
                t.status,
            ]
        table.add_row(*(Text(c) for c in cells))
    return table


def export(
    ctx: typer.Context,
    mode: Annotated[
        Mode,
        typer.Option(
            help="bulk: neo4j-admin import into the local, stopped Neo4j (replaces the "
            "database); merge: keyed upserts over Bolt; cypher: write a Cypher script; "
            "sync: only the rows changed since the last bulk, merge or sync to this "
            "target, deletes included; auto: bulk for an empty local graph, sync once a "
            "full export to the target is on record, merge otherwise.",
            envvar="C360_EXPORT_MODE",
        ),
    ] = "auto",
    label: Annotated[
        list[str] | None, typer.Option("--label", help="Export only this label (repeatable).")
    ] = None,
    type_: Annotated[
        list[str] | None,
        typer.Option("--type", help="Export only this relationship type (repeatable)."),
    ] = None,
    clear: Annotated[
        bool, typer.Option(help="Delete the selected labels and types first, in batches.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan; write nothing.")
    ] = False,
    batch_size: Annotated[
        int, typer.Option(help="Rows per transaction (merge, sync) or statement (cypher).", min=1)
    ] = DEFAULT_BATCH_SIZE,
    writers: Annotated[
        int,
        typer.Option(
            help="Sessions writing a label's nodes at once (merge, sync); relationships "
            "always have one.",
            min=1,
        ),
    ] = DEFAULT_WRITERS,
    output: Annotated[
        Path | None,
        typer.Option(
            help="cypher mode: the script file (default graph.cypher); "
            "bulk mode: the directory of CSV files (default .c360/import)."
        ),
    ] = None,
    max_delete_share: MaxDeleteShare = DEFAULT_MAX_DELETE_SHARE,
    allow_mass_delete: AllowMassDelete = False,
    as_json: AsJson = False,
) -> None:
    """Export the graph tables to Neo4j (the default command)."""
    if ctx.invoked_subcommand is not None:
        return
    with user_errors(as_json):
        options = ExportOptions(
            mode=mode,
            labels=tuple(label or ()),
            types=tuple(type_ or ()),
            clear=clear,
            dry_run=dry_run,
            batch_size=batch_size,
            writers=writers,
            output=output,
            max_delete_share=max_delete_share,
            allow_mass_delete=allow_mass_delete,
        )
        settings = Settings.from_env()
        with progress_bars(disable=dry_run) as bars:
            result = run_export(settings, options, progress=BarProgress(bars))
    if as_json:
        stdout().print_json(json.dumps(result.as_dict()))
    else:
        stdout().print(summary(result))
