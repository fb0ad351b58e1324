"""The packaged analytical queries: the seeds' ten, verbatim, and the headline one.

Each lives in `queries/NN_name.cypher`; a query is found by its file stem, its
name without the number, or its number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from importlib import resources
from typing import Any

from neo4j import Driver, RoutingControl
from neo4j.time import Date, DateTime, Duration, Time

from c360.errors import ConfigError


@dataclass(frozen=True)
class Query:
    number: int
    name: str
    text: str

    @property
    def stem(self) -> str:
        return f"{self.number:02d}_{self.name}"


@dataclass(frozen=True)
class QueryResult:
    query: Query
    columns: list[str]
    rows: list[list[Any]]


def all_queries() -> list[Query]:
    found = []
    for entry in resources.files("c360").joinpath("queries").iterdir():
        if entry.name.endswith(".cypher"):
            stem = entry.name.removesuffix(".cypher")
            number, _, name = stem.partition("_")
            found.append(Query(int(number), name, entry.read_text(encoding="utf-8")))
    return sorted(found, key=lambda q: q.number)


def find(key: str) -> Query:
    queries = all_queries()
    for query in queries:
        if key in (query.stem, query.name) or (key.isdigit() and int(key) == query.number):
            return query
    names = ", ".join(q.stem for q in queries)
    raise ConfigError(f"no query named {key!r}; the packaged queries are: {names}")


def run(driver: Driver, database: str, query: Query) -> QueryResult:
    # the seeds end each query with ';', which the driver's single statement does not take
    text = query.text.strip().removesuffix(";")
    records, _, keys = driver.execute_query(text, database_=database, routing_=RoutingControl.READ)
    return QueryResult(query, list(keys), [list(r.values()) for r in records])


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
