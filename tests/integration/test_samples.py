"""The streaming domain's sample story loads, and every promise it makes holds in SQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg2
import pytest
from c360.config import Settings
from c360.samples.domains import STREAMING
from c360.samples.load import (
    SourceKind,
    SourceTargets,
    drop_database,
    reader_password,
    reference_rows,
    source_schema,
)
from c360.samples.story import headline_answer, load_samples
from psycopg2 import errors as pg_errors

TARGETS = SourceTargets.with_prefix("t_samples_")
RECENT = "timestamptz '2025-11-03 00:00:00+00' - interval '30 days'"


@pytest.fixture(scope="module")
def story(stack: Settings) -> Iterator[tuple[Settings, dict[str, int]]]:
    counts = load_samples(stack, TARGETS)
    yield stack, counts
    for kind in STREAMING.kinds:
        drop_database(stack, TARGETS.database(kind))


def source_tables(settings: Settings) -> dict[SourceKind, tuple[str, ...]]:
    """Each kind's tables, as its schema.sql creates them."""
    return {kind: source_schema(settings.project_dir, kind).table_names for kind in STREAMING.kinds}


def qualified(settings: Settings, kind: SourceKind, table: str) -> str:
    """A table of `kind` as SQL names it: in its schema (support_db's are in helpdesk)."""
    return f"{source_schema(settings.project_dir, kind).table(table).schema}.{table}"


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


def checksum(settings: Settings, database: str, table: str) -> str:
    query = f"select md5(string_agg(t::text, E'\\n' order by t::text)) from {table} t"
    return scalar(settings, database, query)


def test_every_table_is_loaded_and_counted(story):
    settings, counts = story
    assert set(counts) == {t for tables in source_tables(settings).values() for t in tables}
    for kind, tables in source_tables(settings).items():
        for table in tables:
            query = f"select count(*) from {qualified(settings, kind, table)}"
            stored = scalar(settings, TARGETS.database(kind), query)
            assert stored == counts[table] > 0, table


def test_accounts_include_john_smith(story):
    settings, _ = story
    profiles = TARGETS.profiles_db
    assert scalar(settings, profiles, "select count(*) from accounts") >= 40
    assert rows(
        settings, profiles, "select full_name from accounts where email = 'john.smith@email.com'"
    ) == [("John Smith",)]


def test_at_least_three_fingerprints_are_shared(story):
    settings, _ = story
    shared = scalar(
        settings,
        TARGETS.profiles_db,
        """
        select count(*) from (
            select card_fingerprint from payment_methods
            group by card_fingerprint having count(distinct account_id) > 1
        ) s
        """,
    )
    assert shared >= 3


def test_play_event_counts_fall_in_every_segment(story):
    settings, _ = story
    ids = [
        r[0] for r in rows(settings, TARGETS.profiles_db, "select account_id::text from accounts")
    ]
    per_account = dict(
        rows(
            settings,
            TARGETS.streaming_db,
            "select account_id_from_token::text, count(*) from play_events group by 1",
        )
    )
    counts = [per_account.get(account_id, 0) for account_id in ids]
    assert any(c == 0 for c in counts)
    assert any(1 <= c <= 10 for c in counts)
    assert any(11 <= c <= 20 for c in counts)
    assert any(c > 20 for c in counts)
    # every event belongs to a known account, though the column has no foreign key
    assert set(per_account) <= set(ids)


def test_statuses_and_actions_keep_their_messy_casing(story):
    settings, _ = story
    statuses = {
        r[0] for r in rows(settings, TARGETS.profiles_db, "select status from subscriptions")
    }
    assert {"active", "Active", "cancelled", "past_due"} <= statuses
    actions = {r[0] for r in rows(settings, TARGETS.streaming_db, "select action from play_events")}
    assert {"play", "START", "stop", "FINISH", "pause"} <= actions


def test_events_and_tickets_are_both_recent_and_old(story):
    settings, _ = story
    for database, table, column in (
        (TARGETS.streaming_db, "play_events", "event_timestamp"),
        (TARGETS.support_db, "helpdesk.tickets", "created_at"),
    ):
        recent, old, future = rows(
            settings,
            database,
            f"select count(*) filter (where {column} > {RECENT}), "
            f"count(*) filter (where {column} <= {RECENT}), "
            f"count(*) filter (where {column} >= timestamptz '2025-11-03 00:00:00+00') "
            f"from {table}",
        )[0]
        assert recent > 0, table
        assert old > 0, table
        assert future == 0, table


def test_events_cover_all_24_hours_in_utc(story):
    settings, _ = story
    hours = scalar(
        settings,
        TARGETS.streaming_db,
        "select count(distinct extract(hour from event_timestamp at time zone 'UTC')) "
        "from play_events",
    )
    assert hours == 24


@pytest.mark.parametrize("column", ["ip_address", "device_fingerprint"])
def test_ips_and_devices_are_shared_between_accounts(story, column):
    settings, _ = story
    shared = scalar(
        settings,
        TARGETS.streaming_db,
        f"select count(*) from (select {column} from play_events group by 1 "
        "having count(distinct account_id_from_token) > 1) s",
    )
    assert shared >= 2


def test_tickets_are_tagged_technical_and_playback(story):
    settings, _ = story
    tagged = dict(
        rows(
            settings,
            TARGETS.support_db,
            """
            select g.tag_name, count(*) from helpdesk.ticket_tag_link l
            join helpdesk.ticket_tags g using (tag_id) group by 1
            """,
        )
    )
    for tag in ("Technical", "Playback", "Account Compromised"):
        assert tagged.get(tag, 0) > 0, tag


def test_legacy_ticket_emails_differ_only_by_case_or_spaces(story):
    settings, _ = story
    emails = [
        r[0]
        for r in rows(settings, TARGETS.support_db, "select customer_email from helpdesk.tickets")
    ]
    mismatched = rows(
        settings,
        TARGETS.profiles_db,
        """
        select e from unnest(%s::text[]) e
        where e not in (select email from accounts)
          and lower(trim(e)) in (select lower(email) from accounts)
        """,
        (emails,),
    )
    typed = [r[0] for r in mismatched]
    assert any(e != e.strip() for e in typed), "a ticket email with surrounding spaces"
    assert any(e == e.strip() and e != e.lower() for e in typed), "a ticket email in other case"


def test_headline_question_has_a_non_trivial_answer(story):
    settings, _ = story
    answer = headline_answer(settings, TARGETS)
    assert answer.hacked_accounts == 3
    assert 0 < answer.card_and_ip_sharers < answer.card_sharers
    assert (answer.card_sharers, answer.card_and_ip_sharers) == (5, 3)


@pytest.mark.parametrize(
    ("kind", "query", "expected"),
    [
        ("profiles_db", "select full_name from accounts where full_name like '%%O''Brien'", "Seán O'Brien"),  # noqa: E501
        ("profiles_db", "select full_name from accounts where full_name like '%%\"Rae\"%%'", 'Renée "Rae" Dubois'),  # noqa: E501
        ("profiles_db", "select full_name from accounts where email = 'taro.yamada@email.jp'", "山田 太郎"),  # noqa: E501
        ("streaming_db", "select title from media_content where media_id = 'MOV-0004'", "Back\\Slash: A Path Story"),  # noqa: E501
        ("streaming_db", "select title from media_content where media_id = 'MOV-0016'", "Tab\tSeparated Lives"),  # noqa: E501
        ("support_db", "select subject from helpdesk.tickets where ticket_id = 'TCK-1003'", "I didn't change my password!\nSomeone logged in from abroad"),  # noqa: E501
        ("support_db", "select subject from helpdesk.tickets where ticket_id = 'TCK-1013'", "Audio drifts after\r\nten minutes"),  # noqa: E501
        ("support_db", "select full_name from helpdesk.agents where agent_id = 2", "Kenji 佐藤"),
    ],
)  # fmt: skip
def test_odd_characters_round_trip(story, kind, query, expected):
    settings, _ = story
    assert rows(settings, TARGETS.database(kind), query) == [(expected,)]


def test_agents_table_is_there_for_tickets(story):
    settings, _ = story
    dangling = scalar(
        settings,
        TARGETS.support_db,
        "select count(*) from helpdesk.tickets t where agent_id is not null "
        "and not exists (select 1 from helpdesk.agents a where a.agent_id = t.agent_id)",
    )
    assert scalar(settings, TARGETS.support_db, "select count(*) from helpdesk.agents") >= 3
    assert dangling == 0


def test_serial_sequences_continue_after_the_loaded_keys(story):
    settings, _ = story
    next_plan = scalar(
        settings, TARGETS.profiles_db, "select nextval(pg_get_serial_sequence('plans', 'plan_id'))"
    )
    assert next_plan > scalar(settings, TARGETS.profiles_db, "select max(plan_id) from plans")


@pytest.mark.parametrize("kind", STREAMING.kinds)
def test_reader_role_reads_but_cannot_write(story, kind):
    settings, _ = story
    password = reader_password(settings, kind, {})
    database = TARGETS.database(kind)
    table = qualified(settings, kind, source_tables(settings)[kind][0])
    conn = psycopg2.connect(
        host=settings.postgres.host,
        port=settings.postgres.port,
        user=reference_rows(settings.project_dir)[kind].user_name,
        password=password,
        dbname=database,
    )
    try:
        with conn.cursor() as cur:
            cur.execute(f"select count(*) from {table}")
            assert cur.fetchone()[0] > 0
            with pytest.raises(pg_errors.InsufficientPrivilege):
                cur.execute(f"delete from {table}")
    finally:
        conn.close()


def test_reloading_gives_identical_rows(story):
    settings, _ = story
    before = {
        table: checksum(settings, TARGETS.database(kind), qualified(settings, kind, table))
        for kind, tables in source_tables(settings).items()
        for table in tables
    }
    load_samples(settings, TARGETS)
    after = {
        table: checksum(settings, TARGETS.database(kind), qualified(settings, kind, table))
        for kind, tables in source_tables(settings).items()
        for table in tables
    }
    assert after == before


@pytest.mark.parametrize("kind", STREAMING.kinds)
def test_the_tables_are_the_columns_read_from_schema_sql(story, kind):
    settings, _ = story
    created = rows(
        settings,
        TARGETS.database(kind),
        "select table_name::text, array_agg(column_name::text order by ordinal_position) "
        "from information_schema.columns "
        "where table_schema not in ('pg_catalog', 'information_schema') group by 1",
    )
    schema = source_schema(settings.project_dir, kind)
    assert dict(created) == {t.name: list(t.column_names) for t in schema.tables}
