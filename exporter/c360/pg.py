"""PostgreSQL connections for every c360 command, with one actionable error."""

from __future__ import annotations

import psycopg2
from psycopg2.extensions import connection

from c360.config import Settings
from c360.errors import ServerUnavailableError


def connect(
    settings: Settings,
    database: str | None = None,
    *,
    hint: str = "is the stack up? try `c360-export stack up`",
) -> connection:
    """A connection to `database` (the staging database by default)."""
    name = database or settings.postgres.staging_database
    try:
        return psycopg2.connect(settings.postgres.dsn(name), application_name="c360")
    except psycopg2.OperationalError as error:
        raise ServerUnavailableError(
            f"cannot connect to PostgreSQL database {name!r} at "
            f"{settings.postgres.host}:{settings.postgres.port}: {str(error).strip()} ({hint})"
        ) from error
