"""Cypher text: checked and quoted names, value literals, statement builders.

Labels, relationship types and property names cannot be query parameters, so
they are backtick-quoted. Labels and types come from control rows and must match
a strict pattern; property names are source column names, any Unicode text.
Values are always parameters, except in the script mode, where `literal` writes
them as escaped Cypher literals.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from c360.control.rules import LABEL_PATTERN
from c360.errors import ConfigError

# Cypher string escapes; every other control character becomes \uXXXX, so a
# statement always stays on one line of a script.
_ESCAPES = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_NEEDS_ESCAPE = re.compile(r"[\\'\x00-\x1f\x7f\u2028\u2029]")

# Neo4j reads \uXXXX inside backtick-quoted names too (`a\u0060b` closes the
# name early), so a backslash is written as its own escape, and control and
# line-separator characters as theirs to keep a statement on one line.
_NAME_ESCAPE = re.compile(r"[\\\x00-\x1f\x7f\u2028\u2029]")


def check_label(name: str) -> str:
    """`name` if it is a safe label or relationship type, else ConfigError."""
    if not isinstance(name, str) or not LABEL_PATTERN.fullmatch(name):
        raise ConfigError(
            f"{name!r} is not a valid label or relationship type: "
            "use letters, digits and _, starting with an upper-case letter"
        )
    return name


def check_property(name: str) -> str:
    """`name` if it can be a property name (any non-empty text), else ConfigError."""
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{name!r} is not a valid property name: it must be non-empty text")
    return name


def label(name: str) -> str:
    return f"`{check_label(name)}`"


def prop(name: str) -> str:
    """A property name backtick-quoted so Neo4j reads back exactly `name`."""
    escaped = _NAME_ESCAPE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", check_property(name))
    return "`" + escaped.replace("`", "``") + "`"


def _escape_char(match: re.Match[str]) -> str:
    char = match.group(0)
    return _ESCAPES.get(char) or f"\\u{ord(char):04x}"


def string_literal(value: str) -> str:
    return "'" + _NEEDS_ESCAPE.sub(_escape_char, value) + "'"


def literal(value: Any) -> str:
    """`value` as a Cypher literal that evaluates back to the same value and type."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ConfigError(f"{value!r} cannot be written as a Cypher literal")
        return repr(value)
    if isinstance(value, str):
        return string_literal(value)
    if isinstance(value, datetime):
        fn = "datetime" if value.tzinfo is not None else "localdatetime"
        return f"{fn}('{value.isoformat()}')"
    if isinstance(value, date):
        return f"date('{value.isoformat()}')"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    raise ConfigError(f"no Cypher literal for a value of type {type(value).__name__}")


# What a row may hold in place of a temporal value or a duration: its ISO 8601 text,
# rebuilt by one of these functions (see catalog.Column.param_sql).
_CASTS = frozenset({"", "date", "datetime", "localdatetime", "duration"})


def _value(source: str, index: int, casts: Sequence[str]) -> str:
    cast = casts[index] if index < len(casts) else ""
    if cast not in _CASTS:
        raise ConfigError(f"{cast!r} is not a temporal function")
    return f"{cast}({source}[{index}])" if cast else f"{source}[{index}]"


def _key_map(names: Sequence[str], source: str, offset: int = 0, casts: Sequence[str] = ()) -> str:
    """`{name: row[i], ...}`; `casts[i]`, where given, wraps row position i."""
    pairs = (f"{prop(n)}: {_value(source, offset + i, casts)}" for i, n in enumerate(names))
    return "{" + ", ".join(pairs) + "}"


def unique_constraint(label_name: str, keys: Sequence[str]) -> str:
    """The uniqueness constraint MERGE relies on, named so reruns find it."""
    name = f"c360_{check_label(label_name)}_key".lower()
    props = ", ".join(f"n.{prop(k)}" for k in keys)
    return (
        f"CREATE CONSTRAINT `{name}` IF NOT EXISTS "
        f"FOR (n:{label(label_name)}) REQUIRE ({props}) IS UNIQUE"
    )


def relationship_unique_constraint(type_name: str, keys: Sequence[str]) -> str:
    """The uniqueness constraint on a relationship key: Community enforces it
    (key and existence constraints are Enterprise), and MERGE finds the
    relationship through the index behind it."""
    name = f"c360_rel_{check_label(type_name)}_key".lower()
    props = ", ".join(f"r.{prop(k)}" for k in keys)
    return (
        f"CREATE CONSTRAINT `{name}` IF NOT EXISTS "
        f"FOR ()-[r:{label(type_name)}]-() REQUIRE ({props}) IS UNIQUE"
    )


def merge_nodes(
    label_name: str,
    keys: Sequence[str],
    others: Sequence[str],
    rows: str,
    casts: Sequence[str] = (),
) -> str:
    """Upsert one node per row; rows are lists: the keys, then the other properties.

    `SET n += {...}` with every column listed removes a property whose value became
    NULL, so an update leaves exactly the row's properties. `casts`, by row
    position, name the function rebuilding a temporal sent as text ('' for none).
    """
    key_map = _key_map(keys, "row", 0, casts)
    statement = f"UNWIND {rows} AS row MERGE (n:{label(label_name)} {key_map})"
    if others:
        statement += f" SET n += {_key_map(others, 'row', len(keys), casts)}"
    return statement


def create_nodes(
    label_name: str,
    keys: Sequence[str],
    others: Sequence[str],
    rows: str,
    casts: Sequence[str] = (),
) -> str:
    """Create one node per row: merge_nodes' fast path for a label with no nodes yet.

    Only for an empty label whose keys are unique (the uniqueness constraint
    rejects a duplicate); a retried batch is rolled back first, so it stays exact.
    """
    names = [*keys, *others]
    return f"UNWIND {rows} AS row CREATE (n:{label(label_name)} {_key_map(names, 'row', 0, casts)})"


def merge_relationships(
    type_name: str,
    from_label: str,
    from_keys: Sequence[str],
    to_label: str,
    to_keys: Sequence[str],
    others: Sequence[str],
    rows: str,
    casts: Sequence[str] = (),
    *,
    create: bool = False,
    keys: Sequence[str] = (),
) -> str:
    """One relationship per row; rows are lists: start keys, end keys, properties.

    `casts` as in merge_nodes. `keys`, the first of `others`, identify the
    relationship among those joining the same two nodes (one per junction
    row); without them the pair does. `create`: CREATE instead of MERGE, the
    fast path for a type with no relationship yet, exact because an edge table
    holds each identity once. CREATE also takes its locks at commit, in order,
    so concurrent batches of it do not deadlock on shared end nodes as MERGE does.
    """
    start = _key_map(from_keys, "row", 0, casts)
    end = _key_map(to_keys, "row", len(from_keys), casts)
    offset = len(from_keys) + len(to_keys)
    type_label = label(type_name)
    statement = (
        f"UNWIND {rows} AS row "
        f"MATCH (a:{label(from_label)} {start}) "
        f"MATCH (b:{label(to_label)} {end}) "
    )
    if keys and not create:
        return statement + _keyed_upsert(
            type_label, _key_map(keys, "row", offset, casts), _key_map(others, "row", offset, casts)
        )
    statement += f"{'CREATE' if create else 'MERGE'} (a)-[r:{type_label}]->(b)"
    if others:
        statement += f" SET r += {_key_map(others, 'row', offset, casts)}"
    return statement


def _keyed_upsert(type_label: str, identity: str, properties: str) -> str:
    """Put the relationship with the row's key between a and b, with the row's properties.

    The key is unique across the type (its constraint), so one index seek finds
    it wherever it is: between a and b it is updated; between other nodes (a
    transfer whose account was corrected) it is deleted and created anew, where
    a MERGE on the pattern would create a second one for the constraint to
    refuse on every rerun; nowhere, it is created. (Cypher 5 has no conditional
    write but FOREACH over an empty or one-element list.)
    """
    return (
        f"OPTIONAL MATCH ()-[held:{type_label} {identity}]->() "
        "WITH a, b, row, held, coalesce(startNode(held) = a AND endNode(held) = b, false) AS here "
        "FOREACH (_ IN CASE WHEN held IS NOT NULL AND NOT here THEN [1] ELSE [] END | DELETE held) "
        f"FOREACH (_ IN CASE WHEN here THEN [1] ELSE [] END | SET held += {properties}) "
        f"FOREACH (_ IN CASE WHEN here THEN [] ELSE [1] END | "
        f"CREATE (a)-[:{type_label} {properties}]->(b))"
    )


def count_nodes(label_name: str) -> str:
    return f"MATCH (n:{label(label_name)}) RETURN count(n) AS count"


def count_relationships(type_name: str) -> str:
    return f"MATCH ()-[r:{label(type_name)}]->() RETURN count(r) AS count"


def delete_nodes_batch(label_name: str) -> str:
    """Delete at most $limit nodes (and their relationships); repeat until it returns 0."""
    return (
        f"MATCH (n:{label(label_name)}) WITH n LIMIT $limit "
        "DETACH DELETE n RETURN count(*) AS deleted"
    )


def delete_touching_relationships_batch(label_name: str) -> str:
    """Delete at most $limit relationships of the label's nodes, of any type.

    Run before its nodes are deleted: a node batch's DETACH DELETE would take
    all their relationships in one transaction, unbounded (a customer with a
    million plays), and exceed the server's transaction memory.
    """
    return (
        f"MATCH (:{label(label_name)})-[r]-() WITH DISTINCT r LIMIT $limit "
        "DELETE r RETURN count(*) AS deleted"
    )


def delete_relationships_batch(type_name: str) -> str:
    return (
        f"MATCH ()-[r:{label(type_name)}]->() WITH r LIMIT $limit "
        "DELETE r RETURN count(*) AS deleted"
    )


def delete_nodes(label_name: str, keys: Sequence[str], rows: str) -> str:
    """Delete one node per row, found by its key, with its relationships.

    Rows are lists of the key values; a key already gone matches nothing, so a
    retried batch deletes nothing twice.
    """
    return (
        f"UNWIND {rows} AS row MATCH (n:{label(label_name)} {_key_map(keys, 'row')}) "
        "DETACH DELETE n"
    )


def delete_relationships(
    type_name: str,
    from_label: str,
    from_keys: Sequence[str],
    to_label: str,
    to_keys: Sequence[str],
    rows: str,
    keys: Sequence[str] = (),
) -> str:
    """Delete the relationship between two nodes found by their keys, and by its
    own `keys` when it has them; rows: start keys, end keys, relationship keys."""
    start = _key_map(from_keys, "row")
    end = _key_map(to_keys, "row", len(from_keys))
    identity = f" {_key_map(keys, 'row', len(from_keys) + len(to_keys))}" if keys else ""
    return (
        f"UNWIND {rows} AS row "
        f"MATCH (a:{label(from_label)} {start})"
        f"-[r:{label(type_name)}{identity}]->"
        f"(b:{label(to_label)} {end}) DELETE r"
    )
