"""`c360-export sources`."""

from __future__ import annotations

import typer

app = typer.Typer(help="sources commands", no_args_is_help=True)
