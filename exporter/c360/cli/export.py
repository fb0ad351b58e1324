"""`c360-export` with no subcommand: export the graph tables to Neo4j."""

from __future__ import annotations

import typer


def export(ctx: typer.Context) -> None:
    """Export the graph tables to Neo4j."""
    if ctx.invoked_subcommand is not None:
        return
