"""The control rows (`seeds/control/*.csv`): read, type and validate them.

dbt loads the same files into the `control` schema and checks them again with
the `valid_control_rows` test; both sides take their patterns from the `vars`
of `dbt_project.yml`, so a rule changes in one place. Python checks run before
`sources attach` or `models generate` touch anything, and name file, line and
what is wrong.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import yaml

from c360.errors import ConfigError

T = TypeVar("T")

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

    def check_columns(self, columns: Mapping[tuple[str, str], Sequence[str]]) -> None:
        """Check every table and column the active rows name against the attached
        foreign tables (`columns`: (source, table) -> column names)."""
        problems: list[str] = []

        def need(ref: RowRef, what: str, source: str, table: str, names: Iterable[str]) -> None:
            if (source, table) not in columns:
                problems.append(
                    f"{ref}: table {table!r} does not exist in source {source!r} (schema "
                    f"{self.rules.source_schema(source)}); run `c360-export sources attach` "
                    "after adding a source table"
                )
                return
            excluded = set(self.excluded_columns(source, table))
            for name in names:
                if name not in columns[(source, table)]:
                    problems.append(f"{ref}: {what} {name!r} does not exist in {source}.{table}")
                elif name in excluded:
                    problems.append(f"{ref}: {what} {name!r} is excluded by field_exclusion_rules")

        for node in self.active_nodes:
            need(node.ref, "key column", node.source_name, node.table_name, node.key_columns)
            need(
                node.ref,
                "property column",
                node.source_name,
                node.table_name,
                node.property_columns,
            )
        for rel in self.active_relationships:
            start, end = self.node(rel.from_label), self.node(rel.to_label)
            need(rel.ref, "from_column", start.source_name, start.table_name, [rel.from_column])
            need(rel.ref, "to_column", end.source_name, end.table_name, [rel.to_column])
            if rel.via is not None:
                names = [rel.via_from_column or "", rel.via_to_column or ""]
                need(rel.ref, "via column", *rel.via, names)
        for rule in self.exclusions:
            source = next((s for s in self.sources if s.source_name == rule.source_name), None)
            if source is None or not source.is_active:
                continue
            table = columns.get((rule.source_name, rule.table_name))
            if table is None or rule.column_name not in table:
                problems.append(
                    f"{rule.ref}: column {rule.source_name}.{rule.table_name}."
                    f"{rule.column_name} does not exist in the attached source"
                )
        _raise(problems)


def load_control_rows(project_dir: Path) -> ControlRows:
    """Read and validate the four control files of `project_dir`.

    Raises ConfigError listing every problem as `file:line (identity): what`.
    """
    rules = ControlRules.from_project(project_dir)
    problems: list[str] = []
    directory = project_dir / CONTROL_DIR
    jinja = re.compile(rules.jinja_pattern)
    sources = tuple(
        _parse(
            directory,
            "source_databases.csv",
            SOURCE_COLUMNS,
            "source_name",
            problems,
            _source,
            jinja,
        )
    )
    nodes = tuple(
        _parse(directory, "node_label_mappings.csv", NODE_COLUMNS, "label", problems, _node, jinja)
    )
    exclusions = tuple(
        _parse(
            directory,
            "field_exclusion_rules.csv",
            EXCLUSION_COLUMNS,
            "column_name",
            problems,
            _exclusion,
            jinja,
        )
    )
    relationships = tuple(
        _parse(
            directory,
            "relationship_mappings.csv",
            RELATIONSHIP_COLUMNS,
            "relationship_type",
            problems,
            _relationship,
            jinja,
        )
    )
    rows = ControlRows(rules, sources, nodes, exclusions, relationships)
    problems.extend(_cross_row_problems(rows))
    _raise(problems)
    return rows


class _Row:
    """One CSV row with typed accessors that record problems instead of raising."""

    def __init__(self, values: dict[str, str], ref: RowRef, problems: list[str]) -> None:
        self.values = values
        self.ref = ref
        self.problems = problems

    def text(self, name: str) -> str:
        value = self.optional(name)
        if value is None:
            self.problems.append(f"{self.ref}: {name} is required")
            return ""
        return value

    def optional(self, name: str) -> str | None:
        value = (self.values.get(name) or "").strip()
        return value or None

    def words(self, name: str) -> tuple[str, ...]:
        return tuple((self.values.get(name) or "").split())

    def boolean(self, name: str) -> bool:
        value = (self.values.get(name) or "").strip().lower()
        if value in ("true", "false"):
            return value == "true"
        self.problems.append(f"{self.ref}: {name} must be true or false, not {value!r}")
        return False

    def integer(self, name: str, default: int | None = None) -> int | None:
        value = (self.values.get(name) or "").strip()
        if not value:
            if default is None:
                self.problems.append(f"{self.ref}: {name} is required")
            return default
        if not value.isdigit() or int(value) < 1:
            self.problems.append(f"{self.ref}: {name} must be a positive integer, not {value!r}")
            return default
        return int(value)


def _parse(
    directory: Path,
    file: str,
    columns: tuple[str, ...],
    identity_column: str,
    problems: list[str],
    build: Callable[[_Row], T],
    jinja: re.Pattern[str],
) -> list[T]:
    """The rows of one control file, each value checked for Jinja: dbt would
    evaluate it where `models generate` writes it (descriptions, meta)."""
    path = directory / file
    if not path.is_file():
        problems.append(f"{CONTROL_DIR / file}: file is missing")
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header = tuple(reader.fieldnames or ())
        if header != columns:
            problems.append(
                f"{CONTROL_DIR / file}:1: header must be {','.join(columns)}, "
                f"not {','.join(header)}"
            )
            return []
        built: list[T] = []
        for values in reader:
            line = reader.line_num
            if None in values:
                problems.append(f"{CONTROL_DIR / file}:{line}: too many fields")
                continue
            identity = f"{identity_column}={(values.get(identity_column) or '').strip()}"
            ref = RowRef(file, line, identity)
            for name in columns:
                if jinja.search(values.get(name) or ""):
                    problems.append(
                        f"{ref}: {name} holds Jinja delimiters ({{{{, {{% or {{#), which dbt "
                        "would evaluate in the generated files; remove them"
                    )
            built.append(build(_Row(values, ref, problems)))
        return built


def _source(row: _Row) -> SourceDatabase:
    return SourceDatabase(
        source_name=row.text("source_name"),
        host=row.optional("host"),
        port=row.integer("port", default=0) or None,
        database_name=row.text("database_name"),
        user_name=row.text("user_name"),
        password_env_var=row.text("password_env_var"),
        fetch_size=row.integer("fetch_size", default=DEFAULT_FETCH_SIZE) or DEFAULT_FETCH_SIZE,
        is_active=row.boolean("is_active"),
        description=row.optional("description") or "",
        ref=row.ref,
    )


def _node(row: _Row) -> NodeMapping:
    keys = row.words("key_columns")
    if not keys:
        row.problems.append(f"{row.ref}: key_columns is empty")
    return NodeMapping(
        label=row.text("label"),
        source_name=row.text("source_name"),
        table_name=row.text("table_name"),
        key_columns=keys,
        property_columns=row.words("property_columns"),
        one_node_per_key=row.boolean("one_node_per_key"),
        is_active=row.boolean("is_active"),
        description=row.optional("description") or "",
        ref=row.ref,
    )


def _exclusion(row: _Row) -> ExclusionRule:
    return ExclusionRule(
        source_name=row.text("source_name"),
        table_name=row.text("table_name"),
        column_name=row.text("column_name"),
        is_excluded=row.boolean("is_excluded"),
        reason=row.optional("reason") or "",
        ref=row.ref,
    )


def _relationship(row: _Row) -> RelationshipMapping:
    return RelationshipMapping(
        relationship_type=row.text("relationship_type"),
        from_label=row.text("from_label"),
        from_column=row.text("from_column"),
        to_label=row.text("to_label"),
        to_column=row.text("to_column"),
        via_source_name=row.optional("via_source_name"),
        via_table_name=row.optional("via_table_name"),
        via_from_column=row.optional("via_from_column"),
        via_to_column=row.optional("via_to_column"),
        normalize=row.optional("normalize"),
        is_active=row.boolean("is_active"),
        execution_order=row.integer("execution_order") or 0,
        description=row.optional("description") or "",
        dangling_severity=row.optional("dangling_severity"),
        ref=row.ref,
    )


def _duplicates(refs: Iterable[tuple[str, RowRef]], what: str) -> list[str]:
    seen: dict[str, RowRef] = {}
    problems = []
    for key, ref in refs:
        if key in seen:
            problems.append(f"{ref}: duplicate {what} (first at line {seen[key].line})")
        else:
            seen[key] = ref
    return problems


def _cross_row_problems(rows: ControlRows) -> list[str]:
    rules = rows.rules
    label_re = re.compile(rules.label_pattern)
    problems: list[str] = []
    sources = {s.source_name: s for s in rows.sources}
    labels = {n.label: n for n in rows.nodes}

    for source in rows.sources:
        if not re.search(rules.source_name_pattern, source.source_name):
            problems.append(f"{source.ref}: source_name must match {rules.source_name_pattern}")
        if not re.search(rules.env_var_pattern, source.password_env_var):
            problems.append(
                f"{source.ref}: password_env_var must name an environment variable "
                f"(matching {rules.env_var_pattern}), never hold a password"
            )
    problems += _duplicates(((s.source_name, s.ref) for s in rows.sources), "source_name")

    for node in rows.nodes:
        if not label_re.search(node.label):
            problems.append(f"{node.ref}: label must match {rules.label_pattern}")
        problems += _source_problems(node.ref, node.source_name, node.is_active, sources)
        if node.one_node_per_key:
            extra = [c for c in node.property_columns if c not in node.key_columns]
            if extra:
                problems.append(
                    f"{node.ref}: one_node_per_key nodes carry only their key: property "
                    f"columns {extra} are not key columns"
                )
    problems += _duplicates(((n.label, n.ref) for n in rows.nodes), "mapping for this label")

    for rule in rows.exclusions:
        if rule.source_name not in sources:
            problems.append(f"{rule.ref}: unknown source {rule.source_name!r}")
    problems += _duplicates(
        ((f"{e.source_name}.{e.table_name}.{e.column_name}", e.ref) for e in rows.exclusions),
        "exclusion rule",
    )

    for rel in rows.relationships:
        if not label_re.search(rel.relationship_type):
            problems.append(f"{rel.ref}: relationship_type must match {rules.label_pattern}")
        for side, label in (("from_label", rel.from_label), ("to_label", rel.to_label)):
            node = labels.get(label)
            if node is None:
                problems.append(
                    f"{rel.ref}: {side} {label!r} is not a label of node_label_mappings"
                )
            elif rel.is_active and not node.is_active:
                problems.append(
                    f"{rel.ref}: the relationship is active but its {side} {label!r} is inactive"
                )
        via = (rel.via_source_name, rel.via_table_name, rel.via_from_column, rel.via_to_column)
        if sum(v is not None for v in via) not in (0, 4):
            problems.append(
                f"{rel.ref}: via_source_name, via_table_name, via_from_column and "
                "via_to_column must be all set or all blank"
            )
        elif rel.via_source_name is not None:
            problems += _source_problems(rel.ref, rel.via_source_name, rel.is_active, sources)
        if rel.normalize is not None and rel.normalize not in rules.normalize_values:
            problems.append(
                f"{rel.ref}: normalize must be blank or one of {', '.join(rules.normalize_values)}"
            )
        if (
            rel.dangling_severity is not None
            and rel.dangling_severity not in rules.dangling_severity_values
        ):
            problems.append(
                f"{rel.ref}: dangling_severity must be blank or one of "
                f"{', '.join(rules.dangling_severity_values)}"
            )
    problems += _duplicates(
        ((r.relationship_type, r.ref) for r in rows.relationships),
        "mapping for this relationship type",
    )
    return problems


def _source_problems(
    ref: RowRef, source_name: str, active: bool, sources: Mapping[str, SourceDatabase]
) -> list[str]:
    source = sources.get(source_name)
    if source is None:
        return [f"{ref}: unknown source {source_name!r} (not in source_databases)"]
    if active and not source.is_active:
        return [f"{ref}: source {source_name!r} is inactive"]
    return []


def _raise(problems: list[str]) -> None:
    if problems:
        listing = "\n  ".join(problems)
        raise ConfigError(
            f"invalid control rows:\n  {listing}\nFix the rows in {CONTROL_DIR}/ and run again."
        )
