"""Cypher mode: a script for cypher-shell users, written as the rows stream in.

Constraints first, then one `UNWIND [literal rows] AS row MERGE ...;` statement
per batch: the same statements merge mode sends, with the parameter replaced by
escaped literals. Every statement is one line ending in `;`, so the file is
never held in memory, neither here nor by a reader splitting it by lines.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TextIO

from c360 import types
from c360.errors import ConfigError
from c360.export import cypher, merge
from c360.export.catalog import GRAPH_SCHEMA, GraphPlan, LabelPlan, TablePlan, TypePlan
from c360.export.rows import Batch

ROWS_PLACEHOLDER = "__C360_ROWS__"


def _statement(plan: TablePlan) -> str:
    others = [c.name for c in plan.properties]
    # rows hold Python values (Column.value_sql), durations as text
    casts = [c.value_cast for c in plan.columns]
    if isinstance(plan, LabelPlan):
        return cypher.merge_nodes(plan.name, plan.key_names, others, ROWS_PLACEHOLDER, casts)
    assert isinstance(plan, TypePlan)
    return cypher.merge_relationships(
        plan.name,
        plan.from_label,
        plan.from_keys,
        plan.to_label,
        plan.to_keys,
        others,
        ROWS_PLACEHOLDER,
        casts,
        keys=plan.key_names,
    )


def check_plan(plan: GraphPlan) -> None:
    """ConfigError naming every column a script cannot carry: Cypher has no
    byte-array literal (nor a function building one from text or numbers)."""
    refused = [
        f"{GRAPH_SCHEMA}.{table.table}.{column.name}"
        for table in plan.tables
        for column in table.columns
        if column.pg_type == types.BYTES
    ]
    if refused:
        raise ConfigError(
            f"cypher mode cannot write the byte arrays of {', '.join(refused)}: Cypher has no "
            "byte-array literal. Export with --mode merge or bulk, leave the label or type "
            "out (--label/--type), or exclude the column (a field_exclusion_rules row)"
        )


def write_header(out: TextIO, plan: GraphPlan) -> None:
    out.write("// c360 graph export: constraints first, then batched keyed upserts.\n")
    out.write("// Run with: cypher-shell -f <this file>\n")
    for statement in merge.constraint_statements(plan):
        out.write(statement + ";\n")
    out.write("CALL db.awaitIndexes(300);\n")


def write_table(
    out: TextIO,
    plan: TablePlan,
    batches: Iterable[Batch],
    on_batch: Callable[[int], None] | None = None,
) -> int:
    """Append one statement per batch of `plan`'s rows; rows written."""
    before, after = _statement(plan).split(ROWS_PLACEHOLDER)
    written = 0
    out.write(f"// {plan.kind} {plan.name}\n")
    for rows in batches:
        out.write(before)
        out.write(cypher.literal(rows))
        out.write(after)
        out.write(";\n")
        written += len(rows)
        if on_batch is not None:
            on_batch(len(rows))
    return written


def statements(lines: Iterable[str]) -> Iterable[str]:
    """The statements of a script written by this module, one per non-comment line."""
    for line in lines:
        text = line.strip()
        if text and not text.startswith("//"):
            yield text.removesuffix(";")


def write_clear(out: TextIO, plan: GraphPlan) -> None:
    """Delete the selected graph in bounded transactions (cypher-shell auto-commits)."""
    for edge in plan.types:
        out.write(
            f"MATCH ()-[r:{cypher.label(edge.name)}]->() "
            "CALL { WITH r DELETE r } IN TRANSACTIONS OF 10000 ROWS;\n"
        )
    for label in plan.labels:
        out.write(
            f"MATCH (n:{cypher.label(label.name)}) "
            "CALL { WITH n DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS;\n"
        )
