"""Turn library exceptions into one red line on stderr and a named exit code."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer

from c360.console import stderr
from c360.errors import C360Error


@contextmanager
def user_errors() -> Iterator[None]:
    try:
        yield
    except C360Error as error:
        stderr().print(f"[bold red]error:[/] {error}", highlight=False)
        raise typer.Exit(int(error.exit_code)) from None
