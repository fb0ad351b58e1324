"""Read `graph.graph_catalog` and the graph tables' columns into typed plans.

The exporter knows no table name of its own: every label, type, table, key and
column comes from the catalog rows dbt builds and from `information_schema`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import psycopg2
import psycopg2.extensions
from psycopg2 import sql
from psycopg2.extensions import connection as pg_connection_type
from psycopg2.extensions import cursor as pg_cursor

from c360 import types
from c360.errors import ConfigError
from c360.export import cypher
from c360.transform.naming import CHANGE_COLUMNS

GRAPH_SCHEMA = "graph"
CATALOG_TABLE = "graph_catalog"


def _bytes(value: str | None, cur: pg_cursor | None) -> bytes | None:
    return None if value is None else bytes(psycopg2.BINARY(value, cur))


# psycopg2 hands bytea out as a memoryview, which the Neo4j driver cannot send;
# as bytes it becomes a byte array.
psycopg2.extensions.register_type(
    psycopg2.extensions.new_type(psycopg2.BINARY.values, "C360_BYTES", _bytes)
)


@dataclass(frozen=True)
class Column:
    """A graph table column; `pg_type` is its graph type (`types.graph_table_type`)."""

    name: str
    pg_type: str

    @property
    def neo4j_type(self) -> str:
        """Its neo4j-admin CSV header type ('' = string)."""
        return types.neo4j_type(self.pg_type).header

    @property
    def temporal_cast(self) -> str:
        """The Cypher function rebuilding this column from param_sql's ISO text; '' otherwise."""
        return types.neo4j_type(self.pg_type).cast

    @property
    def value_cast(self) -> str:
        """The Cypher function rebuilding this column from value_sql's output; '' otherwise.

        Python has no value for a PostgreSQL interval (a timedelta folds months
        into days), so a duration travels as ISO 8601 text even there.
        """
        return "duration" if self.pg_type == types.DURATION else ""

    def value_sql(self) -> sql.Composable:
        """The column as Python should receive it: its own value, a duration as text."""
        return self._iso_sql() if self.value_cast else sql.Identifier(self.name)

    def param_sql(self) -> sql.Composable:
        """The column as a query parameter: value_sql, but temporals as ISO 8601 text.

        The driver turns each Python date/datetime into Bolt in pure Python, which
        profiled as most of a merge's client CPU; text is packed natively, and the
        statement rebuilds the same value with `temporal_cast` on the server.
        """
        return self._iso_sql() if self.temporal_cast else self.value_sql()

    def _iso_sql(self) -> sql.Composable:
        ident = sql.Identifier(self.name)
        if self.pg_type == types.DURATION:
            return _duration_sql(ident)
        # to_json gives ISO 8601 ('T', offset) whatever DateStyle says
        return sql.SQL("to_json({})#>>'{{}}'").format(ident)

    def csv_sql(self) -> sql.Composable:
        """The column as neo4j-admin parses it: ISO 8601 temporals, true/false,
        signed bytes and list elements joined by types.LIST_SEPARATOR."""
        ident = sql.Identifier(self.name)
        separator = sql.Literal(types.LIST_SEPARATOR)
        if self.temporal_cast:
            return self._iso_sql()
        if self.pg_type == types.BOOLEAN:
            return sql.SQL("{}::text").format(ident)
        if self.pg_type == types.BYTES:
            # neo4j-admin reads a byte[] element as a Java byte: -128..127
            return sql.SQL(
                "case when {c} is not null then array_to_string(array(select get_byte({c}, i)"
                " - case when get_byte({c}, i) > 127 then 256 else 0 end"
                " from generate_series(0, length({c}) - 1) as i order by i), {s}) end"
            ).format(c=ident, s=separator)
        if types.element_type(self.pg_type) is not None:
            # each element as its JSON scalar: ISO 8601 temporals, true/false, exact floats
            return sql.SQL(
                "case when {c} is not null then array_to_string(array(select e #>> '{{}}'"
                " from json_array_elements(to_json({c})) with ordinality as u (e, i)"
                " order by i), {s}) end"
            ).format(c=ident, s=separator)
        return ident


def _duration_sql(ident: sql.Composable) -> sql.Composable:
    """An interval as ISO 8601 months, days and seconds (`P14M3DT4.5S`), which Neo4j's
    duration() reads back to the same months, days and seconds; built from its
    fields, as its text depends on the session's IntervalStyle."""
    return sql.SQL(
        "case when {c} is not null then format('P%sM%sDT%sS',"
        " extract(year from {c}) * 12 + extract(month from {c}), extract(day from {c}),"
        " extract(hour from {c}) * 3600 + extract(minute from {c}) * 60"
        " + extract(second from {c})) end"
    ).format(c=ident)


@dataclass(frozen=True)
class LabelPlan:
    """One node label: its table, key columns first, then the other properties."""

    name: str
    table: str
    keys: tuple[Column, ...]
    properties: tuple[Column, ...]

    @property
    def kind(self) -> str:
        return "node"

    @property
    def columns(self) -> tuple[Column, ...]:
        return self.keys + self.properties

    @property
    def key_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.keys)


@dataclass(frozen=True)
class TypePlan:
    """One relationship type: start key columns, end key columns, then properties.

    `start`/`end` are the edge table's columns; `from_keys`/`to_keys` the matching
    key property names of the end labels, position by position. `keys`, the
    relationship key (the first properties), is set when there is one
    relationship per junction row, so several may join the same two nodes;
    without it the (start, end) pair identifies the relationship.
    """

    name: str
    table: str
    from_label: str
    to_label: str
    start: tuple[Column, ...]
    end: tuple[Column, ...]
    from_keys: tuple[str, ...]
    to_keys: tuple[str, ...]
    properties: tuple[Column, ...]
    keys: tuple[Column, ...] = ()

    @property
    def kind(self) -> str:
        return "edge"

    @property
    def key_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.keys)

    @property
    def columns(self) -> tuple[Column, ...]:
        return self.start + self.end + self.properties


TablePlan = LabelPlan | TypePlan


@dataclass(frozen=True)
class GraphPlan:
    labels: tuple[LabelPlan, ...]
    types: tuple[TypePlan, ...]

    @property
    def tables(self) -> tuple[TablePlan, ...]:
        return (*self.labels, *self.types)

    def select(self, labels: Sequence[str] = (), types: Sequence[str] = ()) -> GraphPlan:
        """Only the named labels and types; with neither, everything.

        Naming only labels keeps the types between them; naming only types keeps
        no labels (their nodes must already exist in Neo4j).
        """
        known_labels = {p.name for p in self.labels}
        known_types = {p.name for p in self.types}
        for name in labels:
            if name not in known_labels:
                raise ConfigError(
                    f"label {name!r} is not in {GRAPH_SCHEMA}.{CATALOG_TABLE}; "
                    f"known labels: {', '.join(sorted(known_labels))}"
                )
        for name in types:
            if name not in known_types:
                raise ConfigError(
                    f"relationship type {name!r} is not in {GRAPH_SCHEMA}.{CATALOG_TABLE}; "
                    f"known types: {', '.join(sorted(known_types))}"
                )
        if not labels and not types:
            return self
        chosen_labels = tuple(p for p in self.labels if p.name in labels)
        if types:
            chosen_types = tuple(p for p in self.types if p.name in types)
        else:
            chosen_types = tuple(
                p for p in self.types if p.from_label in labels and p.to_label in labels
            )
        return GraphPlan(chosen_labels, chosen_types)


_CATALOG_SQL = sql.SQL(
    "select kind, name, table_name, key_columns, from_label, to_label,"
    " start_columns, end_columns"
    " from {}.{} order by execution_order nulls last, kind desc, name"
).format(sql.Identifier(GRAPH_SCHEMA), sql.Identifier(CATALOG_TABLE))

_COLUMNS_SQL = (
    "select table_name, column_name, data_type, udt_name from information_schema.columns"
    " where table_schema = %s order by table_name, ordinal_position"
)


def read_plan(conn: pg_connection_type) -> GraphPlan:
    """The whole graph as the catalog describes it, checked for safe names and types."""
    with conn.cursor() as cur:
        cur.execute(
            "select 1 from information_schema.tables where table_schema = %s and table_name = %s",
            (GRAPH_SCHEMA, CATALOG_TABLE),
        )
        if cur.fetchone() is None:
            raise ConfigError(
                f"{GRAPH_SCHEMA}.{CATALOG_TABLE} does not exist: build the graph tables "
                "with dbt first (dbt build)"
            )
        cur.execute(_CATALOG_SQL)
        rows = cur.fetchall()
        cur.execute(_COLUMNS_SQL, (GRAPH_SCHEMA,))
        columns: dict[str, list[Column]] = {}
        for table, column, data_type, udt_name in cur.fetchall():
            if column in CHANGE_COLUMNS:
                continue  # the row's history, for the sync; not a property
            graph_type = types.graph_table_type(data_type, udt_name)
            columns.setdefault(table, []).append(Column(column, graph_type))
    labels: dict[str, LabelPlan] = {}
    edges = []
    for kind, name, table, key_columns, from_label, to_label, start, end in rows:
        keys = list(key_columns or [])
        if kind == "node":
            labels[name] = _label_plan(name, table, keys, columns)
        elif kind == "edge":
            edges.append(
                (name, table, from_label, to_label, list(start or []), list(end or []), keys)
            )
        else:
            raise ConfigError(f"{GRAPH_SCHEMA}.{CATALOG_TABLE}: unknown kind {kind!r} for {name}")
    type_plans = tuple(_type_plan(*edge, labels=labels, columns=columns) for edge in edges)
    return GraphPlan(tuple(labels.values()), type_plans)


def _table_columns(table: str, columns: dict[str, list[Column]]) -> list[Column]:
    found = columns.get(table)
    if not found:
        raise ConfigError(f"{GRAPH_SCHEMA}.{table} is named in the catalog but does not exist")
    for column in found:
        cypher.check_property(column.name)
        try:
            types.neo4j_type(column.pg_type)
        except types.UnsupportedTypeError as error:
            raise ConfigError(f"{GRAPH_SCHEMA}.{table}.{column.name}: {error}") from None
    return found


def _pick(table: str, names: list[str], columns: list[Column]) -> tuple[Column, ...]:
    by_name = {c.name: c for c in columns}
    missing = [n for n in names if n not in by_name]
    if missing:
        raise ConfigError(f"{GRAPH_SCHEMA}.{table} lacks the catalog's columns {missing}")
    return tuple(by_name[n] for n in names)


def _label_plan(
    name: str, table: str, keys: list[str], columns: dict[str, list[Column]]
) -> LabelPlan:
    cypher.check_label(name)
    if not keys:
        raise ConfigError(f"label {name} has no key_columns in the catalog")
    found = _table_columns(table, columns)
    key_columns = _pick(table, keys, found)
    others = tuple(c for c in found if c.name not in keys)
    return LabelPlan(name, table, key_columns, others)


def _type_plan(
    name: str,
    table: str,
    from_label: str,
    to_label: str,
    start: list[str],
    end: list[str],
    keys: list[str],
    *,
    labels: dict[str, LabelPlan],
    columns: dict[str, list[Column]],
) -> TypePlan:
    cypher.check_label(name)
    for end_label in (from_label, to_label):
        if end_label not in labels:
            raise ConfigError(f"type {name} joins label {end_label}, which is not in the catalog")
    source, target = labels[from_label], labels[to_label]
    if len(start) != len(source.keys) or len(end) != len(target.keys):
        raise ConfigError(
            f"type {name}: start/end columns {start}/{end} do not match the keys of "
            f"{from_label} {list(source.key_names)} and {to_label} {list(target.key_names)}"
        )
    found = _table_columns(table, columns)
    start_columns = _pick(table, start, found)
    end_columns = _pick(table, end, found)
    key_columns = _pick(table, keys, found)
    others = tuple(c for c in found if c.name not in (*start, *end, *keys))
    return TypePlan(
        name,
        table,
        from_label,
        to_label,
        start_columns,
        end_columns,
        source.key_names,
        target.key_names,
        key_columns + others,
        key_columns,
    )


def count_rows(conn: pg_connection_type, table: str) -> int:
    with conn.cursor() as cur:
        cur.execute(
            sql.SQL("select count(*) from {}.{}").format(
                sql.Identifier(GRAPH_SCHEMA), sql.Identifier(table)
            )
        )
        (count,) = cur.fetchone()
    return int(count)
