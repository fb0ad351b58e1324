"""The access log on real servers: append-only for the owner too, and one row per
successful run of person_360, none for a failed one.

Banking data is not exported yet, so the person 360 test writes a few banking
nodes with Cypher itself (ids under a per-module prefix) and deletes them after.
Log rows cannot be deleted, so every test reads back only its own subject.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import psycopg2
import pytest
from c360 import queries
from c360.config import Settings
from c360.errors import ConfigError, QueryFailedError
from c360.neo4j_driver import open_driver
from c360.pg import pg_connection
from c360.queries import access
from c360.queries.catalog import parse
from graph_helpers import cli
from neo4j import Driver

PREFIX = f"T{uuid.uuid4().hex[:8]}_"
PERSON = f"{PREFIX}P1"
OTHER = f"{PREFIX}P2"

BANKING_NODES = """
CREATE (p:Person {person_id: $person, first_name: 'Ada', last_name: 'Lane',
                  date_of_birth: date('1980-02-03'), risk_score: 0.42, flagged: true,
                  flag_reason: 'structuring', num_accounts: 2, total_balance: 1500.5,
                  sent_count: 12, sent_volume: 9000.0, avg_sent_amount: 750.0,
                  received_count: 1, segment: 'affluent', risk_points: 35,
                  risk_level: 'high', cross_sell: ['mortgage', 'credit_card']})
CREATE (o:Person {person_id: $other, first_name: 'Bo', last_name: 'Ng'})
CREATE (chk:BankAccount {account_id: $prefix + 'A1', owner_person_id: $person,
                         is_external: false, account_type: 'CHECKING',
                         account_status: 'active', balance: 1000.5,
                         open_date: date('2020-01-01')})
CREATE (sav:BankAccount {account_id: $prefix + 'A2', owner_person_id: $person,
                         is_external: false, account_type: 'Savings',
                         account_status: 'active', balance: 500.0,
                         open_date: date('2021-06-01')})
CREATE (ext:BankAccount {account_id: $prefix + 'X1', is_external: true})
CREATE (oa:BankAccount {account_id: $prefix + 'A3', owner_person_id: $other, is_external: false})
CREATE (p)-[:OWNS]->(chk), (p)-[:OWNS]->(sav), (o)-[:OWNS]->(oa)
CREATE (p)-[:HAS_ADDRESS]->(:Address {address_id: $prefix + 'AD1', street: '1 Main St',
        city: 'Springfield', state: 'IL', zip_code: '62701', person_id: $person})
CREATE (p)-[:HAS_PHONE]->(:Phone {phone_id: $prefix + 'PH1', phone_number: '555-0100',
        phone_type: 'mobile', person_id: $person})
WITH chk, sav, ext, oa
UNWIND range(1, 12) AS i
WITH chk, sav, ext, oa, i,
     datetime('2025-01-01T00:00:00Z') + duration({days: i}) AS at
FOREACH (_ IN CASE WHEN i <= 10 THEN [1] ELSE [] END |
    CREATE (chk)-[:TRANSFERRED {transaction_id: $prefix + 'T' + i, amount: 100.0 * i,
            event_time: at, transaction_type: 'transfer', description: 'rent ' + i}]->(ext))
FOREACH (_ IN CASE WHEN i = 11 THEN [1] ELSE [] END |
    CREATE (oa)-[:TRANSFERRED {transaction_id: $prefix + 'T' + i, amount: 42.0,
            event_time: at, transaction_type: 'transfer'}]->(chk))
FOREACH (_ IN CASE WHEN i = 12 THEN [1] ELSE [] END |
    CREATE (chk)-[:TRANSFERRED {transaction_id: $prefix + 'T' + i, amount: 7.0,
            event_time: at, transaction_type: 'internal'}]->(sav))
"""

# A third person sharing the first one's address and phone (spelled differently,
# on nodes of their own) and sending near-threshold amounts to the external account.
STRUCTURER = """
MATCH (ext:BankAccount {account_id: $prefix + 'X1'})
CREATE (c:Person {person_id: $prefix + 'P3', first_name: 'Cy', last_name: 'Moe'})
CREATE (c)-[:OWNS]->(a:BankAccount {account_id: $prefix + 'A4',
                                   owner_person_id: $prefix + 'P3', is_external: false})
CREATE (c)-[:HAS_ADDRESS]->(:Address {address_id: $prefix + 'AD2', street: '1  main ST',
        city: 'SPRINGFIELD', state: 'il', zip_code: '62701', person_id: $prefix + 'P3'})
CREATE (c)-[:HAS_PHONE]->(:Phone {phone_id: $prefix + 'PH2', phone_number: ' 555-0100 ',
        phone_type: 'home', person_id: $prefix + 'P3'})
WITH a, ext
UNWIND [[1, 9100.0], [2, 10000.0], [3, 9500.0], [4, 8000.0], [6, 9999.0], [20, 9200.0]]
    AS sent
CREATE (a)-[:TRANSFERRED {transaction_id: $prefix + 'S' + sent[0], amount: sent[1],
        event_time: datetime('2025-03-01T12:00:00Z') + duration({days: sent[0] - 1})}]->(ext)
"""


@pytest.fixture(scope="module")
def banking_graph(stack: Settings) -> Iterator[Driver]:
    """A driver to the test stack's Neo4j holding two persons of banking data."""
    with open_driver(stack) as driver:
        db = stack.neo4j.database
        driver.execute_query(BANKING_NODES, person=PERSON, other=OTHER, prefix=PREFIX, database_=db)
        driver.execute_query(STRUCTURER, prefix=PREFIX, database_=db)
        try:
            yield driver
        finally:
            driver.execute_query(
                "MATCH (n) WHERE coalesce(n.person_id, n.account_id, n.address_id, n.phone_id)"
                " STARTS WITH $prefix DETACH DELETE n",
                prefix=PREFIX,
                database_=db,
            )


def logged(settings: Settings, subject: str) -> list[access.Access]:
    return access.read(settings, subject=subject, limit=100)


def test_person_360_with_a_parameter_shows_the_person_and_is_recorded(stack, banking_graph):
    person_360 = queries.find("person_360")
    who = f"analyst-{uuid.uuid4().hex[:6]}"
    [result] = queries.run_queries(stack, [person_360], {"person_id": PERSON}, who)

    assert result.columns == ["section", "item", "detail", "amount", "at"]
    sections = [row[0] for row in result.rows]
    assert (
        sections
        == ["person", "segment", "risk"]
        + ["account"] * 2
        + [
            "address",
            "phone",
        ]
        + ["transfer"] * 10
        + ["cross_sell"] * 2
    )
    by_section = {}
    for section, item, detail, amount, _at in result.rows:
        by_section.setdefault(section, []).append((item, detail, amount))
    assert by_section["person"] == [
        (PERSON, "Ada Lane, born 1980-02-03; total balance of 2 accounts", 1500.5)
    ]
    assert by_section["risk"][0][:2] == (
        "high",
        "35 risk points, risk score 0.42, flagged: structuring",
    )
    assert [a[0] for a in by_section["account"]] == [f"{PREFIX}A1", f"{PREFIX}A2"]
    assert by_section["address"][0][1] == "1 Main St, Springfield, IL 62701"
    assert by_section["phone"][0][1] == "mobile 555-0100"
    transfers = by_section["transfer"]
    # newest first: the own-account move (day 12), the received one (day 11), then sent
    assert [t[0] for t in transfers[:3]] == [f"{PREFIX}T12", f"{PREFIX}T11", f"{PREFIX}T10"]
    assert transfers[0][1] == f"moved {PREFIX}A1 -> {PREFIX}A2, internal"
    assert transfers[1][1] == f"received {PREFIX}A1 <- {PREFIX}A3, transfer"
    assert transfers[2][1] == f"sent {PREFIX}A1 -> {PREFIX}X1 (external), transfer: rent 10"
    assert [t[0] for t in by_section["cross_sell"]] == ["credit_card", "mortgage"]

    [row] = logged(stack, PERSON)
    assert (row.accessed_by, row.query, row.subject_param, row.subject, row.row_count) == (
        who,
        "banking/01_person_360",
        "person_id",
        PERSON,
        len(result.rows),
    )
    assert row.db_user == stack.postgres.user


def test_the_cli_records_as_and_audit_access_reads_it_back_newest_first(stack, banking_graph):
    names = [f"cli-{uuid.uuid4().hex[:6]}" for _ in range(2)]
    for name in names:
        ran = cli(
            stack, "query", "person_360", "--param", f"person_id={OTHER}", "--as", name, "--json"
        )
        assert ran.exit_code == 0, ran.output
    # the other person owns one account and sent one transfer
    assert [r["section"] for r in json.loads(ran.stdout)[0]["rows"]] == [
        "person",
        "segment",
        "risk",
        "account",
        "transfer",
    ]

    read = cli(stack, "audit", "access", "--person", OTHER, "--json")
    assert read.exit_code == 0, read.output
    rows = json.loads(read.stdout)
    assert [r["accessed_by"] for r in rows] == list(reversed(names))
    assert {(r["subject"], r["row_count"], r["query"]) for r in rows} == {
        (OTHER, 5, "banking/01_person_360")
    }
    assert cli(stack, "audit", "access", "--person", OTHER, "--limit", "1").exit_code == 0
    limited = cli(stack, "audit", "access", "--person", OTHER, "--limit", "1", "--json")
    assert [r["accessed_by"] for r in json.loads(limited.stdout)] == [names[-1]]


def ours(driver: Driver, settings: Settings, key: str, **given: str) -> list[dict]:
    """The rows of banking query `key` that mention this module's nodes."""
    query = queries.find(key, "banking")
    result = queries.run(driver, settings.neo4j.database, query, queries.bind(query, given))
    rows = [dict(zip(result.columns, row, strict=True)) for row in result.rows]
    return [r for r in rows if PREFIX in repr(r)]


def test_the_banking_queries_answer_on_a_small_graph(stack, banking_graph):
    [address] = ours(banking_graph, stack, "shared_addresses")
    assert address["person_count"] == 2
    assert address["persons"] == [f"{PERSON} Ada Lane", f"{PREFIX}P3 Cy Moe"]
    [phone] = ours(banking_graph, stack, "shared_phones")
    assert (phone["phone_number"], phone["person_count"]) == ("555-0100", 2)

    mules = ours(banking_graph, stack, "mule_candidates", min_senders="2")
    assert [(m["account_id"], m["distinct_senders"]) for m in mules] == [(f"{PREFIX}X1", 2)]
    top = ours(banking_graph, stack, "top_counterparties", limit="1000")
    assert top[0]["account_id"] == f"{PREFIX}X1"
    assert (top[0]["sender_accounts"], top[0]["sender_persons"]) == (2, 2)

    # 9100 (day 1), 9500 (day 3), 9999 (day 6) within 7 days; 10000 and 8000 are
    # outside [9000, 10000), 9200 (day 20) is in no window with the others
    [structuring] = ours(banking_graph, stack, "structuring_candidates")
    assert structuring["person_id"] == f"{PREFIX}P3"
    assert structuring["transfers_in_window"] == 3
    assert structuring["window_amount"] == 28599.0
    assert structuring["near_threshold_total"] == 4
    assert structuring["window_first"].day == 1
    assert structuring["window_last"].day == 6
    assert ours(banking_graph, stack, "structuring_candidates", window_days="3") == []
    [shorter] = ours(banking_graph, stack, "structuring_candidates", window_days="3", min_count="2")
    assert (shorter["transfers_in_window"], shorter["window_amount"]) == (2, 18600.0)
    # with 10001, the 10000 of day 2 counts too: days 1, 2, 3 and 6 in one window
    [higher] = ours(banking_graph, stack, "structuring_candidates", threshold="10001")
    assert higher["transfers_in_window"] == 4


def test_a_failed_query_records_nothing_and_says_so(stack, banking_graph):
    subject = f"{PREFIX}failing"
    failing = parse(
        "banking",
        "99_failing.cypher",
        "// param: person_id text - who\n// audit: access person_id\n"
        "RETURN size($person_id) / 0 AS boom",
    )
    with pg_connection(stack.postgres.dsn(), autocommit=True) as conn:
        log = access.AccessLog.open(conn, "tester")
        with pytest.raises(QueryFailedError) as raised:
            queries.run(
                banking_graph, stack.neo4j.database, failing, {"person_id": subject}, access=log
            )
    assert "query banking/99_failing failed" in str(raised.value)
    assert "nothing was recorded in control.access_log" in str(raised.value)
    assert logged(stack, subject) == []


def test_an_audited_query_does_not_run_without_the_log(stack, banking_graph):
    with pytest.raises(ConfigError, match="is audited: run it with an access log"):
        queries.run(
            banking_graph,
            stack.neo4j.database,
            queries.find("person_360"),
            {"person_id": PERSON},
        )


def test_a_run_that_cannot_reach_neo4j_records_nothing(stack, monkeypatch):
    subject = f"{PREFIX}unreached"
    monkeypatch.setenv("C360_NEO4J_BOLT_PORT", "1")
    result = cli(stack, "query", "person_360", "-p", f"person_id={subject}", "--as", "x")
    assert result.exit_code == 3, result.output
    assert logged(stack, subject) == []


@pytest.mark.parametrize(
    "statement",
    [
        "update control.access_log set accessed_by = 'someone else'",
        "delete from control.access_log",
        "truncate control.access_log",
        # a statement touching no row is refused too: the trigger is per statement
        "delete from control.access_log where false",
    ],
)
def test_the_log_refuses_changes_even_from_its_owner(stack, statement):
    subject = f"{PREFIX}{uuid.uuid4().hex[:6]}"
    query = queries.find("person_360")
    with pg_connection(stack.postgres.dsn(), autocommit=True) as conn:
        access.AccessLog.open(conn, "tester").record(query, {"person_id": subject}, 3)
        with conn.cursor() as cur:
            cur.execute(
                "select tableowner = current_user from pg_tables"
                " where schemaname = 'control' and tablename = 'access_log'"
            )
            assert cur.fetchone() == (True,)
            for setup in ("", "set session_replication_role = replica"):
                if setup:
                    cur.execute(setup)
                with pytest.raises(psycopg2.Error, match=r"control\.access_log is append-only"):
                    cur.execute(statement)
            cur.execute("reset session_replication_role")
    assert [r.row_count for r in logged(stack, subject)] == [3]


def test_public_holds_no_privilege_to_change_the_log(stack):
    with pg_connection(stack.postgres.dsn(), autocommit=True) as conn, conn.cursor() as cur:
        access.AccessLog.open(conn, "tester")
        cur.execute(
            "select privilege_type from information_schema.role_table_grants"
            " where table_schema = 'control' and table_name = 'access_log'"
            " and grantee = 'PUBLIC'"
        )
        assert cur.fetchall() == []


def test_a_role_allowed_only_insert_and_select_keeps_the_log_and_changes_nothing(stack):
    """Once the log exists, writing it takes no ownership: opening it skips the DDL."""
    role = f"c360_log_writer_{uuid.uuid4().hex[:8]}"
    subject = f"{PREFIX}writer"
    with pg_connection(stack.postgres.dsn(), autocommit=True) as conn, conn.cursor() as cur:
        access.AccessLog.open(conn, "tester")
        cur.execute(f"create role {role} nologin")
        try:
            cur.execute(f"grant usage on schema control to {role}")
            cur.execute(f"grant insert, select on control.access_log to {role}")
            cur.execute(f"set role {role}")
            access.AccessLog.open(conn, "writer").record(
                queries.find("person_360"), {"person_id": subject}, 1
            )
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute("delete from control.access_log")
        finally:
            cur.execute("reset role")
            cur.execute(f"drop owned by {role}")
            cur.execute(f"drop role {role}")
    [row] = logged(stack, subject)
    assert (row.accessed_by, row.db_user) == ("writer", stack.postgres.user)
