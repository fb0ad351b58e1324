"""The attached source tables' columns, as `models generate` reads them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from psycopg2.extensions import connection as pg_connection_type

from c360 import types
from c360.control.model import (
    CATALOG_SCHEMA,
    ControlRows,
    NodeMapping,
    RelationshipMapping,
    RowRef,
    Table,
    catalog_table,
    local_schema,
)
from c360.control.rules import extension_properties, written_table_name
from c360.errors import ConfigError


@dataclass(frozen=True)
class SourceColumn:
    """A source column with its type as information_schema.columns describes it."""

    name: str
    data_type: str
    udt_name: str = ""
    numeric_precision: int | None = None
    numeric_scale: int | None = None

    @property
    def source_type(self) -> types.SourceType:
        return types.SourceType(
            self.data_type, self.udt_name, self.numeric_precision, self.numeric_scale
        )

    @property
    def graph_type(self) -> str:
        """Its graph table type (types.graph_type); render() refused it if it has none."""
        return types.graph_type(self.source_type)


TableColumns = Mapping[Table, tuple[SourceColumn, ...]]
# Each attached source table, as control rows write it -> its schema in the source.
RemoteSchemas = Mapping[Table, str]


def reserved_words(conn: pg_connection_type) -> frozenset[str]:
    """The keywords PostgreSQL's quote_ident() quotes: all but the unreserved ones."""
    with conn.cursor() as cur:
        cur.execute("select word from pg_get_keywords() where catcode <> 'U'")
        return frozenset(word for (word,) in cur.fetchall())


def introspect_columns(
    conn: pg_connection_type, rows: ControlRows
) -> tuple[TableColumns, RemoteSchemas]:
    """Columns of every attached foreign table of the active sources, in order,
    each table spelt as control rows write it (`written_table_name`), and the
    schema of the source database each comes from."""
    schemas = {
        local_schema(s.source_name, schema): (s.source_name, schema)
        for s in rows.active_sources
        for schema in s.schemas
    }
    with conn.cursor() as cur:
        cur.execute(
            "select table_schema, table_name, column_name, data_type, udt_name,"
            " numeric_precision, numeric_scale"
            " from information_schema.columns where table_schema = any(%s)"
            " order by table_schema, table_name, ordinal_position",
            (list(schemas),),
        )
        found: dict[tuple[str, str, str], list[SourceColumn]] = {}
        for schema, table, column, *source_type in cur.fetchall():
            found.setdefault((*schemas[schema], table), []).append(
                SourceColumn(column, *source_type)
            )
        cur.execute(
            "select table_name from information_schema.tables where table_schema = %s",
            (CATALOG_SCHEMA,),
        )
        catalogs = {name for (name,) in cur.fetchall()}
    unattached = [
        s.source_name
        for s in rows.active_sources
        if catalog_table(s.source_name)[1] not in catalogs
    ]
    if unattached:
        # attached before sources had a catalog (an upgrade): dbt's drift test would fail
        raise ConfigError(
            f"{CATALOG_SCHEMA} holds no catalog of source {', '.join(unattached)} (attached "
            "by an older c360), which dbt's test source_columns_match reads: run "
            "`c360-export sources attach`"
        )
    holders = Counter((source, table) for source, _, table in found)
    columns: dict[Table, tuple[SourceColumn, ...]] = {}
    remote: dict[Table, str] = {}
    for (source, schema, table), listed in found.items():
        key = Table(source, written_table_name(schema, table, holders[source, table]))
        columns[key] = tuple(listed)
        remote[key] = schema
    return columns, remote


def node_columns(node: NodeMapping, staged: tuple[SourceColumn, ...]) -> list[SourceColumn]:
    """The staged columns a label's nodes carry: its keys, its property columns, or all."""
    if node.one_node_per_key:
        wanted = set(node.key_columns)
    elif node.property_columns:
        wanted = set(node.key_columns) | set(node.property_columns)
    else:
        return list(staged)
    return [c for c in staged if c.name in wanted]


def extension_columns(
    extension: NodeMapping, staged: tuple[SourceColumn, ...]
) -> list[SourceColumn]:
    """The columns an extension adds to its label's nodes (not its key)."""
    wanted = set(extension_properties(extension, [c.name for c in staged]))
    return [c for c in staged if c.name in wanted]


def relationship_columns(
    rel: RelationshipMapping, staged: tuple[SourceColumn, ...]
) -> list[SourceColumn]:
    """A relationship's properties, in its row's order: key columns first."""
    by_name = {c.name: c for c in staged}
    return [by_name[name] for name in rel.properties]


@dataclass(frozen=True)
class Carried:
    """A column that reaches a graph table: whose it is, where it comes from."""

    owner: str  # the label or relationship type
    ref: RowRef
    table: Table
    column: SourceColumn
    is_key: bool


def carried_columns(rows: ControlRows, staged: TableColumns) -> list[Carried]:
    """Every column the active rows put into a graph table, keys marked."""
    carried = []
    for node in rows.active_nodes:
        carried += [
            Carried(node.label, node.ref, node.table, c, c.name in node.key_columns)
            for c in node_columns(node, staged[node.table])
        ]
    for extension in rows.active_extensions:
        carried += [
            Carried(extension.label, extension.ref, extension.table, c, False)
            for c in extension_columns(extension, staged[extension.table])
        ]
    for rel in rows.active_relationships:
        table = rel.via or rows.node(rel.from_label).table
        carried += [
            Carried(rel.relationship_type, rel.ref, table, c, c.name in rel.key_columns)
            for c in relationship_columns(rel, staged[table])
        ]
    return carried
