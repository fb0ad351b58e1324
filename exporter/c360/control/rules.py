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
    FULL,
    NORMALIZE_VALUES,
    SCHEMA_SEPARATOR,
    STRATEGIES,
    UPDATED_AT,
    ChangeTracking,
    ControlRows,
    NodeMapping,
    RelationshipMapping,
    RowRef,
    SourceDatabase,
    Table,
    local_schema,
)
from c360.errors import ConfigError

# Labels and relationship types become Neo4j names, written unquoted in messages
# and backtick-quoted in Cypher (c360.export.cypher checks them again).
LABEL_PATTERN = re.compile(r"^[A-Z][A-Za-z0-9_]*$")
# Source names become dbt source names and schema names (src_<source_name>).
SOURCE_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
ENV_VAR_PATTERN = re.compile(r"^[A-Z_][A-Z0-9_]*$")
# A source's schemas become parts of local schema, dbt source and staging model
# names (src_<source>__<schema>, stg_<source>__<schema>__<table>): plain names only.
SCHEMA_NAME_PATTERN = re.compile(r"^[a-z_][a-z0-9_]*$")
# PostgreSQL truncates longer identifiers (NAMEDATALEN - 1), in bytes.
MAX_IDENTIFIER_BYTES = 63
# A '{' then '{', '%' or '#': a Jinja delimiter, which dbt would evaluate where
# `models generate` writes a value (descriptions, meta).
JINJA_PATTERN = re.compile(r"[{][#%{]")


def written_table_name(remote_schema: str, table_name: str, schemas_holding_it: int) -> str:
    """How control rows write a source table: its name alone when one of the
    source's schemas has a table of that name, `schema.table` when several do
    (or when the name itself holds the separator). One spelling per table, so
    an exclusion written for it applies to every row reading it."""
    if schemas_holding_it > 1 or SCHEMA_SEPARATOR in table_name:
        return f"{remote_schema}{SCHEMA_SEPARATOR}{table_name}"
    return table_name


def jinja_problems(ref: RowRef, values: Mapping[str, str | None]) -> list[str]:
    """A value holding Jinja delimiters: dbt would evaluate it where `models
    generate` writes it (descriptions, meta)."""
    return [
        f"{ref}: {name} holds Jinja delimiters ({{{{, {{% or {{#), which dbt "
        "would evaluate in the generated files; remove them"
        for name, value in values.items()
        if JINJA_PATTERN.search(value or "")
    ]


def check_columns(
    rows: ControlRows,
    columns: Mapping[Table, Sequence[str]],
    remote_schemas: Mapping[Table, str] | None = None,
) -> None:
    """Check every table, model and column the active rows name against the
    attached foreign tables and the project's models (`columns`: table -> names,
    source tables spelt as `written_table_name` says; `remote_schemas`: each
    source table's schema in its database, which messages name)."""
    problems: list[str] = []
    remote_schemas = remote_schemas or {}

    def need(ref: RowRef, what: str, table: Table, names: Iterable[str]) -> None:
        if table not in columns:
            problems.append(f"{ref}: {_missing_table(rows, table, remote_schemas)}")
            return
        excluded = set(rows.excluded_columns(*table))
        for name in names:
            if name not in columns[table]:
                problems.append(f"{ref}: {what} {name!r} does not exist in {table}")
            elif name in excluded:
                problems.append(f"{ref}: {what} {name!r} is excluded by field_exclusion_rules")

    for node in rows.active_nodes:
        need(node.ref, "key column", node.table, node.key_columns)
        need(node.ref, "property column", node.table, node.property_columns)
    for extension in rows.active_extensions:
        need(extension.ref, "key column", extension.table, extension.key_columns)
        need(extension.ref, "property column", extension.table, extension.property_columns)
        if extension.table in columns:
            problems += _extension_clashes(rows, extension, columns)
    for rel in rows.active_relationships:
        start, end = rows.node(rel.from_label), rows.node(rel.to_label)
        need(rel.ref, "from_column", start.table, [rel.from_column])
        need(rel.ref, "to_column", end.table, [rel.to_column])
        if rel.via is not None:
            names = [rel.via_from_column or "", rel.via_to_column or ""]
            need(rel.ref, "via column", rel.via, names)
        need(rel.ref, "relationship column", rel.via or start.table, rel.properties)
    for tracked in _checked_tracking(rows):
        need(tracked.ref, "key column", tracked.table, tracked.key_columns)
        if tracked.watermark_column is not None:
            need(tracked.ref, "watermark_column", tracked.table, [tracked.watermark_column])
    for rule in rows.exclusions:
        source = next((s for s in rows.sources if s.source_name == rule.source_name), None)
        if source is None or not source.is_active:
            continue
        table = columns.get(Table(rule.source_name, rule.table_name))
        if table is None:
            missing = _missing_table(rows, Table(rule.source_name, rule.table_name), remote_schemas)
            problems.append(f"{rule.ref}: {missing}")
        elif rule.column_name not in table:
            problems.append(
                f"{rule.ref}: column {rule.source_name}.{rule.table_name}."
                f"{rule.column_name} does not exist in the attached source"
            )
    raise_problems(problems)


def _checked_tracking(rows: ControlRows) -> tuple[ChangeTracking, ...]:
    """The change-tracking rows the rules check against the tables: active rows
    of active sources (those of an inactive source are kept on file unchecked,
    as exclusion rules are)."""
    active = {s.source_name for s in rows.active_sources}
    return tuple(t for t in rows.tracking if t.is_active and t.source_name in active)


def _missing_table(rows: ControlRows, table: Table, remote_schemas: Mapping[Table, str]) -> str:
    """Why a row's table is not among the attached ones: a model that does not
    exist, a short name two schemas share, a qualified name that needs none, or
    a table no schema of the source has."""
    if table.is_model:
        return (
            f"table_name {table.table_name!r} names no model of this dbt project (its "
            "source_name is blank, which means a model: models/**/"
            f"{table.table_name}.sql with its columns declared in YAML)"
        )
    source = rows.source(table.source_name or "")
    name = table.remote_table
    holders = sorted(
        schema
        for attached, schema in remote_schemas.items()
        if attached.source_name == source.source_name and attached.remote_table == name
    )
    listed = " ".join(source.schemas)
    if table.schema_qualifier is None and len(holders) > 1:
        return (
            f"table_name {name!r} is ambiguous: schemas {' and '.join(holders)} of source "
            f"{source.source_name!r} {'both' if len(holders) == 2 else 'each'} have a table "
            f"{name}; write " + " or ".join(f"{schema}.{name}" for schema in holders)
        )
    if table.schema_qualifier is not None and holders == [table.schema_qualifier]:
        return (
            f"table_name {table.table_name!r}: schema {table.schema_qualifier} is the only "
            f"schema of source {source.source_name!r} with a table {name}, so it is written "
            f"short: {name}"
        )
    where = (
        f"schema {table.schema_qualifier}"
        if table.schema_qualifier is not None
        else f"the schemas of source {source.source_name!r} ({listed})"
    )
    return (
        f"table {name!r} does not exist in {where} (or {source.user_name} may not read "
        f"it); run `c360-export sources attach` after adding a source table ({source.ref})"
    )


def _extension_clashes(
    rows: ControlRows, extension: NodeMapping, columns: Mapping[Table, Sequence[str]]
) -> list[str]:
    """Properties an extension adds that its label already carries."""
    label = rows.node(extension.label)
    carried = set(label.key_columns) | set(
        label.property_columns
        or [c for c in columns.get(label.table, ()) if c not in rows.excluded_columns(*label.table)]
    )
    for other in rows.extensions_of(extension.label):
        if other.ref.line < extension.ref.line:
            carried |= set(extension_properties(other, columns.get(other.table, ())))
    return [
        f"{extension.ref}: property {name!r} is already a property of {extension.label}; "
        "rename it in the extension or leave it out of property_columns"
        for name in extension_properties(extension, columns[extension.table])
        if name in carried
    ]


def extension_properties(extension: NodeMapping, names: Sequence[str]) -> tuple[str, ...]:
    """The properties an extension adds: its property_columns, or every column but the key."""
    return extension.property_columns or tuple(n for n in names if n not in extension.key_columns)


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
    labels = {n.label: n for n in rows.nodes if not n.is_extension}

    for source in rows.sources:
        if not SOURCE_NAME_PATTERN.fullmatch(source.source_name):
            problems.append(f"{source.ref}: source_name must match {SOURCE_NAME_PATTERN.pattern}")
        if not ENV_VAR_PATTERN.fullmatch(source.password_env_var):
            problems.append(
                f"{source.ref}: password_env_var must name an environment variable "
                f"(matching {ENV_VAR_PATTERN.pattern}), never hold a password"
            )
    problems += _duplicates(((s.source_name, s.ref) for s in rows.sources), "source_name")
    problems += _schema_problems(rows.sources)
    problems += _qualifier_problems(rows, sources)

    for node in rows.nodes:
        if not LABEL_PATTERN.fullmatch(node.label):
            problems.append(f"{node.ref}: label must match {LABEL_PATTERN.pattern}")
        if node.source_name is not None:
            problems += _source_problems(node.ref, node.source_name, node.is_active, sources)
        if node.is_extension:
            problems += _extension_problems(node, labels)
        elif node.one_node_per_key:
            extra = [c for c in node.property_columns if c not in node.key_columns]
            if extra:
                problems.append(
                    f"{node.ref}: one_node_per_key nodes carry only their key: property "
                    f"columns {extra} are not key columns"
                )
    problems += _duplicates(
        ((n.label, n.ref) for n in rows.nodes if not n.is_extension), "mapping for this label"
    )
    problems += _duplicates(
        ((f"{n.label} from {n.table}", n.ref) for n in rows.nodes if n.is_extension),
        "extension of this label from this table",
    )

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
        via = (rel.via_table_name, rel.via_from_column, rel.via_to_column)
        if sum(v is not None for v in via) not in (0, 3):
            problems.append(
                f"{rel.ref}: via_table_name, via_from_column and via_to_column must be all "
                "set or all blank (via_source_name blank with a via_table_name: a dbt model)"
            )
        elif rel.via_source_name is not None and rel.via_table_name is None:
            problems.append(f"{rel.ref}: via_source_name is set but via_table_name is blank")
        elif rel.via_source_name is not None:
            problems += _source_problems(rel.ref, rel.via_source_name, rel.is_active, sources)
        problems += _relationship_column_problems(rel, labels)
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

    for tracked in rows.tracking:
        problems += _tracking_problems(tracked, sources)
    staged = set(rows.staging_tables())
    problems += [
        f"{t.ref}: no active label or relationship reads {t.table}, so the row would do "
        "nothing; map the table, or set is_active=false"
        for t in _checked_tracking(rows)
        if t.table not in staged
    ]
    problems += _duplicates(
        ((str(t.table), t.ref) for t in rows.tracking), "change tracking row for this table"
    )
    return problems


def _schema_problems(sources: Sequence[SourceDatabase]) -> list[str]:
    """Schemas a source row cannot name: not a plain name, twice, or one whose
    local schema another source's schema (or the length limit) would take."""
    problems: list[str] = []
    local: list[tuple[str, RowRef]] = []
    for source in sources:
        for schema in source.schemas:
            if not SCHEMA_NAME_PATTERN.fullmatch(schema):
                problems.append(
                    f"{source.ref}: schema {schema!r} must match {SCHEMA_NAME_PATTERN.pattern}"
                )
                continue
            name = local_schema(source.source_name, schema)
            if len(name.encode()) > MAX_IDENTIFIER_BYTES:
                problems.append(
                    f"{source.ref}: the local schema {name} of schema {schema} is longer than "
                    f"PostgreSQL's {MAX_IDENTIFIER_BYTES} bytes; shorten source_name"
                )
            local.append((name, source.ref))
        problems += _duplicates(((s, source.ref) for s in source.schemas), "schema in schemas")
    seen: dict[str, RowRef] = {}
    for name, ref in local:
        first = seen.setdefault(name, ref)
        if first != ref:
            problems.append(
                f"{ref}: its local schema {name} is also that of the source at line "
                f"{first.line}; rename one source_name"
            )
    return problems


def _qualifier_problems(rows: ControlRows, sources: Mapping[str, SourceDatabase]) -> list[str]:
    """A qualified table_name (`helpdesk.tickets`) whose schema is not one its
    source's row names in `schemas`."""
    named: list[tuple[RowRef, Table]] = [(n.ref, n.table) for n in rows.nodes]
    named += [(r.ref, r.via) for r in rows.relationships if r.via is not None]
    named += [(e.ref, Table(e.source_name, e.table_name)) for e in rows.exclusions]
    named += [(t.ref, t.table) for t in rows.tracking]
    problems = []
    for ref, table in named:
        source = sources.get(table.source_name or "")
        if source is None or table.schema_qualifier is None:
            continue
        if table.schema_qualifier not in source.schemas:
            problems.append(
                f"{ref}: table_name {table.table_name!r} names schema "
                f"{table.schema_qualifier!r}, which is not among the schemas of source "
                f"{source.source_name!r} ({' '.join(source.schemas)}: {source.ref}); add it "
                "there and run `c360-export sources attach`"
            )
    return problems


def _tracking_problems(tracked: ChangeTracking, sources: Mapping[str, SourceDatabase]) -> list[str]:
    """What a change-tracking row cannot say, whatever the tables hold."""
    ref = tracked.ref
    if tracked.source_name is None:
        return [
            f"{ref}: source_name is blank: change tracking is for source tables (their "
            "staging models); a model of this project is built by dbt from its inputs"
        ]
    problems = []
    if tracked.source_name not in sources:
        problems.append(f"{ref}: unknown source {tracked.source_name!r} (not in source_databases)")
    if tracked.strategy not in STRATEGIES:
        return [
            *problems,
            f"{ref}: unknown strategy {tracked.strategy!r}: must be one of {', '.join(STRATEGIES)}",
        ]
    if tracked.strategy == FULL:
        if tracked.watermark_column is not None:
            problems.append(
                f"{ref}: strategy full re-reads every row, so watermark_column must be blank"
            )
        return problems
    what = (
        "the column that only grows as rows are inserted"
        if tracked.strategy != UPDATED_AT
        else "the time each insert or update sets"
    )
    if tracked.watermark_column is None:
        problems.append(f"{ref}: strategy {tracked.strategy} needs a watermark_column ({what})")
    if not tracked.key_columns:
        problems.append(
            f"{ref}: strategy {tracked.strategy} needs key_columns, the table's unique key: "
            "a changed row replaces the staged row of its key, and a key gone from the "
            "source is a deleted row"
        )
    return problems


def _extension_problems(extension: NodeMapping, labels: Mapping[str, NodeMapping]) -> list[str]:
    label = labels.get(extension.label)
    if label is None:
        return [
            f"{extension.ref}: is_extension adds properties to label {extension.label!r}, "
            "which has no row of its own in node_label_mappings"
        ]
    problems = []
    if extension.is_active and not label.is_active:
        problems.append(f"{extension.ref}: the extension is active but {extension.label} is not")
    if extension.key_columns != label.key_columns:
        problems.append(
            f"{extension.ref}: key_columns {' '.join(extension.key_columns)!r} are not the key "
            f"of {extension.label} ({' '.join(label.key_columns)!r}); an extension joins its "
            "rows to the label's nodes on that key, so it must name the same columns"
        )
    if extension.one_node_per_key:
        problems.append(
            f"{extension.ref}: one_node_per_key must be false for an extension (it adds "
            "properties to nodes; it does not make any)"
        )
    return problems


def _relationship_column_problems(
    rel: RelationshipMapping, labels: Mapping[str, NodeMapping]
) -> list[str]:
    """Key and property columns a relationship row cannot have: a key without a
    junction, or a property named like one of its edge table's endpoint columns."""
    problems = []
    if rel.key_columns and rel.via is None:
        problems.append(
            f"{rel.ref}: key_columns needs a junction (via_table_name): one relationship per "
            "junction row; a direct match gives one per (start, end) pair"
        )
    endpoint_columns = {
        f"{prefix}_{key}"
        for prefix, label in (("start", rel.from_label), ("end", rel.to_label))
        if label in labels
        for key in labels[label].key_columns
    }
    clashes = sorted(set(rel.properties) & endpoint_columns)
    if clashes:
        problems.append(
            f"{rel.ref}: property columns {clashes} have the names of the edge table's "
            "start/end key columns; rename them in the junction or the source"
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
