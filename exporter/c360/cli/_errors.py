"""Turn library exceptions into one red line on stderr and a named exit code."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2
import typer
from neo4j.exceptions import AuthError, ServiceUnavailable
from rich.text import Text

from c360.console import stderr, stdout
from c360.errors import C360Error, ServerUnavailableError


def _as_c360_error(error: Exception) -> C360Error | None:
    """A server failure no library call mapped, as the documented error; None otherwise."""
    if isinstance(error, C360Error):
        return error
    if isinstance(error, (psycopg2.OperationalError, psycopg2.InterfaceError)):
        return ServerUnavailableError(f"PostgreSQL: {' '.join(str(error).split())}")
    if isinstance(error, AuthError):
        return ServerUnavailableError(
            f"Neo4j refused the credentials ({error.message}); check NEO4J_USER and NEO4J_PASSWORD"
        )
    if isinstance(error, ServiceUnavailable):
        return ServerUnavailableError(f"Neo4j is not reachable: {error}")
    return None


@contextmanager
def user_errors(as_json: bool = False) -> Iterator[None]:
    """Map c360 errors (and unmapped server failures) to exit codes; with `as_json`, a
    script reading stdout gets the failure as JSON too, instead of nothing."""
    try:
        yield
    except Exception as raised:
        error = _as_c360_error(raised)
        if error is None:
            raise
        # Text, not markup: a message may hold brackets such as a pattern's [a-z]
        stderr().print(Text("error: ", style="bold red") + Text(str(error)), highlight=False)
        if as_json:
            failure = {"status": "failed", "error": str(error), "exit_code": int(error.exit_code)}
            stdout().print_json(json.dumps(failure))
        raise typer.Exit(int(error.exit_code)) from None
