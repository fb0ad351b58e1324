"""After every run: Neo4j's counts per label and type against the graph tables."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from neo4j import Driver, RoutingControl

from c360.export import cypher
from c360.export.catalog import LabelPlan, TablePlan


@dataclass(frozen=True)
class Count:
    kind: str
    name: str
    expected: int
    actual: int

    @property
    def ok(self) -> bool:
        return self.expected == self.actual

    def describe(self) -> str:
        what = "label" if self.kind == "node" else "relationship type"
        return f"{what} {self.name}: Neo4j has {self.actual}, the graph table has {self.expected}"


def neo4j_count(driver: Driver, database: str, plan: TablePlan) -> int:
    statement = (
        cypher.count_nodes(plan.name)
        if isinstance(plan, LabelPlan)
        else cypher.count_relationships(plan.name)
    )
    records, _, _ = driver.execute_query(
        statement, database_=database, routing_=RoutingControl.READ
    )
    return int(records[0]["count"])


def reconcile(
    driver: Driver, database: str, tables: Sequence[TablePlan], expected: dict[str, int]
) -> list[Count]:
    """One Count per table; `expected` maps `kind:name` to the graph table's row count."""
    return [
        Count(t.kind, t.name, expected[f"{t.kind}:{t.name}"], neo4j_count(driver, database, t))
        for t in tables
    ]


def neo4j_holdings(driver: Driver, database: str) -> dict[str, tuple[str, int]]:
    """Every label and relationship type in the database: `kind:name` -> (what, count)."""
    found: dict[str, tuple[str, int]] = {}
    for kind, listing, what, count in (
        ("node", "CALL db.labels() YIELD label RETURN label AS name", "label", cypher.count_nodes),
        (
            "edge",
            "CALL db.relationshipTypes() YIELD relationshipType RETURN relationshipType AS name",
            "type",
            cypher.count_relationships,
        ),
    ):
        records, _, _ = driver.execute_query(
            listing, database_=database, routing_=RoutingControl.READ
        )
        for record in records:
            name = record["name"]
            counted, _, _ = driver.execute_query(
                count(name), database_=database, routing_=RoutingControl.READ
            )
            found[f"{kind}:{name}"] = (f"{what} {name}", int(counted[0]["count"]))
    return found
