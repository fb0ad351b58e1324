"""The rules control rows must keep, in one place.

`row_problems` checks the rows against each other (patterns, references,
duplicates), `check_columns` against the attached sources' columns,
`jinja_problems` each value for Jinja delimiters; `raise_problems` turns the
list into one ConfigError naming file, line and row. They run before `sources
attach` and `models generate` touch anything. `dbt build` does not run them
again: the generated files carry the rows they were made from, and dbt's test
`generated_models_match_control_rows` stops a build whose seeds differ from
them, naming seed, row and column and asking for `c360-export models
generate`, which applies these rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from c360.control.model import (
    CONTROL_DIR,
    DANGLING_SEVERITIES,
    NORMALIZE_VALUES,
    ControlRows,
    RowRef,
    SourceDatabase,
    source_schema,
)
from c360.errors import ConfigError

# Labels and relationship types become Neo4j names, written unquoted in messages
# and backtick-quoted in Cypher (c360.export.cypher checks them again).
LABEL_PATTERN = re.compile(r"^[A-Z][A-Za-z0-9_]*$")
# Source names become dbt source names and schema names (src_<source_name>).
SOURCE_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
ENV_VAR_PATTERN = re.compile(r"^[A-Z_][A-Z0-9_]*$")
# A '{' then '{', '%' or '#': a Jinja delimiter, which dbt would evaluate where
# `models generate` writes a value (descriptions, meta).
JINJA_PATTERN = re.compile(r"[{][#%{]")


def jinja_problems(ref: RowRef, values: Mapping[str, str | None]) -> list[str]:
    """A value holding Jinja delimiters: dbt would evaluate it where `models
    generate` writes it (descriptions, meta)."""
    return [
        f"{ref}: {name} holds Jinja delimiters ({{{{, {{% or {{#), which dbt "
        "would evaluate in the generated files; remove them"
        for name, value in values.items()
        if JINJA_PATTERN.search(value or "")
    ]


def check_columns(rows: ControlRows, columns: Mapping[tuple[str, str], Sequence[str]]) -> None:
    """Check every table and column the active rows name against the attached
    foreign tables (`columns`: (source, table) -> column names)."""
    problems: list[str] = []

    def need(ref: RowRef, what: str, source: str, table: str, names: Iterable[str]) -> None:
        if (source, table) not in columns:
            problems.append(
                f"{ref}: table {table!r} does not exist in source {source!r} (schema "
                f"{source_schema(source)}); run `c360-export sources attach` "
                "after adding a source table"
            )
            return
        excluded = set(rows.excluded_columns(source, table))
        for name in names:
            if name not in columns[(source, table)]:
                problems.append(f"{ref}: {what} {name!r} does not exist in {source}.{table}")
            elif name in excluded:
                problems.append(f"{ref}: {what} {name!r} is excluded by field_exclusion_rules")

    for node in rows.active_nodes:
        need(node.ref, "key column", node.source_name, node.table_name, node.key_columns)
        need(
            node.ref,
            "property column",
            node.source_name,
            node.table_name,
            node.property_columns,
        )
    for rel in rows.active_relationships:
        start, end = rows.node(rel.from_label), rows.node(rel.to_label)
        need(rel.ref, "from_column", start.source_name, start.table_name, [rel.from_column])
        need(rel.ref, "to_column", end.source_name, end.table_name, [rel.to_column])
        if rel.via is not None:
            names = [rel.via_from_column or "", rel.via_to_column or ""]
            need(rel.ref, "via column", *rel.via, names)
    for rule in rows.exclusions:
        source = next((s for s in rows.sources if s.source_name == rule.source_name), None)
        if source is None or not source.is_active:
            continue
        table = columns.get((rule.source_name, rule.table_name))
        if table is None or rule.column_name not in table:
            problems.append(
                f"{rule.ref}: column {rule.source_name}.{rule.table_name}."
                f"{rule.column_name} does not exist in the attached source"
            )
    raise_problems(problems)


def _duplicates(refs: Iterable[tuple[str, RowRef]], what: str) -> list[str]:
    seen: dict[str, RowRef] = {}
    problems = []
    for key, ref in refs:
        if key in seen:
            problems.append(f"{ref}: duplicate {what} (first at line {seen[key].line})")
        else:
            seen[key] = ref
    return problems


def row_problems(rows: ControlRows) -> list[str]:
    """What is wrong with the rows taken together: patterns, references, duplicates."""
    problems: list[str] = []
    sources = {s.source_name: s for s in rows.sources}
    labels = {n.label: n for n in rows.nodes}

    for source in rows.sources:
        if not SOURCE_NAME_PATTERN.fullmatch(source.source_name):
            problems.append(f"{source.ref}: source_name must match {SOURCE_NAME_PATTERN.pattern}")
        if not ENV_VAR_PATTERN.fullmatch(source.password_env_var):
            problems.append(
                f"{source.ref}: password_env_var must name an environment variable "
                f"(matching {ENV_VAR_PATTERN.pattern}), never hold a password"
            )
    problems += _duplicates(((s.source_name, s.ref) for s in rows.sources), "source_name")

    for node in rows.nodes:
        if not LABEL_PATTERN.fullmatch(node.label):
            problems.append(f"{node.ref}: label must match {LABEL_PATTERN.pattern}")
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
        if not LABEL_PATTERN.fullmatch(rel.relationship_type):
            problems.append(f"{rel.ref}: relationship_type must match {LABEL_PATTERN.pattern}")
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
        if rel.normalize is not None and rel.normalize not in NORMALIZE_VALUES:
            problems.append(
                f"{rel.ref}: normalize must be blank or one of {', '.join(NORMALIZE_VALUES)}"
            )
        if rel.dangling_severity is not None and rel.dangling_severity not in DANGLING_SEVERITIES:
            problems.append(
                f"{rel.ref}: dangling_severity must be blank or one of "
                f"{', '.join(DANGLING_SEVERITIES)}"
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


def raise_problems(problems: list[str]) -> None:
    if problems:
        listing = "\n  ".join(problems)
        raise ConfigError(
            f"invalid control rows:\n  {listing}\nFix the rows in {CONTROL_DIR}/ and run again."
        )
