"""The packaged query files: domains, lookup, and the header each file starts with."""

from __future__ import annotations

import pytest
from c360 import queries
from c360.errors import ConfigError
from c360.queries.catalog import parse
from c360.queries.params import Param

PERSON = """\
// Everything about one person.
// Second line of the description.
// param: person_id text - the person to show
// param: limit integer = 10 - how many transfers
// audit: access person_id
MATCH (p:Person {person_id: $person_id})
// a comment in the body: param: not_a_parameter text - ignored
RETURN p LIMIT $limit
"""


def test_the_header_gives_description_parameters_and_audit():
    query = parse("banking", "01_person_360.cypher", PERSON)
    assert (query.domain, query.number, query.name) == ("banking", 1, "person_360")
    assert query.key == "banking/01_person_360"
    assert query.description == "Everything about one person. Second line of the description."
    assert query.params == (
        Param("person_id", "text", "the person to show"),
        Param("limit", "integer", "how many transfers", 10),
    )
    assert query.params[0].required
    assert not query.params[1].required
    assert query.audit == "person_id"
    assert query.text == PERSON


def test_a_default_may_hold_spaces_and_the_description_dashes():
    query = parse(
        "banking",
        "02_x.cypher",
        "// param: label text = big spender - a label - free text\nRETURN $label",
    )
    assert query.params == (Param("label", "text", "a label - free text", "big spender"),)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("// param: person_id - no type", "is not `param: NAME TYPE [= DEFAULT] - DESCRIPTION`"),
        ("// param: person_id text", "is not `param: NAME TYPE"),
        ("// param: Person text - capitals", "is not `param: NAME TYPE"),
        (
            "// param: person_id uuid - an id",
            "has type 'uuid'; the types are: text, integer, number",
        ),
        ("// param: count integer = many - how many", "the default of count, 'many', is not"),
        ("// audit: access", "is not `audit: access PARAMETER`"),
        ("// audit: read person_id", "is not `audit: access PARAMETER`"),
        ("// audit: access someone_else", "`audit: access someone_else` names no declared"),
    ],
)
def test_a_malformed_header_line_is_refused_naming_file_and_line(header, message):
    text = (
        f"// What it answers.\n// param: person_id text - the person\n{header}\nRETURN $person_id"
    )
    with pytest.raises(ConfigError) as raised:
        parse("banking", "01_person.cypher", text)
    assert str(raised.value).startswith("queries/banking/01_person.cypher:3: ")
    assert message in str(raised.value)


def test_a_parameter_declared_twice_or_a_second_audit_line_is_refused():
    twice = "// param: a text - x\n// param: a text - y\nRETURN $a"
    with pytest.raises(ConfigError, match=":2: parameter a is declared twice"):
        parse("banking", "01_q.cypher", twice)
    audits = "// param: a text - x\n// audit: access a\n// audit: access a\nRETURN $a"
    with pytest.raises(ConfigError, match=":3: a query has one `audit:` line"):
        parse("banking", "01_q.cypher", audits)


def test_the_header_and_the_text_must_agree_on_parameters():
    with pytest.raises(ConfigError, match=r"uses \$person_id; declare it"):
        parse("banking", "01_q.cypher", "MATCH (p {person_id: $person_id}) RETURN p")
    with pytest.raises(ConfigError, match="parameter limit is declared but the query never uses"):
        parse("banking", "01_q.cypher", "// param: limit integer = 5 - n\nRETURN 1")


def test_a_query_file_is_named_by_number_and_name():
    with pytest.raises(ConfigError, match=r"a query file is named NN_name\.cypher"):
        parse("banking", "person_360.cypher", "RETURN 1")


def test_the_streaming_domain_keeps_the_eleven_and_is_the_default():
    streaming = queries.all_queries()
    assert [q.stem for q in streaming][:2] == ["01_payment_fraud", "02_customer_lifetime_value"]
    assert len(streaming) == 11
    assert all(q.domain == "streaming" and not q.params for q in streaming)
    assert queries.find("1").key == "streaming/01_payment_fraud"
    assert queries.find("payment_fraud").key == "streaming/01_payment_fraud"


def test_banking_queries_are_found_by_name_key_or_number_in_their_domain():
    names = [q.stem for q in queries.all_queries("banking")]
    assert names == [
        "01_person_360",
        "02_shared_addresses",
        "03_shared_phones",
        "04_top_counterparties",
        "05_mule_candidates",
        "06_structuring_candidates",
        "07_segment_summary",
        "08_risk_summary",
        "09_cross_sell",
    ]
    assert queries.find("person_360").key == "banking/01_person_360"
    assert queries.find("banking/01_person_360").name == "person_360"
    assert queries.find("1", "banking").name == "person_360"
    assert queries.find("banking/5").name == "mule_candidates"
    assert queries.domains() == ["banking", "streaming"]


def test_every_banking_query_says_what_it_answers_and_only_person_360_is_audited():
    banking = queries.all_queries("banking")
    assert all(q.description for q in banking)
    assert [q.name for q in banking if q.audit] == ["person_360"]
    assert {q.name: [p.name for p in q.params] for q in banking if q.params} == {
        "person_360": ["person_id"],
        "top_counterparties": ["limit"],
        "mule_candidates": ["min_senders"],
        "structuring_candidates": ["threshold", "window_days", "min_count"],
    }


def test_unknown_names_and_domains_are_refused():
    with pytest.raises(ConfigError, match="no query named 'nope'; the packaged queries are: "):
        queries.find("nope")
    with pytest.raises(ConfigError, match="no query named 'payment_fraud'"):
        queries.find("payment_fraud", "banking")
    with pytest.raises(ConfigError, match="no query domain 'retail'; the domains are: banking"):
        queries.all_queries("retail")
