"""One export per target at a time: a PostgreSQL advisory lock held for the run.

The lock lives in the staging database every export already talks to, keyed by
a hash of the target's key (`c360.export.target`), and is held by a dedicated
session: if the process dies, PostgreSQL drops the session and the lock with it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from psycopg2.extensions import connection

from c360.errors import ExportBusyError, ExportFailedError
from c360.pg import pg_connection


def lock_key(target_key: str) -> int:
    """A signed 64-bit key for `target_key`, stable across processes and machines."""
    digest = hashlib.sha256(f"c360-export:{target_key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@dataclass(frozen=True)
class TargetLock:
    """A target's lock as `export_lock` holds it: the key and the session holding it."""

    target_key: str
    conn: connection

    def confirm(self, target_key: str) -> None:
        """Check that this lock is `target_key`'s and that its session still holds it.

        A later step of the same run calls this instead of locking again: a second
        session would be refused, so the run would find itself busy.
        """
        if target_key != self.target_key:
            raise ExportFailedError(
                f"the run holds the lock of {self.target_key} but is about to write to "
                f"{target_key}; the Neo4j settings changed during the run: run it again"
            )
        # Advisory locks stack per session: asking again on the holder's own session
        # succeeds while it lives, and raises if it is gone (PostgreSQL restarted),
        # which took the lock with it.
        _try_lock(self.conn, target_key)


@contextmanager
def export_lock(dsn: str, target_key: str, display: str | None = None) -> Iterator[TargetLock]:
    """Hold the target's lock for the block, or raise ExportBusyError at once."""
    # closing the session releases the lock, even one taken by a failed run
    with pg_connection(dsn, autocommit=True, application_name="c360-export lock") as conn:
        if not _try_lock(conn, target_key):
            raise ExportBusyError(
                f"another c360-export is writing to {display or target_key}; "
                "wait for it to finish (see control.etl_run_logs) and run again"
            )
        yield TargetLock(target_key, conn)


def _try_lock(conn: connection, target_key: str) -> bool:
    with conn.cursor() as cur:
        cur.execute("select pg_try_advisory_lock(%s)", (lock_key(target_key),))
        (acquired,) = cur.fetchone()
    return bool(acquired)
