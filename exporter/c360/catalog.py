"""Read `graph.graph_catalog` and the graph tables' columns into typed plans.

The exporter knows no table name of its own: every label, type, table, key and
column comes from the catalog rows dbt builds and from `information_schema`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from psycopg2 import sql
from psycopg2.extensions import connection as pg_connection_type

from c360 import cypher
from c360.errors import ConfigError

GRAPH_SCHEMA = "graph"
CATALOG_TABLE = "graph_catalog"

# PostgreSQL type -> neo4j-admin header type ("" = string). Anything else is refused
# at plan time rather than written as a surprising string.
NEO4J_TYPES: dict[str, str] = {
    "text": "",
    "character varying": "",
    "character": "",
    "uuid": "",
    "inet": "",
    "bigint": "long",
    "integer": "long",
    "smallint": "long",
    "double precision": "double",
    "real": "double",
    "numeric": "double",
    "boolean": "boolean",
    "date": "date",
    "timestamp with time zone": "datetime",
    "timestamp without time zone": "localdatetime",
}

TEMPORAL_TYPES = ("datetime", "localdatetime", "date")


@dataclass(frozen=True)
class Column:
    name: str
    pg_type: str

    @property
    def neo4j_type(self) -> str:
        return NEO4J_TYPES[self.pg_type]

    @property
    def temporal_cast(self) -> str:
        """The Cypher function rebuilding this temporal column from ISO text; '' otherwise."""
        return self.neo4j_type if self.neo4j_type in TEMPORAL_TYPES else ""

    def value_sql(self) -> sql.Composable:
        """The column as Python should receive it (numerics as floats, ids as text)."""
        ident = sql.Identifier(self.name)
        if self.pg_type in ("numeric", "real"):
            return sql.SQL("{}::double precision").format(ident)
        if self.pg_type in ("uuid", "inet"):
            return sql.SQL("{}::text").format(ident)
        return ident

    def param_sql(self) -> sql.Composable:
        """The column as a query parameter: value_sql, but temporals as ISO 8601 text.

        The driver turns each Python date/datetime into Bolt in pure Python, which
        profiled as most of a merge's client CPU; text is packed natively, and the
        statement rebuilds the same value with `temporal_cast` on the server.
        """
        return self._iso_sql() if self.temporal_cast else self.value_sql()

    def _iso_sql(self) -> sql.Composable:
        # to_json gives ISO 8601 ('T', offset) whatever DateStyle says
        return sql.SQL("to_json({})#>>'{{}}'").format(sql.Identifier(self.name))

    def csv_sql(self) -> sql.Composable:
        """The column as neo4j-admin parses it: ISO 8601 temporals, true/false."""
        ident = sql.Identifier(self.name)
        if self.temporal_cast:
            return self._iso_sql()
        if self.pg_type == "boolean":
            return sql.SQL("{}::text").format(ident)
        if self.pg_type in ("uuid", "inet"):
            return sql.SQL("{}::text").format(ident)
        if self.pg_type in ("numeric", "real"):
            return sql.SQL("{}::double precision").format(ident)
        return ident


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
    key property names of the end labels, position by position.
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

    @property
    def kind(self) -> str:
        return "edge"

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
    "select table_name, column_name, data_type from information_schema.columns"
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
        for table, column, data_type in cur.fetchall():
            columns.setdefault(table, []).append(Column(column, data_type))
    labels: dict[str, LabelPlan] = {}
    edges = []
    for kind, name, table, key_columns, from_label, to_label, start, end in rows:
        if kind == "node":
            labels[name] = _label_plan(name, table, list(key_columns or []), columns)
        elif kind == "edge":
            edges.append((name, table, from_label, to_label, list(start or []), list(end or [])))
        else:
            raise ConfigError(f"{GRAPH_SCHEMA}.{CATALOG_TABLE}: unknown kind {kind!r} for {name}")
    types = tuple(_type_plan(*edge, labels=labels, columns=columns) for edge in edges)
    return GraphPlan(tuple(labels.values()), types)


def _table_columns(table: str, columns: dict[str, list[Column]]) -> list[Column]:
    found = columns.get(table)
    if not found:
        raise ConfigError(f"{GRAPH_SCHEMA}.{table} is named in the catalog but does not exist")
    for column in found:
        cypher.check_property(column.name)
        if column.pg_type not in NEO4J_TYPES:
            raise ConfigError(
                f"{GRAPH_SCHEMA}.{table}.{column.name} has type {column.pg_type}, which has no "
                f"Neo4j mapping; cast it in the dbt model to one of: {', '.join(NEO4J_TYPES)}"
            )
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
    others = tuple(c for c in found if c.name not in start and c.name not in end)
    return TypePlan(
        name,
        table,
        from_label,
        to_label,
        start_columns,
        end_columns,
        source.key_names,
        target.key_names,
        others,
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
