"""Propose control rows for a source database from its primary and foreign keys.

`c360-export models propose SOURCE` reads the keys of the source's tables
(`c360.transform.source_keys`), turns them into `node_label_mappings` and
`relationship_mappings` rows (`propose`, no database) and writes them, with
exactly the control files' headers, to `proposals/<source>/` for review: never
under `seeds/`, where dbt would load them. The rules:

- A table with a primary key is a label: the table name in PascalCase with its
  last word singular (`payment_methods` -> `PaymentMethod`, `media_content` ->
  `MediaContent`), keyed by the primary key, every column not excluded as a
  property, one node per row. Singular by a simple rule, for the user to
  correct: `-ies` -> `-y`, `-sses`/`-shes`/`-ches`/`-xes` drop `-es`, words
  ending in `-ss`, `-us`, `-is` are kept, any other `-s` is dropped.
- A single-column foreign key from table A (column c) to table B is a
  relationship from A's label to B's, joined on c = the referenced column. Its
  type is c without a trailing `_id`, upper-cased (`plan_id` -> `PLAN`): a
  placeholder the user is expected to rename (`HAS_PLAN`).
- A table whose primary key is exactly two columns, each the column of a
  single-column foreign key, is a junction table: no label, but one
  relationship through it, from the label of the table the first key column
  refers to to the label of the second's, typed as the table name upper-cased,
  its other columns as properties. Its two foreign keys give nothing else.
- Types are made unique: when several relationships would share a type (two
  tables with an `account_id`), or one would not be a valid type, it is
  prefixed by its start label in upper snake case (`PAYMENT_METHOD_ACCOUNT`);
  a clash left after that gets a number (`_2`).
- Not mapped, each with its reason: a table without a primary key; a foreign
  key of more than one column (outside the junction case); a foreign key from
  or to a table without a proposed label (no primary key, a junction table, a
  table of another schema); a table whose name gives an invalid label, or the
  label of an earlier table. Joins without a foreign key (an e-mail matched to
  an e-mail, an id parsed from a login token) cannot be found from keys at
  all: those rows are written by hand (`STANDING_NOTE`).
"""

from __future__ import annotations

import csv
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from c360.config import Settings
from c360.control.load import load_control_rows
from c360.control.model import (
    CONTROL_DIR,
    NODE_FILE,
    RELATIONSHIP_FILE,
    SOURCE_FILE,
    ControlFile,
    ControlRows,
    NodeMapping,
    RelationshipMapping,
    RowRef,
    SourceDatabase,
)
from c360.control.rules import LABEL_PATTERN
from c360.errors import ConfigError
from c360.transform.naming import snake
from c360.transform.source_keys import ForeignKey, SourceTable, read_source_keys

PROPOSALS_DIR = Path("proposals")
STANDING_NOTE = (
    "joins without a foreign key (an e-mail matched to an e-mail, an id parsed from a "
    "login token) cannot be found from keys: write those relationship rows by hand"
)


@dataclass(frozen=True)
class Unmapped:
    """What the proposal leaves out, and why."""

    subject: str
    reason: str

    def __str__(self) -> str:
        return f"{self.subject}: {self.reason}"


@dataclass(frozen=True)
class Proposal:
    nodes: tuple[NodeMapping, ...]
    relationships: tuple[RelationshipMapping, ...]
    unmapped: tuple[Unmapped, ...]


@dataclass(frozen=True)
class _Join:
    """A relationship before its type is made unique and it is numbered."""

    type_base: str
    from_label: str
    from_column: str
    to_label: str
    to_column: str
    via_table_name: str | None
    via_from_column: str | None
    via_to_column: str | None
    property_columns: tuple[str, ...]
    description: str


def singular(word: str) -> str:
    lower = word.lower()
    if lower.endswith("ies") and len(word) > 3:
        return word[:-3] + "y"
    if lower.endswith(("sses", "shes", "ches", "xes")):
        return word[:-2]
    if lower.endswith(("ss", "us", "is")):
        return word
    if lower.endswith("s"):
        return word[:-1]
    return word


def label_name(table_name: str) -> str:
    """`payment_methods` -> `PaymentMethod`: PascalCase, the last word singular."""
    words = [word for word in re.split(r"[^A-Za-z0-9]+", table_name) if word]
    if words:
        words[-1] = singular(words[-1])
    return "".join(word[0].upper() + word[1:] for word in words)


def type_name(name: str) -> str:
    """`account_id` -> `ACCOUNT`, `ticket_tag_link` -> `TICKET_TAG_LINK`."""
    base = name[:-3] if name.lower().endswith("_id") else name
    return re.sub(r"[^A-Za-z0-9]+", "_", base).strip("_").upper()


def junction_keys(table: SourceTable) -> tuple[ForeignKey, ForeignKey] | None:
    """The two foreign keys of a junction table, in primary key order; None otherwise."""
    if len(table.primary_key) != 2:
        return None
    keys = [
        next((fk for fk in table.foreign_keys if fk.columns == (column,)), None)
        for column in table.primary_key
    ]
    first, second = keys
    if first is None or second is None:
        return None
    return first, second


def propose(source_name: str, tables: Sequence[SourceTable]) -> Proposal:
    """The label and relationship rows the tables' keys give, and what they cannot."""
    ordered = sorted(tables, key=lambda t: t.name)
    junctions = {t.name: keys for t in ordered if (keys := junction_keys(t)) is not None}
    unmapped: list[Unmapped] = []
    labels = _labels(ordered, junctions, unmapped)
    joins: list[_Join] = []
    for table in ordered:
        keys = junctions.get(table.name)
        if keys is not None:
            joins += _junction_join(source_name, table, keys, labels, unmapped)
        for fk in table.foreign_keys:
            if keys is None or fk not in keys:
                joins += _direct_join(table, fk, labels, unmapped)
    labelled = [table for table in ordered if table.name in labels]
    nodes = tuple(
        _node(source_name, table, labels[table.name], line)
        for line, table in enumerate(labelled, start=2)
    )
    return Proposal(nodes, _relationships(source_name, joins), tuple(unmapped))


def _labels(
    tables: Sequence[SourceTable],
    junctions: Mapping[str, tuple[ForeignKey, ForeignKey]],
    unmapped: list[Unmapped],
) -> dict[str, str]:
    """Table name -> proposed label, in table order."""
    tables_of: dict[str, str] = {}
    for table in tables:
        subject = f"table {table.name}"
        label = label_name(table.name)
        if not table.primary_key:
            unmapped.append(Unmapped(subject, "no primary key, so no label (a label needs a key)"))
        elif table.name in junctions:
            continue
        elif not LABEL_PATTERN.fullmatch(label):
            unmapped.append(
                Unmapped(
                    subject,
                    f"its name gives {label!r}, not a label matching {LABEL_PATTERN.pattern}: "
                    "write its row by hand",
                )
            )
        elif label in tables_of:
            unmapped.append(
                Unmapped(subject, f"its label {label} is already table {tables_of[label]}'s")
            )
        else:
            tables_of[label] = table.name
    return {name: label for label, name in tables_of.items()}


def _junction_join(
    source_name: str,
    table: SourceTable,
    keys: tuple[ForeignKey, ForeignKey],
    labels: Mapping[str, str],
    unmapped: list[Unmapped],
) -> list[_Join]:
    first, second = keys
    outside = [fk for fk in keys if fk.referenced_table not in labels]
    if outside:
        unmapped += [
            Unmapped(
                f"junction table {table.name}",
                f"foreign key {fk} refers to a table without a proposed label",
            )
            for fk in outside
        ]
        return []
    return [
        _Join(
            type_base=type_name(table.name),
            from_label=labels[first.referenced_table],
            from_column=first.referenced_columns[0],
            to_label=labels[second.referenced_table],
            to_column=second.referenced_columns[0],
            via_table_name=table.name,
            via_from_column=first.columns[0],
            via_to_column=second.columns[0],
            property_columns=tuple(c for c in table.columns if c not in table.primary_key),
            description=(
                f"Proposed from junction table {source_name}.{table.name} "
                f"(foreign keys {first.name}, {second.name})."
            ),
        )
    ]


def _direct_join(
    table: SourceTable, fk: ForeignKey, labels: Mapping[str, str], unmapped: list[Unmapped]
) -> list[_Join]:
    subject = f"foreign key {fk} on {table.name}"
    if len(fk.columns) != 1:
        reason = "more than one column, and a relationship joins on one: write its row by hand"
    elif table.name not in labels:
        reason = f"{table.name} has no proposed label"
    elif fk.referenced_table not in labels:
        reason = f"{fk.referenced_table} has no proposed label (outside the proposal)"
    else:
        return [
            _Join(
                type_base=type_name(fk.columns[0]),
                from_label=labels[table.name],
                from_column=fk.columns[0],
                to_label=labels[fk.referenced_table],
                to_column=fk.referenced_columns[0],
                via_table_name=None,
                via_from_column=None,
                via_to_column=None,
                property_columns=(),
                description=(
                    f"Proposed from foreign key {fk.name} ({table.name}.{fk.columns[0]} -> "
                    f"{fk.referenced_table}.{fk.referenced_columns[0]})."
                ),
            )
        ]
    unmapped.append(Unmapped(subject, reason))
    return []


def _types(joins: Sequence[_Join]) -> list[str]:
    """Each join's relationship type, unique (see the module's rules)."""
    shared = Counter(join.type_base for join in joins)
    types: list[str] = []
    for join in joins:
        name = join.type_base
        if shared[name] > 1 or not LABEL_PATTERN.fullmatch(name):
            name = f"{snake(join.from_label).upper()}_{name}".rstrip("_")
        numbered, number = name, 1
        while numbered in types:
            number += 1
            numbered = f"{name}_{number}"
        types.append(numbered)
    return types


def _node(source_name: str, table: SourceTable, label: str, line: int) -> NodeMapping:
    return NodeMapping(
        label=label,
        source_name=source_name,
        table_name=table.name,
        key_columns=table.primary_key,
        property_columns=(),
        one_node_per_key=False,
        is_active=True,
        description=f"Proposed from the primary key of {source_name}.{table.name}.",
        is_extension=False,
        ref=RowRef(NODE_FILE.file, line, f"label={label}"),
    )


def _relationships(source_name: str, joins: Sequence[_Join]) -> tuple[RelationshipMapping, ...]:
    return tuple(
        RelationshipMapping(
            relationship_type=name,
            from_label=join.from_label,
            from_column=join.from_column,
            to_label=join.to_label,
            to_column=join.to_column,
            via_source_name=source_name if join.via_table_name else None,
            via_table_name=join.via_table_name,
            via_from_column=join.via_from_column,
            via_to_column=join.via_to_column,
            normalize=None,
            is_active=True,
            execution_order=order,
            description=join.description,
            dangling_severity=None,
            key_columns=(),
            property_columns=join.property_columns,
            ref=RowRef(RELATIONSHIP_FILE.file, order + 1, f"relationship_type={name}"),
        )
        for order, (join, name) in enumerate(zip(joins, _types(joins), strict=True), start=1)
    )


def proposable_source(rows: ControlRows, source_name: str) -> SourceDatabase:
    """The active `source_databases` row named `source_name`."""
    source = next((s for s in rows.sources if s.source_name == source_name), None)
    if source is None:
        known = ", ".join(s.source_name for s in rows.sources) or "none"
        raise ConfigError(
            f"source {source_name!r} is not a row of {CONTROL_DIR / SOURCE_FILE.file} "
            f"(its sources: {known}); add its row first"
        )
    if not source.is_active:
        raise ConfigError(
            f"{source.ref}: source {source_name!r} is inactive; set is_active to true "
            "to propose rows from it"
        )
    return source


def propose_from_source(
    settings: Settings,
    source_name: str,
    project_dir: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Proposal:
    """`propose` on the keys of the source database of the row `source_name`."""
    rows = load_control_rows(project_dir or settings.project_dir)
    source = proposable_source(rows, source_name)
    tables = read_source_keys(settings, source, os.environ if env is None else env)
    return propose(source.source_name, tables)


def proposal_directory(project_dir: Path, source_name: str, output: Path | None) -> Path:
    """`output`, or `proposals/<source>/` of the project; never under its seeds/."""
    directory = (output or project_dir / PROPOSALS_DIR / source_name).resolve()
    seeds = (project_dir / CONTROL_DIR.parent).resolve()
    if directory.is_relative_to(seeds):
        raise ConfigError(
            f"--output {directory} is under {seeds}, whose every CSV dbt loads as a seed: "
            "write the proposal elsewhere and copy the rows you keep into "
            f"{CONTROL_DIR}/*.csv"
        )
    return directory


def write_proposal(proposal: Proposal, directory: Path) -> tuple[Path, Path]:
    """Write the label and relationship rows with the control files' headers,
    replacing an earlier proposal's files."""
    directory.mkdir(parents=True, exist_ok=True)
    return (
        _write(directory, NODE_FILE, proposal.nodes),
        _write(directory, RELATIONSHIP_FILE, proposal.relationships),
    )


def _write(
    directory: Path,
    control_file: ControlFile,
    records: Iterable[NodeMapping | RelationshipMapping],
) -> Path:
    path = directory / control_file.file
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(control_file.columns)
        # the records' fields are named after the file's columns
        writer.writerows(
            [_cell(getattr(record, column)) for column in control_file.columns]
            for record in records
        )
    return path


def _cell(value: str | int | bool | tuple[str, ...] | None) -> str:
    """A value as the control files write it (what `c360.control.load` reads back)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return " ".join(value)
    return str(value)
