"""`c360-export models`: the dbt files generated from the control rows."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.text import Text

from c360.cli._app import command_group
from c360.cli._errors import user_errors
from c360.config import Settings
from c360.console import counted, stderr, stdout
from c360.control.load import load_control_rows
from c360.errors import ExitCode
from c360.transform import diagram as graph_diagram
from c360.transform.files import stale_files, stale_message, write_files
from c360.transform.propose import (
    STANDING_NOTE,
    proposal_directory,
    propose_from_source,
    write_proposal,
)
from c360.transform.render import render_project

app = command_group(
    "Generate or check the dbt files derived from the control rows.", no_args_is_help=True
)

ProjectDir = Annotated[
    Path | None,
    typer.Option(help="dbt project holding seeds/control/ and models/ (default: the current one)."),
]


@app.command()
def generate(project_dir: ProjectDir = None) -> None:
    """Write the staging, node and edge models, their YAML, the catalog model and
    the neo4j_graph exposure from `seeds/control/*.csv` and the attached tables.

    Run after `c360-export sources attach` and after any control-row change.
    """
    with user_errors():
        settings = Settings.from_env()
        project = (project_dir or settings.project_dir).resolve()
        files = render_project(settings, project)
        changes = write_files(project, files)
    out = stdout()
    for change in changes:
        out.print(change)
    stderr().print(
        f"{counted(len(files), 'generated file')}, {len(changes):,} changed; next: dbt build",
        highlight=False,
    )


@app.command()
def check(project_dir: ProjectDir = None) -> None:
    """Exit non-zero, listing them, when generated files differ from what the
    control rows and the attached tables give."""
    with user_errors():
        settings = Settings.from_env()
        project = (project_dir or settings.project_dir).resolve()
        problems = stale_files(project, render_project(settings, project))
    if problems:
        # a failed check, exit 1; `refresh` refuses the same files as a usage error
        message = Text("error: ", style="bold red") + Text(stale_message(problems))
        stderr().print(message, highlight=False)
        raise typer.Exit(int(ExitCode.FAILED))
    stderr().print("generated dbt files are up to date")


@app.command()
def diagram(
    project_dir: ProjectDir = None,
    format_: Annotated[
        Literal["mermaid", "svg"],
        typer.Option("--format", help="Mermaid text (for Markdown) or a standalone SVG."),
    ] = "mermaid",
    output: Annotated[
        Path | None, typer.Option(help="Write to this file instead of standard output.")
    ] = None,
) -> None:
    """Draw the graph model the active control rows describe: labels with their key
    and properties, relationship types as arrows from start to end label."""
    with user_errors():
        settings = Settings.from_env()
        rows = load_control_rows((project_dir or settings.project_dir).resolve())
        drawn = graph_diagram.svg(rows) if format_ == "svg" else graph_diagram.mermaid(rows)
    if output is None:
        stdout().out(drawn, end="", highlight=False)
    else:
        output.write_text(drawn, encoding="utf-8")
        stderr().print(f"wrote {output}", highlight=False)


@app.command()
def propose(
    source: Annotated[str, typer.Argument(help="The source_databases row whose keys to read.")],
    project_dir: ProjectDir = None,
    output: Annotated[
        Path | None,
        typer.Option(
            help="Directory of the two proposed files, rewritten on every run "
            "(default: proposals/SOURCE/ in the project; never under seeds/)."
        ),
    ] = None,
) -> None:
    """Propose node_label_mappings and relationship_mappings rows for SOURCE from the
    primary and foreign keys of its database, for review, and list what the keys
    cannot map.

    Rename the proposed relationship types, then copy the rows you keep into
    seeds/control/.
    """
    with user_errors():
        settings = Settings.from_env()
        project = (project_dir or settings.project_dir).resolve()
        directory = proposal_directory(project, source, output)
        proposal = propose_from_source(settings, source, project)
        write_proposal(proposal, directory)
    out = stdout()
    for unmapped in proposal.unmapped:
        out.print(f"not mapped: {unmapped}", markup=False, highlight=False)
    out.print(f"note: {STANDING_NOTE}", markup=False, highlight=False)
    stderr().print(
        f"{counted(len(proposal.nodes), 'label')} and "
        f"{counted(len(proposal.relationships), 'relationship')} proposed in {directory}; "
        "next: review them, rename the types and copy the rows you keep into seeds/control/",
        markup=False,
        highlight=False,
    )
