"""The banking notebook's analyses, answered in SQL on the loaded banking sources.

The seeds' banking Customer 360 notebook finds shared addresses and phones,
counterparties shared by several accounts, then gives each person a segment,
a risk level and cross-sell offers from their accounts and the transactions
those accounts sent. These are its rules, as it writes them, with one
difference: account types are compared case-insensitively, as the core system
spells them in mixed case. The sources are siloed like the streaming ones: each
query runs in one database, and what crosses silos (what each account sent) is
passed on as parameters, as `story.headline_answer` does.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from c360.config import Settings
from c360.samples.load import SourceTargets, source_rows

SEGMENTS = ("Premium", "Gold", "Silver", "Bronze")
RISK_LEVELS = ("High", "Medium", "Low")
OFFERS = ("Investment Account", "Credit Card", "Savings Account")

# kyc_db: address rows (by the notebook's key) and phone numbers of more than one person.
SHARED_ADDRESSES = """
select count(*) from (
    select 1 from addresses
    group by street, city, state
    having count(distinct person_id) > 1
) shared
"""
SHARED_PHONES = """
select count(*) from (
    select 1 from phones group by phone_number having count(distinct person_id) > 1
) shared
"""

# payments_db: counterparties paid from more than one account; what each account sent.
SHARED_COUNTERPARTIES = """
select count(*) from (
    select 1 from transactions
    group by to_account_id
    having count(distinct from_account_id) > 1
) shared
"""
SENT = """
select from_account_id, count(*), sum(amount)
from transactions
group by from_account_id
"""

# core_banking_db: each person's metrics, then the notebook's segment, risk and offers.
PROFILES = """
with sent as (
    select account_id, transactions, volume
    from unnest(%(accounts)s::text[], %(transactions)s::bigint[], %(volumes)s::numeric[])
        as sent (account_id, transactions, volume)
),

metrics as (
    select
        p.person_id,
        count(a.account_id) as accounts,
        coalesce(sum(a.balance), 0) as total_balance,
        coalesce(sum(s.transactions), 0) as transactions,
        coalesce(sum(s.volume), 0) as volume,
        coalesce(
            array_agg(distinct lower(a.account_type))
                filter (where a.account_type is not null),
            '{}'
        ) as account_types
    from persons as p
    left join bank_accounts as a on a.owner_person_id = p.person_id
    left join sent as s on s.account_id = a.account_id
    group by p.person_id
),

scored as (
    select
        person_id,
        total_balance,
        transactions,
        account_types,
        case
            when total_balance > 100000 and transactions > 50 then 'Premium'
            when total_balance > 50000 or transactions > 30 then 'Gold'
            when total_balance > 10000 or transactions > 10 then 'Silver'
            else 'Bronze'
        end as segment,
        case when volume > 100000 then 20 else 0 end
        + case when transactions > 50 then 15 else 0 end
        + case when transactions > 0 and volume / transactions > 5000 then 10 else 0 end
        + case when accounts > 3 then 10 else 0 end as risk_score
    from metrics
)

select
    person_id,
    segment,
    case
        when risk_score >= 40 then 'High'
        when risk_score >= 20 then 'Medium'
        else 'Low'
    end as risk_level,
    array_remove(
        array[
            case
                when total_balance > 50000 and not 'investment' = any(account_types)
                    then 'Investment Account'
            end,
            case
                when transactions > 30 and not 'credit_card' = any(account_types)
                    then 'Credit Card'
            end,
            case when account_types = array['checking'] then 'Savings Account' end
        ],
        null
    ) as offers
from scored
order by person_id
"""


@dataclass(frozen=True)
class CustomerProfile:
    person_id: str
    segment: str
    risk_level: str
    offers: tuple[str, ...]


@dataclass(frozen=True)
class NotebookAnswers:
    shared_addresses: int
    shared_phones: int
    shared_counterparties: int
    profiles: tuple[CustomerProfile, ...]

    def segments(self) -> Counter[str]:
        return Counter(profile.segment for profile in self.profiles)

    def risk_levels(self) -> Counter[str]:
        return Counter(profile.risk_level for profile in self.profiles)

    def offers(self) -> Counter[str]:
        return Counter(offer for profile in self.profiles for offer in profile.offers)

    def sentence(self) -> str:
        segments, risks, offers = self.segments(), self.risk_levels(), self.offers()
        return (
            f"banking notebook: {self.shared_addresses} shared addresses, "
            f"{self.shared_phones} shared phones, "
            f"{self.shared_counterparties} shared counterparties; segments "
            + ", ".join(f"{name} {segments[name]}" for name in SEGMENTS)
            + "; risk "
            + ", ".join(f"{name} {risks[name]}" for name in RISK_LEVELS)
            + "; offers "
            + ", ".join(f"{name} {offers[name]}" for name in OFFERS)
        )


def notebook_answers(settings: Settings, targets: SourceTargets | None = None) -> NotebookAnswers:
    """The notebook's analyses answered in SQL, one source at a time (they are siloed)."""
    targets = targets or SourceTargets()
    sent = source_rows(settings, targets.payments_db, SENT)
    profiles = source_rows(
        settings,
        targets.core_banking_db,
        PROFILES,
        {
            "accounts": [row[0] for row in sent],
            "transactions": [row[1] for row in sent],
            "volumes": [row[2] for row in sent],
        },
    )
    return NotebookAnswers(
        shared_addresses=_count(settings, targets.kyc_db, SHARED_ADDRESSES),
        shared_phones=_count(settings, targets.kyc_db, SHARED_PHONES),
        shared_counterparties=_count(settings, targets.payments_db, SHARED_COUNTERPARTIES),
        profiles=tuple(
            CustomerProfile(person, segment, risk, tuple(offers))
            for person, segment, risk, offers in profiles
        ),
    )


def notebook_summary(settings: Settings, targets: SourceTargets) -> str:
    """What `samples load` says after loading the banking story."""
    return notebook_answers(settings, targets).sentence()


def _count(settings: Settings, database: str, query: str) -> int:
    return int(source_rows(settings, database, query)[0][0])
