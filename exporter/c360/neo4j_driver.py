"""The one way c360 opens a Neo4j driver, with the one error for a server it cannot use."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from neo4j import Driver, GraphDatabase, NotificationMinimumSeverity
from neo4j.exceptions import AuthError

from c360.config import Settings
from c360.errors import ServerUnavailableError
from c360.export.audit import redact


def open_driver(settings: Settings, retry_seconds: float = 30.0) -> Driver:
    # Notifications off: the server's hints about a label or property not there
    # yet (counting a type before its first export, a query on a domain not
    # loaded) would reach the user as driver warnings, not as c360's messages.
    return GraphDatabase.driver(
        settings.neo4j.uri,
        auth=(settings.neo4j.user, settings.neo4j.password),
        max_transaction_retry_time=retry_seconds,
        notifications_min_severity=NotificationMinimumSeverity.OFF,
    )


def verified_driver(settings: Settings, retry_seconds: float = 30.0) -> Driver:
    """A driver that has reached the server, or ServerUnavailableError saying why not."""
    driver = open_driver(settings, retry_seconds)
    uri = redact(settings.neo4j.uri)
    try:
        driver.verify_connectivity()
    except AuthError as error:
        driver.close()
        raise ServerUnavailableError(
            f"Neo4j at {uri} refused the credentials of user {settings.neo4j.user!r} "
            f"({error.message}); check NEO4J_USER and NEO4J_PASSWORD"
        ) from None
    except Exception as error:
        driver.close()
        raise ServerUnavailableError(
            f"cannot reach Neo4j at {uri}: {error}; "
            "start it with `c360-export stack up` or check NEO4J_URI"
        ) from None
    return driver


@contextmanager
def connected_driver(settings: Settings, retry_seconds: float = 30.0) -> Iterator[Driver]:
    with verified_driver(settings, retry_seconds) as driver:
        yield driver
