"""Stream a graph table's rows out of PostgreSQL in batches, memory flat at any size.

A server-side (named) cursor hands out `batch_size` rows per round trip; a
background thread fetches the next batch while the caller writes the current
one, so PostgreSQL and Neo4j work at the same time. Graph tables are read in
the export's snapshot (`c360.export.snapshot`); anything else on a plain connection.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, suppress

from psycopg2 import sql
from psycopg2.extensions import connection as pg_connection_type

from c360.export.catalog import GRAPH_SCHEMA, TablePlan
from c360.export.snapshot import GraphSnapshot

Connect = Callable[[], AbstractContextManager[pg_connection_type]]

Batch = list[tuple[object, ...]]

_DONE = object()


def select_sql(plan: TablePlan, *, params: bool = False) -> sql.Composed:
    """Columns in plan order (keys or start/end first), as Python values.

    `params`: as parameters of merge's statements instead (`Column.param_sql`).
    """
    return sql.SQL("select {} from {}.{}").format(
        sql.SQL(", ").join(c.param_sql() if params else c.value_sql() for c in plan.columns),
        sql.Identifier(GRAPH_SCHEMA),
        sql.Identifier(plan.table),
    )


def _fetch(
    connect: Connect,
    query: sql.Composable,
    cursor_name: str,
    batch_size: int,
    out: queue.Queue[object],
    stop: threading.Event,
) -> None:
    try:
        with connect() as conn:
            with conn.cursor() as cur:
                # UTC datetimes; the same instant whatever the server's zone
                cur.execute("set TimeZone = 'UTC'")
            with conn.cursor(name=cursor_name) as cur:
                cur.itersize = batch_size
                cur.execute(query)
                while not stop.is_set() and (batch := cur.fetchmany(batch_size)):
                    out.put(batch)
            conn.rollback()
        out.put(_DONE)
    except BaseException as error:  # handed to the consumer, which re-raises it
        out.put(error)


def batches(
    snapshot: GraphSnapshot, plan: TablePlan, batch_size: int, *, params: bool = False
) -> Iterator[Batch]:
    """Rows of `plan`'s table as of `snapshot`, as tuples in plan column order,
    `batch_size` at a time. `params` as in `select_sql`.
    """
    query = select_sql(plan, params=params)
    return query_batches(snapshot.connection, query, f"c360_{plan.kind}_{plan.name}", batch_size)


def query_batches(
    connect: Connect, query: sql.Composable, cursor_name: str, batch_size: int
) -> Iterator[Batch]:
    """Rows of any `query` on a connection from `connect`, `batch_size` at a time,
    through the named cursor `cursor_name`."""
    # two batches in flight at most: one being written, one prefetched
    out: queue.Queue[object] = queue.Queue(maxsize=2)
    stop = threading.Event()
    worker = threading.Thread(
        target=_fetch,
        args=(connect, query, cursor_name, batch_size, out, stop),
        name=f"pg-{cursor_name}",
        daemon=True,
    )
    worker.start()
    try:
        while True:
            item = out.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        # a consumer that stopped early: tell the worker, unblock its put, let it close
        stop.set()
        while worker.is_alive():
            with suppress(queue.Empty):
                out.get(timeout=0.1)
