"""`c360-export samples`: fill the reference source databases of the sample domains."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from c360.cli._app import command_group
from c360.cli._errors import user_errors
from c360.config import Settings
from c360.console import stderr, stdout
from c360.samples.domains import ALL, DOMAINS, load_stories, select_domains
from c360.samples.domains import generate as generate_sources
from c360.samples.load import LoadPlan, SourceTargets, TableLoad

app = command_group(
    "Load the reference sources: the sample story or generated data.",
    no_args_is_help=True,
)

PrefixOption = Annotated[
    str,
    typer.Option(
        "--database-prefix",
        help="Write to `<prefix>profiles_db`, `<prefix>streaming_db`, ... (every database).",
    ),
]
DomainOption = Annotated[
    str,
    typer.Option(
        help=f"The sample domain: {', '.join(d.name for d in DOMAINS)}, or {ALL} of them "
        "side by side, each in its own databases.",
        metavar="|".join((*(d.name for d in DOMAINS), ALL)),
    ),
]


@app.command()
def load(domain: DomainOption = ALL, prefix: PrefixOption = "") -> None:
    """(Re)create the domain's source databases with its sample story."""
    with user_errors():
        settings = Settings.from_env()
        targets = SourceTargets.with_prefix(prefix)
        domains = select_domains(domain)
        counts = load_stories(settings, domains, targets)
        summaries = [d.summary(settings, targets) for d in domains]
    _print_counts(counts, title="sample story loaded")
    for summary in summaries:
        stdout().print(summary, highlight=False)


@app.command()
def generate(
    scale_factor: Annotated[
        float,
        typer.Option(
            "--scale-factor",
            "-s",
            help="1.0 is about 100k play events and 5k accounts (streaming), "
            "100k transactions and 2k persons (banking).",
        ),
    ] = 1.0,
    seed: Annotated[int, typer.Option(help="Same seed, same rows.")] = 1,
    domain: DomainOption = ALL,
    prefix: PrefixOption = "",
) -> None:
    """(Re)create the domain's source databases with synthetic rows at a scale factor."""
    with user_errors():
        settings = Settings.from_env()
        domains = select_domains(domain)
        started = time.perf_counter()
        with _progress() as progress:
            tasks: dict[str, TaskID] = {}

            def on_plan(plan: LoadPlan) -> None:
                for kind, loads in plan.items():
                    for load in loads:
                        label = f"{kind}.{load.table}"
                        tasks[load.table] = progress.add_task(label, total=load.expected_rows)

            def on_chunk(load: TableLoad, chunk: str) -> None:
                progress.advance(tasks[load.table], chunk.count("\n"))

            counts = generate_sources(
                settings,
                domains,
                scale_factor,
                seed,
                SourceTargets.with_prefix(prefix),
                on_plan=on_plan,
                on_chunk=on_chunk,
            )
        seconds = time.perf_counter() - started
    _print_counts(counts, title=f"generated at scale factor {scale_factor:g}, seed {seed}")
    total = sum(counts.values())
    stdout().print(
        f"{total:,} rows in {seconds:.2f}s: {total / seconds:,.0f} rows/s", highlight=False
    )


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description:<32}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=stderr(),
    )


def _print_counts(counts: Mapping[str, int], title: str) -> None:
    table = Table(title=title)
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in counts.items():
        table.add_row(name, f"{rows:,}")
    stdout().print(table)
