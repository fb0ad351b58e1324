"""Incremental builds (issue 13): staging reads only what changed in the source
tables its change-tracking rows name, the graph tables write only the rows that
changed, and both hold what a full refresh builds.

The module loads the streaming story into source databases of its own, copies
the project with the banking domain switched off, and attaches the sources to
two staging databases of its own: one built incrementally throughout, the
other rebuilt with `--full-refresh` after each change to compare with, table
by table (the change batch apart, which says when a row last changed). Three
seeded rounds insert, update and delete rows of the tracked tables of
profiles_db and streaming_db; the session's graph tables are never touched.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from c360.config import Settings
from c360.samples.load import (
    SourceTargets,
    drop_database,
    load_databases,
    reader_environment,
)
from c360.samples.story import CARD_TYPES, story_plan
from c360.transform.attach import attach_sources
from c360.transform.dbt import copy_project, run_dbt
from c360.transform.files import write_files
from c360.transform.render import render_project
from graph_helpers import graph_table_oids, pg_rows
from test_domain_switch import switch_banking_off

PROJECT = Path(__file__).resolve().parents[2]
PREFIX = "c360_test_incr_"
TARGETS = SourceTargets.with_prefix(PREFIX)
INCREMENTAL_DB = "c360_test_incr"
FULL_DB = "c360_test_incr_full"
ROUNDS = 3
# The staging models the default change-tracking rows make incremental, by strategy.
APPEND_ONLY = {"stg_streaming__play_events"}
UPDATED_AT = {
    "stg_profiles__accounts",
    "stg_profiles__payment_methods",
    "stg_profiles__subscriptions",
    "stg_support__tickets",
}
NEW_EVENTS = 20
DELETED_EVENTS = 5


@dataclass(frozen=True)
class Staging:
    """The project copy, built into two staging databases over the same sources."""

    project: Path
    incremental: Settings
    full: Settings


def build(settings: Settings, project: Path, *args: str) -> dict[str, Any]:
    """`dbt <args>`, asserted to pass; each staging model's adapter response by name."""
    target = f"target_{settings.postgres.staging_database}"
    done = run_dbt(settings, project, [*args, "--target-path", target])
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    results = json.loads((project / target / "run_results.json").read_text())["results"]
    return {
        r["unique_id"].rsplit(".", 1)[1]: r["adapter_response"]
        for r in results
        if r["unique_id"].startswith("model.c360.stg_")
    }


def refresh_both(staging: Staging) -> tuple[dict[str, Any], dict[str, Any]]:
    """An incremental `dbt build`, and a full refresh of the other database."""
    incremental = build(staging.incremental, staging.project, "build")
    full = build(staging.full, staging.project, "run", "--full-refresh")
    return incremental, full


def checksums(settings: Settings) -> dict[str, tuple[str, int]]:
    """Each staging and graph table's rows, their change batch left out: an md5
    over them in a fixed order, and their number."""
    database = settings.postgres.staging_database
    tables = pg_rows(
        settings,
        "select table_schema, table_name from information_schema.tables"
        " where table_schema in ('staging', 'graph') order by 1, 2",
        database,
    )
    sums = {}
    for schema, table in tables:
        ((digest, count),) = pg_rows(
            settings,
            f"select md5(string_agg(r, E'\\n' order by r)), count(*) from ("
            f"select (to_jsonb(t) - 'c360_batch')::text as r from {schema}.{table} as t) as rows",
            database,
        )
        sums[table] = (digest, count)
    return sums


def newest_batch(settings: Settings, table: str) -> tuple[int, int]:
    """The rows of `table` the last build wrote, and the keys it logged as removed."""
    ((written, removed),) = pg_rows(
        settings,
        f"select (select count(*) from graph.{table}"
        f" where c360_batch = (select max(c360_batch) from graph.{table})),"
        " (select count(*) from control.graph_removed_rows where table_name = %s"
        " and c360_batch = (select max(c360_batch) from control.graph_removed_rows"
        " where table_name = %s))",
        settings.postgres.staging_database,
        (table, table),
    )
    return written, removed


def source_execute(settings: Settings, kind: str, statements: list[tuple[str, tuple[Any, ...]]]):
    """Run `statements` in one transaction of a source (one time for every updated_at)."""
    conn = psycopg2.connect(settings.postgres.dsn(TARGETS.database(kind)))  # type: ignore[arg-type]
    try:
        with conn, conn.cursor() as cur:
            for statement, params in statements:
                cur.execute(statement, params)
    finally:
        conn.close()


def source_values(settings: Settings, kind: str, query: str) -> list[Any]:
    return [row[0] for row in pg_rows(settings, query, TARGETS.database(kind))]


@pytest.fixture(scope="module")
def staging(stack: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Staging]:
    """The story loaded into this module's sources, attached to both staging
    databases, the files generated, and a first `dbt build` of each."""
    load_databases(stack, TARGETS, story_plan())
    project = copy_project(
        PROJECT, tmp_path_factory.mktemp("incremental") / "project", database_prefix=PREFIX
    )
    switch_banking_off(project)
    env = reader_environment(stack, {})
    settings = {
        database: replace(
            stack, project_dir=project, postgres=replace(stack.postgres, staging_database=database)
        )
        for database in (INCREMENTAL_DB, FULL_DB)
    }
    for each in settings.values():
        drop_database(stack, each.postgres.staging_database)
        attach_sources(each, project, env)
    write_files(project, render_project(settings[INCREMENTAL_DB], project))
    built = Staging(project, settings[INCREMENTAL_DB], settings[FULL_DB])
    refresh_both(built)
    yield built
    for database in (INCREMENTAL_DB, FULL_DB, *(TARGETS.database(k) for k in story_plan())):
        drop_database(stack, database)


def change_profiles(settings: Settings, rng: random.Random, round_number: int) -> dict[str, int]:
    """Inserts, updates and deletes in the three tracked tables of profiles_db, in
    one transaction; the rows inserted or updated, by staging model."""
    accounts = source_values(settings, "profiles_db", "select account_id from accounts order by 1")
    cards = source_values(
        settings, "profiles_db", "select payment_method_id from payment_methods order by 1"
    )
    subscriptions = source_values(
        settings, "profiles_db", "select subscription_id from subscriptions order by 1"
    )
    statements: list[tuple[str, tuple[Any, ...]]] = []
    # an account leaves with its cards and subscriptions; some others go alone
    gone = rng.choice(accounts)
    accounts.remove(gone)
    for table in ("subscriptions", "payment_methods", "accounts"):
        statements.append((f"delete from {table} where account_id = %s", (gone,)))
    gone_cards = rng.sample(cards, 2)
    gone_subscriptions = rng.sample(subscriptions, 2)
    statements += [
        ("delete from payment_methods where payment_method_id = %s", (c,)) for c in gone_cards
    ]
    statements += [
        ("delete from subscriptions where subscription_id = %s", (s,)) for s in gone_subscriptions
    ]
    # updates of rows that stay (the trigger sets their updated_at)
    renamed = rng.sample(accounts, 4)
    statements += [
        (
            "update accounts set full_name = full_name || %s where account_id = %s",
            (f" r{round_number}", a),
        )
        for a in renamed
    ]
    recarded = rng.sample([c for c in cards if c not in gone_cards], 3)
    statements += [
        (
            "update payment_methods set card_type = %s, card_last_four = %s"
            " where payment_method_id = %s",
            (rng.choice(CARD_TYPES), f"{rng.randrange(10_000):04d}", c),
        )
        for c in recarded
    ]
    restated = rng.sample([s for s in subscriptions if s not in gone_subscriptions], 3)
    statements += [
        (
            "update subscriptions set status = %s where subscription_id = %s",
            (rng.choice(("active", "Active", "cancelled", "past_due")), s),
        )
        for s in restated
    ]
    # new accounts, each with a card and a subscription
    for number in range(3):
        account = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        statements += [
            (
                "insert into accounts (account_id, email, hashed_password, full_name, created_at)"
                " values (%s, %s, 'x', %s, now())",
                (account, f"round{round_number}.{number}@incremental.test", f"New {number}"),
            ),
            (
                "insert into payment_methods (payment_method_id, account_id, card_fingerprint,"
                " card_type, card_last_four) values (%s, %s, %s, %s, '4242')",
                (
                    str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    account,
                    f"fp_{rng.getrandbits(48):012x}",
                    rng.choice(CARD_TYPES),
                ),
            ),
            (
                "insert into subscriptions (subscription_id, account_id, plan_id, status,"
                " starts_at, renews_at) values (%s, %s, %s, 'active', now(), now() + interval"
                " '30 days')",
                (str(uuid.UUID(int=rng.getrandbits(128), version=4)), account, rng.randint(1, 3)),
            ),
        ]
    source_execute(settings, "profiles_db", statements)
    return {
        "stg_profiles__accounts": len(renamed) + 3,
        "stg_profiles__payment_methods": len(recarded) + 3,
        "stg_profiles__subscriptions": len(restated) + 3,
    }


def change_streaming(settings: Settings, rng: random.Random) -> dict[str, int]:
    """Play events deleted and inserted (an append-only table is never updated),
    and a title of the fully re-read catalogue renamed."""
    events = source_values(settings, "streaming_db", "select event_id from play_events order by 1")
    players = source_values(
        settings,
        "streaming_db",
        "select distinct account_id_from_token from play_events order by 1",
    )
    titles = source_values(
        settings, "streaming_db", "select media_id from media_content order by 1"
    )
    statements: list[tuple[str, tuple[Any, ...]]] = [
        ("delete from play_events where event_id = %s", (e,))
        for e in rng.sample(events, DELETED_EVENTS)
    ]
    statements += [
        (
            "insert into play_events (session_id, account_id_from_token, media_id,"
            " event_timestamp, action, ip_address, device_fingerprint)"
            " values (%s, %s, %s, now(), %s, %s, %s)",
            (
                f"sess-incr-{rng.getrandbits(32):08x}",
                rng.choice(players),
                rng.choice(titles),
                rng.choice(("play", "START", "stop")),
                f"203.0.113.{rng.randint(1, 254)}",
                f"dev-incr-{rng.randint(1, 9)}",
            ),
        )
        for _ in range(NEW_EVENTS)
    ]
    statements.append(
        (
            "update media_content set title = title || ' (remastered)' where media_id = %s",
            (rng.choice(titles),),
        )
    )
    source_execute(settings, "streaming_db", statements)
    return {"stg_streaming__play_events": NEW_EVENTS}


def test_each_round_stages_what_a_full_refresh_stages_reading_only_the_changes(
    staging: Staging,
) -> None:
    for round_number in range(1, ROUNDS + 1):
        rng = random.Random(f"incremental staging, round {round_number}")
        changed = change_profiles(staging.incremental, rng, round_number)
        changed |= change_streaming(staging.incremental, rng)
        in_place = graph_table_oids(staging.incremental, INCREMENTAL_DB)
        incremental, full = refresh_both(staging)

        # the graph tables were changed in place, by the changed rows only
        assert graph_table_oids(staging.incremental, INCREMENTAL_DB) == in_place
        assert newest_batch(staging.incremental, "node_play_event") == (NEW_EVENTS, DELETED_EVENTS)

        assert checksums(staging.incremental) == checksums(staging.full), round_number
        rows = {table: count for table, (_, count) in checksums(staging.full).items()}
        for model in APPEND_ONLY | UPDATED_AT:
            read, everything = incremental[model]["rows_affected"], full[model]["rows_affected"]
            assert everything == rows[model], model
            if model in APPEND_ONLY:
                # exactly the rows past the newest staged event
                assert read == changed[model], (round_number, model)
            else:
                # the rows changed now, plus those sharing the newest time staged
                assert changed.get(model, 0) <= read < everything, (round_number, model, read)
        assert {
            m for m, r in incremental.items() if r["code"] == "INSERT"
        } == APPEND_ONLY | UPDATED_AT
        staged = {table for table in rows if table.startswith("stg_")}
        assert {m for m, r in incremental.items() if r["code"] == "SELECT"} == staged - (
            APPEND_ONLY | UPDATED_AT
        )


def test_the_watermark_reaches_the_source_as_a_condition(staging: Staging) -> None:
    """postgres_fdw sends the compiled condition to the source: only the rows
    past the watermark cross to the staging database."""
    target = f"target_{INCREMENTAL_DB}"
    compiled = next(
        (staging.project / target / "compiled").rglob("stg_streaming__play_events.sql")
    ).read_text()
    assert 'where\n        "event_id"\n        > cast(' in compiled
    plan = pg_rows(staging.incremental, f"explain (verbose, costs off) {compiled}", INCREMENTAL_DB)
    remote = [line for (line,) in plan if "Remote SQL:" in line]
    assert len(remote) == 1, plan
    assert "WHERE ((event_id > " in remote[0], plan


def test_a_row_deleted_and_inserted_again_is_staged_once_with_its_new_values(
    staging: Staging,
) -> None:
    ((card, account, fingerprint),) = pg_rows(
        staging.incremental,
        "select payment_method_id::text, account_id::text, card_fingerprint"
        " from payment_methods order by payment_method_id limit 1",
        TARGETS.database("profiles_db"),
    )
    source_execute(
        staging.incremental,
        "profiles_db",
        [
            ("delete from payment_methods where payment_method_id = %s", (card,)),
            (
                "insert into payment_methods (payment_method_id, account_id, card_fingerprint,"
                " card_type, card_last_four) values (%s, %s, %s, 'Reissued', '0000')",
                (card, account, fingerprint),
            ),
        ],
    )
    refresh_both(staging)
    staged = pg_rows(
        staging.incremental,
        "select card_type, card_last_four from staging.stg_profiles__payment_methods"
        f" where payment_method_id = '{card}'",
        INCREMENTAL_DB,
    )
    assert staged == [("Reissued", "0000")]
    assert checksums(staging.incremental) == checksums(staging.full)


def test_a_source_reloaded_with_older_rows_is_read_again_in_full(
    stack: Settings, staging: Staging
) -> None:
    """The rounds left newer watermarks than the story's: a reloaded source is
    put back in time, which the incremental build notices and reads in full."""
    load_databases(stack, TARGETS, story_plan())
    incremental, full = refresh_both(staging)
    assert checksums(staging.incremental) == checksums(staging.full)
    for model in ("stg_streaming__play_events", "stg_profiles__accounts"):
        assert incremental[model]["rows_affected"] == full[model]["rows_affected"], model
