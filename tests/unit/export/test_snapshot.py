"""Which graph tables an export may read: those dbt published after their tests."""

from __future__ import annotations

import pytest
from c360.export.snapshot import Build, unpublished


def build(oid: int | None, status: str = "published", detail: str | None = None) -> Build:
    return Build(oid, "inv-1", status, detail, None)


def test_a_published_table_at_its_published_oid_passes():
    assert unpublished(["node_a"], {"node_a": build(7)}, {"node_a": 7}) == []


@pytest.mark.parametrize(
    ("builds", "oids", "expected"),
    [
        ({}, {"node_a": 7}, "graph.node_a: no dbt build has recorded its tests"),
        (
            {"node_a": build(7, "failed", "failed tests: unique_node_a_id (2)")},
            {"node_a": 7},
            "graph.node_a: dbt invocation inv-1: failed tests: unique_node_a_id (2)",
        ),
        (
            {"node_a": build(7, "untested", "tests not run: x")},
            {"node_a": 7},
            "graph.node_a: built by dbt invocation inv-1 without its tests (tests not run: x); "
            "run `dbt build` or `dbt test`",
        ),
        (
            {"node_a": build(7)},
            {"node_a": 8},
            "graph.node_a: replaced after dbt invocation inv-1 tested it",
        ),
    ],
)
def test_each_unpublished_table_is_named_with_its_reason(builds, oids, expected):
    assert unpublished(["node_a"], builds, oids) == [expected]
