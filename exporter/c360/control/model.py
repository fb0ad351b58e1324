"""The control rows' shape: one typed record per row of `seeds/control/*.csv`.

`ControlRows` holds all five files; `RowRef` says where a row lives, for
messages; `ControlFile` names each file's columns and the columns that identify
a row. Reading the files is `c360.control.load`; the rules they must keep,
`c360.control.rules`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

CONTROL_DIR = Path("seeds") / "control"
DEFAULT_FETCH_SIZE = 50_000
# The schema of a source database whose tables a row with blank `schemas` exposes.
DEFAULT_SCHEMA = "public"
# The schemas of the staging database that hold a source's foreign tables
# (local_schema), and the one holding each source's catalog (catalog_table).
SOURCE_SCHEMA_PREFIX = "src_"
CATALOG_SCHEMA = "source_catalog"
# Separates a schema from a table in a control row's table_name (`helpdesk.tickets`).
SCHEMA_SEPARATOR = "."
NORMALIZE_VALUES = ("lower_trim",)
# The first is what a blank dangling_severity means.
DANGLING_SEVERITIES = ("warn", "error")
# How a staging model follows its source table (table_change_tracking): the
# first re-reads every row (what a table without a row gets); the others are
# incremental, reading past a watermark and finding deletes by key.
FULL = "full"
APPEND_ONLY = "append_only"
UPDATED_AT = "updated_at"
STRATEGIES = (FULL, APPEND_ONLY, UPDATED_AT)

# A value as dbt loads it into a seed table, for the comparison that stops a
# `dbt build` whose seeds differ from the rows the generated files were made from.
Cell = str | int | bool | None


@dataclass(frozen=True)
class ControlFile:
    """One control file, a dbt seed: its columns, and those that identify a row."""

    seed: str
    columns: tuple[str, ...]
    key_columns: tuple[str, ...]

    @property
    def file(self) -> str:
        return f"{self.seed}.csv"


SOURCE_FILE = ControlFile(
    "source_databases",
    (
        "source_name",
        "host",
        "port",
        "database_name",
        "user_name",
        "password_env_var",
        "fetch_size",
        "is_active",
        "description",
        "schemas",
    ),
    ("source_name",),
)
NODE_FILE = ControlFile(
    "node_label_mappings",
    (
        "label",
        "source_name",
        "table_name",
        "key_columns",
        "property_columns",
        "one_node_per_key",
        "is_active",
        "description",
        "is_extension",
    ),
    ("label", "table_name"),
)
EXCLUSION_FILE = ControlFile(
    "field_exclusion_rules",
    ("source_name", "table_name", "column_name", "is_excluded", "reason"),
    ("source_name", "table_name", "column_name"),
)
RELATIONSHIP_FILE = ControlFile(
    "relationship_mappings",
    (
        "relationship_type",
        "from_label",
        "from_column",
        "to_label",
        "to_column",
        "via_source_name",
        "via_table_name",
        "via_from_column",
        "via_to_column",
        "normalize",
        "is_active",
        "execution_order",
        "description",
        "dangling_severity",
        "key_columns",
        "property_columns",
    ),
    ("relationship_type",),
)
TRACKING_FILE = ControlFile(
    "table_change_tracking",
    (
        "source_name",
        "table_name",
        "strategy",
        "key_columns",
        "watermark_column",
        "is_active",
        "description",
    ),
    ("source_name", "table_name"),
)
CONTROL_FILES = (SOURCE_FILE, NODE_FILE, EXCLUSION_FILE, RELATIONSHIP_FILE, TRACKING_FILE)


def local_schema(source_name: str, remote_schema: str) -> str:
    """The staging-database schema holding the foreign tables of one schema of a
    source: `src_<source>` for its `public` schema (the name before sources had
    several), `src_<source>__<schema>` for any other."""
    if remote_schema == DEFAULT_SCHEMA:
        return f"{SOURCE_SCHEMA_PREFIX}{source_name}"
    return f"{SOURCE_SCHEMA_PREFIX}{source_name}__{remote_schema}"


def catalog_table(source_name: str) -> tuple[str, str]:
    """The foreign table (schema, name) over a source's information_schema.columns,
    which the drift test compares with the columns `models generate` recorded."""
    return CATALOG_SCHEMA, source_name


class Table(NamedTuple):
    """Where a control row reads its rows: a table of an attached source, or,
    with no source_name, a model of this dbt project (an intermediate or mart
    model computing what no source holds)."""

    source_name: str | None
    table_name: str

    @property
    def is_model(self) -> bool:
        return self.source_name is None

    @property
    def schema_qualifier(self) -> str | None:
        """The schema a qualified name (`helpdesk.tickets`) gives; None for a short name."""
        if self.source_name is None or SCHEMA_SEPARATOR not in self.table_name:
            return None
        return self.table_name.split(SCHEMA_SEPARATOR, 1)[0]

    @property
    def remote_table(self) -> str:
        """The table's own name in its source schema: `tickets` for `helpdesk.tickets`."""
        if self.schema_qualifier is None:
            return self.table_name
        return self.table_name.split(SCHEMA_SEPARATOR, 1)[1]

    def __str__(self) -> str:
        if self.source_name is None:
            return f"model {self.table_name}"
        return f"{self.source_name}.{self.table_name}"


@dataclass(frozen=True)
class RowRef:
    """Where a control row lives, for messages: file and 1-based line number."""

    file: str
    line: int
    identity: str

    def __str__(self) -> str:
        return f"{CONTROL_DIR / self.file}:{self.line} ({self.identity})"


@dataclass(frozen=True)
class SourceDatabase:
    source_name: str
    host: str | None
    port: int | None
    database_name: str
    user_name: str
    password_env_var: str
    fetch_size: int
    is_active: bool
    description: str
    # the source database's schemas whose tables it exposes; (DEFAULT_SCHEMA,) when blank
    schemas: tuple[str, ...]
    ref: RowRef = field(compare=False)


@dataclass(frozen=True)
class NodeMapping:
    """A label's row, or with `is_extension` a row adding properties to the label
    of the same name from another table or model keyed by the label's key."""

    label: str
    source_name: str | None
    table_name: str
    key_columns: tuple[str, ...]
    property_columns: tuple[str, ...]
    one_node_per_key: bool
    is_active: bool
    description: str
    is_extension: bool
    ref: RowRef = field(compare=False)

    @property
    def table(self) -> Table:
        return Table(self.source_name, self.table_name)


@dataclass(frozen=True)
class ExclusionRule:
    source_name: str
    table_name: str
    column_name: str
    is_excluded: bool
    reason: str
    ref: RowRef = field(compare=False)


@dataclass(frozen=True)
class RelationshipMapping:
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
    is_active: bool
    execution_order: int
    description: str
    dangling_severity: str | None
    # one relationship per distinct value of these junction columns, not per pair
    key_columns: tuple[str, ...]
    property_columns: tuple[str, ...]
    ref: RowRef = field(compare=False)

    @property
    def via(self) -> Table | None:
        if self.via_table_name is None:
            return None
        return Table(self.via_source_name, self.via_table_name)

    @property
    def properties(self) -> tuple[str, ...]:
        """The relationship's properties: its key columns first, then the others."""
        return tuple(dict.fromkeys(self.key_columns + self.property_columns))

    @property
    def severity(self) -> str:
        """The dangling_rows test's severity: the row's, or the default when blank."""
        return self.dangling_severity or DANGLING_SEVERITIES[0]


@dataclass(frozen=True)
class ChangeTracking:
    """How the staging model of a source table finds what changed since the last
    build: `strategy` (STRATEGIES), the table's unique key, and the column whose
    newest staged value is the watermark (blank for `full`)."""

    source_name: str | None
    table_name: str
    strategy: str
    key_columns: tuple[str, ...]
    watermark_column: str | None
    is_active: bool
    description: str
    ref: RowRef = field(compare=False)

    @property
    def table(self) -> Table:
        return Table(self.source_name, self.table_name)

    @property
    def is_incremental(self) -> bool:
        """Read past a watermark, deletes found by key: not a full rebuild."""
        return self.strategy in (APPEND_ONLY, UPDATED_AT)


@dataclass(frozen=True)
class ControlRows:
    sources: tuple[SourceDatabase, ...]
    nodes: tuple[NodeMapping, ...]
    exclusions: tuple[ExclusionRule, ...]
    relationships: tuple[RelationshipMapping, ...]
    tracking: tuple[ChangeTracking, ...]
    # Every row of every file as dbt loads it into its seed table (seed -> rows,
    # in file order), inactive rows included.
    seed_rows: Mapping[str, tuple[Mapping[str, Cell], ...]] = field(compare=False)

    @property
    def active_sources(self) -> tuple[SourceDatabase, ...]:
        return tuple(s for s in self.sources if s.is_active)

    @property
    def active_nodes(self) -> tuple[NodeMapping, ...]:
        """The active labels' own rows (property extensions are not labels)."""
        return tuple(n for n in self.nodes if n.is_active and not n.is_extension)

    @property
    def active_extensions(self) -> tuple[NodeMapping, ...]:
        return tuple(n for n in self.nodes if n.is_active and n.is_extension)

    def extensions_of(self, label: str) -> tuple[NodeMapping, ...]:
        return tuple(n for n in self.active_extensions if n.label == label)

    @property
    def active_relationships(self) -> tuple[RelationshipMapping, ...]:
        return tuple(r for r in self.relationships if r.is_active)

    def node(self, label: str) -> NodeMapping:
        """The label's own row (not an extension)."""
        return next(n for n in self.nodes if n.label == label and not n.is_extension)

    def source(self, source_name: str) -> SourceDatabase:
        return next(s for s in self.sources if s.source_name == source_name)

    def excluded_columns(self, source_name: str | None, table_name: str) -> tuple[str, ...]:
        return tuple(
            sorted(
                {
                    e.column_name
                    for e in self.exclusions
                    if e.is_excluded and e.source_name == source_name and e.table_name == table_name
                }
            )
        )

    def read_tables(self) -> tuple[Table, ...]:
        """Every table or model an active row reads: source tables sorted, then models."""
        tables = {n.table for n in self.nodes if n.is_active}
        tables |= {r.via for r in self.active_relationships if r.via is not None}
        return tuple(sorted(tables, key=lambda t: (t.is_model, t.source_name or "", t.table_name)))

    def staging_tables(self) -> tuple[Table, ...]:
        """Every source table an active row reads, sorted: each gets a staging model."""
        return tuple(t for t in self.read_tables() if not t.is_model)

    def change_tracking(self, table: Table) -> ChangeTracking | None:
        """The active change-tracking row of a staged table; None: a full rebuild."""
        return next((t for t in self.tracking if t.is_active and t.table == table), None)

    def model_tables(self) -> tuple[Table, ...]:
        """Every model of this project an active row reads, sorted."""
        return tuple(t for t in self.read_tables() if t.is_model)
