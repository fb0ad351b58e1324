"""`c360-export query`: run the packaged analytical queries."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from c360 import queries
from c360.cli._errors import user_errors
from c360.config import Settings
from c360.console import stdout
from c360.errors import ConfigError
from c360.neo4j_driver import connected_driver


def _table(result: queries.QueryResult) -> Table:
    table = Table(title=f"{result.query.stem} ({len(result.rows)} rows)")
    for column in result.columns:
        table.add_column(column)
    for row in result.rows:
        # Text: values such as "[Drama]" must not be read as rich markup
        table.add_row(*(Text("" if v is None else str(queries.plain(v))) for v in row))
    return table


def query(
    name: Annotated[
        str | None, typer.Argument(help="Query number, name or file stem, e.g. 1 or payment_fraud.")
    ] = None,
    run_all: Annotated[bool, typer.Option("--all", help="Run every packaged query.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print results as JSON.")] = False,
    list_: Annotated[bool, typer.Option("--list", help="List the packaged queries.")] = False,
) -> None:
    """Run a packaged query (the seeds' ten and the headline question) against Neo4j."""
    with user_errors(as_json):
        if list_:
            for q in queries.all_queries():
                stdout().print(q.stem, highlight=False)
            return
        if run_all == (name is not None):
            raise ConfigError("name one query, or pass --all")
        chosen = queries.all_queries() if run_all else [queries.find(name or "")]
        settings = Settings.from_env()
        with connected_driver(settings) as driver:
            results = [queries.run(driver, settings.neo4j.database, q) for q in chosen]
    if as_json:
        payload = [
            {
                "query": r.query.stem,
                "columns": r.columns,
                "rows": [dict(zip(r.columns, queries.plain(row), strict=True)) for row in r.rows],
            }
            for r in results
        ]
        stdout().print_json(json.dumps(payload, default=str))
        return
    for result in results:
        stdout().print(_table(result))
