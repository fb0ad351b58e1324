"""psycopg2's composed SQL as text without a connection, for assertions on its shape.

`Composable.as_string` needs a live connection to quote; these tests only read
the statement, so identifiers are quoted the simple way PostgreSQL does."""

from __future__ import annotations

from psycopg2 import sql


def text(query: sql.Composable) -> str:
    if isinstance(query, sql.Composed):
        return "".join(text(part) for part in query.seq)
    if isinstance(query, sql.SQL):
        return query.string
    if isinstance(query, sql.Identifier):
        return ".".join('"' + s.replace('"', '""') + '"' for s in query.strings)
    if isinstance(query, sql.Literal):
        return repr(query.wrapped)
    raise TypeError(f"no text for {type(query).__name__}")
