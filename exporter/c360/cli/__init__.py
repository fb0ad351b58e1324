"""`c360-export`: the command line, thin over the library.

With no subcommand it exports the graph tables to Neo4j; `stack`, `sources`,
`models`, `refresh`, `query` and `audit` sit beside it.
"""

from __future__ import annotations

import signal

from c360.cli import audit, export, models, query, refresh, samples, sources, stack
from c360.cli._app import command_group

app = command_group(
    "Load the c360 graph tables into Neo4j, and manage what that needs.",
    name="c360-export",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.callback(invoke_without_command=True)(export.export)
app.add_typer(stack.app, name="stack")
app.add_typer(sources.app, name="sources")
app.add_typer(samples.app, name="samples")
app.add_typer(models.app, name="models")
app.command(name="refresh")(refresh.refresh)
app.command(name="query")(query.query)
app.add_typer(audit.app, name="audit")


def _interrupted(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> None:
    """The `c360-export` command: SIGTERM ends a run as Ctrl-C does, cleaning up after
    itself (child processes ended, the run recorded as interrupted)."""
    signal.signal(signal.SIGTERM, _interrupted)
    app()
