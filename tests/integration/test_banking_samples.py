"""The banking domain's story and generator load, and their shapes hold in SQL.

Each check reads the siloed databases one at a time, passing what crosses
silos (account ids, owners) as parameters, as the notebook answers do.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

import psycopg2
import pytest
from c360.config import Settings
from c360.samples.banking_generator import BankingCounts
from c360.samples.banking_notebook import OFFERS, RISK_LEVELS, SEGMENTS, notebook_answers
from c360.samples.domains import BANKING, generate, load_stories
from c360.samples.load import (
    SourceTargets,
    drop_database,
    reader_password,
    reference_rows,
    source_schema,
)
from graph_helpers import cli
from psycopg2 import errors as pg_errors

STORY = SourceTargets.with_prefix("t_bank_story_")
GENERATED = SourceTargets.with_prefix("t_bank_gen_a_")
AGAIN = SourceTargets.with_prefix("t_bank_gen_b_")
CLI = SourceTargets.with_prefix("t_bank_cli_")
SCALE_FACTOR, SEED = 0.05, 3


@pytest.fixture(scope="module")
def settings(stack: Settings) -> Iterator[Settings]:
    yield stack
    for targets in (STORY, GENERATED, AGAIN, CLI):
        for kind in BANKING.kinds:
            drop_database(stack, targets.database(kind))


@pytest.fixture(scope="module")
def story_counts(settings: Settings) -> dict[str, int]:
    return load_stories(settings, (BANKING,), STORY)


@pytest.fixture(scope="module")
def generated_counts(settings: Settings) -> dict[str, int]:
    return generate(settings, (BANKING,), SCALE_FACTOR, SEED, GENERATED)


@pytest.fixture(params=["story", "generated"])
def loaded(request: pytest.FixtureRequest) -> SourceTargets:
    """The story's databases, then the generator's: every shape holds in both."""
    request.getfixturevalue(f"{request.param}_counts")
    return STORY if request.param == "story" else GENERATED


def rows(settings: Settings, database: str, query: str, params: Any = None) -> list[tuple]:
    conn = psycopg2.connect(settings.postgres.dsn(database))
    try:
        with conn.cursor() as cur:
            cur.execute(query, params)
            return list(cur.fetchall())
    finally:
        conn.close()


def scalar(settings: Settings, database: str, query: str, params: Any = None) -> Any:
    return rows(settings, database, query, params)[0][0]


def stored_counts(settings: Settings, targets: SourceTargets) -> dict[str, int]:
    return {
        table: scalar(settings, targets.database(kind), f"select count(*) from {table}")
        for kind in BANKING.kinds
        for table in source_schema(settings.project_dir, kind).table_names
    }


def checksums(settings: Settings, targets: SourceTargets) -> dict[str, str]:
    return {
        table: scalar(
            settings,
            targets.database(kind),
            f"select md5(string_agg(t::text, E'\\n' order by t::text)) from {table} t",
        )
        for kind in BANKING.kinds
        for table in source_schema(settings.project_dir, kind).table_names
    }


def account_ids(settings: Settings, targets: SourceTargets) -> list[str]:
    return [
        r[0]
        for r in rows(settings, targets.core_banking_db, "select account_id from bank_accounts")
    ]


def test_every_table_is_loaded_and_counted(settings, story_counts, generated_counts):
    assert stored_counts(settings, STORY) == story_counts
    assert all(count > 0 for count in story_counts.values())
    assert stored_counts(settings, GENERATED) == generated_counts
    assert generated_counts == asdict(BankingCounts.for_scale_factor(SCALE_FACTOR))


def test_a_household_shares_an_address_on_separate_rows(settings, loaded):
    shared = rows(
        settings,
        loaded.kyc_db,
        "select count(*), count(distinct person_id) from addresses "
        "group by street, city, state, zip_code having count(distinct person_id) > 1",
    )
    assert shared
    assert all(addresses == persons >= 2 for addresses, persons in shared)


def test_a_ring_of_three_shares_a_phone_number(settings, loaded):
    persons = scalar(
        settings,
        loaded.kyc_db,
        "select max(n) from "
        "(select count(distinct person_id) as n from phones group by phone_number) s",
    )
    assert persons == 3


def test_a_mule_account_receives_from_at_least_five_persons(settings, loaded):
    pairs = rows(
        settings,
        loaded.payments_db,
        "select distinct to_account_id, from_account_id from transactions",
    )
    most = scalar(
        settings,
        loaded.core_banking_db,
        """
        select max(senders) from (
            select count(distinct sender.owner_person_id) as senders
            from unnest(%s::text[], %s::text[]) as pair (to_account_id, from_account_id)
            join bank_accounts as mule on mule.account_id = pair.to_account_id
            join bank_accounts as sender on sender.account_id = pair.from_account_id
            where sender.owner_person_id <> mule.owner_person_id
            group by pair.to_account_id
        ) s
        """,
        ([p[0] for p in pairs], [p[1] for p in pairs]),
    )
    assert most >= 5


def test_someone_structures_just_under_10000_within_three_days(settings, loaded):
    runs = scalar(
        settings,
        loaded.payments_db,
        """
        select max(n) from (
            select count(*) over (
                partition by from_account_id order by event_time
                range between interval '3 days' preceding and current row
            ) as n
            from transactions where amount >= 9500 and amount < 10000
        ) s
        """,
    )
    assert runs >= 5
    marked = rows(
        settings,
        loaded.payments_db,
        "select min(amount), max(amount) from transactions "
        "where suspicious_pattern = 'structuring'",
    )
    assert 9500 <= marked[0][0] <= marked[0][1] < 10000
    patterns = rows(
        settings, loaded.payments_db, "select distinct suspicious_pattern from transactions"
    )
    assert {p[0] for p in patterns} == {None, "mule", "structuring"}


def test_external_counterparties_have_no_bank_account(settings, loaded):
    accounts = account_ids(settings, loaded)
    outside = [
        r[0]
        for r in rows(
            settings,
            loaded.payments_db,
            "select distinct to_account_id from transactions where not to_account_id = any(%s)",
            (accounts,),
        )
    ]
    assert outside
    assert all(name.startswith("EXT-") for name in outside)
    senders_outside = scalar(
        settings,
        loaded.payments_db,
        "select count(*) from transactions where not from_account_id = any(%s)",
        (accounts,),
    )
    assert senders_outside == 0


def test_types_are_mixed_case_and_accounts_closed_and_persons_flagged(settings, loaded):
    spellings = dict(
        rows(
            settings,
            loaded.core_banking_db,
            "select lower(account_type), count(distinct account_type) "
            "from bank_accounts group by 1",
        )
    )
    assert set(spellings) == {"checking", "savings", "investment", "credit_card"}
    assert spellings["checking"] >= 2
    closed = "select count(*) from bank_accounts where account_status = 'closed'"
    assert scalar(settings, loaded.core_banking_db, closed) > 0
    flagged, unexplained = rows(
        settings,
        loaded.core_banking_db,
        "select count(*) filter (where flagged), "
        "count(*) filter (where flagged is distinct from (flag_reason is not null)) from persons",
    )[0]
    assert flagged > 0
    assert unexplained == 0


def test_the_notebook_reaches_every_segment_risk_level_and_offer(settings, loaded):
    answers = notebook_answers(settings, loaded)
    assert set(answers.segments()) == set(SEGMENTS)
    assert set(answers.risk_levels()) == set(RISK_LEVELS)
    assert set(answers.offers()) == set(OFFERS)
    assert answers.shared_addresses > 0
    assert answers.shared_phones > 0
    assert answers.shared_counterparties > 0


def test_the_story_answers_the_notebook_as_its_cast_says(settings, story_counts):
    answers = notebook_answers(settings, STORY)
    assert answers.segments() == {"Premium": 2, "Gold": 5, "Silver": 6, "Bronze": 6}
    assert answers.risk_levels() == {"High": 1, "Medium": 3, "Low": 15}
    assert answers.offers() == {"Investment Account": 3, "Credit Card": 1, "Savings Account": 5}
    assert (answers.shared_addresses, answers.shared_phones) == (1, 1)
    profiles = {p.person_id: p for p in answers.profiles}
    assert (profiles["P000001"].segment, profiles["P000001"].risk_level) == ("Premium", "High")
    assert profiles["P000003"].offers == ("Savings Account",)  # her only type: `checking`
    assert profiles["P000005"].offers == ()  # his `investment`, in lower case, counts


def test_the_same_seed_gives_the_same_rows(settings, generated_counts):
    generate(settings, (BANKING,), SCALE_FACTOR, SEED, AGAIN)
    assert checksums(settings, AGAIN) == checksums(settings, GENERATED)


def test_reloading_the_story_gives_identical_rows(settings, story_counts):
    before = checksums(settings, STORY)
    load_stories(settings, (BANKING,), STORY)
    assert checksums(settings, STORY) == before


@pytest.mark.parametrize("kind", BANKING.kinds)
def test_reader_role_reads_but_cannot_write(settings, story_counts, kind):
    table = source_schema(settings.project_dir, kind).table_names[0]
    conn = psycopg2.connect(
        host=settings.postgres.host,
        port=settings.postgres.port,
        user=reference_rows(settings.project_dir, (kind,))[kind].user_name,
        password=reader_password(settings, kind, {}),
        dbname=STORY.database(kind),
    )
    try:
        with conn.cursor() as cur:
            cur.execute(f"select count(*) from {table}")
            assert cur.fetchone()[0] > 0
            with pytest.raises(pg_errors.InsufficientPrivilege):
                cur.execute(f"delete from {table}")
    finally:
        conn.close()


def test_cli_loads_one_domain_and_says_what_its_story_answers(settings):
    result = cli(
        settings, "samples", "load", "--domain", "banking", "--database-prefix", "t_bank_cli_"
    )
    assert result.exit_code == 0, result.output
    assert "banking notebook: 1 shared addresses, 1 shared phones" in result.output
    assert "headline question" not in result.output
    assert stored_counts(settings, CLI) == stored_counts(settings, STORY)


def test_cli_generates_one_domain(settings):
    result = cli(
        settings,
        *("samples", "generate", "--domain", "banking", "-s", "0.01", "--seed", "5"),
        *("--database-prefix", "t_bank_cli_"),
    )
    assert result.exit_code == 0, result.output
    assert "rows/s" in result.output
    assert stored_counts(settings, CLI) == asdict(BankingCounts.for_scale_factor(0.01))


def test_cli_refuses_an_unknown_domain(settings):
    result = cli(settings, "samples", "load", "--domain", "insurance")
    assert result.exit_code == 2
