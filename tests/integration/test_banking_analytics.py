"""The banking Customer 360 on the sample graph, proved against the banking sources.

Every packaged banking query runs on Neo4j after one bulk export of the samples,
and each figure it returns equals the same figure computed here from the rows of
the three banking SOURCE databases (core_banking_db, kyc_db, payments_db), read
with plain SQL and joined in Python: never from dbt's staging, marts or graph
tables. The notebook's rules (segment, risk, cross-sell) are written here once,
apart from the mart's SQL, with account types compared case-insensitively.

Amounts are numeric(14,2) in the sources and doubles in Neo4j: a value Neo4j
holds as stored compares exactly, a sum Neo4j adds up in doubles to the cent.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from c360 import queries
from c360.config import Settings
from c360.samples.banking_story import HOUSEHOLD, PERSONS, RING_PHONE, person_id
from c360.samples.load import SourceTargets
from graph_helpers import export, pg_rows
from neo4j import Driver

SOURCES = SourceTargets()
IDS = {person.key: person_id(index) for index, person in enumerate(PERSONS)}
# the household's head, the mule account's owner, the household's daughter (an
# offer), and a person without accounts
PERSON_360 = ("margaret", "victor", "emily", "zoe")
SEGMENTS = {"Premium", "Gold", "Silver", "Bronze"}
RISK_LEVELS = {"High", "Medium", "Low"}
OFFERS = {"Investment Account", "Credit Card", "Savings Account"}
ANSWERED = {
    "01_person_360",
    "02_shared_addresses",
    "03_shared_phones",
    "04_top_counterparties",
    "05_mule_candidates",
    "06_structuring_candidates",
    "07_segment_summary",
    "08_risk_summary",
    "09_cross_sell",
}

Row = dict[str, Any]


# --- the sources, read as they are --------------------------------------------------


@dataclass(frozen=True)
class Sources:
    """The banking sources' rows; cross-database joins happen here, in Python."""

    persons: dict[str, Row]
    accounts: dict[str, Row]
    addresses: list[Row]
    phones: list[Row]
    transactions: list[Row]

    def owner(self, account_id: str | None) -> str | None:
        """The person owning the account (an OWNS edge): a person of core banking."""
        account = self.accounts.get(account_id or "")
        owner = account and account["owner_person_id"]
        return owner if owner in self.persons else None

    def owned(self, person: str) -> list[Row]:
        return sorted(
            (a for a in self.accounts.values() if self.owner(a["account_id"]) == person),
            key=lambda a: a["account_id"],
        )

    def name(self, person: str) -> str:
        row = self.persons[person]
        return f"{row['first_name'] or ''} {row['last_name'] or ''}".strip()

    def listed(self, person: str) -> str:
        """A person as the shared address and phone queries list them."""
        row = self.persons[person]
        return f"{person} {row['first_name'] or ''} {row['last_name'] or ''}"


def read(settings: Settings, database: str, table: str, columns: str) -> list[Row]:
    names = [c.strip() for c in columns.split(",")]
    rows = pg_rows(settings, f"select {columns} from {table}", database)
    return [dict(zip(names, row, strict=True)) for row in rows]


@pytest.fixture(scope="module")
def sources(graph_tables: Settings) -> Sources:
    core, kyc, payments = SOURCES.core_banking_db, SOURCES.kyc_db, SOURCES.payments_db
    persons = read(
        graph_tables,
        core,
        "persons",
        "person_id, first_name, last_name, ssn, date_of_birth, risk_score, flagged, flag_reason",
    )
    accounts = read(
        graph_tables,
        core,
        "bank_accounts",
        "account_id, account_type, account_status, balance, open_date, owner_person_id",
    )
    return Sources(
        persons={p["person_id"]: p for p in persons},
        accounts={a["account_id"]: a for a in accounts},
        addresses=read(
            graph_tables, kyc, "addresses", "address_id, street, city, state, zip_code, person_id"
        ),
        phones=read(graph_tables, kyc, "phones", "phone_id, phone_number, phone_type, person_id"),
        transactions=read(
            graph_tables,
            payments,
            "transactions",
            "transaction_id, amount, transaction_type, event_time, description,"
            " from_account_id, to_account_id, suspicious_pattern",
        ),
    )


# --- the notebook's rules, independently of the mart ---------------------------------


@dataclass(frozen=True)
class Profile:
    num_accounts: int
    total_balance: Decimal
    sent_count: int
    sent_volume: Decimal
    avg_sent_amount: Decimal | None  # unrounded; None when every amount sent is null
    received_count: int
    last_transaction_at: datetime | None
    segment: str
    risk_points: int
    risk_level: str
    cross_sell: tuple[str, ...]


def profile(src: Sources, person: str) -> Profile:
    own = src.owned(person)
    mine = {a["account_id"] for a in own}
    sent = [t for t in src.transactions if t["from_account_id"] in mine]
    received = [t for t in src.transactions if t["to_account_id"] in mine]
    amounts = [t["amount"] for t in sent if t["amount"] is not None]
    balance = sum((a["balance"] for a in own if a["balance"] is not None), Decimal(0))
    count, volume = len(sent), sum(amounts, Decimal(0))
    average = volume / len(amounts) if amounts else (Decimal(0) if not sent else None)
    times = [t["event_time"] for t in sent + received if t["event_time"] is not None]
    types = [(a["account_type"] or "").strip().lower() for a in own]
    if balance > 100_000 and count > 50:
        segment = "Premium"
    elif balance > 50_000 or count > 30:
        segment = "Gold"
    elif balance > 10_000 or count > 10:
        segment = "Silver"
    else:
        segment = "Bronze"
    points = (
        (20 if volume > 100_000 else 0)
        + (15 if count > 50 else 0)
        + (10 if average is not None and average > 5_000 else 0)
        + (10 if len(own) > 3 else 0)
    )
    offers = []
    if balance > 50_000 and "investment" not in types:
        offers.append("Investment Account")
    if count > 30 and "credit_card" not in types:
        offers.append("Credit Card")
    if types and all(t == "checking" for t in types):
        offers.append("Savings Account")
    return Profile(
        num_accounts=len(own),
        total_balance=balance,
        sent_count=count,
        sent_volume=volume,
        avg_sent_amount=average,
        received_count=len(received),
        last_transaction_at=max(times, default=None),
        segment=segment,
        risk_points=points,
        risk_level="High" if points >= 40 else "Medium" if points >= 20 else "Low",
        cross_sell=tuple(offers),
    )


@pytest.fixture(scope="module")
def profiles(sources: Sources) -> dict[str, Profile]:
    return {person: profile(sources, person) for person in sources.persons}


# --- Neo4j, and values made comparable ----------------------------------------------


@pytest.fixture(scope="module")
def loaded(graph_tables: Settings, driver: Driver) -> Settings:
    # this module's graph, whatever an earlier module left in the test server
    result = export(graph_tables, mode="bulk", allow_mass_delete=True)
    assert result.status == "completed"
    return graph_tables


def native(value: Any) -> Any:
    """A Neo4j value as the sources' Python value: temporals native, doubles Decimal."""
    if hasattr(value, "to_native"):
        return value.to_native()
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, list):
        return [native(v) for v in value]
    return value


def rounded(value: Decimal | None, places: int) -> Decimal | None:
    """As Cypher's round(value, places) (half up) or, for a sum of doubles, to the cent."""
    if value is None:
        return None
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def cents(value: Decimal | None) -> Decimal | None:
    return rounded(value, 2)


def mean(values: list[Decimal]) -> Decimal:
    return sum(values, Decimal(0)) / len(values)


def as_cypher(number: Decimal | float) -> str:
    """toString() of a double (Java's shortest representation, in range here)."""
    return repr(float(number))


def answer(driver: Driver, settings: Settings, name: str, **given: str) -> list[Row]:
    """The rows of banking query `name` with its default parameters unless given."""
    query = queries.find(name, "banking")
    result = queries.run(driver, settings.neo4j.database, query, queries.bind(query, given))
    return [dict(zip(result.columns, map(native, row), strict=True)) for row in result.rows]


def table(rows: Iterable[Row], summed: tuple[str, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows as tuples, the columns Neo4j sums in doubles to the cent."""
    return [tuple(cents(v) if k in summed else v for k, v in row.items()) for row in rows]


# --- 1: every query's figures equal SQL on the sources --------------------------------


def test_every_banking_query_is_checked_here():
    assert {q.stem for q in queries.all_queries("banking")} == ANSWERED


def person_360_rows(src: Sources, prof: Profile, person: str) -> list[tuple[Any, ...]]:
    row = src.persons[person]
    born = row["date_of_birth"].isoformat() if row["date_of_birth"] else "?"
    average = "?" if prof.avg_sent_amount is None else as_cypher(cents(prof.avg_sent_amount))
    score = "?" if row["risk_score"] is None else as_cypher(row["risk_score"])
    flag = f", flagged: {row['flag_reason'] or '?'}" if row["flagged"] else ""
    rows: list[tuple[Any, ...]] = [
        (
            "person",
            person,
            f"{src.name(person)}, born {born}; total balance of {prof.num_accounts} accounts",
            prof.total_balance,
            None,
        ),
        (
            "segment",
            prof.segment,
            f"sent {prof.sent_count} transfers (average {average}), "
            f"received {prof.received_count}; sent volume, last transfer",
            prof.sent_volume,
            prof.last_transaction_at,
        ),
        (
            "risk",
            prof.risk_level,
            f"{prof.risk_points} risk points, risk score {score}{flag}",
            None,
            None,
        ),
    ]
    own = src.owned(person)
    rows += [
        (
            "account",
            a["account_id"],
            f"{a['account_type'] or '?'}, {a['account_status'] or '?'}; balance, opened",
            a["balance"],
            a["open_date"],
        )
        for a in own
    ]
    rows += [
        (
            "address",
            a["address_id"],
            f"{a['street'] or '?'}, {a['city'] or '?'}, {a['state'] or '?'} {a['zip_code'] or ''}",
            None,
            None,
        )
        for a in sorted(src.addresses, key=lambda a: a["address_id"])
        if a["person_id"] == person
    ]
    rows += [
        (
            "phone",
            p["phone_id"],
            (f"{p['phone_type']} " if p["phone_type"] is not None else "")
            + (p["phone_number"] or "?"),
            None,
            None,
        )
        for p in sorted(src.phones, key=lambda p: p["phone_id"])
        if p["person_id"] == person
    ]
    mine = {a["account_id"] for a in own}
    touching = [t for t in src.transactions if mine & {t["from_account_id"], t["to_account_id"]}]
    touching.sort(key=lambda t: t["transaction_id"])
    touching.sort(key=lambda t: t["event_time"], reverse=True)
    for t in touching[:10]:
        s, r = t["from_account_id"], t["to_account_id"]
        sent, received = s in mine, r in mine
        if sent and received:
            detail = f"moved {s} -> {r}"
        elif sent:
            detail = f"sent {s} -> {r}"
        else:
            detail = f"received {r} <- {s}"
        if (r if sent else s) not in src.accounts:
            detail += " (external)"
        if t["transaction_type"] is not None:
            detail += f", {t['transaction_type']}"
        if t["description"] is not None:
            detail += f": {t['description']}"
        rows.append(("transfer", t["transaction_id"], detail, t["amount"], t["event_time"]))
    rows += [("cross_sell", o, "recommended product", None, None) for o in sorted(prof.cross_sell)]
    return rows


@pytest.mark.parametrize("key", PERSON_360)
def test_person_360_matches_the_sources(loaded, sources, profiles, key):
    person = IDS[key]
    query = queries.find("person_360", "banking")
    [result] = queries.run_queries(loaded, [query], {"person_id": person}, "test_banking_analytics")
    assert result.columns == ["section", "item", "detail", "amount", "at"]
    got = [tuple(map(native, row)) for row in result.rows]
    assert got == person_360_rows(sources, profiles[person], person)


def shared(
    rows: Iterable[tuple[str, str, tuple[str, ...]]],
) -> dict[tuple[str, ...], list[tuple[str, str]]]:
    """(person, row id, key) triples grouped by key: (row id, person) pairs, by person."""
    groups: dict[tuple[str, ...], list[tuple[str, str]]] = defaultdict(list)
    for person, row_id, key in sorted(rows):
        groups[key].append((row_id, person))
    return groups


def test_shared_addresses_match_the_sources(loaded, driver, sources):
    by_id = {a["address_id"]: a for a in sources.addresses}
    fields = ("street", "city", "state", "zip_code")
    groups = shared(
        (
            a["person_id"],
            a["address_id"],
            tuple((a[f] or "").replace(" ", "").lower() for f in fields),
        )
        for a in sources.addresses
        if a["person_id"] in sources.persons and (a["street"] or "").strip()
    )
    expected = []
    for members in groups.values():
        persons = list(dict.fromkeys(sources.listed(person) for _, person in members))
        if len(persons) > 1:
            shown = by_id[members[0][0]]
            expected.append((*(shown[f] for f in fields), len(persons), persons))
    expected.sort(key=lambda r: (-r[4], r[0], r[1]))
    got = table(answer(driver, loaded, "shared_addresses"))
    assert got == expected
    assert expected


def test_shared_phones_match_the_sources(loaded, driver, sources):
    groups = shared(
        (p["person_id"], p["phone_id"], (p["phone_number"].strip(),))
        for p in sources.phones
        if p["person_id"] in sources.persons and (p["phone_number"] or "").strip()
    )
    types = {p["phone_id"]: p["phone_type"] for p in sources.phones}
    expected = []
    for (number,), members in groups.items():
        persons = list(dict.fromkeys(sources.listed(person) for _, person in members))
        if len(persons) > 1:
            phone_types = sorted({types[i] for i, _ in members if types[i] is not None})
            expected.append((number, phone_types, len(persons), persons))
    expected.sort(key=lambda r: (-r[2], r[0]))
    got = [
        (r["phone_number"], sorted(r["phone_types"]), r["person_count"], r["persons"])
        for r in answer(driver, loaded, "shared_phones")
    ]
    assert got == expected
    assert expected


def received_by(src: Sources) -> dict[str, list[Row]]:
    """Transfers by receiving account (each a TRANSFERRED relationship)."""
    found: dict[str, list[Row]] = defaultdict(list)
    for t in src.transactions:
        if t["from_account_id"] is not None and t["to_account_id"] is not None:
            found[t["to_account_id"]].append(t)
    return found


def amount_sum(transfers: Iterable[Row]) -> Decimal:
    return sum((t["amount"] for t in transfers if t["amount"] is not None), Decimal(0))


def test_top_counterparties_match_the_sources(loaded, driver, sources):
    expected = []
    for account, transfers in received_by(sources).items():
        internal = sources.accounts.get(account)
        senders = {sources.owner(t["from_account_id"]) for t in transfers} - {None}
        expected.append(
            (
                account,
                internal is None,
                internal and internal["account_type"],
                sources.owner(account),
                amount_sum(transfers),
                len(transfers),
                len({t["from_account_id"] for t in transfers}),
                len(senders),
            )
        )
    expected.sort(key=lambda r: r[0])
    expected.sort(key=lambda r: r[4], reverse=True)
    got = table(answer(driver, loaded, "top_counterparties"), ("received_amount",))
    assert got == expected[:10]
    assert len(got) == 10


def test_mule_candidates_match_the_sources(loaded, driver, sources, profiles):
    expected = []
    for account, transfers in received_by(sources).items():
        owner = sources.owner(account)
        paid = [t for t in transfers if sources.owner(t["from_account_id"]) not in (None, owner)]
        senders = {sources.owner(t["from_account_id"]) for t in paid}
        if len(senders) >= 5:
            internal = sources.accounts.get(account)
            expected.append(
                (
                    account,
                    internal is None,
                    internal and internal["account_type"],
                    owner,
                    owner and profiles[owner].risk_level,
                    len(senders),
                    len(paid),
                    amount_sum(paid),
                )
            )
    expected.sort(key=lambda r: (-r[5], -r[7], r[0]))
    got = table(answer(driver, loaded, "mule_candidates"), ("received_amount",))
    assert got == expected
    assert expected


def test_structuring_candidates_match_the_sources(loaded, driver, sources, profiles):
    threshold, window = Decimal(10_000), timedelta(days=7)
    near: dict[str, list[Row]] = defaultdict(list)
    for t in sorted(sources.transactions, key=lambda t: t["transaction_id"]):
        sender = sources.owner(t["from_account_id"])
        if (
            sender is not None
            and t["to_account_id"] is not None
            and t["event_time"] is not None
            and t["amount"] is not None
            and threshold * Decimal("0.9") <= t["amount"] < threshold
        ):
            near[sender].append(t)
    expected = []
    for person, sent in near.items():
        sent.sort(key=lambda t: t["event_time"])
        in_window = [
            sum(1 for u in sent[i:] if u["event_time"] < t["event_time"] + window)
            for i, t in enumerate(sent)
        ]
        most = max(in_window)
        if len(sent) >= 3 and most >= 3:
            first = in_window.index(most)
            shown = sent[first : first + most]
            expected.append(
                (
                    person,
                    sources.name(person),
                    most,
                    amount_sum(shown),
                    shown[0]["event_time"],
                    shown[-1]["event_time"],
                    len(sent),
                    profiles[person].risk_level,
                )
            )
    expected.sort(key=lambda r: (-r[2], -r[3], r[0]))
    got = table(answer(driver, loaded, "structuring_candidates"), ("window_amount",))
    assert got == expected
    assert expected


def test_segment_summary_matches_the_sources(loaded, driver, sources, profiles):
    groups: dict[str, list[str]] = defaultdict(list)
    for person, prof in profiles.items():
        groups[prof.segment].append(person)
    expected = []
    for segment, persons in groups.items():
        of = [profiles[p] for p in persons]
        expected.append(
            (
                segment,
                len(persons),
                rounded(sum((p.total_balance for p in of), Decimal(0)), 2),
                rounded(mean([p.total_balance for p in of]), 2),
                rounded(mean([Decimal(p.num_accounts) for p in of]), 1),
                rounded(sum((p.sent_volume for p in of), Decimal(0)), 2),
                rounded(mean([Decimal(p.sent_count) for p in of]), 1),
                sum(1 for p in persons if sources.persons[p]["flagged"]),
                rounded(mean([Decimal(p.risk_points) for p in of]), 1),
            )
        )
    expected.sort(key=lambda r: (-r[1], r[0]))
    assert table(answer(driver, loaded, "segment_summary")) == expected
    assert {r[0] for r in expected} == SEGMENTS


def test_risk_summary_matches_the_sources(loaded, driver, sources, profiles):
    groups: dict[str, list[str]] = defaultdict(list)
    for person, prof in profiles.items():
        groups[prof.risk_level].append(person)
    everyone = len(profiles)
    expected = []
    for level, persons in groups.items():
        points = [profiles[p].risk_points for p in persons]
        scores = [Decimal(repr(sources.persons[p]["risk_score"])) for p in persons]
        expected.append(
            (
                level,
                len(persons),
                rounded(Decimal(100 * len(persons)) / everyone, 1),
                min(points),
                max(points),
                rounded(mean([Decimal(p) for p in points]), 1),
                rounded(mean(scores), 3),
                sum(1 for p in persons if sources.persons[p]["flagged"]),
                rounded(sum((profiles[p].total_balance for p in persons), Decimal(0)), 2),
            )
        )
    expected.sort(key=lambda r: r[0])
    expected.sort(key=lambda r: r[5], reverse=True)
    assert table(answer(driver, loaded, "risk_summary")) == expected
    assert {r[0] for r in expected} == RISK_LEVELS


def test_cross_sell_matches_the_sources(loaded, driver, sources, profiles):
    expected = sorted(
        (
            (
                person,
                sources.name(person),
                prof.segment,
                prof.num_accounts,
                prof.total_balance,
                prof.risk_level,
                list(prof.cross_sell),
            )
            for person, prof in profiles.items()
            if prof.cross_sell
        ),
        key=lambda r: (-len(r[6]), r[0]),
    )
    assert table(answer(driver, loaded, "cross_sell")) == expected
    assert {o for r in expected for o in r[6]} == OFFERS


# --- 2: the marts' segments, risk levels and offers ----------------------------------


def test_segments_risk_levels_and_offers_follow_the_rules(loaded, driver, profiles):
    expected = {
        person: (p.segment, p.risk_level, list(p.cross_sell)) for person, p in profiles.items()
    }
    records, _, _ = driver.execute_query(
        "MATCH (p:Person) RETURN p.person_id, p.segment, p.risk_level, p.cross_sell",
        database_=loaded.neo4j.database,
    )
    graph = {r[0]: (r[1], r[2], r[3] or []) for r in records}
    mart = {
        r[0]: (r[1], r[2], r[3] or [])
        for r in pg_rows(
            loaded, "select person_id, segment, risk_level, cross_sell from marts.person_profiles"
        )
    }
    assert graph == expected
    assert mart == expected

    def counts(by_person: dict[str, tuple[str, str, list[str]]]) -> list[Counter[str]]:
        return [
            Counter(v[0] for v in by_person.values()),
            Counter(v[1] for v in by_person.values()),
            Counter(o for v in by_person.values() for o in v[2]),
        ]

    want = counts(expected)
    assert counts(graph) == want
    assert counts(mart) == want
    assert [set(c) for c in want] == [SEGMENTS, RISK_LEVELS, OFFERS]


# --- 3: no ssn leaves core banking ----------------------------------------------------


def test_no_ssn_reaches_the_graph_tables_or_neo4j(loaded, driver, sources):
    ssns = [p["ssn"] for p in sources.persons.values()]
    assert all(ssns)
    assert len(set(ssns)) == len(ssns)

    columns = pg_rows(
        loaded,
        "select table_schema, table_name, column_name from information_schema.columns"
        " where table_schema in ('staging', 'intermediate', 'marts', 'graph')",
    )
    assert ("graph", "node_person", "person_id") in columns
    assert ("staging", "stg_core_banking__persons", "person_id") in columns
    assert [c for c in columns if "ssn" in c[2].lower()] == []

    person_rows = [r[0] for r in pg_rows(loaded, "select t::text from graph.node_person t")]
    assert len(person_rows) == len(ssns)
    assert [(s, r) for r in person_rows for s in ssns if s in r] == []

    db = loaded.neo4j.database
    for pattern in ("(n)", "()-[n]->()"):
        records, _, _ = driver.execute_query(
            f"MATCH {pattern} WHERE any(k IN keys(n) WHERE toLower(k) CONTAINS 'ssn')"
            " RETURN count(*)",
            database_=db,
        )
        assert records[0][0] == 0
    records, _, _ = driver.execute_query("MATCH (p:Person) RETURN properties(p)", database_=db)
    assert len(records) == len(ssns)
    values = [str(v) for r in records for v in r[0].values()]
    assert [(s, v) for v in values for s in ssns if s in v] == []


# --- 4: the story's shapes, through the queries ---------------------------------------


def test_the_household_shares_an_address(loaded, driver, sources):
    household = sorted(
        {
            a["person_id"]
            for a in sources.addresses
            if (a["street"], a["city"], a["state"], a["zip_code"]) == HOUSEHOLD
        }
    )
    assert household == [IDS["margaret"], IDS["robert"], IDS["emily"]]
    [found] = [
        r
        for r in answer(driver, loaded, "shared_addresses")
        if (r["street"], r["city"], r["state"], r["zip_code"]) == HOUSEHOLD
    ]
    assert found["persons"] == [sources.listed(p) for p in household]


def test_the_ring_shares_a_phone(loaded, driver, sources):
    ring = sorted({p["person_id"] for p in sources.phones if p["phone_number"] == RING_PHONE})
    assert ring == [IDS["victor"], IDS["nadia"], IDS["ivan"]]
    [found] = [
        r for r in answer(driver, loaded, "shared_phones") if r["phone_number"] == RING_PHONE
    ]
    assert found["persons"] == [sources.listed(p) for p in ring]


def test_the_mule_account_is_a_mule_candidate(loaded, driver, sources):
    mule = {
        t["to_account_id"]
        for t in sources.transactions
        if t["suspicious_pattern"] == "mule" and t["to_account_id"] in sources.accounts
    }
    [account] = mule
    assert sources.owner(account) == IDS["victor"]
    paying = {
        sources.owner(t["from_account_id"])
        for t in sources.transactions
        if t["suspicious_pattern"] == "mule" and t["to_account_id"] == account
    }
    [found] = [r for r in answer(driver, loaded, "mule_candidates") if r["account_id"] == account]
    assert found["owner_person_id"] == IDS["victor"]
    assert found["distinct_senders"] >= len(paying) >= 5


def test_the_structuring_person_is_a_structuring_candidate(loaded, driver, sources):
    structuring = [t for t in sources.transactions if t["suspicious_pattern"] == "structuring"]
    [person] = {sources.owner(t["from_account_id"]) for t in structuring}
    assert person == IDS["derek"]
    [found] = [
        r for r in answer(driver, loaded, "structuring_candidates") if r["person_id"] == person
    ]
    assert found["transfers_in_window"] == len(structuring) >= 3
    assert cents(found["window_amount"]) == amount_sum(structuring)
    assert found["window_first"] == min(t["event_time"] for t in structuring)
