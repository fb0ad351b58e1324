"""One export per target at a time: a PostgreSQL advisory lock held for the run.

The lock lives in the staging database every export already talks to, keyed by
a hash of the Neo4j target, and is held by a dedicated session: if the process
dies, PostgreSQL drops the session and the lock with it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2

from c360.audit import redact
from c360.errors import ExportBusyError


def lock_key(target: str) -> int:
    """A signed 64-bit key for `target`, stable across processes and machines."""
    digest = hashlib.sha256(f"c360-export:{target}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def export_lock(dsn: str, target: str) -> Iterator[None]:
    """Hold the target's lock for the block, or raise ExportBusyError at once."""
    conn = psycopg2.connect(dsn, application_name="c360-export lock")
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("select pg_try_advisory_lock(%s)", (lock_key(target),))
            (acquired,) = cur.fetchone()
        if not acquired:
            raise ExportBusyError(
                f"another c360-export is writing to {redact(target)}; "
                "wait for it to finish (see control.etl_run_logs) and run again"
            )
        yield
    finally:
        # closing the session releases the lock, even one taken by a failed run
        conn.close()
