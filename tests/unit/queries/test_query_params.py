"""`--param name=value`: parsed, converted to the declared type, checked per query."""

from __future__ import annotations

import pytest
from c360.errors import ConfigError
from c360.queries import bind, bind_all, parse_assignments
from c360.queries.access import actor
from c360.queries.catalog import parse
from c360.queries.params import convert

STRUCTURING = """\
// Near-threshold transfers.
// param: threshold number = 10000 - the reporting threshold
// param: min_count integer = 3 - the fewest transfers
// param: person_id text - whose transfers
MATCH (p:Person {person_id: $person_id})-[:OWNS]->()-[t:TRANSFERRED]->()
WHERE t.amount >= 0.9 * $threshold
WITH p, count(t) AS n WHERE n >= $min_count
RETURN p.person_id, n
"""


@pytest.fixture
def query():
    return parse("banking", "06_structuring.cypher", STRUCTURING)


def test_assignments_split_on_the_first_equals_sign():
    assert parse_assignments(["person_id=P1", "note=a=b", "empty="]) == {
        "person_id": "P1",
        "note": "a=b",
        "empty": "",
    }


@pytest.mark.parametrize("item", ["person_id", "=P1", " =x"])
def test_an_assignment_without_name_or_equals_sign_is_refused(item):
    with pytest.raises(ConfigError, match="is not name=value"):
        parse_assignments([item])


def test_a_parameter_given_twice_is_refused():
    with pytest.raises(ConfigError, match="person_id is given twice"):
        parse_assignments(["person_id=P1", "person_id=P2"])


def test_values_take_their_declared_types_and_defaults_fill_the_rest(query):
    values = bind(query, {"person_id": "P000001", "min_count": "4"})
    assert values == {"threshold": 10000.0, "min_count": 4, "person_id": "P000001"}
    assert isinstance(values["threshold"], float)
    assert isinstance(values["min_count"], int)


def test_text_is_kept_as_given_never_interpreted(query):
    hostile = "P1' OR 1=1 //"
    assert bind(query, {"person_id": hostile})["person_id"] == hostile


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("min_count", "three", "parameter min_count is integer, and 'three' is not an integer"),
        ("min_count", "2.5", "'2.5' is not an integer"),
        ("threshold", "ten", "parameter threshold is number, and 'ten' is not a number"),
        ("threshold", "nan", "'nan' is not a number"),
        ("threshold", "inf", "'inf' is not a number"),
    ],
)
def test_a_value_of_the_wrong_type_names_query_parameter_and_type(query, name, raw, message):
    with pytest.raises(ConfigError, match="query banking/06_structuring: ") as raised:
        bind(query, {"person_id": "P1", name: raw})
    assert message in str(raised.value)


def test_numbers_accept_integers_and_decimals():
    assert convert("number", "9000") == 9000.0
    assert convert("number", "-1.5e3") == -1500.0
    assert convert("integer", " 7 ") == 7


def test_a_missing_required_parameter_is_named_with_how_to_give_it(query):
    with pytest.raises(ConfigError) as raised:
        bind(query, {})
    message = str(raised.value)
    assert "query banking/06_structuring needs parameter person_id" in message
    assert "--param person_id=VALUE" in message


def test_an_unknown_parameter_is_named_with_the_ones_the_query_takes(query):
    with pytest.raises(ConfigError) as raised:
        bind(query, {"person_id": "P1", "limit": "5"})
    message = str(raised.value)
    assert "query banking/06_structuring has no parameter 'limit'" in message
    assert "threshold (number), min_count (integer), person_id (text)" in message


def test_a_query_without_parameters_takes_none():
    plain = parse("streaming", "01_all.cypher", "MATCH (n) RETURN count(n)")
    assert bind(plain, {}) == {}
    with pytest.raises(ConfigError, match="it takes no parameters"):
        bind(plain, {"x": "1"})


def test_a_run_of_several_queries_gives_each_the_values_it_declares(query):
    limited = parse(
        "banking", "04_top.cypher", "// param: limit integer = 10 - how many\nRETURN $limit"
    )
    values = bind_all([query, limited], {"person_id": "P1", "limit": "3"})
    assert values == [
        {"threshold": 10000.0, "min_count": 3, "person_id": "P1"},
        {"limit": 3},
    ]
    with pytest.raises(ConfigError, match=r"no query of this run .* has a parameter 'nope'"):
        bind_all([query, limited], {"person_id": "P1", "nope": "1"})


def test_the_actor_is_the_name_given_or_the_os_user(monkeypatch):
    assert actor(" auditor ") == "auditor"
    with pytest.raises(ConfigError, match="--as needs a name"):
        actor("  ")
    monkeypatch.setenv("LOGNAME", "someone")
    assert actor() == "someone"
