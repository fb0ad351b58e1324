"""`c360-export audit`: read the audit trails c360 keeps in the staging database."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from c360.cli._app import command_group
from c360.cli._errors import user_errors
from c360.config import Settings
from c360.console import stdout
from c360.queries import access as access_log

app = command_group("Read the audit trails kept in the staging database.", no_args_is_help=True)


@app.command()
def access(
    person: Annotated[
        str | None, typer.Option(help="Only the runs about this person (their person_id).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many rows.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print the rows as JSON.")] = False,
) -> None:
    """Read the access log, newest first.

    control.access_log holds a row per run of an audited query (person_360): who
    ran it (the OS user or --as), when, about whom, and how many rows it returned.
    """
    with user_errors(as_json):
        rows = access_log.read(Settings.from_env(), subject=person, limit=limit)
    if as_json:
        stdout().print_json(json.dumps([r.as_dict() for r in rows]))
        return
    table = Table(title=f"{access_log.TABLE} ({len(rows)} rows, newest first)")
    for column in ("accessed_at", "accessed_by", "db_user", "query", "subject", "rows"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            *(
                Text(v)
                for v in (
                    r.accessed_at.isoformat(timespec="seconds"),
                    r.accessed_by,
                    r.db_user,
                    r.query,
                    f"{r.subject_param}={r.subject}",
                    str(r.row_count),
                )
            )
        )
    stdout().print(table)
