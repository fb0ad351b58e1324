"""Merge mode: keyed upserts through batched `UNWIND $rows ... MERGE`.

Each batch is one managed transaction (`execute_write`), retried by the driver on
transient errors, which is safe because MERGE makes every batch idempotent.
Rows travel as lists in column order (`row[0]`), so Python does no per-row work;
temporals travel as ISO 8601 text, which the driver packs natively (it converts a
Python datetime in pure Python), and the statement turns back into values.
Relationships are written by this one writer: parallel writers deadlock on
shared end nodes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from neo4j import Driver, ManagedTransaction, RoutingControl

from c360 import cypher
from c360.catalog import LabelPlan, TablePlan, TypePlan
from c360.rows import Batch

DELETE_BATCH = 10_000

OnBatch = Callable[[int], None]


def ensure_constraints(driver: Driver, database: str, labels: Sequence[LabelPlan]) -> None:
    """A uniqueness constraint per label, on its key: MERGE needs the index behind it."""
    for plan in labels:
        driver.execute_query(
            cypher.unique_constraint(plan.name, plan.key_names),
            database_=database,
            routing_=RoutingControl.WRITE,
        )
    driver.execute_query("CALL db.awaitIndexes(300)", database_=database)


def _casts(plan: TablePlan) -> tuple[str, ...]:
    """Rows are read with `params=True`: temporals as text, rebuilt by the statement."""
    return tuple(c.temporal_cast for c in plan.columns)


def node_statement(plan: LabelPlan, *, empty: bool = False) -> str:
    """MERGE on the key; CREATE when the label has no node yet (no lookups needed)."""
    build = cypher.create_nodes if empty else cypher.merge_nodes
    others = [c.name for c in plan.properties]
    return build(plan.name, plan.key_names, others, "$rows", _casts(plan))


def relationship_statement(plan: TypePlan) -> str:
    return cypher.merge_relationships(
        plan.name,
        plan.from_label,
        plan.from_keys,
        plan.to_label,
        plan.to_keys,
        [c.name for c in plan.properties],
        "$rows",
        _casts(plan),
    )


def _run_batch(tx: ManagedTransaction, statement: str, rows: Batch) -> None:
    tx.run(statement, rows=rows).consume()


def write(
    driver: Driver,
    database: str,
    statement: str,
    batches: Iterable[Batch],
    on_batch: OnBatch | None = None,
) -> int:
    """Run `statement` once per batch, each in its own retried transaction; rows written."""
    written = 0
    with driver.session(database=database) as session:
        for rows in batches:
            session.execute_write(_run_batch, statement, rows)
            written += len(rows)
            if on_batch is not None:
                on_batch(len(rows))
    return written


def _delete_all(driver: Driver, database: str, statement: str) -> int:
    deleted = 0
    while True:
        records, _, _ = driver.execute_query(
            statement, limit=DELETE_BATCH, database_=database, routing_=RoutingControl.WRITE
        )
        count = int(records[0]["deleted"])
        deleted += count
        if count == 0:
            return deleted


def clear(driver: Driver, database: str, labels: Sequence[str], types: Sequence[str]) -> int:
    """Delete the types' relationships, then the labels' nodes, a bounded batch at a time.

    Small transactions keep the server's memory flat whatever the graph's size.
    """
    deleted = 0
    for type_name in types:
        deleted += _delete_all(driver, database, cypher.delete_relationships_batch(type_name))
    for label_name in labels:
        deleted += _delete_all(driver, database, cypher.delete_nodes_batch(label_name))
    return deleted


def count_all_nodes(driver: Driver, database: str) -> int:
    records, _, _ = driver.execute_query(
        "MATCH (n) RETURN count(n) AS count", database_=database, routing_=RoutingControl.READ
    )
    return int(records[0]["count"])
