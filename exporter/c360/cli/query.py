"""`c360-export query`: run the packaged analytical queries."""

from __future__ import annotations


def query() -> None:
    """Run a packaged query."""
