"""Running packaged queries: parameters bound, Neo4j asked, audited runs recorded."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import psycopg2
from neo4j import Driver, RoutingControl
from neo4j.exceptions import DriverError, Neo4jError
from neo4j.time import Date, DateTime, Duration, Time

from c360.config import Settings
from c360.errors import ConfigError, QueryFailedError, ServerUnavailableError
from c360.neo4j_driver import connected_driver
from c360.pg import pg_connection
from c360.queries.access import TABLE, AccessLog, actor
from c360.queries.catalog import Query
from c360.queries.params import ParamValue, bind_all


@dataclass(frozen=True)
class QueryResult:
    query: Query
    columns: list[str]
    rows: list[list[Any]]


def run(
    driver: Driver,
    database: str,
    query: Query,
    values: Mapping[str, ParamValue] | None = None,
    *,
    access: AccessLog | None = None,
) -> QueryResult:
    """`query` with `values` as its Cypher parameters; an audited query needs `access`,
    and its run is recorded there once it returned (a failed run records nothing)."""
    if query.audit is not None and access is None:
        raise ConfigError(f"query {query.key} is audited: run it with an access log")
    params = dict(values or {})
    nothing = f"; nothing was recorded in {TABLE}" if query.audit else ""
    # the seeds end each query with ';', which the driver's single statement does not take
    text = query.text.strip().removesuffix(";")
    try:
        records, _, keys = driver.execute_query(
            text, params, database_=database, routing_=RoutingControl.READ
        )
    except Neo4jError as error:
        raise QueryFailedError(f"query {query.key} failed: {error.message}{nothing}") from None
    except DriverError as error:
        raise ServerUnavailableError(
            f"Neo4j failed while running query {query.key}: {error}{nothing}"
        ) from None
    result = QueryResult(query, list(keys), [list(r.values()) for r in records])
    if access is not None and query.audit is not None:
        try:
            access.record(query, params, len(result.rows))
        except psycopg2.Error as error:
            # the rows were read but are not shown: no result leaves without its record
            raise QueryFailedError(
                f"query {query.key} returned {len(result.rows)} rows, but they could not be "
                f"recorded in {TABLE} ({' '.join(str(error).split())}), so they are not shown"
            ) from None
    return result


def run_queries(
    settings: Settings,
    queries: Sequence[Query],
    given: Mapping[str, str],
    accessed_by: str | None = None,
) -> list[QueryResult]:
    """Run `queries` with the `--param` values `given` (each converted to the type its
    query declares), recording audited runs as `accessed_by` (default: the OS user).

    Parameters are checked before any server is reached, and the access log is
    opened before Neo4j is asked, so a log that cannot be written stops the run.
    """
    bound = bind_all(queries, given)
    with ExitStack() as stack:
        access = None
        if any(q.audit is not None for q in queries):
            who = actor(accessed_by)
            conn = stack.enter_context(
                pg_connection(
                    settings.postgres.dsn(), autocommit=True, application_name="c360-query"
                )
            )
            access = AccessLog.open(conn, who)
        driver = stack.enter_context(connected_driver(settings))
        return [
            run(driver, settings.neo4j.database, q, v, access=access)
            for q, v in zip(queries, bound, strict=True)
        ]


def plain(value: Any) -> Any:
    """`value` with Neo4j temporal types as ISO strings: printable and JSON-ready."""
    if isinstance(value, (DateTime, Date, Time, datetime, date, time)):
        return value.isoformat()
    if isinstance(value, (Duration, timedelta)):
        return str(value)
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value
