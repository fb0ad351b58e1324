"""`c360-export refresh`: attach check, dbt build and export, as a scheduler runs them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from c360.cli._errors import user_errors
from c360.cli.export import (
    AllowMassDelete,
    AsJson,
    BarProgress,
    MaxDeleteShare,
    progress_bars,
    summary,
)
from c360.config import Settings
from c360.console import stderr, stdout
from c360.export.options import DEFAULT_MAX_DELETE_SHARE, ExportOptions
from c360.refresh import run_refresh


def _starting(step: str) -> None:
    stderr().print(f"refresh: {step}", highlight=False)


def refresh(
    project_dir: Annotated[
        Path | None,
        typer.Option(help="dbt project to check and build (default: the current one)."),
    ] = None,
    max_delete_share: MaxDeleteShare = DEFAULT_MAX_DELETE_SHARE,
    allow_mass_delete: AllowMassDelete = False,
    as_json: AsJson = False,
) -> None:
    """Refresh the graph from the sources, as one audited run under the export lock:
    check the generated dbt files against the control rows and the attached tables,
    run `dbt build`, then export (mode auto: sync once a full export is on record).

    Stops at the first step that fails, naming it. Exit 4: another export or
    refresh holds the target; a scheduler may simply retry.
    """
    with user_errors(as_json):
        settings = Settings.from_env()
        project = (project_dir or settings.project_dir).resolve()
        options = ExportOptions(
            mode="auto", max_delete_share=max_delete_share, allow_mass_delete=allow_mass_delete
        )
        with progress_bars() as bars:
            result = run_refresh(
                settings, project, options, progress=BarProgress(bars), on_step=_starting
            )
    if as_json:
        stdout().print_json(json.dumps(result.as_dict()))
        return
    stdout().print(summary(result.export))
    steps = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in result.steps.items())
    stderr().print(f"refresh {result.run_id}: {steps}", highlight=False)
