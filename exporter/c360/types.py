"""The type facts: which source column types reach Neo4j, as what.

Two rules, both here. `graph_type`: a source column, as `information_schema`
describes it, -> the type of its graph table column, written into the dbt
contracts by `c360-export models generate`. `neo4j_type`: a graph table column
type -> the Neo4j value it becomes, read by the exporter. A source type whose
values could not arrive exactly (a numeric wider than a double's 15 digits, a
type with no Neo4j counterpart) is refused with the reason, never turned into
text behind the user's back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# Separates the elements of a list in neo4j-admin's CSV (its --array-delimiter):
# the unit separator, a control character no text value is expected to hold.
# The dbt test `storable_list` fails for a text element that holds it.
LIST_SEPARATOR = "\x1f"

# numeric(p, 0) up to 18 digits fits a 64-bit integer (max 9223372036854775807).
MAX_INTEGER_DIGITS = 18
# Any decimal of up to 15 significant digits survives a round trip through a
# double (DBL_DIG): numeric(p, s) with p <= 15 becomes a float exactly.
MAX_FLOAT_DIGITS = 15

INTEGER = "integer"
BIGINT = "bigint"
FLOAT = "double precision"
TEXT = "text"
DATE = "date"
DATETIME = "timestamp with time zone"
LOCALDATETIME = "timestamp without time zone"
DURATION = "interval"
BYTES = "bytea"
BOOLEAN = "boolean"

# Source type (information_schema.columns.data_type) -> graph type, for the
# types that convert exactly. json/jsonb become their text: Neo4j has no
# document type, and a map property cannot nest.
_SOURCE_SCALARS: Mapping[str, str] = {
    "text": TEXT,
    "character varying": TEXT,
    "character": TEXT,
    "uuid": TEXT,
    "inet": TEXT,
    "json": TEXT,
    "jsonb": TEXT,
    "smallint": INTEGER,
    "integer": INTEGER,
    "bigint": BIGINT,
    # through its text, so 1.1 stays 1.1 (graph_column_expression)
    "real": FLOAT,
    "double precision": FLOAT,
    "boolean": BOOLEAN,
    "date": DATE,
    "timestamp with time zone": DATETIME,
    "timestamp without time zone": LOCALDATETIME,
    "interval": DURATION,
    "bytea": BYTES,
}

# Array element type (information_schema.columns.udt_name of an ARRAY) -> the
# graph type of its elements.
_SOURCE_ELEMENTS: Mapping[str, str] = {
    "_text": TEXT,
    "_varchar": TEXT,
    "_bpchar": TEXT,
    "_uuid": TEXT,
    "_int2": INTEGER,
    "_int4": INTEGER,
    "_int8": BIGINT,
    "_float4": FLOAT,
    "_float8": FLOAT,
    "_bool": BOOLEAN,
    "_date": DATE,
    "_timestamptz": DATETIME,
    "_timestamp": LOCALDATETIME,
}

# The element type of a graph table's array column, by udt_name.
_GRAPH_ELEMENTS: Mapping[str, str] = {
    "_text": TEXT,
    "_int4": INTEGER,
    "_int8": BIGINT,
    "_float8": FLOAT,
    "_bool": BOOLEAN,
    "_date": DATE,
    "_timestamptz": DATETIME,
    "_timestamp": LOCALDATETIME,
}


@dataclass(frozen=True)
class Neo4jType:
    """What a graph table column becomes in Neo4j.

    `name` as Cypher's type names call it; `header` the neo4j-admin CSV header
    type ('' = string); `cast` the Cypher function rebuilding the value from its
    ISO 8601 text, for the values that travel as text ('' = none).
    """

    name: str
    header: str
    cast: str = ""


# Graph type -> Neo4j type, for the scalar graph types. A list of one of the
# types without a cast is a list of it (`text[]` -> List<String>, `string[]`).
_NEO4J_SCALARS: Mapping[str, Neo4jType] = {
    TEXT: Neo4jType("String", ""),
    INTEGER: Neo4jType("Integer", "long"),
    BIGINT: Neo4jType("Integer", "long"),
    FLOAT: Neo4jType("Float", "double"),
    BOOLEAN: Neo4jType("Boolean", "boolean"),
    DATE: Neo4jType("Date", "date", "date"),
    DATETIME: Neo4jType("DateTime", "datetime", "datetime"),
    LOCALDATETIME: Neo4jType("LocalDateTime", "localdatetime", "localdatetime"),
    DURATION: Neo4jType("Duration", "duration", "duration"),
    BYTES: Neo4jType("ByteArray", "byte[]"),
}

_LIST_ELEMENTS = frozenset(_GRAPH_ELEMENTS.values())
TEMPORAL_TYPES = frozenset({DATE, DATETIME, LOCALDATETIME})
# What may identify a node: a value MERGE can match and neo4j-admin can use as an id.
KEY_TYPES = frozenset({TEXT, INTEGER, BIGINT, FLOAT, BOOLEAN, *TEMPORAL_TYPES})


class UnsupportedTypeError(ValueError):
    """A source type whose values cannot reach Neo4j exactly; the message says why."""


@dataclass(frozen=True)
class SourceType:
    """A column's type as information_schema.columns gives it."""

    data_type: str
    udt_name: str = ""
    numeric_precision: int | None = None
    numeric_scale: int | None = None

    def __str__(self) -> str:
        if self.data_type == "ARRAY":
            return f"{self.udt_name.removeprefix('_')}[]"
        if self.data_type == "numeric" and self.numeric_precision is not None:
            return f"numeric({self.numeric_precision},{self.numeric_scale or 0})"
        return self.data_type


def graph_type(source: SourceType) -> str:
    """The graph table type of a source column; UnsupportedTypeError saying why not."""
    if source.data_type == "numeric":
        return _numeric(source.numeric_precision, source.numeric_scale or 0)
    if source.data_type == "ARRAY":
        element = _SOURCE_ELEMENTS.get(source.udt_name)
        if element is None:
            raise UnsupportedTypeError(
                f"a list of {source.udt_name.removeprefix('_')} has no exact Neo4j list; "
                f"lists of: {_listing(_SOURCE_ELEMENTS)}"
            )
        return list_of(element)
    found = _SOURCE_SCALARS.get(source.data_type)
    if found is None:
        raise UnsupportedTypeError(
            f"{source.data_type} has no Neo4j type; supported: numeric, "
            f"{_listing(_SOURCE_SCALARS)} and arrays"
        )
    return found


def _numeric(precision: int | None, scale: int) -> str:
    if precision is None:
        raise UnsupportedTypeError(
            "an unconstrained numeric may hold more digits than a 64-bit integer or a float keeps"
        )
    if scale == 0 and precision <= MAX_INTEGER_DIGITS:
        return BIGINT
    if precision <= MAX_FLOAT_DIGITS:
        return FLOAT
    if scale == 0:
        raise UnsupportedTypeError(
            f"{precision} digits do not fit a 64-bit integer (at most {MAX_INTEGER_DIGITS})"
        )
    raise UnsupportedTypeError(
        f"{precision} significant digits do not fit a float exactly (at most {MAX_FLOAT_DIGITS})"
    )


def _listing(types: Mapping[str, str]) -> str:
    return ", ".join(sorted({name.removeprefix("_") for name in types}))


def list_of(element: str) -> str:
    return f"{element}[]"


def element_type(graph: str) -> str | None:
    """The element type of a list graph type (`text[]` -> `text`); None for a scalar."""
    return graph.removesuffix("[]") if graph.endswith("[]") else None


def graph_table_type(data_type: str, udt_name: str) -> str:
    """The graph type of a graph table's column from information_schema: its
    data_type, or `<element>[]` for an array."""
    if data_type != "ARRAY":
        return data_type
    element = _GRAPH_ELEMENTS.get(udt_name)
    return list_of(element) if element is not None else f"{udt_name.removeprefix('_')}[]"


def neo4j_type(graph: str) -> Neo4jType:
    """The Neo4j type of a graph type; UnsupportedTypeError for one without."""
    element = element_type(graph)
    if element is not None and element in _LIST_ELEMENTS:
        scalar = _NEO4J_SCALARS[element]
        return Neo4jType(f"List<{scalar.name}>", f"{scalar.header or 'string'}[]")
    found = _NEO4J_SCALARS.get(graph)
    if found is None:
        raise UnsupportedTypeError(
            f"{graph} has no Neo4j mapping; cast it in the dbt model to one of: "
            f"{', '.join(graph_types())}"
        )
    return found


def graph_types() -> list[str]:
    """Every graph table type the exporter writes."""
    return [*_NEO4J_SCALARS, *(list_of(e) for e in sorted(_LIST_ELEMENTS))]


def is_temporal(graph: str) -> bool:
    """A date or time, or a list of them: values `finite_temporal` checks."""
    return (element_type(graph) or graph) in TEMPORAL_TYPES
