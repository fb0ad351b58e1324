"""What `models generate` refuses before writing anything: each problem names
source, table and column (or the control row) and the way out."""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from pathlib import Path

from c360 import types
from c360.control.model import APPEND_ONLY, UPDATED_AT, ControlRows, RelationshipMapping, Table
from c360.control.rules import JINJA_PATTERN, MAX_IDENTIFIER_BYTES
from c360.errors import ConfigError
from c360.export.bulk import header_problem
from c360.transform.columns import TableColumns, carried_columns
from c360.transform.naming import edge_model, node_model, read_model

# dbt renders a test argument that looks like one of these calls (and then
# reads it as a Python literal): dbt.clients.jinja.add_rendered_test_kwargs.
_DBT_CALL = re.compile(r"^\s*(env_var|ref|var|source|doc)\s*\(.+\)\s*$")
# The source types a watermark may have (information_schema's data_type), per
# strategy: values that only grow as rows are inserted (a sequence or the
# time of insertion), and the time each insert or update sets.
_TIMES = ("timestamp with time zone", "timestamp without time zone", "date")
WATERMARK_TYPES = {
    APPEND_ONLY: ("smallint", "integer", "bigint", "numeric", *_TIMES),
    UPDATED_AT: _TIMES,
}


def check_unique_names(rows: ControlRows) -> None:
    """Refuse two active rows whose graph tables would share a name, and two
    source tables whose staging models would (`helpdesk.x` and a table `helpdesk__x`)."""
    seen: dict[str, str] = {}
    for name, ref in [(node_model(n.label), n.ref) for n in rows.active_nodes] + [
        (edge_model(r.relationship_type), r.ref) for r in rows.active_relationships
    ]:
        if name in seen:
            raise ConfigError(
                f"invalid control rows:\n  {ref}: its table name {name} is also the table of "
                f"{seen[name]}; rename one of them"
            )
        seen[name] = str(ref)
    staged: dict[str, Table] = {}
    for table in rows.staging_tables():
        other = staged.setdefault(read_model(table), table)
        if other != table:
            raise ConfigError(
                f"invalid control rows: source tables {other} and {table} would both be "
                f"staged as {read_model(table)}; map a view of the source under another name"
            )


def check_types(rows: ControlRows, staged: TableColumns) -> None:
    """Refuse, naming each, the columns that reach a graph table but whose values
    Neo4j would not hold exactly (types.graph_type), and keys of a type that
    cannot identify a node or relationship."""
    problems: list[str] = []
    for carried in carried_columns(rows, staged):
        column = carried.column
        what = f"{carried.table}.{column.name} ({column.source_type})"
        try:
            graph_type = column.graph_type
        except types.UnsupportedTypeError as error:
            problems.append(f"{what}: {error}")
            continue
        if carried.is_key and graph_type not in types.KEY_TYPES:
            problems.append(
                f"{what}: key of {carried.owner}: a key must be text, a number, a boolean "
                "or a date or time"
            )
    if problems:
        listing = "\n  ".join(sorted(set(problems)))
        raise ConfigError(
            f"source columns whose values Neo4j would not hold exactly:\n  {listing}\n"
            "Exclude each with a field_exclusion_rules row (or leave it out of its row's "
            "property_columns), or cast it before c360 reads it: a view in the source "
            "database selecting it as a type that fits (numeric(18,0), numeric(15,s), "
            "double precision if rounding is acceptable, text), mapped instead of the table. "
            "Then run `c360-export sources attach` and `c360-export models generate` again."
        )


def check_watermarks(rows: ControlRows, staged: TableColumns) -> None:
    """Refuse a watermark column of a type that does not order rows by when they
    were written: text, say, whose order is the collation's."""
    problems = []
    for table in rows.staging_tables():
        tracked = rows.change_tracking(table)
        if tracked is None or tracked.watermark_column is None:
            continue
        allowed = WATERMARK_TYPES.get(tracked.strategy, ())
        column = next((c for c in staged[table] if c.name == tracked.watermark_column), None)
        if column is not None and column.data_type not in allowed:
            problems.append(
                f"{tracked.ref}: watermark_column {table}.{column.name} is "
                f"{column.data_type}; strategy {tracked.strategy} needs one of: "
                f"{', '.join(allowed)}"
            )
    if problems:
        listing = "\n  ".join(problems)
        raise ConfigError(
            f"invalid control rows:\n  {listing}\nName another column (add one to the "
            "source, maintained by a trigger, or map a view computing it), or use strategy "
            "full."
        )


def dangling_side(rel: RelationshipMapping, rows: ControlRows) -> str:
    """Whose rows the `dangling_rows` test counts when they find no partner.

    A junction's rows ('via'); for a direct join the side whose join column is
    not its label's single key ('from' for PlayEvent.media_id -> Media.media_id:
    play events without their title), else the end side ('to').
    """
    if rel.via is not None:
        return "via"
    from_is_key = rows.node(rel.from_label).key_columns == (rel.from_column,)
    to_is_key = rows.node(rel.to_label).key_columns == (rel.to_column,)
    return "from" if to_is_key and not from_is_key else "to"


def check_column_names(rows: ControlRows, staged: TableColumns) -> None:
    """Refuse, naming each with its way out, the source column names some stage
    of c360 cannot carry; any other name is quoted wherever it is written."""
    rename = "rename it in the source (or attach a view that renames it)"
    problems: list[str] = []
    for table, columns in staged.items():
        for column in columns:
            if JINJA_PATTERN.search(column.name):
                problems.append(
                    f"{table}.{column.name}: holds Jinja delimiters, which dbt would "
                    f"evaluate in the generated files; {rename}"
                )
    for carried in carried_columns(rows, staged):
        name = carried.column.name
        where = f"{carried.table}.{name}"
        problem = header_problem(name)
        if problem is not None:
            way_out = (
                rename
                if carried.is_key
                else f"exclude it (a field_exclusion_rules row), leave it out of "
                f"{carried.owner}'s property_columns, or {rename}"
            )
            problems.append(f"{where}: {problem}; {way_out}")
        if carried.is_key:
            problem = _test_argument_problem(name)
            if problem is not None:
                problems.append(f"{where}: key of {carried.owner}: {problem}; {rename}")
    for node in rows.active_nodes:
        for key in node.key_columns:
            edge_column = f"start_{key}"
            if len(edge_column.encode()) > MAX_IDENTIFIER_BYTES:
                problems.append(
                    f"{node.table}.{key}: key of {node.label}: its edge table column "
                    f"{edge_column} is longer than PostgreSQL's {MAX_IDENTIFIER_BYTES} bytes; "
                    f"{rename}"
                )
    if problems:
        listing = "\n  ".join(sorted(set(problems)))
        raise ConfigError(f"source columns c360 cannot carry:\n  {listing}")


def check_no_jinja(files: Mapping[Path, str]) -> None:
    """Refuse YAML that would hold Jinja: dbt renders its values, and what they
    carry from the sources (names, type names) is not c360's to trust. The
    names and control rows are checked first, so this names what else did it."""
    found = [
        f"{path}:{number}: {line.strip()}"
        for path, text in sorted(files.items())
        if path.suffix == ".yml"
        for number, line in enumerate(text.splitlines(), 1)
        if JINJA_PATTERN.search(line)
    ]
    if found:
        listing = "\n  ".join(found)
        raise ConfigError(
            f"generated YAML would hold Jinja delimiters, which dbt would evaluate:\n  "
            f"{listing}\nRename what carries them in the source (a column's type, for one)."
        )


def _test_argument_problem(name: str) -> str | None:
    """Why a key column name would not survive dbt's rendering of test arguments
    (node and edge key tests name key columns), or None."""
    if _DBT_CALL.match(name):
        return "dbt would evaluate it as a call in its test arguments"
    try:
        value = ast.literal_eval(name)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    return f"dbt would read it as the value {value!r} in its test arguments"
