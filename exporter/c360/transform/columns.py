"""The attached source tables' columns, as `models generate` reads them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from psycopg2.extensions import connection as pg_connection_type

from c360 import types
from c360.control.model import ControlRows, NodeMapping, source_schema


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


TableColumns = Mapping[tuple[str, str], tuple[SourceColumn, ...]]


def reserved_words(conn: pg_connection_type) -> frozenset[str]:
    """The keywords PostgreSQL's quote_ident() quotes: all but the unreserved ones."""
    with conn.cursor() as cur:
        cur.execute("select word from pg_get_keywords() where catcode <> 'U'")
        return frozenset(word for (word,) in cur.fetchall())


def introspect_columns(conn: pg_connection_type, rows: ControlRows) -> TableColumns:
    """Columns of every attached foreign table of the active sources, in order."""
    schemas = {source_schema(s.source_name): s.source_name for s in rows.active_sources}
    with conn.cursor() as cur:
        cur.execute(
            "select table_schema, table_name, column_name, data_type, udt_name,"
            " numeric_precision, numeric_scale"
            " from information_schema.columns where table_schema = any(%s)"
            " order by table_schema, table_name, ordinal_position",
            (list(schemas),),
        )
        found: dict[tuple[str, str], list[SourceColumn]] = {}
        for schema, table, column, *source_type in cur.fetchall():
            found.setdefault((schemas[schema], table), []).append(
                SourceColumn(column, *source_type)
            )
    return {key: tuple(columns) for key, columns in found.items()}


def node_columns(node: NodeMapping, staged: tuple[SourceColumn, ...]) -> list[SourceColumn]:
    """The staged columns a label's nodes carry: its keys, its property columns, or all."""
    if node.one_node_per_key:
        wanted = set(node.key_columns)
    elif node.property_columns:
        wanted = set(node.key_columns) | set(node.property_columns)
    else:
        return list(staged)
    return [c for c in staged if c.name in wanted]
