"""The banking story keeps the promises of its docstring: who demonstrates what."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from banking_rules import Profile, profiles
from c360.samples.banking_notebook import OFFERS, RISK_LEVELS, SEGMENTS
from c360.samples.banking_story import HOUSEHOLD, PERSONS, RING_PHONE, story_plan, story_tables
from source_values import Row, plan_rows

PROJECT = Path(__file__).resolve().parents[3]
IDS = {person.key: f"P{index + 1:06d}" for index, person in enumerate(PERSONS)}
MULE_ACCOUNT = "A000015"

# fmt: off
CAST: dict[str, Profile] = {
    "margaret": Profile("Premium", "High", ()),
    "robert": Profile("Gold", "Low", ("Investment Account",)),
    "emily": Profile("Bronze", "Low", ("Savings Account",)),
    "sofia": Profile("Gold", "Low", ("Credit Card",)),
    "oliver": Profile("Gold", "Medium", ()),
    "derek": Profile("Silver", "Low", ()),
    "rita": Profile("Silver", "Low", ()),
    "victor": Profile("Bronze", "Medium", ()),
    "nadia": Profile("Silver", "Low", ("Savings Account",)),
    "ivan": Profile("Bronze", "Low", ()),
    "thomas": Profile("Gold", "Low", ("Investment Account",)),
    "grace": Profile("Silver", "Low", ("Savings Account",)),
    "henry": Profile("Silver", "Low", ()),
    "linda": Profile("Bronze", "Low", ()),
    "paul": Profile("Bronze", "Low", ("Savings Account",)),
    "samuel": Profile("Premium", "Medium", ()),
    "aisha": Profile("Silver", "Low", ()),
    "james": Profile("Gold", "Low", ("Investment Account", "Savings Account")),
    "zoe": Profile("Bronze", "Low", ()),
}
# fmt: on


@pytest.fixture(scope="module")
def rows() -> dict[str, list[Row]]:
    return plan_rows(story_plan(), PROJECT)


def owners(rows: dict[str, list[Row]]) -> dict[str, str]:
    return {str(a["account_id"]): str(a["owner_person_id"]) for a in rows["bank_accounts"]}


def test_the_cast_gets_the_segments_risks_and_offers_the_notebook_gives(rows):
    found = profiles(rows["persons"], rows["bank_accounts"], rows["transactions"])
    assert found == {IDS[key]: profile for key, profile in CAST.items()}


def test_every_segment_risk_level_and_offer_is_reached():
    assert {p.segment for p in CAST.values()} == set(SEGMENTS)
    assert {p.risk_level for p in CAST.values()} == set(RISK_LEVELS)
    assert {offer for p in CAST.values() for offer in p.offers} == set(OFFERS)


def test_the_first_customer_has_every_part_of_a_360_view(rows):
    margaret = IDS["margaret"]
    assert rows["persons"][0]["person_id"] == margaret
    accounts = [a["account_id"] for a in rows["bank_accounts"] if a["owner_person_id"] == margaret]
    assert len(accounts) == 4
    assert sum(a["person_id"] == margaret for a in rows["addresses"]) == 2
    assert sum(p["person_id"] == margaret for p in rows["phones"]) == 2
    assert sum(t["from_account_id"] in accounts for t in rows["transactions"]) > 50


def test_the_household_shares_one_address_on_three_rows(rows):
    shared = [
        a
        for a in rows["addresses"]
        if (a["street"], a["city"], a["state"], a["zip_code"]) == HOUSEHOLD
    ]
    assert len({a["address_id"] for a in shared}) == 3
    assert {a["person_id"] for a in shared} == {IDS["margaret"], IDS["robert"], IDS["emily"]}
    places = Counter((a["street"], a["city"], a["state"]) for a in rows["addresses"])
    assert [place for place, count in places.items() if count > 1] == [HOUSEHOLD[:3]]


def test_a_ring_of_three_shares_one_phone_number_on_three_rows(rows):
    shared = [p for p in rows["phones"] if p["phone_number"] == RING_PHONE]
    assert len({p["phone_id"] for p in shared}) == 3
    assert {p["person_id"] for p in shared} == {IDS["victor"], IDS["nadia"], IDS["ivan"]}
    numbers = Counter(p["phone_number"] for p in rows["phones"])
    assert [number for number, count in numbers.items() if count > 1] == [RING_PHONE]


def test_the_mule_account_receives_from_seven_customers_and_pays_outside(rows):
    owner = owners(rows)
    assert owner[MULE_ACCOUNT] == IDS["victor"]
    into = [t for t in rows["transactions"] if t["to_account_id"] == MULE_ACCOUNT]
    senders = {owner[str(t["from_account_id"])] for t in into if t["suspicious_pattern"] == "mule"}
    assert len(senders) == 7
    out = [
        t
        for t in rows["transactions"]
        if t["suspicious_pattern"] == "mule" and t["from_account_id"] == MULE_ACCOUNT
    ]
    assert {str(t["to_account_id"]) for t in out} == {"EXT-COINVAULT-EXCHANGE", "EXT-WIRE-HK-9471"}
    victor = next(p for p in rows["persons"] if p["person_id"] == IDS["victor"])
    assert victor["flagged"] == "True"
    assert "mule" in str(victor["flag_reason"])


def test_structuring_is_one_person_just_under_10000_within_three_days(rows):
    runs = [t for t in rows["transactions"] if t["suspicious_pattern"] == "structuring"]
    assert len(runs) >= 5
    assert all(Decimal("9500") <= Decimal(str(t["amount"])) < 10_000 for t in runs)
    assert {owners(rows)[str(t["from_account_id"])] for t in runs} == {IDS["derek"]}
    times = sorted(datetime.fromisoformat(str(t["event_time"])) for t in runs)
    assert times[-1] - times[0] <= timedelta(days=3)


def test_only_mule_and_structuring_transfers_carry_a_pattern(rows):
    patterns = Counter(t["suspicious_pattern"] for t in rows["transactions"])
    assert set(patterns) == {None, "mule", "structuring"}


def test_external_counterparties_have_no_account_and_every_sender_has_one(rows):
    accounts = set(owners(rows))
    outside = {str(t["to_account_id"]) for t in rows["transactions"]} - accounts
    assert len(outside) >= 5
    assert all(name.startswith("EXT-") for name in outside)
    assert {t["from_account_id"] for t in rows["transactions"]} <= accounts


def test_account_types_are_mixed_case_and_some_accounts_are_closed(rows):
    spellings: dict[str, set[str]] = {}
    for account in rows["bank_accounts"]:
        kind = str(account["account_type"])
        spellings.setdefault(kind.lower(), set()).add(kind)
    assert {"CHECKING", "checking", "Checking"} <= spellings["checking"]
    assert {"Savings", "SAVINGS", "savings"} <= spellings["savings"]
    assert {"INVESTMENT", "investment"} <= spellings["investment"]
    assert {"CREDIT_CARD", "credit_card", "Credit_Card"} <= spellings["credit_card"]
    statuses = Counter(a["account_status"] for a in rows["bank_accounts"])
    assert statuses["closed"] >= 3
    closed = [a for a in rows["bank_accounts"] if a["account_status"] == "closed"]
    assert all(Decimal(str(a["balance"])) == 0 for a in closed)


def test_flagged_persons_and_only_they_have_a_reason(rows):
    flagged = {str(p["person_id"]): p for p in rows["persons"] if p["flagged"] == "True"}
    assert set(flagged) == {IDS["derek"], IDS["victor"], IDS["ivan"]}
    assert all(p["flag_reason"] for p in flagged.values())
    assert all(p["flag_reason"] is None for p in rows["persons"] if p["flagged"] == "False")


def test_transactions_are_numbered_in_time_order(rows):
    ids = [t["transaction_id"] for t in rows["transactions"]]
    assert ids == [f"T{n:07d}" for n in range(1, len(ids) + 1)]
    times = [datetime.fromisoformat(str(t["event_time"])) for t in rows["transactions"]]
    assert times == sorted(times)
    assert all(str(t["event_time"]).startswith(str(t["txn_date"])) for t in rows["transactions"])


def test_the_story_is_the_same_on_every_build():
    assert story_tables() == story_tables()
