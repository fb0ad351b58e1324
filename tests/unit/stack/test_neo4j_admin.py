"""What a failed neo4j-admin run reports."""

from __future__ import annotations

from c360.stack.neo4j_admin import root_cause


def test_the_innermost_java_cause_is_the_message():
    output = (
        "Error importing csv file.\n"
        "Caused by: java.lang.RuntimeException: wrapped\n"
        "\tat x.y(Z.java:1)\n"
        "Caused by: DuplicateInputIdException: Id 'a' is defined more than once\n"
    )
    assert root_cause(output) == "DuplicateInputIdException: Id 'a' is defined more than once"


def test_without_a_java_cause_the_output_tail_is_the_message():
    assert root_cause("one\ntwo\n").endswith("one\ntwo")
