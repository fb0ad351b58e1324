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


def _table(result: queries.QueryResult) -> Table:
    table = Table(title=f"{result.query.key} ({len(result.rows)} rows)")
    for column in result.columns:
        table.add_column(column)
    for row in result.rows:
        # Text: values such as "[Drama]" must not be read as rich markup
        table.add_row(*(Text("" if v is None else str(queries.plain(v))) for v in row))
    return table


def _listing(chosen: list[queries.Query]) -> Text:
    text = Text()
    for domain in dict.fromkeys(q.domain for q in chosen):
        text.append(f"{domain}\n", style="bold")
        for q in chosen:
            if q.domain != domain:
                continue
            text.append(f"  {q.stem}")
            if q.audit is not None:
                text.append(f"  (audited: each run recorded with its {q.audit})", style="yellow")
            text.append("\n")
            for param in q.params:
                required = " (required)" if param.required else ""
                text.append(f"      --param {param.describe()}{required}\n", style="dim")
    return text


def _listing_json(chosen: list[queries.Query]) -> list[dict[str, object]]:
    return [
        {
            "domain": q.domain,
            "query": q.stem,
            "description": q.description,
            "audit": q.audit,
            "params": [
                {
                    "name": p.name,
                    "type": p.type,
                    "required": p.required,
                    "default": p.default,
                    "description": p.description,
                }
                for p in q.params
            ],
        }
        for q in chosen
    ]


def query(
    name: Annotated[
        str | None,
        typer.Argument(
            help="Query number, name, file stem or domain/stem, e.g. 1, payment_fraud, "
            "person_360 or banking/01_person_360; a number counts within --domain."
        ),
    ] = None,
    run_all: Annotated[bool, typer.Option("--all", help="Run every query of the domain.")] = False,
    domain: Annotated[
        str | None,
        typer.Option(
            help=f"The domain of --all, --list and a query number (default for --all and "
            f"numbers: {queries.DEFAULT_DOMAIN}; --list shows every domain)."
        ),
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            "-p",
            help="A query parameter as name=value, converted to its declared type; "
            "repeatable. --list shows each query's parameters.",
        ),
    ] = None,
    accessed_by: Annotated[
        str | None,
        typer.Option(
            "--as",
            help="Who runs the query, for the access log of audited queries "
            "(default: the OS user).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print results as JSON.")] = False,
    list_: Annotated[
        bool, typer.Option("--list", help="List the packaged queries and their parameters.")
    ] = False,
) -> None:
    """Run a packaged query against Neo4j: the streaming domain's seeds' ten and the
    headline question, or the banking domain's. Runs of audited queries (person_360)
    are recorded in control.access_log; read it with `c360-export audit access`."""
    with user_errors(as_json):
        if list_:
            listed = queries.all_queries(domain) if domain else queries.every_query()
            if as_json:
                stdout().print_json(json.dumps(_listing_json(listed)))
            else:
                stdout().print(_listing(listed), highlight=False, end="")
            return
        if run_all == (name is not None):
            raise ConfigError("name one query, or pass --all")
        chosen = (
            queries.all_queries(domain or queries.DEFAULT_DOMAIN)
            if run_all
            else [queries.find(name or "", domain)]
        )
        given = queries.parse_assignments(param or [])
        results = queries.run_queries(Settings.from_env(), chosen, given, accessed_by)
    if as_json:
        payload = [
            {
                "domain": r.query.domain,
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
