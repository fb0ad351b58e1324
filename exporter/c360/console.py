"""Where output goes: results to stdout, diagnostics and progress to stderr."""

from __future__ import annotations

from rich.console import Console


def stdout() -> Console:
    return Console(soft_wrap=True)


def stderr() -> Console:
    return Console(stderr=True, soft_wrap=True)


def counted(count: int, noun: str) -> str:
    """`1 label`, `2 labels`: a count for a message, with the noun in its number."""
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"
