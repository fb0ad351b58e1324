"""The banking notebook's rules in Python, over rows as the loader sends them.

An oracle for the banking story and generator, written apart from the SQL of
`c360.samples.banking_notebook`: per person, the metrics of the notebook's
section 7 (accounts, total balance, transactions sent, their volume), then its
segment (7), risk level (8) and cross-sell offers (9), with account types
compared case-insensitively.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from source_values import Row


@dataclass(frozen=True)
class Profile:
    segment: str
    risk_level: str
    offers: tuple[str, ...]


def profiles(
    persons: Iterable[Row], accounts: Iterable[Row], transactions: Iterable[Row]
) -> dict[str, Profile]:
    """Each person's segment, risk level and offers, by person_id."""
    sent: dict[str, list[Decimal]] = defaultdict(list)
    for row in transactions:
        sent[str(row["from_account_id"])].append(Decimal(str(row["amount"])))
    owned: dict[str, list[Row]] = defaultdict(list)
    for row in accounts:
        owned[str(row["owner_person_id"])].append(row)
    found: dict[str, Profile] = {}
    for person in persons:
        own = owned[str(person["person_id"])]
        balance = sum((Decimal(str(a["balance"])) for a in own), Decimal(0))
        amounts = [amount for a in own for amount in sent[str(a["account_id"])]]
        count, volume = len(amounts), sum(amounts, Decimal(0))
        average = volume / count if count else Decimal(0)
        types = {str(a["account_type"]).lower() for a in own}
        score = (
            (20 if volume > 100_000 else 0)
            + (15 if count > 50 else 0)
            + (10 if average > 5_000 else 0)
            + (10 if len(own) > 3 else 0)
        )
        offers: list[str] = []
        if balance > 50_000 and "investment" not in types:
            offers.append("Investment Account")
        if count > 30 and "credit_card" not in types:
            offers.append("Credit Card")
        if types == {"checking"}:
            offers.append("Savings Account")
        found[str(person["person_id"])] = Profile(
            _segment(balance, count), _risk_level(score), tuple(offers)
        )
    return found


def _segment(balance: Decimal, transactions: int) -> str:
    if balance > 100_000 and transactions > 50:
        return "Premium"
    if balance > 50_000 or transactions > 30:
        return "Gold"
    if balance > 10_000 or transactions > 10:
        return "Silver"
    return "Bronze"


def _risk_level(score: int) -> str:
    if score >= 40:
        return "High"
    return "Medium" if score >= 20 else "Low"
