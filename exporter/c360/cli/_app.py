"""How every command group of the CLI is made."""

from __future__ import annotations

from typing import Any

import typer


def command_group(help_text: str, **options: Any) -> typer.Typer:
    """A Typer app whose help is Markdown: a docstring's lines wrap as one
    paragraph (Typer's rich mode keeps each line break), and `code` shows as code.
    """
    return typer.Typer(help=help_text, rich_markup_mode="markdown", **options)
