"""Where output goes: results to stdout, diagnostics and progress to stderr."""

from __future__ import annotations

from rich.console import Console


def stdout() -> Console:
    return Console(soft_wrap=True)


def stderr() -> Console:
    return Console(stderr=True, soft_wrap=True)
