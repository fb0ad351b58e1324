"""`c360-export stack`: start, stop and inspect the local PostgreSQL and Neo4j."""

from __future__ import annotations

import typer

from c360 import stack
from c360.cli._app import command_group
from c360.cli._errors import user_errors
from c360.config import Settings
from c360.console import stderr, stdout

app = command_group(
    "The local PostgreSQL and Neo4j under `.c360/` (nothing with `C360_STACK=external`).",
    no_args_is_help=True,
)


def _settings() -> Settings:
    return Settings.from_env()


def _external_note(settings: Settings) -> bool:
    """Say that an external stack is left alone; True when it is external."""
    if not stack.is_external(settings):
        return False
    stderr().print(
        "C360_STACK=external: the local stack starts and stops nothing; using "
        f"PostgreSQL at {settings.postgres.host}:{settings.postgres.port} "
        f"and Neo4j at {settings.neo4j.uri}",
        highlight=False,
    )
    return True


def _report(message: str) -> None:
    stderr().print(f"[dim]{message}[/]", highlight=False)


def _print(statuses: list[stack.ServerStatus]) -> None:
    # One line per server, not a table: paths stay whole in logs and narrow terminals.
    out = stdout()
    for server in statuses:
        state = "[green]running[/]" if server.running else "[red]stopped[/]"
        out.print(
            f"{server.name:<10} {state} {server.address}  pid {server.pid or '-'}  "
            f"data {server.data_dir}  log {server.log_file}",
            highlight=False,
        )


@app.command()
def up() -> None:
    """Start PostgreSQL and Neo4j (installing and downloading on first use) and wait for both."""
    with user_errors():
        settings = _settings()
        if _external_note(settings):
            return
        statuses = stack.up(settings, report=_report)
    _print(statuses)


@app.command()
def down() -> None:
    """Stop PostgreSQL and Neo4j; their data stays."""
    with user_errors():
        settings = _settings()
        if _external_note(settings):
            return
        statuses = stack.down(settings, report=_report)
    _print(statuses)


@app.command()
def status() -> None:
    """Show whether each server runs, where it listens and where its data and log are."""
    with user_errors():
        settings = _settings()
        if _external_note(settings):
            return
        statuses = stack.status(settings)
    _print(statuses)


@app.command()
def env() -> None:
    """Print shell exports for psql, dbt and Neo4j: eval "$(c360-export stack env)"."""
    with user_errors():
        lines = stack.env_exports(_settings())
    # Plain print: rich would wrap or style what the shell must read verbatim.
    typer.echo("\n".join(lines))
