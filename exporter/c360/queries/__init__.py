"""The packaged analytical queries, grouped by domain, and their runner.

`queries/streaming/` holds the seeds' ten, verbatim, and the headline question
(the default domain: `query 1`, `query --all` mean these); `queries/banking/`
the banking ones. Each is `queries/<domain>/NN_name.cypher`, found by its
`domain/stem`, its stem or name, or its number within a domain.

`catalog` reads the files and their headers, `params` turns `--param` values
into typed Cypher parameters, `runner` runs queries, `access` keeps the
append-only log of audited runs.
"""

from __future__ import annotations

from c360.queries.catalog import DEFAULT_DOMAIN, Query, all_queries, domains, every_query, find
from c360.queries.params import Param, bind, bind_all, parse_assignments
from c360.queries.runner import QueryResult, plain, run, run_queries

__all__ = [
    "DEFAULT_DOMAIN",
    "Param",
    "Query",
    "QueryResult",
    "all_queries",
    "bind",
    "bind_all",
    "domains",
    "every_query",
    "find",
    "parse_assignments",
    "plain",
    "run",
    "run_queries",
]
