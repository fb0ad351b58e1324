"""`c360-export sources`: attach the source databases through postgres_fdw."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from c360.cli._app import command_group
from c360.cli._errors import user_errors
from c360.config import Settings
from c360.console import counted, stderr, stdout
from c360.transform.attach import attach_sources

app = command_group("Attach the source databases named by the control rows.", no_args_is_help=True)


@app.callback()
def sources() -> None:
    """Attach the source databases named by the control rows (seeds/control/)."""


@app.command()
def attach(
    project_dir: Annotated[
        Path | None,
        typer.Option(help="dbt project holding seeds/control/ (default: the current one)."),
    ] = None,
) -> None:
    """Create the staging database, one FDW server per active source and import
    each source's tables into `src_<source_name>`, replacing earlier imports.

    Passwords come only from the environment variables the control rows name.
    """
    with user_errors():
        settings = Settings.from_env()
        attached = attach_sources(settings, project_dir)
    out = stdout()
    for source in attached:
        for schema in source.schemas:
            out.print(
                f"{schema.local_schema} ({source.source_name}, schema {schema.remote_schema}): "
                f"{counted(len(schema.tables), 'table')} ({', '.join(schema.tables)})"
            )
    stderr().print(
        f"attached {len(attached)} sources to {settings.postgres.staging_database}; "
        "next: c360-export models generate, then dbt build"
    )
