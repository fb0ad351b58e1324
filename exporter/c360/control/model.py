"""The control rows' shape: one typed record per row of `seeds/control/*.csv`.

`ControlRows` holds all four files; `RowRef` says where a row lives, for
messages. Reading the files is `c360.control.load`; the rules they must keep,
`c360.control.rules`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from c360.errors import ConfigError

CONTROL_DIR = Path("seeds") / "control"
DEFAULT_FETCH_SIZE = 50_000

SOURCE_COLUMNS = (
    "source_name",
    "host",
    "port",
    "database_name",
    "user_name",
    "password_env_var",
    "fetch_size",
    "is_active",
    "description",
)
NODE_COLUMNS = (
    "label",
    "source_name",
    "table_name",
    "key_columns",
    "property_columns",
    "one_node_per_key",
    "is_active",
    "description",
)
EXCLUSION_COLUMNS = ("source_name", "table_name", "column_name", "is_excluded", "reason")
RELATIONSHIP_COLUMNS = (
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
)


@dataclass(frozen=True)
class ControlRules:
    """Patterns shared with the dbt tests (`vars` of dbt_project.yml)."""

    label_pattern: str
    source_name_pattern: str
    env_var_pattern: str
    normalize_values: tuple[str, ...]
    source_schema_prefix: str
    dangling_severity_values: tuple[str, ...]
    jinja_pattern: str

    @property
    def default_dangling_severity(self) -> str:
        """What a blank dangling_severity means: the first of the allowed values."""
        return self.dangling_severity_values[0]

    @classmethod
    def from_project(cls, project_dir: Path) -> ControlRules:
        path = project_dir / "dbt_project.yml"
        try:
            project = yaml.safe_load(path.read_text()) or {}
            variables = project["vars"]
            return cls(
                label_pattern=str(variables["c360_label_pattern"]),
                source_name_pattern=str(variables["c360_source_name_pattern"]),
                env_var_pattern=str(variables["c360_env_var_pattern"]),
                normalize_values=tuple(variables["c360_normalize_values"]),
                source_schema_prefix=str(variables["c360_source_schema_prefix"]),
                dangling_severity_values=tuple(variables["c360_dangling_severity_values"]),
                jinja_pattern=str(variables["c360_jinja_pattern"]),
            )
        except (OSError, yaml.YAMLError, KeyError, TypeError) as error:
            raise ConfigError(
                f"cannot read the c360_* vars of {path}: {error!r}; "
                "run from the project directory or set C360_PROJECT_DIR"
            ) from error

    def source_schema(self, source_name: str) -> str:
        """The staging-database schema holding a source's foreign tables."""
        return f"{self.source_schema_prefix}{source_name}"


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
    ref: RowRef = field(compare=False)


@dataclass(frozen=True)
class NodeMapping:
    label: str
    source_name: str
    table_name: str
    key_columns: tuple[str, ...]
    property_columns: tuple[str, ...]
    one_node_per_key: bool
    is_active: bool
    description: str
    ref: RowRef = field(compare=False)


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
    ref: RowRef = field(compare=False)

    @property
    def via(self) -> tuple[str, str] | None:
        if self.via_source_name is None or self.via_table_name is None:
            return None
        return (self.via_source_name, self.via_table_name)


@dataclass(frozen=True)
class ControlRows:
    rules: ControlRules
    sources: tuple[SourceDatabase, ...]
    nodes: tuple[NodeMapping, ...]
    exclusions: tuple[ExclusionRule, ...]
    relationships: tuple[RelationshipMapping, ...]

    @property
    def active_sources(self) -> tuple[SourceDatabase, ...]:
        return tuple(s for s in self.sources if s.is_active)

    @property
    def active_nodes(self) -> tuple[NodeMapping, ...]:
        return tuple(n for n in self.nodes if n.is_active)

    @property
    def active_relationships(self) -> tuple[RelationshipMapping, ...]:
        return tuple(r for r in self.relationships if r.is_active)

    def node(self, label: str) -> NodeMapping:
        return next(n for n in self.nodes if n.label == label)

    def source(self, source_name: str) -> SourceDatabase:
        return next(s for s in self.sources if s.source_name == source_name)

    def excluded_columns(self, source_name: str, table_name: str) -> tuple[str, ...]:
        return tuple(
            sorted(
                {
                    e.column_name
                    for e in self.exclusions
                    if e.is_excluded and e.source_name == source_name and e.table_name == table_name
                }
            )
        )

    def staging_tables(self) -> tuple[tuple[str, str], ...]:
        """Every (source, table) an active label or relationship reads, sorted."""
        tables = {(n.source_name, n.table_name) for n in self.active_nodes}
        tables |= {r.via for r in self.active_relationships if r.via is not None}
        return tuple(sorted(tables))
