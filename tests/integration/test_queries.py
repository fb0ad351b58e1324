"""The packaged queries on the sample graph, checked against SQL on the sources."""

from __future__ import annotations

import json

import pytest
from c360 import queries
from c360.config import Settings
from c360.samples.story import headline_answer
from graph_helpers import cli, export, pg_rows
from neo4j import Driver

QUERY_1_SQL = """
select a1.email, a2.email, pm1.card_fingerprint
from accounts a1
join payment_methods pm1 on pm1.account_id = a1.account_id
join payment_methods pm2 on pm2.card_fingerprint = pm1.card_fingerprint
join accounts a2 on a2.account_id = pm2.account_id
where a1.account_id::text < a2.account_id::text
"""

QUERY_5_SQL = """
select p.plan_name, count(distinct s.account_id)
from subscriptions s
join plans p on p.plan_id = s.plan_id
join accounts a on a.account_id = s.account_id
where s.status in ('active', 'Active')
group by p.plan_name
"""


@pytest.fixture(scope="module")
def loaded(graph_tables: Settings, driver: Driver) -> Settings:
    result = export(graph_tables, mode="merge", clear=True)
    assert result.status == "completed"
    return graph_tables


def run(driver: Driver, settings: Settings, key: str) -> queries.QueryResult:
    return queries.run(driver, settings.neo4j.database, queries.find(key))


@pytest.mark.parametrize("query", queries.all_queries(), ids=lambda q: q.stem)
def test_every_query_returns_rows(loaded, driver, query):
    result = queries.run(driver, loaded.neo4j.database, query)
    assert result.rows, f"{query.stem} returned no rows on the sample graph"


def test_query_1_shared_cards_match_sql(loaded, driver):
    result = run(driver, loaded, "1")
    got = sorted((r[0], r[1], r[2]) for r in result.rows)
    assert got == sorted(pg_rows(loaded, QUERY_1_SQL, "profiles_db"))
    assert got


def test_query_5_subscribers_per_plan_match_sql(loaded, driver):
    result = run(driver, loaded, "5")
    got = {r[result.columns.index("p.plan_name")]: r[1] for r in result.rows}
    assert got == dict(pg_rows(loaded, QUERY_5_SQL, "profiles_db"))


def test_headline_matches_sql_on_the_sources(loaded, driver):
    result = run(driver, loaded, "headline_shared_card_and_ip")
    (count, emails) = result.rows[0]
    expected = headline_answer(loaded)
    assert count == expected.card_and_ip_sharers
    assert count > 0
    assert len(emails) == count


def test_cli_query_all_json(loaded):
    result = cli(loaded, "query", "--all", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert [p["query"] for p in payload] == [q.stem for q in queries.all_queries()]
    assert all(p["rows"] for p in payload)


def test_cli_query_table_and_unknown_name(loaded):
    result = cli(loaded, "query", "payment_fraud")
    assert result.exit_code == 0, result.output
    assert "01_payment_fraud" in result.stdout
    missing = cli(loaded, "query", "no_such_query")
    assert missing.exit_code == 2
