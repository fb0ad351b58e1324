"""The shape of `meta.c360`: what `c360-export models generate` writes into the
YAML of each generated model (and of the test comparing the seeds with the
rows the files were made from), and what the macros read.

One frozen dataclass per kind; `as_meta()` gives the dict render writes: `kind`
first, then every field in order. docs/architecture.md lists the keys for the
macros, which stop with a compiler error naming the model and the key when one
is missing (macros/c360_mapping.sql, `c360_checked_meta`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, is_dataclass
from typing import Any, ClassVar

from c360.control.model import (
    CONTROL_FILES,
    FULL,
    Cell,
    ControlRows,
    NodeMapping,
    RelationshipMapping,
    Table,
    catalog_table,
)


@dataclass(frozen=True)
class _Meta:
    kind: ClassVar[str]

    def as_meta(self) -> dict[str, Any]:
        """The `meta.c360` entry: plain YAML values (lists, not tuples)."""
        return {"kind": self.kind} | _plain(self)


@dataclass(frozen=True)
class StagingMeta(_Meta):
    """A staging model: the source table it reads, the columns left out, and how
    it follows the table (its table_change_tracking row; `full` without one):
    the incremental ones' post-hook deletes the staged rows whose key_columns
    left the source (macros/vanished_rows_delete_sql.sql)."""

    kind: ClassVar[str] = "staging"
    source_name: str
    table_name: str
    # the dbt source and table it reads (`source(dbt_source, remote_table)`)
    dbt_source: str
    remote_table: str
    excluded_columns: tuple[str, ...]
    strategy: str
    key_columns: tuple[str, ...]
    watermark_column: str | None

    @classmethod
    def of(cls, rows: ControlRows, table: Table, dbt_source: str) -> StagingMeta:
        source_name, table_name = table.source_name or "", table.table_name
        tracked = rows.change_tracking(table)
        return cls(
            source_name,
            table_name,
            dbt_source,
            table.remote_table,
            rows.excluded_columns(source_name, table_name),
            tracked.strategy if tracked is not None else FULL,
            tracked.key_columns if tracked is not None else (),
            tracked.watermark_column if tracked is not None else None,
        )


@dataclass(frozen=True)
class RecordedColumn:
    """A column of a source table as `models generate` saw it (information_schema's
    type fields, `type` as c360.types.SourceType writes it), and whether the
    staging model reads it (false: excluded)."""

    name: str
    type: str
    data_type: str
    udt_name: str
    numeric_precision: int | None
    numeric_scale: int | None
    read: bool


@dataclass(frozen=True)
class SourceColumnsMeta(_Meta):
    """The test `source_columns_match` on a source table: its columns when the
    files were generated, compared at build time with the source's own catalog
    (the foreign table `catalog_schema.catalog_table` over its
    information_schema.columns): a read column gone or retyped stops the build,
    a new column (or a change to an excluded one) warns."""

    kind: ClassVar[str] = "source_columns"
    source_name: str
    table_name: str
    remote_schema: str
    remote_table: str
    catalog_schema: str
    catalog_table: str
    columns: tuple[RecordedColumn, ...]

    @classmethod
    def of(
        cls, table: Table, remote_schema: str, columns: tuple[RecordedColumn, ...]
    ) -> SourceColumnsMeta:
        source_name = table.source_name or ""
        schema, catalog = catalog_table(source_name)
        return cls(
            source_name,
            table.table_name,
            remote_schema,
            table.remote_table,
            schema,
            catalog,
            columns,
        )


@dataclass(frozen=True)
class ExtensionMeta:
    """A property extension of a node model: where it reads, the columns it adds."""

    source_name: str | None
    table_name: str
    property_columns: tuple[str, ...]


@dataclass(frozen=True)
class NodeMeta(_Meta):
    """A node model: its label's row, as graph_node_select and the catalog read it,
    and its extensions in the order of the macro's `extension_relations`."""

    kind: ClassVar[str] = "node"
    label: str
    source_name: str | None
    table_name: str
    key_columns: tuple[str, ...]
    property_columns: tuple[str, ...]
    one_node_per_key: bool
    extensions: tuple[ExtensionMeta, ...]

    @classmethod
    def of(cls, node: NodeMapping, extensions: tuple[ExtensionMeta, ...] = ()) -> NodeMeta:
        return cls(
            node.label,
            node.source_name,
            node.table_name,
            node.key_columns,
            node.property_columns,
            node.one_node_per_key,
            extensions,
        )


@dataclass(frozen=True)
class EdgeMeta(_Meta):
    """An edge model: its relationship's row with the blank severity resolved,
    the two labels' key columns, the edge table columns holding them, and its
    properties (key columns first) read from `properties_from`: the junction
    ('via') or, for a direct match, the start side ('from')."""

    kind: ClassVar[str] = "edge"
    relationship_type: str
    from_label: str
    from_column: str
    to_label: str
    to_column: str
    via_source_name: str | None
    via_table_name: str | None
    via_from_column: str | None
    via_to_column: str | None
    normalize: str | None
    execution_order: int
    dangling_severity: str
    from_key_columns: tuple[str, ...]
    to_key_columns: tuple[str, ...]
    start_columns: tuple[str, ...]
    end_columns: tuple[str, ...]
    key_columns: tuple[str, ...]
    property_columns: tuple[str, ...]
    properties_from: str

    @classmethod
    def of(cls, rel: RelationshipMapping, rows: ControlRows) -> EdgeMeta:
        start, end = rows.node(rel.from_label), rows.node(rel.to_label)
        return cls(
            relationship_type=rel.relationship_type,
            from_label=rel.from_label,
            from_column=rel.from_column,
            to_label=rel.to_label,
            to_column=rel.to_column,
            via_source_name=rel.via_source_name,
            via_table_name=rel.via_table_name,
            via_from_column=rel.via_from_column,
            via_to_column=rel.via_to_column,
            normalize=rel.normalize,
            execution_order=rel.execution_order,
            dangling_severity=rel.severity,
            from_key_columns=start.key_columns,
            to_key_columns=end.key_columns,
            start_columns=tuple(f"start_{k}" for k in start.key_columns),
            end_columns=tuple(f"end_{k}" for k in end.key_columns),
            key_columns=rel.key_columns,
            property_columns=rel.properties,
            properties_from="via" if rel.via is not None else "from",
        )


@dataclass(frozen=True)
class SeedRows:
    """The rows of one control file as dbt loads them, and the columns naming a row."""

    key_columns: tuple[str, ...]
    rows: tuple[Mapping[str, Cell], ...]


@dataclass(frozen=True)
class ControlRowsMeta(_Meta):
    """The test `generated_models_match_control_rows`: every row of every control
    file the generated files were made from, by seed, to compare with the seeds."""

    kind: ClassVar[str] = "control_rows"
    seeds: Mapping[str, SeedRows]

    @classmethod
    def of(cls, rows: ControlRows) -> ControlRowsMeta:
        return cls(
            {
                file.seed: SeedRows(
                    file.key_columns,
                    # every column, in the file's order
                    tuple({c: row[c] for c in file.columns} for row in rows.seed_rows[file.seed]),
                )
                for file in CONTROL_FILES
            }
        )


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    return value
