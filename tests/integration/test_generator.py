"""The streaming domain's generator: exact counts per scale factor, same seed same rows,
story kept."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

import psycopg2
import pytest
from c360.cli import app
from c360.config import Settings
from c360.errors import ConfigError
from c360.samples.domains import STREAMING
from c360.samples.generator import ScaleCounts, generate
from c360.samples.load import SOURCE_KINDS, SourceKind, SourceTargets, drop_database, source_schema
from typer.testing import CliRunner

PREFIXES = ("t_gen_a_", "t_gen_b_", "t_gen_c_", "t_gen_d_", "t_gen_cli_")


@pytest.fixture(scope="module")
def settings(stack: Settings) -> Iterator[Settings]:
    yield stack
    for prefix in PREFIXES:
        for kind in SOURCE_KINDS:
            drop_database(stack, SourceTargets.with_prefix(prefix).database(kind))


def scalar(settings: Settings, database: str, query: str) -> Any:
    conn = psycopg2.connect(settings.postgres.dsn(database))
    try:
        with conn.cursor() as cur:
            cur.execute(query)
            return cur.fetchone()[0]
    finally:
        conn.close()


def source_tables(settings: Settings) -> dict[SourceKind, tuple[str, ...]]:
    """Each kind's tables, as its schema.sql creates them."""
    return {kind: source_schema(settings.project_dir, kind).table_names for kind in STREAMING.kinds}


def qualified(settings: Settings, kind: SourceKind, table: str) -> str:
    """A table of `kind` as SQL names it: in its schema (support_db's are in helpdesk)."""
    return f"{source_schema(settings.project_dir, kind).table(table).schema}.{table}"


def checksums(settings: Settings, targets: SourceTargets) -> dict[str, str]:
    return {
        table: scalar(
            settings,
            targets.database(kind),
            "select md5(string_agg(t::text, E'\\n' order by t::text)) "
            f"from {qualified(settings, kind, table)} t",
        )
        for kind, tables in source_tables(settings).items()
        for table in tables
    }


def stored_counts(settings: Settings, targets: SourceTargets) -> dict[str, int]:
    return {
        table: scalar(
            settings,
            targets.database(kind),
            f"select count(*) from {qualified(settings, kind, table)}",
        )
        for kind, tables in source_tables(settings).items()
        for table in tables
    }


@pytest.fixture(scope="module")
def seed_11(settings: Settings) -> SourceTargets:
    targets = SourceTargets.with_prefix("t_gen_a_")
    generate(settings, 0.02, 11, targets)
    return targets


def test_scale_counts_keep_realistic_proportions():
    counts = ScaleCounts.for_scale_factor(1)
    assert counts.play_events == 100_000
    assert counts.play_events > counts.accounts > counts.tickets
    assert counts.accounts == 5_000
    assert counts.media_content == 1_000
    assert ScaleCounts.for_scale_factor(2).play_events == 2 * counts.play_events


@pytest.mark.parametrize("scale_factor", [0.0, -1.0, float("nan")])
def test_scale_factor_must_be_positive(scale_factor):
    with pytest.raises(ConfigError):
        ScaleCounts.for_scale_factor(scale_factor)


def test_small_scale_factor_gives_the_requested_counts(settings, seed_11):
    expected = asdict(ScaleCounts.for_scale_factor(0.02))
    assert stored_counts(settings, seed_11) == expected
    assert expected["play_events"] == 2_000


def test_larger_scale_factor_gives_the_requested_counts(settings):
    targets = SourceTargets.with_prefix("t_gen_d_")
    returned = generate(settings, 0.05, 3, targets)
    expected = asdict(ScaleCounts.for_scale_factor(0.05))
    assert returned == expected
    assert stored_counts(settings, targets) == expected
    assert expected["play_events"] == 5_000


def test_same_seed_gives_the_same_rows(settings, seed_11):
    again = SourceTargets.with_prefix("t_gen_b_")
    generate(settings, 0.02, 11, again)
    assert checksums(settings, again) == checksums(settings, seed_11)


def test_different_seed_gives_different_rows(settings, seed_11):
    other = SourceTargets.with_prefix("t_gen_c_")
    generate(settings, 0.02, 12, other)
    first, second = checksums(settings, seed_11), checksums(settings, other)
    for table in ("accounts", "payment_methods", "subscriptions", "play_events", "tickets"):
        assert first[table] != second[table], table


def test_story_survives_at_scale(settings, seed_11):
    profiles, streaming, support = (seed_11.database(k) for k in STREAMING.kinds)
    shared_cards = scalar(
        settings,
        profiles,
        "select count(*) from (select card_fingerprint from payment_methods group by 1 "
        "having count(distinct account_id) > 1) s",
    )
    assert shared_cards >= 3
    statuses = scalar(settings, profiles, "select array_agg(distinct status) from subscriptions")
    assert {"active", "Active", "cancelled", "past_due"} <= set(statuses)
    actions = scalar(settings, streaming, "select array_agg(distinct action) from play_events")
    assert {"play", "START", "stop", "FINISH", "pause"} <= set(actions)
    for column in ("ip_address", "device_fingerprint"):
        shared = scalar(
            settings,
            streaming,
            f"select count(*) from (select {column} from play_events group by 1 "
            "having count(distinct account_id_from_token) > 1) s",
        )
        assert shared > 0, column
    hours = scalar(
        settings,
        streaming,
        "select count(distinct extract(hour from event_timestamp at time zone 'UTC')) "
        "from play_events",
    )
    assert hours == 24
    messy_emails = scalar(
        settings,
        support,
        "select count(*) from helpdesk.tickets where customer_email <> lower(trim(customer_email))",
    )
    assert messy_emails > 0
    compromised = scalar(
        settings,
        support,
        "select count(*) from helpdesk.ticket_tag_link join helpdesk.ticket_tags using (tag_id) "
        "where tag_name = 'Account Compromised'",
    )
    assert compromised > 0


def test_events_reference_generated_accounts(settings, seed_11):
    profiles, streaming, _ = (seed_11.database(k) for k in STREAMING.kinds)
    accounts = set(scalar(settings, profiles, "select array_agg(account_id::text) from accounts"))
    streamed = scalar(
        settings,
        streaming,
        "select array_agg(distinct account_id_from_token::text) from play_events",
    )
    assert set(streamed) <= accounts


def test_cli_generate_reports_counts_and_rate(settings):
    env = dict(os.environ)
    env.update(
        C360_PROJECT_DIR=str(settings.project_dir),
        C360_HOME=str(settings.home),
        C360_STACK=settings.stack_mode,
        C360_PG_PORT=str(settings.postgres.port),
        C360_STAGING_DB=settings.postgres.staging_database,
    )
    if settings.stack_mode == "external":
        env.update(
            PGHOST=settings.postgres.host,
            PGPORT=str(settings.postgres.port),
            PGUSER=settings.postgres.user,
            PGPASSWORD=settings.postgres.password or "",
        )
    result = CliRunner().invoke(
        app,
        [
            *("samples", "generate", "--scale-factor", "0.01", "--seed", "5"),
            *("--database-prefix", "t_gen_cli_"),
        ],
        env=env,
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "rows/s" in result.output
    targets = SourceTargets.with_prefix("t_gen_cli_")
    assert stored_counts(settings, targets) == asdict(ScaleCounts.for_scale_factor(0.01))


def test_cli_rejects_a_bad_scale_factor(settings):
    env = dict(os.environ, C360_HOME=str(settings.home), C360_PG_PORT=str(settings.postgres.port))
    result = CliRunner().invoke(app, ["samples", "generate", "--scale-factor", "0"], env=env)
    assert result.exit_code == 2
