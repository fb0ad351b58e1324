"""Turn library exceptions into one red line on stderr and a named exit code."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from c360.console import stderr, stdout
from c360.errors import C360Error


@contextmanager
def user_errors(as_json: bool = False) -> Iterator[None]:
    """Map c360 errors to exit codes; with `as_json`, a script reading stdout
    gets the failure as JSON too, instead of nothing."""
    try:
        yield
    except C360Error as error:
        stderr().print(f"[bold red]error:[/] {error}", highlight=False)
        if as_json:
            failure = {"status": "failed", "error": str(error), "exit_code": int(error.exit_code)}
            stdout().print_json(json.dumps(failure))
        raise typer.Exit(int(error.exit_code)) from None
