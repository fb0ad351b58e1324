"""What an export writes to, and the one key that identifies it.

The export lock, the sync record and the detection of abandoned runs are keyed
on `Target.key`, never on how the user spelled the URI: `bolt://localhost:P`
and `bolt://127.0.0.1:P` are one database, and two exports to it must exclude
each other and share one record. Neo4j's DBMS id (`dbms.info()`, kept in the
system database, so it survives a bulk import of the user database) plus the
database name identify it; a server that refuses the procedure falls back to
the URI with its host resolved.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from neo4j import Driver, RoutingControl
from neo4j.exceptions import Neo4jError

from c360.config import Settings
from c360.export.audit import redact


@dataclass(frozen=True)
class Target:
    """`display` is for people and the audit (no credentials); `key` for locks and records."""

    display: str
    key: str


def neo4j_target(settings: Settings, driver: Driver) -> Target:
    database = settings.neo4j.database
    display = redact(f"{settings.neo4j.uri}/{database}")
    try:
        records, _, _ = driver.execute_query(
            "CALL dbms.info() YIELD id RETURN id",
            database_=database,
            routing_=RoutingControl.READ,
        )
        return Target(display, f"neo4j-dbms:{records[0]['id']}/{database}")
    except Neo4jError:
        return Target(display, f"neo4j-uri:{_resolved(settings.neo4j.uri)}/{database}")


def script_target(path: Path) -> Target:
    return Target(str(path), f"file:{path.resolve()}")


def _resolved(uri: str) -> str:
    """`host:port` with the host resolved to its first address (loopback names agree)."""
    parts = urlsplit(uri)
    host = parts.hostname or ""
    try:
        address = socket.getaddrinfo(host, parts.port, type=socket.SOCK_STREAM)[0][4][0]
    except OSError:
        address = host
    return f"{address}:{parts.port}"
