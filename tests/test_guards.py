"""The rules that keep an export from losing the graph, without servers."""

from __future__ import annotations

import pytest
from c360.errors import MassDeleteError
from c360.export import Loss, check_deletes
from c360.pg import describe
from c360.snapshot import Build, unpublished
from c360.stack.neo4j import _root_cause


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


def test_deleting_up_to_the_share_passes():
    check_deletes([Loss("label A", 10, 5), Loss("type T", 0, 0)], 0.5)


def test_deleting_more_than_the_share_names_every_label_and_type_over_it():
    with pytest.raises(MassDeleteError) as stopped:
        check_deletes([Loss("label A", 10, 6), Loss("label B", 10, 1), Loss("type T", 4, 4)], 0.5)
    message = str(stopped.value)
    assert "label A: 6 of 10 (60%)" in message
    assert "type T: 4 of 4 (100%)" in message
    assert "label B" not in message
    assert "--allow-mass-delete" in message


def test_a_share_of_zero_forbids_any_delete():
    with pytest.raises(MassDeleteError):
        check_deletes([Loss("label A", 1000, 1)], 0.0)


def test_connection_descriptions_never_carry_the_password():
    text = describe("host=db port=5433 user=u password=s3cret dbname=c360")
    assert text == "database 'c360' at db:5433 as u"


def test_the_innermost_java_cause_is_the_message():
    output = (
        "Error importing csv file.\n"
        "Caused by: java.lang.RuntimeException: wrapped\n"
        "\tat x.y(Z.java:1)\n"
        "Caused by: DuplicateInputIdException: Id 'a' is defined more than once\n"
    )
    assert _root_cause(output) == "DuplicateInputIdException: Id 'a' is defined more than once"


def test_without_a_java_cause_the_output_tail_is_the_message():
    assert _root_cause("one\ntwo\n").endswith("one\ntwo")
