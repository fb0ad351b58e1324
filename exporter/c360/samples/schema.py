"""The reference sources' tables and columns, read from `sources/<kind>/schema.sql`.

schema.sql is the one place a reference source's tables and columns are
written: PostgreSQL runs it to create them, and this module reads the same
file for what the loaders must know before: each table's columns in order (the
COPY column list; the story and the generator write their values in that
order) and which columns draw from a sequence (moved past the loaded keys).
`c360.samples.load` checks that PostgreSQL created exactly the columns read
here, so the reading cannot drift from the database.

What it reads: `create table [<schema>.]<name> (<column> <type> [constraints],
..., [table constraints])` with unquoted names (no schema: `public`; another
schema is created by the file's own `create schema`); every other statement
(schemas, indexes) is skipped. Table names are unique across the file's
schemas. Quotes (quoted names, string literals) and anything else inside a
`create table` it cannot read (`like`) are refused, naming the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args

from c360.control.model import DEFAULT_SCHEMA
from c360.errors import ConfigError

# The reference sources, by sample domain (`c360.samples.domains`): each is a
# folder `sources/<kind>/` and, unprefixed, a database of that name. Each
# domain's story and generator write rows for its kinds.
StreamingKind = Literal["profiles_db", "streaming_db", "support_db"]
BankingKind = Literal["core_banking_db", "kyc_db", "payments_db"]
SourceKind = Literal[StreamingKind, BankingKind]
SOURCE_KINDS: tuple[SourceKind, ...] = get_args(SourceKind)
SOURCES_DIR = Path("sources")

SEQUENCE_TYPES = frozenset(("smallserial", "serial", "bigserial", "serial2", "serial4", "serial8"))
TABLE_CONSTRAINTS = frozenset(("constraint", "primary", "unique", "foreign", "check", "exclude"))
# Words that end a column's type and start its constraints.
COLUMN_CONSTRAINTS = frozenset(
    (
        "not",
        "null",
        "primary",
        "unique",
        "references",
        "default",
        "check",
        "constraint",
        "generated",
        "collate",
    )
)
_NAME = r"[a-z_][a-z0-9_$]*"
_CREATE_TABLE = re.compile(
    rf"create\s+table\s+(?:if\s+not\s+exists\s+)?(?:({_NAME})\.)?({_NAME})\s*\((.*)\)",
    re.IGNORECASE | re.DOTALL,
)
_COLUMN = re.compile(rf"({_NAME})\s+(.+)", re.IGNORECASE | re.DOTALL)
_PRIMARY_KEY = re.compile(r"primary\s+key\s*\(([^)]*)\)", re.IGNORECASE)


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # as written, lower case, single-spaced: "uuid", "varchar(4)", "numeric(5, 2)"
    not_null: bool
    has_sequence: bool  # serial types and identity columns

    @property
    def base_type(self) -> str:
        """The type without its modifiers: "varchar" for "varchar(4)"."""
        return self.type.split("(", 1)[0].strip()


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    schema: str = DEFAULT_SCHEMA

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    @property
    def sequence_columns(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns if column.has_sequence)


@dataclass(frozen=True)
class SourceSchema:
    """One reference source's tables, in the order schema.sql creates them."""

    kind: str
    path: Path
    sql: str = field(repr=False)  # the file's text, run as it was read
    tables: tuple[Table, ...] = ()

    @property
    def table_names(self) -> tuple[str, ...]:
        return tuple(table.name for table in self.tables)

    @property
    def schemas(self) -> tuple[str, ...]:
        """The schemas its tables are created in, in the file's order."""
        return tuple(dict.fromkeys(table.schema for table in self.tables))

    def table(self, name: str) -> Table:
        for table in self.tables:
            if table.name == name:
                return table
        raise ConfigError(
            f"{self.path} has no table {name!r} (it has {', '.join(self.table_names)})"
        )


def schema_file(project_dir: Path, kind: str) -> Path:
    return project_dir / SOURCES_DIR / kind / "schema.sql"


def read_schema(project_dir: Path, kind: str) -> SourceSchema:
    path = schema_file(project_dir, kind)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"cannot read the schema of {kind}: {error}") from error
    return parse_schema(kind, text, path)


def parse_schema(kind: str, text: str, path: Path) -> SourceSchema:
    """The tables `text` (the SQL of `path`) creates; ConfigError naming what it cannot read."""
    tables: list[Table] = []
    for statement in _statements(text, path):
        match = _CREATE_TABLE.fullmatch(statement)
        if match is None:
            if re.match(r"create\s+table\b", statement, re.IGNORECASE):
                raise ConfigError(f"{path}: cannot read {_shorten(statement)!r}")
            continue
        schema, name = (match.group(1) or DEFAULT_SCHEMA).lower(), match.group(2).lower()
        if name in (table.name for table in tables):
            raise ConfigError(f"{path}: table {name} is created twice")
        tables.append(_table(path, name, match.group(3), schema))
    if not tables:
        raise ConfigError(f"{path}: no `create table` statement")
    return SourceSchema(kind, path, text, tuple(tables))


def _statements(text: str, path: Path) -> list[str]:
    """The statements of `text`, comments removed, white space folded."""
    without_comments = re.sub(r"--[^\n]*", " ", text)
    if '"' in without_comments or "'" in without_comments:
        # a quoted name or a string literal could hide `--`, `;`, `,` or a name's case
        raise ConfigError(f"{path}: quotes are not read here; use plain names and no literals")
    statements = (" ".join(part.split()) for part in without_comments.split(";"))
    return [statement for statement in statements if statement]


def _table(path: Path, name: str, body: str, schema: str) -> Table:
    items = _split_top_level(body)
    primary_key: set[str] = set()
    definitions: list[tuple[str, str]] = []
    for item in items:
        first = item.split(None, 1)[0].lower()
        if first in TABLE_CONSTRAINTS:
            key = _PRIMARY_KEY.match(item)
            if key:
                primary_key.update(part.strip().lower() for part in key.group(1).split(","))
            continue
        column = _COLUMN.fullmatch(item)
        if column is None or first == "like":
            raise ConfigError(f"{path}: table {name}: cannot read {item!r}")
        definitions.append((column.group(1).lower(), column.group(2)))
    columns = tuple(
        _column(column_name, rest, column_name in primary_key) for column_name, rest in definitions
    )
    names = [column.name for column in columns]
    if len(set(names)) != len(names):
        raise ConfigError(f"{path}: table {name} names a column twice")
    if not columns:
        raise ConfigError(f"{path}: table {name} has no column")
    return Table(name, columns, schema)


def _column(name: str, rest: str, in_primary_key: bool) -> Column:
    words = rest.lower().split()
    depth = 0
    end = len(words)
    for index, word in enumerate(words):
        if depth == 0 and word in COLUMN_CONSTRAINTS:
            end = index
            break
        depth += word.count("(") - word.count(")")
    column_type = " ".join(words[:end])
    constraints = " ".join(words[end:])
    return Column(
        name=name,
        type=column_type,
        not_null=in_primary_key or "not null" in constraints or "primary key" in constraints,
        has_sequence=column_type in SEQUENCE_TYPES or "as identity" in constraints,
    )


def _split_top_level(body: str) -> list[str]:
    """`body` split at the commas outside parentheses."""
    items: list[str] = []
    depth, start = 0, 0
    for index, char in enumerate(body):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            items.append(body[start:index].strip())
            start = index + 1
    items.append(body[start:].strip())
    return [item for item in items if item]


def _shorten(statement: str, limit: int = 60) -> str:
    return statement if len(statement) <= limit else statement[: limit - 3] + "..."
