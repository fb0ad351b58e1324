"""Read the five control files into typed rows, every problem named by file and line."""

from __future__ import annotations

import csv
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar

from c360.control.model import (
    CONTROL_DIR,
    DEFAULT_FETCH_SIZE,
    DEFAULT_SCHEMA,
    EXCLUSION_FILE,
    NODE_FILE,
    RELATIONSHIP_FILE,
    SOURCE_FILE,
    TRACKING_FILE,
    Cell,
    ChangeTracking,
    ControlFile,
    ControlRows,
    ExclusionRule,
    NodeMapping,
    RelationshipMapping,
    RowRef,
    SourceDatabase,
)
from c360.control.rules import jinja_problems, raise_problems, row_problems

T = TypeVar("T")

# The identity a message gives a row: one column, so that it reads `(label=Account)`.
_IDENTITY = {
    SOURCE_FILE: "source_name",
    NODE_FILE: "label",
    EXCLUSION_FILE: "column_name",
    RELATIONSHIP_FILE: "relationship_type",
    TRACKING_FILE: "table_name",
}


def load_control_rows(project_dir: Path) -> ControlRows:
    """Read and validate the five control files of `project_dir`.

    Raises ConfigError listing every problem as `file:line (identity): what`.
    """
    problems: list[str] = []
    seed_rows: dict[str, tuple[Mapping[str, Cell], ...]] = {}
    directory = project_dir / CONTROL_DIR

    def parse(control_file: ControlFile, build: Callable[[_Row], T]) -> tuple[T, ...]:
        rows = _parse(directory, control_file, problems, build)
        seed_rows[control_file.seed] = tuple(row.seed_row for row, _ in rows)
        return tuple(built for _, built in rows)

    sources = parse(SOURCE_FILE, _source)
    nodes = parse(NODE_FILE, _node)
    exclusions = parse(EXCLUSION_FILE, _exclusion)
    relationships = parse(RELATIONSHIP_FILE, _relationship)
    tracking = parse(TRACKING_FILE, _tracking)
    rows = ControlRows(sources, nodes, exclusions, relationships, tracking, seed_rows)
    problems.extend(row_problems(rows))
    raise_problems(problems)
    return rows


class _Row:
    """One CSV row with typed accessors that record problems instead of raising.

    Each accessor also records the value as dbt loads it into the seed table
    (`seed_row`): dbt reads a blank or `null` cell as NULL and keeps other text
    as written, spaces included, while PostgreSQL parses integers and booleans.
    """

    def __init__(self, values: dict[str, str], ref: RowRef, problems: list[str]) -> None:
        self.values = values
        self.ref = ref
        self.problems = problems
        self.seed_row: dict[str, Cell] = {}

    def _raw(self, name: str) -> str:
        raw = self.values.get(name) or ""
        self.seed_row[name] = None if raw.strip().lower() in ("", "null") else raw
        return raw

    def text(self, name: str) -> str:
        value = self.optional(name)
        if value is None:
            self.problems.append(f"{self.ref}: {name} is required")
            return ""
        return value

    def optional(self, name: str) -> str | None:
        return self._raw(name).strip() or None

    def words(self, name: str) -> tuple[str, ...]:
        return tuple(self._raw(name).split())

    def boolean(self, name: str) -> bool:
        value = self._raw(name).strip().lower()
        if value in ("true", "false"):
            self.seed_row[name] = value == "true"
            return value == "true"
        self.problems.append(f"{self.ref}: {name} must be true or false, not {value!r}")
        return False

    def flag(self, name: str) -> bool:
        """A boolean column where blank means false (columns added after the first release)."""
        if not self._raw(name).strip():
            return False
        return self.boolean(name)

    def integer(self, name: str, default: int | None = None) -> int | None:
        value = self._raw(name).strip()
        if not value:
            if default is None:
                self.problems.append(f"{self.ref}: {name} is required")
            return default
        if not value.isdigit() or int(value) < 1:
            self.problems.append(f"{self.ref}: {name} must be a positive integer, not {value!r}")
            return default
        self.seed_row[name] = int(value)
        return int(value)


def _parse(
    directory: Path,
    control_file: ControlFile,
    problems: list[str],
    build: Callable[[_Row], T],
) -> list[tuple[_Row, T]]:
    """The rows of one control file, each value checked for Jinja."""
    file, columns = control_file.file, control_file.columns
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
        identity_column = _IDENTITY[control_file]
        parsed: list[tuple[_Row, T]] = []
        for values in reader:
            line = reader.line_num
            if None in values:
                problems.append(f"{CONTROL_DIR / file}:{line}: too many fields")
                continue
            identity = f"{identity_column}={(values.get(identity_column) or '').strip()}"
            ref = RowRef(file, line, identity)
            problems.extend(jinja_problems(ref, values))
            row = _Row(values, ref, problems)
            parsed.append((row, build(row)))
        return parsed


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
        schemas=row.words("schemas") or (DEFAULT_SCHEMA,),
        ref=row.ref,
    )


def _node(row: _Row) -> NodeMapping:
    keys = row.words("key_columns")
    if not keys:
        row.problems.append(f"{row.ref}: key_columns is empty")
    return NodeMapping(
        label=row.text("label"),
        # blank: table_name is a model of this dbt project
        source_name=row.optional("source_name"),
        table_name=row.text("table_name"),
        key_columns=keys,
        property_columns=row.words("property_columns"),
        one_node_per_key=row.boolean("one_node_per_key"),
        is_active=row.boolean("is_active"),
        description=row.optional("description") or "",
        is_extension=row.flag("is_extension"),
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
        key_columns=row.words("key_columns"),
        property_columns=row.words("property_columns"),
        ref=row.ref,
    )


def _tracking(row: _Row) -> ChangeTracking:
    return ChangeTracking(
        # blank is refused by the rules, naming the row: only source tables are staged
        source_name=row.optional("source_name"),
        table_name=row.text("table_name"),
        strategy=row.text("strategy"),
        key_columns=row.words("key_columns"),
        watermark_column=row.optional("watermark_column"),
        is_active=row.boolean("is_active"),
        description=row.optional("description") or "",
        ref=row.ref,
    )
