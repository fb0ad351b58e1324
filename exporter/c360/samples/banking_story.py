"""The banking domain's sample story: small, hand-shaped data for its three sources.

core_banking_db (persons, bank_accounts), kyc_db (addresses, phones) and
payments_db (transactions) are filled so that every analysis of the banking
Customer 360 notebook (a customer's 360 view, shared addresses and phones, the
transaction network, segments, risk levels, cross-sell) has a non-trivial
answer; `c360.samples.banking_notebook` computes them on the loaded sources. The
rows are fixed: hand-written persons, accounts, addresses, phones and shaped
transfers, plus everyday transfers drawn from a `random.Random` with a fixed
seed, so every load is identical.

The cast, by story (segments, risk levels and offers by the notebook's rules,
account types compared case-insensitively):
- the Chen household shares 12 Harbor View Rd, Portland ME (one address row
  each): Margaret (P000001, the customer the notebook opens first) is Premium
  and the one High risk; Robert is Gold and offered an investment account;
  Emily's only account is a `checking` in lower case: Bronze, offered savings;
- Victor Kade (flagged) owns the mule account A000015: seven customers (Nadia,
  Ivan, Thomas, Grace, Henry, Linda, Paul) send it money within a week, and he
  forwards it to two external counterparties; Victor, Nadia and Ivan (flagged)
  share the phone number +1-312-555-0199 on three phone rows;
- Derek Vance (flagged) structures: seven transfers of 9,500-9,990 to his
  sister Rita in three days;
- Oliver Grant wires about 124,000 to an external counterparty (Medium risk);
  his `investment` account, in lower case, spares him the investment offer;
- Samuel Brooks is Premium and Medium risk: five accounts, one closed;
- Sofia Ramírez is Gold by her 36 transfers and offered a credit card;
- Thomas Reed and James O'Brien are Gold by balance and offered an investment
  account; James's, Nadia's and Paul's only type is `CHECKING`, Grace's
  `Checking`: offered savings, as Emily is;
- Zoë Müller has KYC records and no account (Bronze, Low).
Segments: Premium 2, Gold 5, Silver 6, Bronze 6; risk: High 1, Medium 3, Low 15;
offers: investment 3, credit card 1, savings 5.
Account types come in mixed case (CHECKING, checking, Checking, Savings,
SAVINGS, savings, INVESTMENT, investment, CREDIT_CARD, credit_card,
Credit_Card); five accounts are closed and one dormant.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from operator import itemgetter
from typing import Any

from c360.samples.load import LoadPlan, SourceKind, TableLoad

# The story's "now": everyday transfers fall in the year before it.
AS_OF = datetime(2025, 11, 3, tzinfo=UTC)
STORY_SEED = 1212
EXTERNAL_PREFIX = "EXT-"  # a counterparty outside the bank: no bank_accounts row

Row = tuple[Any, ...]


@dataclass(frozen=True)
class Account:
    account_type: str  # as the core system spells it: mixed case
    balance: str
    opened: str
    status: str = "active"


@dataclass(frozen=True)
class Person:
    key: str
    first_name: str
    last_name: str
    born: str
    risk_score: float  # the bank's own score, not the notebook's
    flag_reason: str | None  # flagged when set
    accounts: tuple[Account, ...]
    everyday: int  # everyday transfers sent, on top of the shaped ones
    amounts: tuple[int, int]  # their range, in dollars


MULE_REASON = "mule: receives money from many unrelated customers"
# fmt: off
PERSONS: tuple[Person, ...] = (
    Person("margaret", "Margaret", "Chen", "1968-04-12", 22.5, None, (
        Account("CHECKING", "32450.10", "2012-05-01"),
        Account("Savings", "88300.00", "2012-05-01"),
        Account("INVESTMENT", "146920.55", "2015-09-14"),
        Account("CREDIT_CARD", "2310.40", "2018-02-20"),
    ), 58, (5200, 9400)),
    Person("robert", "Robert", "Chen", "1966-09-30", 12.0, None, (
        Account("CHECKING", "21800.00", "2012-05-01"),
        Account("Savings", "48650.75", "2014-03-03"),
    ), 6, (80, 1400)),
    Person("emily", "Emily", "Chen", "2004-01-22", 8.5, None, (
        Account("checking", "2415.60", "2022-08-29"),
    ), 4, (15, 180)),
    Person("sofia", "Sofia", "Ramírez", "1985-07-03", 30.0, None, (
        Account("CHECKING", "6120.00", "2019-04-15"),
        Account("savings", "1950.00", "2019-04-15"),
    ), 36, (40, 950)),
    Person("oliver", "Oliver", "Grant", "1959-12-14", 41.0, None, (
        Account("Checking", "18400.00", "2008-11-11"),
        Account("investment", "44700.00", "2010-01-05"),
    ), 5, (100, 900)),
    Person("derek", "Derek", "Vance", "1979-02-27", 78.0,
           "structuring: repeated transfers just under 10,000", (
        Account("CHECKING", "12300.00", "2020-02-02"),
        Account("SAVINGS", "4100.00", "2021-07-07"),
    ), 6, (20, 300)),
    Person("rita", "Rita", "Vance", "1982-06-09", 15.0, None, (
        Account("Savings", "23900.00", "2017-10-10"),
    ), 3, (30, 400)),
    Person("victor", "Victor", "Kade", "1991-03-18", 91.5, MULE_REASON, (
        Account("checking", "3150.00", "2025-06-20"),  # the mule account
        Account("CHECKING", "0.00", "2019-03-01", "closed"),
        Account("Savings", "420.00", "2020-05-05"),
        Account("credit_card", "0.00", "2021-01-15", "closed"),
    ), 2, (20, 150)),
    Person("nadia", "Nadia", "Petrova", "1994-11-02", 55.0, None, (
        Account("CHECKING", "4800.00", "2023-02-01"),
    ), 9, (25, 400)),
    Person("ivan", "Ivan", "Sokolov", "1990-08-21", 67.0,
           "shares a phone number with a flagged customer", (
        Account("checking", "1200.00", "2024-12-01"),
        Account("Savings", "900.00", "2024-12-01", "dormant"),
    ), 3, (20, 200)),
    Person("thomas", "Thomas", "Reed", "1948-05-05", 10.0, None, (
        Account("CHECKING", "31200.00", "1995-06-30"),
        Account("Savings", "40000.00", "1995-06-30"),
    ), 8, (30, 600)),
    Person("grace", "Grace", "Okafor", "1987-10-10", 14.0, None, (
        Account("Checking", "9400.00", "2016-08-08"),
    ), 12, (20, 500)),
    Person("henry", "Henry", "Walsh", "1955-01-30", 18.0, None, (
        Account("CHECKING", "0.00", "2001-01-01", "closed"),
        Account("Savings", "12750.00", "2001-01-01"),
    ), 4, (40, 700)),
    Person("linda", "Linda", "Park", "1973-03-14", 9.0, None, (
        Account("CHECKING", "5600.00", "2018-09-09"),
        Account("credit_card", "1240.00", "2019-01-01"),
    ), 7, (10, 250)),
    Person("paul", "Paul", "Novak", "1999-12-01", 5.0, None, (
        Account("CHECKING", "3300.00", "2021-05-05"),
        Account("CHECKING", "0.00", "2019-05-05", "closed"),
    ), 2, (15, 120)),
    Person("samuel", "Samuel", "Brooks", "1962-07-19", 35.0, None, (
        Account("CHECKING", "15200.00", "2005-05-05"),
        Account("SAVINGS", "61000.00", "2005-05-05"),
        Account("INVESTMENT", "52500.00", "2011-11-11"),
        Account("Credit_Card", "3400.00", "2013-03-13"),
        Account("checking", "0.00", "2003-03-03", "closed"),
    ), 54, (150, 1800)),
    Person("aisha", "Aisha", "Khan", "1996-04-25", 12.0, None, (
        Account("Checking", "7800.00", "2020-10-20"),
        Account("savings", "2500.00", "2021-01-01"),
    ), 14, (20, 350)),
    Person("james", "James", "O'Brien", "1977-08-08", 20.0, None, (
        Account("CHECKING", "55000.00", "2010-10-10"),
    ), 5, (50, 2000)),
    Person("zoe", "Zoë", "Müller", "2001-02-14", 3.0, None, (), 0, (0, 0)),
)

HOUSEHOLD = ("12 Harbor View Rd", "Portland", "ME", "04101")
# Each row is one address row of kyc_db: the household's three are the same place.
ADDRESSES: tuple[tuple[str, str, str, str, str], ...] = (
    ("margaret", *HOUSEHOLD),
    ("margaret", "880 Congress St Apt 4", "Portland", "ME", "04102"),
    ("robert", *HOUSEHOLD),
    ("emily", *HOUSEHOLD),
    ("emily", "45 College Ave, Dorm 3B", "Orono", "ME", "04469"),
    ("sofia", "2210 Mission St", "San Francisco", "CA", "94110"),
    ("oliver", "9 Beacon Hill Pl", "Boston", "MA", "02108"),
    ("derek", "1400 Lakeshore Dr Apt 12C", "Chicago", "IL", "60610"),
    ("rita", "77 O'Connell Way", "Chicago", "IL", "60614"),
    ("victor", "3100 W Devon Ave Unit 2", "Chicago", "IL", "60659"),
    ("victor", "PO Box 4471", "Chicago", "IL", "60690"),
    ("nadia", "58 Brighton Beach Ave", "Brooklyn", "NY", "11235"),
    ("ivan", "1601 Sheepshead Bay Rd", "Brooklyn", "NY", "11235"),
    ("thomas", "4 Elm St", "Burlington", "VT", "05401"),
    ("grace", "310 Peachtree Ct", "Atlanta", "GA", "30303"),
    ("henry", "27 Old Mill Rd", "Concord", "NH", "03301"),
    ("linda", "505 Pine St", "Seattle", "WA", "98101"),
    ("paul", "1200 Congress Ave", "Austin", "TX", "78701"),
    ("samuel", "16 Ocean Dr", "Miami Beach", "FL", "33139"),
    ("aisha", "742 Evergreen Ter", "Springfield", "IL", "62704"),
    ("james", "8 Main St", "Nashua", "NH", "03060"),
    ("zoe", "5 Linden St", "Cambridge", "MA", "02138"),
)

RING_PHONE = "+1-312-555-0199"
PHONES: tuple[tuple[str, str, str], ...] = (
    ("margaret", "+1-207-555-0101", "mobile"),
    ("margaret", "+1-207-555-0100", "home"),
    ("robert", "+1-207-555-0102", "mobile"),
    ("emily", "+1-207-555-0103", "mobile"),
    ("sofia", "+1-415-555-0110", "mobile"),
    ("sofia", "+1-415-555-0111", "work"),
    ("oliver", "+1-617-555-0120", "mobile"),
    ("derek", "+1-312-555-0130", "mobile"),
    ("rita", "+1-312-555-0131", "mobile"),
    ("victor", RING_PHONE, "mobile"),
    ("nadia", RING_PHONE, "mobile"),
    ("ivan", RING_PHONE, "mobile"),
    ("ivan", "+1-718-555-0141", "home"),
    ("thomas", "+1-802-555-0150", "home"),
    ("grace", "+1-404-555-0160", "mobile"),
    ("henry", "+1-603-555-0170", "home"),
    ("linda", "+1-206-555-0180", "mobile"),
    ("paul", "+1-512-555-0190", "mobile"),
    ("samuel", "+1-305-555-0105", "mobile"),
    ("samuel", "+1-305-555-0106", "work"),
    ("aisha", "+1-217-555-0107", "mobile"),
    ("james", "+1-603-555-0108", "mobile"),
    ("zoe", "+1-617-555-0109", "mobile"),
)


@dataclass(frozen=True)
class Transfer:
    """A shaped transfer: from a person's account (by position) to another's or outside."""

    sender: str
    account: int
    to: str  # a person's key (their first account) or an external counterparty
    amount: str
    at: str  # UTC
    transaction_type: str
    description: str
    pattern: str | None = None  # suspicious_pattern


MULE = "victor"
SHAPED: tuple[Transfer, ...] = (
    # seven customers pay the mule account within a week...
    Transfer("nadia", 0, MULE, "4800.00", "2025-08-04 10:15", "transfer", "investment opportunity", "mule"),  # noqa: E501
    Transfer("ivan", 0, MULE, "3900.00", "2025-08-05 09:02", "transfer", "crypto deposit", "mule"),
    Transfer("thomas", 0, MULE, "4900.00", "2025-08-05 14:30", "transfer", "loan to a friend", "mule"),  # noqa: E501
    Transfer("grace", 0, MULE, "2750.00", "2025-08-06 20:05", "transfer", "gift", "mule"),
    Transfer("henry", 1, MULE, "4100.00", "2025-08-07 08:45", "transfer", "investment opportunity", "mule"),  # noqa: E501
    Transfer("linda", 0, MULE, "1850.00", "2025-08-08 16:20", "transfer", "package release fee", "mule"),  # noqa: E501
    Transfer("nadia", 0, MULE, "2300.00", "2025-08-09 18:40", "transfer", "investment opportunity", "mule"),  # noqa: E501
    Transfer("paul", 0, MULE, "2999.99", "2025-08-10 13:37", "transfer", "crypto deposit", "mule"),
    Transfer("thomas", 0, MULE, "3500.00", "2025-08-12 11:11", "transfer", "loan to a friend", "mule"),  # noqa: E501
    # ... and the mule sends it on, outside the bank
    Transfer(MULE, 0, "EXT-COINVAULT-EXCHANGE", "8900.00", "2025-08-11 07:50", "transfer", "crypto purchase", "mule"),  # noqa: E501
    Transfer(MULE, 0, "EXT-COINVAULT-EXCHANGE", "7400.00", "2025-08-13 07:55", "transfer", "crypto purchase", "mule"),  # noqa: E501
    Transfer(MULE, 0, "EXT-WIRE-HK-9471", "9100.00", "2025-08-14 09:30", "wire", "wire transfer", "mule"),  # noqa: E501
    Transfer(MULE, 0, "EXT-WIRE-HK-9471", "5200.00", "2025-08-16 09:31", "wire", "wire transfer", "mule"),  # noqa: E501
    # structuring: just under the 10,000 reporting threshold, three days running
    Transfer("derek", 0, "rita", "9850.00", "2025-09-15 09:12", "transfer", "family support", "structuring"),  # noqa: E501
    Transfer("derek", 0, "rita", "9500.00", "2025-09-15 15:47", "transfer", "family support", "structuring"),  # noqa: E501
    Transfer("derek", 0, "rita", "9990.00", "2025-09-16 10:03", "transfer", "family support", "structuring"),  # noqa: E501
    Transfer("derek", 0, "rita", "9720.00", "2025-09-16 16:30", "transfer", "family support", "structuring"),  # noqa: E501
    Transfer("derek", 0, "rita", "9900.00", "2025-09-17 09:58", "transfer", "family support", "structuring"),  # noqa: E501
    Transfer("derek", 0, "rita", "9640.00", "2025-09-17 13:21", "transfer", "family support", "structuring"),  # noqa: E501
    Transfer("derek", 0, "rita", "9810.00", "2025-09-17 17:44", "transfer", "family support", "structuring"),  # noqa: E501
    # large wires, legitimate: volume without a pattern
    Transfer("oliver", 0, "EXT-HARBOR-TRADING-LTD", "41250.00", "2025-03-03 10:00", "wire", "property deposit"),  # noqa: E501
    Transfer("oliver", 0, "EXT-HARBOR-TRADING-LTD", "38900.00", "2025-04-01 10:00", "wire", "property instalment"),  # noqa: E501
    Transfer("oliver", 0, "EXT-HARBOR-TRADING-LTD", "44175.50", "2025-05-02 10:00", "wire", "property instalment"),  # noqa: E501
)

# Everyday counterparties outside the bank, with what is paid to them.
MERCHANTS: tuple[tuple[str, str], ...] = (
    ("EXT-FRESHMART-GROCERY", "groceries"),
    ("EXT-CITY-POWER", "electricity bill"),
    ("EXT-RIVERSIDE-RENTALS", "rent"),
    ("EXT-METRO-TRANSIT", "transit pass"),
    ("EXT-NORTHWIND-AIR", "flight"),
    ("EXT-LUMIERE-CAFE", "Café Lumière"),
)
TRANSFER_NOTES = ("transfer", "rent share", "dinner", "reimbursement")
EXTERNAL_SHARE = 0.6  # of everyday transfers, paid outside the bank
# fmt: on


def person_id(index: int) -> str:
    return f"P{index + 1:06d}"


def account_id(index: int) -> str:
    return f"A{index + 1:06d}"


def transaction_id(index: int) -> str:
    return f"T{index + 1:07d}"


def address_id(index: int) -> str:
    return f"AD{index + 1:06d}"


def phone_id(index: int) -> str:
    return f"PH{index + 1:06d}"


@dataclass(frozen=True)
class _Ledger:
    """Who is who: person ids and account ids by key, assigned in cast order."""

    person_ids: Mapping[str, str]
    account_ids: Mapping[str, tuple[str, ...]]
    accounts: Mapping[str, Account]  # by account id

    @classmethod
    def of(cls, persons: tuple[Person, ...]) -> _Ledger:
        ids: dict[str, tuple[str, ...]] = {}
        accounts: dict[str, Account] = {}
        for person in persons:
            own = tuple(account_id(len(accounts) + k) for k in range(len(person.accounts)))
            accounts.update(zip(own, person.accounts, strict=True))
            ids[person.key] = own
        return cls({p.key: person_id(i) for i, p in enumerate(persons)}, ids, accounts)

    def open_accounts(self, key: str) -> list[str]:
        return [a for a in self.account_ids[key] if self.accounts[a].status != "closed"]

    def counterparty(self, to: str) -> str:
        return to if to.startswith(EXTERNAL_PREFIX) else self.account_ids[to][0]


StoryTables = dict[SourceKind, dict[str, tuple[Row, ...]]]


def story_tables() -> StoryTables:
    """The whole story, deterministically: per source kind, per table in load order,
    tuples holding a value for each column in the order the table's schema.sql declares."""
    ledger = _Ledger.of(PERSONS)
    accounts = tuple(
        (
            account_ref,
            account.account_type,
            account.status,
            Decimal(account.balance),
            date.fromisoformat(account.opened),
            ledger.person_ids[person.key],
        )
        for person in PERSONS
        for account_ref, account in zip(
            ledger.account_ids[person.key], person.accounts, strict=True
        )
    )
    return {
        "core_banking_db": {
            "persons": tuple(_person_row(i, p) for i, p in enumerate(PERSONS)),
            "bank_accounts": accounts,
        },
        "kyc_db": {
            "addresses": tuple(
                (address_id(i), street, city, state, zip_code, ledger.person_ids[key])
                for i, (key, street, city, state, zip_code) in enumerate(ADDRESSES)
            ),
            "phones": tuple(
                (phone_id(i), number, phone_type, ledger.person_ids[key])
                for i, (key, number, phone_type) in enumerate(PHONES)
            ),
        },
        "payments_db": {"transactions": _transactions(ledger)},
    }


def _person_row(index: int, person: Person) -> Row:
    # Not a real SSN: area numbers from 900 up are never issued.
    ssn = f"9{index:02d}-{10 + index * 7 % 90:02d}-{1000 + index * 389 % 9000:04d}"
    return (
        person_id(index),
        person.first_name,
        person.last_name,
        ssn,
        date.fromisoformat(person.born),
        person.risk_score,
        person.flag_reason is not None,
        person.flag_reason,
    )


# A transaction's event_time, from and to account, and amount: the story's rows in time.
_IN_TIME_ORDER = itemgetter(2, 5, 6, 0)


def _transactions(ledger: _Ledger) -> tuple[Row, ...]:
    """The shaped transfers and everyone's everyday ones, numbered in time order."""
    rows: list[Row] = [
        _transaction_row(
            datetime.fromisoformat(t.at).replace(tzinfo=UTC),
            Decimal(t.amount),
            t.transaction_type,
            t.description,
            ledger.account_ids[t.sender][t.account],
            ledger.counterparty(t.to),
            t.pattern,
        )
        for t in SHAPED
    ]
    rows.extend(_everyday(ledger, random.Random(STORY_SEED)))
    rows.sort(key=_IN_TIME_ORDER)
    return tuple((transaction_id(i), *row) for i, row in enumerate(rows))


def _everyday(ledger: _Ledger, rng: random.Random) -> list[Row]:
    rows: list[Row] = []
    for person in PERSONS:
        own = ledger.open_accounts(person.key)
        others = [a for p in PERSONS if p.key != person.key for a in ledger.open_accounts(p.key)]
        low, high = person.amounts
        for _ in range(person.everyday):
            account = rng.choice(own)
            if rng.random() < EXTERNAL_SHARE:
                counterparty, note = rng.choice(MERCHANTS)
                card = ledger.accounts[account].account_type.lower() == "credit_card"
                kind = "card_payment" if card else "ach"
            else:
                counterparty, note = rng.choice(others), rng.choice(TRANSFER_NOTES)
                kind = "transfer"
            amount = Decimal(rng.randint(low * 100, high * 100)).scaleb(-2)
            at = AS_OF - timedelta(days=rng.randint(1, 360))
            at = at.replace(hour=rng.randint(7, 21), minute=rng.randint(0, 59))
            rows.append(_transaction_row(at, amount, kind, note, account, counterparty, None))
    return rows


def _transaction_row(
    at: datetime,
    amount: Decimal,
    transaction_type: str,
    description: str,
    from_account: str,
    to_account: str,
    pattern: str | None,
) -> Row:
    """A transaction's columns after its id, which is given once all are in time order."""
    return (amount, transaction_type, at, at.date(), description, from_account, to_account, pattern)


def story_plan() -> LoadPlan:
    """The story's three databases, as loads."""
    return {
        kind: [TableLoad.of_rows(table, rows) for table, rows in tables.items()]
        for kind, tables in story_tables().items()
    }
