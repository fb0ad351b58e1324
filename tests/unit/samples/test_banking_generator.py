"""The banking generator: counts per scale factor, same seed same rows, the story's shapes."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from banking_rules import profiles
from c360.errors import ConfigError
from c360.samples.banking_generator import (
    ACCOUNTS_PER_PERSON,
    FAN_IN,
    RING_SIZE,
    BankingCounts,
    first_account,
    generated_plan,
    household,
    is_mule,
    is_structurer,
    ring,
)
from c360.samples.banking_notebook import OFFERS, RISK_LEVELS, SEGMENTS
from source_values import Row, copy_lines, plan_rows

PROJECT = Path(__file__).resolve().parents[3]
SCALE_FACTOR, SEED = 0.05, 3


@pytest.fixture(scope="module")
def rows() -> dict[str, list[Row]]:
    return plan_rows(generated_plan(SCALE_FACTOR, SEED), PROJECT)


def transactions_text(scale_factor: float, seed: int) -> str:
    plan = generated_plan(scale_factor, seed)
    return "".join(copy_lines(plan["payments_db"][0].chunks))


def test_scale_factor_one_is_100k_transactions_in_proportion():
    counts = BankingCounts.for_scale_factor(1)
    assert counts == BankingCounts(
        persons=2_000, bank_accounts=3_500, addresses=2_500, phones=2_666, transactions=100_000
    )
    double = BankingCounts.for_scale_factor(2)
    assert (double.persons, double.transactions) == (4_000, 200_000)


def test_a_tiny_scale_factor_keeps_a_mule_and_a_structurer():
    counts = BankingCounts.for_scale_factor(0.0001)
    assert any(is_mule(i) for i in range(counts.persons))
    assert any(is_structurer(i) for i in range(counts.persons))


@pytest.mark.parametrize("scale_factor", [0.0, -1.0, float("nan")])
def test_scale_factor_must_be_positive(scale_factor):
    with pytest.raises(ConfigError):
        BankingCounts.for_scale_factor(scale_factor)


def test_each_persons_accounts_follow_the_previous_persons():
    assert [first_account(person) for person in range(9)] == [0, 1, 3, 5, 7, 8, 10, 12, 14]
    for person in range(103):
        owned = first_account(person + 1) - first_account(person)
        assert owned == ACCOUNTS_PER_PERSON[person % len(ACCOUNTS_PER_PERSON)]


def test_households_and_rings_point_at_their_first_member():
    assert [household(i) for i in range(12)] == [0, 0, 0, 3, 4, 5, 6, 7, 8, 9, 10, 10]
    assert [ring(i) for i in range(4, 10)] == [4, 5, 5, 5, 8, 9]


def test_each_household_shares_its_address_on_separate_rows(rows):
    places: dict[tuple, set] = defaultdict(set)
    for a in rows["addresses"]:
        places[(a["street"], a["city"], a["state"], a["zip_code"])].add(a["person_id"])
    shared = [people for people in places.values() if len(people) > 1]
    assert len(shared) == 10  # 100 persons: one household in every ten
    assert all(len(people) == 3 for people in shared)


def test_each_ring_shares_one_phone_number(rows):
    numbers: dict[str, set] = defaultdict(set)
    for p in rows["phones"]:
        numbers[str(p["phone_number"])].add(p["person_id"])
    assert sorted(len(people) for people in numbers.values() if len(people) > 1) == [RING_SIZE] * 4


def test_mule_accounts_receive_from_many_distinct_persons(rows):
    owner_of = {a["account_id"]: a["owner_person_id"] for a in rows["bank_accounts"]}
    senders: dict[str, set] = defaultdict(set)
    for t in rows["transactions"]:
        if t["suspicious_pattern"] == "mule" and t["to_account_id"] in owner_of:
            senders[str(t["to_account_id"])].add(owner_of[t["from_account_id"]])
    assert max(len(people) for people in senders.values()) >= FAN_IN
    mules = {owner_of[account] for account in senders}
    flagged = {p["person_id"]: p["flag_reason"] for p in rows["persons"] if p["flagged"] == "true"}
    assert all("mule" in str(flagged.get(person)) for person in mules)


def test_structuring_runs_stay_just_under_10000_within_three_days(rows):
    runs: dict[str, list[Row]] = defaultdict(list)
    for t in rows["transactions"]:
        if t["suspicious_pattern"] == "structuring":
            runs[str(t["from_account_id"])].append(t)
    assert runs
    for run in runs.values():
        assert all(Decimal("9500") <= Decimal(str(t["amount"])) < 10_000 for t in run)
    first = next(iter(runs.values()))[:5]
    days = sorted(date.fromisoformat(str(t["txn_date"])) for t in first)
    assert (days[-1] - days[0]).days <= 2


def test_external_counterparties_and_mixed_case_types_and_closed_accounts(rows):
    accounts = {a["account_id"] for a in rows["bank_accounts"]}
    outside = {t["to_account_id"] for t in rows["transactions"]} - accounts
    assert outside
    assert all(str(name).startswith("EXT-") for name in outside)
    assert {t["from_account_id"] for t in rows["transactions"]} <= accounts
    spellings = Counter(str(a["account_type"]) for a in rows["bank_accounts"])
    assert {"CHECKING", "checking", "Checking", "Savings", "INVESTMENT", "credit_card"} <= set(
        spellings
    )
    assert any(a["account_status"] == "closed" for a in rows["bank_accounts"])


def test_the_notebook_reaches_every_segment_risk_level_and_offer(rows):
    found = profiles(rows["persons"], rows["bank_accounts"], rows["transactions"]).values()
    assert {p.segment for p in found} == set(SEGMENTS)
    assert {p.risk_level for p in found} == set(RISK_LEVELS)
    assert {offer for p in found for offer in p.offers} == set(OFFERS)


def test_same_seed_same_rows_other_seed_other_rows():
    assert plan_rows(generated_plan(0.01, 7), PROJECT) == plan_rows(
        generated_plan(0.01, 7), PROJECT
    )
    assert transactions_text(0.01, 7) != transactions_text(0.01, 8)
