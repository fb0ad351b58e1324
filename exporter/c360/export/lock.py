"""One export per target at a time: a PostgreSQL advisory lock held for the run.

The lock lives in the staging database every export already talks to, keyed by
a hash of the target's key (`c360.export.target`), and is held by a dedicated
session: if the process dies, PostgreSQL drops the session and the lock with it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from c360.errors import ExportBusyError
from c360.pg import pg_connection


def lock_key(target_key: str) -> int:
    """A signed 64-bit key for `target_key`, stable across processes and machines."""
    digest = hashlib.sha256(f"c360-export:{target_key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def export_lock(dsn: str, target_key: str, display: str | None = None) -> Iterator[None]:
    """Hold the target's lock for the block, or raise ExportBusyError at once."""
    # closing the session releases the lock, even one taken by a failed run
    with pg_connection(dsn, autocommit=True, application_name="c360-export lock") as conn:
        with conn.cursor() as cur:
            cur.execute("select pg_try_advisory_lock(%s)", (lock_key(target_key),))
            (acquired,) = cur.fetchone()
        if not acquired:
            raise ExportBusyError(
                f"another c360-export is writing to {display or target_key}; "
                "wait for it to finish (see control.etl_run_logs) and run again"
            )
        yield
