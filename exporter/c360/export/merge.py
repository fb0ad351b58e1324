"""Merge mode: keyed upserts through batched `UNWIND $rows ... MERGE`.

Each batch is one managed transaction (`execute_write`), retried by the driver on
transient errors, which is safe because MERGE makes every batch idempotent.
Rows travel as lists in column order (`row[0]`), so Python does no per-row work;
temporals travel as ISO 8601 text, which the driver packs natively (it converts a
Python datetime in pure Python), and the statement turns back into values.
Batches go to several writers at once (`writers` sessions on threads), so Neo4j
works on one batch while Python reads and packs the next. That is safe where no
two batches lock the same element in conflicting order: node upserts (a label's
keys are unique) and relationship CREATEs into an empty type (locked at commit,
in order). Relationship MERGEs have one writer: they lock both end nodes as they
go, and batches sharing end nodes would deadlock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

from neo4j import Driver, ManagedTransaction, RoutingControl
from neo4j.exceptions import ClientError

from c360 import parallel, types
from c360.errors import ExportFailedError
from c360.export import cypher
from c360.export.catalog import GRAPH_SCHEMA, Column, GraphPlan, LabelPlan, TablePlan, TypePlan
from c360.export.rows import Batch

DELETE_BATCH = 10_000
# constraints created at once; Neo4j populates each new index on its own thread
CONSTRAINT_WRITERS = 4

OnBatch = Callable[[int], None]


def constraint_statements(plan: GraphPlan) -> list[str]:
    """A uniqueness constraint per label on its key, and per relationship type
    on its relationship key when it has one: MERGE needs the indexes behind them."""
    return [cypher.unique_constraint(p.name, p.key_names) for p in plan.labels] + [
        cypher.relationship_unique_constraint(p.name, p.key_names) for p in plan.types if p.keys
    ]


def ensure_constraints(driver: Driver, database: str, plan: GraphPlan) -> None:
    """Create constraint_statements(plan) and wait for their indexes.

    Creating one returns only once its index is populated; created all at once,
    the indexes of a freshly imported graph are populated side by side.
    """

    def create(statement: str) -> None:
        driver.execute_query(statement, database_=database, routing_=RoutingControl.WRITE)

    with ThreadPoolExecutor(max_workers=CONSTRAINT_WRITERS) as pool:
        # list(): the first failure is raised here
        list(pool.map(create, constraint_statements(plan)))
    driver.execute_query("CALL db.awaitIndexes(300)", database_=database)


class Statement(str):
    """A write statement that knows its graph table's columns by row position, so
    a value Neo4j refuses is reported with the column it came from."""

    table: str
    columns: tuple[Column, ...]

    def __new__(cls, text: str, plan: TablePlan) -> Statement:
        statement = super().__new__(cls, text)
        statement.table = plan.table
        statement.columns = plan.columns
        return statement


def _casts(plan: TablePlan) -> tuple[str, ...]:
    """Rows are read with `params=True`: temporals as text, rebuilt by the statement."""
    return tuple(c.temporal_cast for c in plan.columns)


def node_statement(plan: LabelPlan, *, empty: bool = False) -> Statement:
    """MERGE on the key; CREATE when the label has no node yet (no lookups needed)."""
    build = cypher.create_nodes if empty else cypher.merge_nodes
    others = [c.name for c in plan.properties]
    return Statement(build(plan.name, plan.key_names, others, "$rows", _casts(plan)), plan)


def relationship_statement(plan: TypePlan, *, empty: bool = False) -> Statement:
    """MERGE on the end nodes (and the relationship key); CREATE when the type has
    no relationship yet."""
    text = cypher.merge_relationships(
        plan.name,
        plan.from_label,
        plan.from_keys,
        plan.to_label,
        plan.to_keys,
        [c.name for c in plan.properties],
        "$rows",
        _casts(plan),
        create=empty,
        keys=plan.key_names,
    )
    return Statement(text, plan)


def refused_value(statement: str, rows: Batch, error: ClientError) -> str | None:
    """What a batch `error` refused, naming the graph table column; None when unknown.

    Neo4j quotes the text it could not read as a date or time, and says a list
    held a NULL, but names no property; the column is found from the values.
    The dbt tests finite_temporal and storable_list fail for such values first,
    so this is for tables built without them.
    """
    if not isinstance(statement, Statement):
        return None
    message = error.message or ""
    said = message.splitlines()[0] if message else str(error.code)
    for row in rows:
        for column, value in zip(statement.columns, row, strict=False):
            where = f"{GRAPH_SCHEMA}.{statement.table}.{column.name}"
            if column.temporal_cast and isinstance(value, str) and f'"{value}"' in message:
                kind = types.neo4j_type(column.pg_type).name
                return (
                    f"{where}: Neo4j cannot read {value!r} as a {kind} ({said})"
                    "; dates and times must be finite and within years 1 to 9999: fix or "
                    "exclude the column, and rebuild with `dbt build`, whose finite_temporal "
                    "test names such rows"
                )
            if isinstance(value, list) and any(e is None or isinstance(e, list) for e in value):
                # the list itself is left out: it may be long, and the message is audited
                return (
                    f"{where}: Neo4j cannot store a list holding a NULL or a list ({said})"
                    "; fix or exclude the column, and rebuild with `dbt build`, whose "
                    "storable_list test names such rows"
                )
    return None


def upsert_statement(plan: TablePlan, *, empty: bool = False) -> str:
    """The node or relationship statement for `plan`; CREATE where it has nothing yet."""
    if isinstance(plan, LabelPlan):
        return node_statement(plan, empty=empty)
    return relationship_statement(plan, empty=empty)


def parallel_safe(plan: TablePlan, *, empty: bool) -> bool:
    """Whether batches of `plan` may be written by several sessions at once: node
    upserts, and relationship CREATEs into an empty type (see the module doc)."""
    return isinstance(plan, LabelPlan) or empty


def _run_batch(tx: ManagedTransaction, statement: str, rows: Batch) -> None:
    tx.run(statement, rows=rows).consume()


def write(
    driver: Driver,
    database: str,
    statement: str,
    batches: Iterable[Batch],
    on_batch: OnBatch | None = None,
    *,
    writers: int = 1,
) -> int:
    """Run `statement` once per batch, each in its own retried transaction; rows written.

    `writers` sessions run batches at once (`c360.parallel.share`); more than one
    only where batches cannot deadlock (`parallel_safe`).
    """
    reporting = threading.Lock()

    def writer(mine: Iterator[Batch]) -> list[int]:
        done = 0
        with driver.session(database=database) as session:
            for rows in mine:
                try:
                    session.execute_write(_run_batch, statement, rows)
                except ClientError as error:
                    refused = refused_value(statement, rows, error)
                    if refused is None:
                        raise
                    raise ExportFailedError(refused) from error
                done += len(rows)
                if on_batch is not None:
                    with reporting:
                        on_batch(len(rows))
                # The driver's Result keeps its parameters in a reference cycle, so
                # a written batch would live until a full garbage collection and
                # memory would grow with the table; emptied, its rows go now.
                rows.clear()
        return [done]

    return sum(parallel.share(batches, writers, writer))


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
        for statement in (
            cypher.delete_touching_relationships_batch(label_name),
            cypher.delete_nodes_batch(label_name),
        ):
            deleted += _delete_all(driver, database, statement)
    return deleted


def count_all_nodes(driver: Driver, database: str) -> int:
    records, _, _ = driver.execute_query(
        "MATCH (n) RETURN count(n) AS count", database_=database, routing_=RoutingControl.READ
    )
    return int(records[0]["count"])
