"""`--mode sync`: random source changes, dbt build, sync; the graph must equal a fresh load.

Every round changes all three sources (inserts, updates including NULLs, deletes,
key-moving email changes), builds the graph tables incrementally with dbt (in
place: the sync reads only the rows of later change batches) and syncs. After
each round, per label and type, the count and a checksum of every node's
properties and every relationship's end keys and properties read from Neo4j
must equal the same checksum computed from the graph tables, which is what a
fresh full load writes. After the last round a fresh merge must give the very
same graph, property types included.
"""

from __future__ import annotations

import hashlib
import random
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from c360.config import Settings
from c360.errors import SyncStateError
from c360.export import catalog
from c360.export.catalog import GraphPlan
from c360.export.options import ExportResult
from c360.pg import pg_connection
from graph_helpers import cli, dbt, export, graph_table_oids, pg_rows, snapshot
from neo4j import Driver

ROUNDS = 3
SEED = 20240611


@pytest.fixture(scope="module")
def synced(graph_tables: Settings, dbt_project: Path) -> Iterator[Settings]:
    """A full load that records the target's state; the sample sources restored afterwards."""
    result = export(graph_tables, mode="merge", clear=True)
    assert result.status == "completed"
    yield graph_tables
    # later modules expect the sample story, in the sources and the graph tables
    restored = cli(graph_tables, "samples", "load")
    assert restored.exit_code == 0, restored.output
    # sources replaced: staging is rebuilt from every row (docs/architecture.md, Change tracking)
    dbt(graph_tables, dbt_project, "build", "--full-refresh")


def execute(settings: Settings, database: str, statement: str, params: Any = None) -> None:
    conn = psycopg2.connect(settings.postgres.dsn(database))
    try:
        with conn, conn.cursor() as cur:
            cur.execute(statement, params)
    finally:
        conn.close()


def column(settings: Settings, database: str, query: str) -> list[Any]:
    return [row[0] for row in pg_rows(settings, query, database)]


def read_plan(settings: Settings) -> GraphPlan:
    with pg_connection(settings.postgres.dsn()) as conn:
        return catalog.read_plan(conn)


# ------------------------------------------------------------------ checksums


def canonical(value: Any) -> Any:
    """A value as a comparable, typed tuple, whether it came from PostgreSQL or Neo4j."""
    if hasattr(value, "to_native"):  # neo4j.time types
        value = value.to_native()
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return ("localdatetime", value.isoformat())
        return ("datetime", value.astimezone(UTC).isoformat())
    if isinstance(value, date):
        return ("date", value.isoformat())
    if isinstance(value, bool):
        return ("boolean", value)
    if isinstance(value, int):
        return ("integer", value)
    if isinstance(value, (float, Decimal)):
        return ("float", repr(float(value)))
    if isinstance(value, (str, uuid.UUID)):
        return ("string", str(value))
    if isinstance(value, list):
        return ("list", tuple(canonical(v) for v in value))
    raise AssertionError(f"unexpected value {value!r} of type {type(value).__name__}")


def _props(items: dict[str, Any]) -> tuple[Any, ...]:
    # a NULL column is an absent property
    return tuple(sorted((k, canonical(v)) for k, v in items.items() if v is not None))


def _digest(items: list[Any]) -> tuple[int, str]:
    text = "\n".join(sorted(repr(item) for item in items))
    return len(items), hashlib.sha256(text.encode()).hexdigest()


def quoted(names: list[str]) -> str:
    return ", ".join(f'"{n}"' for n in names)


def table_checksums(settings: Settings, plan: GraphPlan) -> dict[str, tuple[int, str]]:
    """What a fresh full load writes, computed from the graph tables."""
    sums = {}
    for label in plan.labels:
        names = [c.name for c in label.columns]
        rows = pg_rows(settings, f'select {quoted(names)} from graph."{label.table}"')
        sums[f"node:{label.name}"] = _digest(
            [_props(dict(zip(names, r, strict=True))) for r in rows]
        )
    for edge in plan.types:
        names = [c.name for c in edge.columns]
        rows = pg_rows(settings, f'select {quoted(names)} from graph."{edge.table}"')
        starts, ends = len(edge.start), len(edge.start) + len(edge.end)
        sums[f"edge:{edge.name}"] = _digest(
            [
                (
                    tuple(canonical(v) for v in r[:starts]),
                    tuple(canonical(v) for v in r[starts:ends]),
                    _props(dict(zip(names[ends:], r[ends:], strict=True))),
                )
                for r in rows
            ]
        )
    return sums


def graph_checksums(driver: Driver, settings: Settings, plan: GraphPlan) -> dict[str, Any]:
    """The same checksums read back from Neo4j, plus every label and type it holds."""
    db = settings.neo4j.database
    sums: dict[str, Any] = {}
    for label in plan.labels:
        records, _, _ = driver.execute_query(
            f"MATCH (n:`{label.name}`) RETURN properties(n) AS p", database_=db
        )
        sums[f"node:{label.name}"] = _digest([_props(r["p"]) for r in records])
    for edge in plan.types:
        records, _, _ = driver.execute_query(
            f"MATCH (a:`{edge.from_label}`)-[r:`{edge.name}`]->(b:`{edge.to_label}`) "
            "RETURN [k IN $from_keys | a[k]] AS s, [k IN $to_keys | b[k]] AS e, "
            "properties(r) AS p",
            from_keys=list(edge.from_keys),
            to_keys=list(edge.to_keys),
            database_=db,
        )
        sums[f"edge:{edge.name}"] = _digest(
            [
                (
                    tuple(canonical(v) for v in r["s"]),
                    tuple(canonical(v) for v in r["e"]),
                    _props(r["p"]),
                )
                for r in records
            ]
        )
    # nothing beyond the catalog: no stray label, type, or relationship between other labels
    labels, _, _ = driver.execute_query(
        "MATCH (n) UNWIND labels(n) AS l RETURN l, count(*) AS c", database_=db
    )
    types, _, _ = driver.execute_query(
        "MATCH ()-[r]->() RETURN type(r) AS t, count(*) AS c", database_=db
    )
    sums["counts"] = sorted(
        [(f"node:{r['l']}", r["c"]) for r in labels] + [(f"edge:{r['t']}", r["c"]) for r in types]
    )
    return sums


def expected_checksums(settings: Settings, plan: GraphPlan) -> dict[str, Any]:
    sums: dict[str, Any] = dict(table_checksums(settings, plan))
    sums["counts"] = sorted((key, count) for key, (count, _) in sums.items() if count)
    return sums


def assert_graph_equals_fresh_load(driver: Driver, settings: Settings) -> None:
    plan = read_plan(settings)
    expected = expected_checksums(settings, plan)
    actual = graph_checksums(driver, settings, plan)
    differing = sorted(k for k in expected if expected[k] != actual.get(k))
    assert not differing, {k: (expected[k], actual.get(k)) for k in differing}


# ------------------------------------------------------------------ random changes


def mutate(settings: Settings, rng: random.Random, round_no: int) -> dict[str, Any]:
    """One round of changes across the three sources, respecting their foreign keys."""
    tag = f"r{round_no}"
    base = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=round_no)

    # support_db first: the tickets' emails pick the accounts whose email moves
    ticket_emails = column(
        settings, "support_db", "select distinct lower(trim(customer_email)) from helpdesk.tickets"
    )
    accounts = pg_rows(
        settings, "select account_id::text, email from accounts order by account_id", "profiles_db"
    )
    with_tickets = sorted(a for a in accounts if a[1].lower().strip() in ticket_emails)
    moved, receiver = rng.sample(with_tickets, 1)[0], None
    others = [a for a in accounts if a != moved]
    receiver = rng.choice([a for a in others if a not in with_tickets] or others)
    untouched = [a for a in others if a != receiver]
    victim = rng.choice(untouched)
    renamed = rng.sample([a for a in untouched if a != victim], 3)

    # profiles_db
    new_ids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(2)]
    plans = column(settings, "profiles_db", "select plan_id from plans order by plan_id")
    fingerprints = column(
        settings,
        "profiles_db",
        "select distinct card_fingerprint from payment_methods where card_fingerprint is not null "
        "order by 1",
    )
    for i, account_id in enumerate(new_ids):
        execute(
            settings,
            "profiles_db",
            "insert into accounts (account_id, email, hashed_password, full_name, created_at)"
            " values (%s, %s, 'x', %s, %s)",
            (account_id, f"new.{tag}.{i}@example.com", f"New {tag} Ünïcode {i}", base),
        )
        execute(
            settings,
            "profiles_db",
            "insert into payment_methods (payment_method_id, account_id, card_fingerprint,"
            " card_type, card_last_four) values (%s, %s, %s, 'visa', '4242')",
            (
                str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                account_id,
                rng.choice(fingerprints),
            ),
        )
        execute(
            settings,
            "profiles_db",
            "insert into subscriptions (subscription_id, account_id, plan_id, status, starts_at)"
            " values (%s, %s, %s, 'active', %s)",
            (
                str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                account_id,
                rng.choice(plans),
                base,
            ),
        )
    for i, (account_id, _) in enumerate(renamed):
        name = None if i == 0 else f"Renamed {tag} 'quoted' {i}"
        execute(
            settings,
            "profiles_db",
            "update accounts set full_name = %s where account_id = %s",
            (name, account_id),
        )
    # the SUBMITTED edges follow the email from one account to another
    execute(
        settings,
        "profiles_db",
        "update accounts set email = %s where account_id = %s",
        (f"moved.{tag}@example.com", moved[0]),
    )
    execute(
        settings,
        "profiles_db",
        "update accounts set email = %s where account_id = %s",
        (moved[1], receiver[0]),
    )
    victim_methods = column(
        settings,
        "profiles_db",
        f"select payment_method_id::text from payment_methods where account_id = '{victim[0]}'",
    )
    for table in ("payment_methods", "subscriptions"):
        execute(settings, "profiles_db", f"delete from {table} where account_id = %s", (victim[0],))
    execute(settings, "profiles_db", "delete from accounts where account_id = %s", (victim[0],))
    execute(
        settings,
        "profiles_db",
        "update plans set monthly_fee = monthly_fee + 1, max_devices = %s where plan_id = %s",
        (rng.choice([None, 7]), rng.choice(plans)),
    )

    # streaming_db
    events = column(settings, "streaming_db", "select event_id from play_events order by 1")
    media = column(settings, "streaming_db", "select media_id from media_content order by 1")
    live = column(settings, "profiles_db", "select account_id::text from accounts order by 1")
    gone = rng.sample(events, 6)
    execute(settings, "streaming_db", "delete from play_events where event_id = any(%s)", (gone,))
    for i in range(6):
        execute(
            settings,
            "streaming_db",
            "insert into play_events (session_id, account_id_from_token, media_id,"
            " event_timestamp, action, ip_address, device_fingerprint)"
            " values (%s, %s, %s, %s, %s, %s, %s)",
            (
                f"s-{tag}-{i}",
                rng.choice(live),
                rng.choice(media),
                base + timedelta(minutes=i),
                rng.choice(["play", "STOP"]),
                rng.choice([f"10.{round_no}.{i}.1", "198.51.100.7"]),
                rng.choice([None, f"dev-{tag}-{i}"]),
            ),
        )
    kept = [e for e in events if e not in gone]
    for event_id in rng.sample(kept, 3):
        execute(
            settings,
            "streaming_db",
            "update play_events set action = 'PAUSE', device_fingerprint = null"
            " where event_id = %s",
            (event_id,),
        )
    first, second = rng.sample(media, 2)
    execute(
        settings,
        "streaming_db",
        "update media_content set genre = null where media_id = %s",
        (first,),
    )
    execute(
        settings,
        "streaming_db",
        "update media_content set title = %s, duration_minutes = duration_minutes + 1"
        " where media_id = %s",
        (f"Title {tag} \\ back\nslash", second),
    )
    execute(
        settings,
        "streaming_db",
        "insert into media_content (media_id, title, media_type, genre, release_date,"
        " duration_minutes) values (%s, %s, 'movie', null, %s, 90)",
        (f"m-{tag}", f"Movie {tag}", date(2020, 1, 1) + timedelta(days=round_no)),
    )

    # support_db
    links = pg_rows(
        settings,
        "select ticket_id, tag_id from helpdesk.ticket_tag_link order by 1, 2",
        "support_db",
    )
    for ticket_id, tag_id in rng.sample(links, 2):
        execute(
            settings,
            "support_db",
            "delete from helpdesk.ticket_tag_link where ticket_id = %s and tag_id = %s",
            (ticket_id, tag_id),
        )
    tickets = column(settings, "support_db", "select ticket_id from helpdesk.tickets order by 1")
    closed = rng.choice(tickets)
    execute(
        settings,
        "support_db",
        "delete from helpdesk.ticket_tag_link where ticket_id = %s",
        (closed,),
    )
    execute(settings, "support_db", "delete from helpdesk.tickets where ticket_id = %s", (closed,))
    edited = rng.choice([t for t in tickets if t != closed])
    execute(
        settings,
        "support_db",
        "update helpdesk.tickets set subject = null, status = 'Closed' where ticket_id = %s",
        (edited,),
    )
    tags = column(settings, "support_db", "select tag_id from helpdesk.ticket_tags order by 1")
    new_ticket = f"T-{tag}"
    execute(
        settings,
        "support_db",
        "insert into helpdesk.tickets (ticket_id, customer_email, subject, status, created_at)"
        " values (%s, %s, 'new', 'open', %s)",
        # typed by an agent: case and spaces differ from the account's email
        (new_ticket, f"  {rng.choice(accounts)[1].upper()} ", base),
    )
    execute(
        settings,
        "support_db",
        "insert into helpdesk.ticket_tag_link (ticket_id, tag_id) values (%s, %s)",
        (new_ticket, rng.choice(tags)),
    )
    return {"victim": victim[0], "victim_methods": victim_methods}


def sync(settings: Settings) -> ExportResult:
    result = export(settings, mode="sync")
    assert result.status == "completed"
    assert all(c.ok for c in result.counts)
    return result


def by_name(result: ExportResult) -> dict[str, tuple[int, int]]:
    return {t.name: (t.rows_written, t.rows_deleted) for t in result.tables}


def build_in_place(settings: Settings, project: Path) -> None:
    """Staging rebuilt in full, the graph tables built incrementally on it.

    `mutate` breaks the reference rows' change tracking on purpose (play events
    updated in place, tickets changed without last_updated_at), so staging reads
    every row (test_incremental_build covers incremental staging); the graph
    tables are changed in place, which is what makes the sync read the change only.
    """
    before = graph_table_oids(settings)
    # `run`: rebuilding a staging table drops the views over it until the build;
    # then the staging models have nothing new to read, the graph tables do
    dbt(settings, project, "run", "--full-refresh", "--select", "path:models/staging")
    dbt(settings, project, "build")
    assert graph_table_oids(settings) == before


# ------------------------------------------------------------------ tests


def test_sync_without_recorded_state_fails_clearly(synced):
    # the record moved away: as for a target no full export was ever recorded to
    moved = "update c360_state.targets set target = target || %s"
    execute(synced, synced.postgres.staging_database, moved, (":moved",))
    try:
        result = cli(synced, "--mode", "sync")
        assert result.exit_code == 2, result.output
        assert "full export" in result.output
        assert "--mode bulk" in result.output
    finally:
        execute(
            synced,
            synced.postgres.staging_database,
            "update c360_state.targets set target = left(target, -length(%s))",
            (":moved",),
        )


def test_sync_after_sync_without_changes_writes_nothing(synced, driver):
    sync(synced)
    result = sync(synced)
    assert sum(t.rows_written + t.rows_deleted for t in result.tables) == 0
    rows = pg_rows(
        synced,
        "select sum(rows_read), sum(rows_written), sum(rows_deleted), count(*)"
        " from control.etl_table_logs"
        f" where run_id = '{result.run_id}' and status = 'completed'",
    )[0]
    assert rows == (0, 0, 0, len(result.tables))
    assert_graph_equals_fresh_load(driver, synced)


def test_random_changes_and_syncs_equal_a_fresh_load(synced, driver, dbt_project):
    rng = random.Random(SEED)
    assert_graph_equals_fresh_load(driver, synced)
    total = sum(t.rows for t in sync(synced).tables)
    db = synced.neo4j.database
    for round_no in range(ROUNDS):
        changed = mutate(synced, rng, round_no)
        build_in_place(synced, dbt_project)
        result = sync(synced)
        done = by_name(result)
        moved = sum(w + d for w, d in done.values())
        # only the changes travel: a small share of the graph, deletes among them
        assert 0 < moved < total / 4, done
        for name in ("Account", "PlayEvent", "TicketTagLink", "SUBMITTED", "WATCHED"):
            assert done[name][1] > 0, (name, done)
        for name in ("Account", "Media", "Ticket", "PlayEvent", "SUBMITTED"):
            assert done[name][0] > 0, (name, done)
        assert_graph_equals_fresh_load(driver, synced)
        # the deleted account is gone, with its relationships and its payment methods
        gone = driver.execute_query(
            "OPTIONAL MATCH (a:Account {account_id: $id}) "
            "OPTIONAL MATCH (p:PaymentMethod) WHERE p.payment_method_id IN $methods "
            "OPTIONAL MATCH ()-[r]-() WHERE startNode(r).account_id = $id "
            "RETURN count(DISTINCT a) AS a, count(DISTINCT p) AS p, count(DISTINCT r) AS r",
            id=changed["victim"],
            methods=changed["victim_methods"],
            database_=db,
        ).records[0]
        assert (gone["a"], gone["p"], gone["r"]) == (0, 0, 0)
        audited = pg_rows(
            synced,
            "select name, rows_written, rows_deleted from control.etl_table_logs"
            f" where run_id = '{result.run_id}'",
        )
        assert {n: (w, d) for n, w, d in audited} == done
    # the chain of syncs and a fresh load give the same graph, property types included
    chained = snapshot(driver, synced)
    export(synced, mode="merge", clear=True)
    assert snapshot(driver, synced) == chained


def play_event_removals(settings: Settings, batches: str) -> int:
    """The logged PlayEvent removals whose batch is `batches` (SQL over `pos`,
    the position of the first target's record)."""
    (count,) = column(
        settings,
        settings.postgres.staging_database,
        "select count(*) from control.graph_removed_rows,"
        " (select change_batch as pos from c360_state.tables where name = 'PlayEvent'"
        " and target_id = (select min(target_id) from c360_state.targets)) as record"
        f" where table_name = 'node_play_event' and c360_batch {batches}",
    )
    return count


def test_the_removal_log_keeps_what_a_record_still_needs(synced, driver, dbt_project):
    """A second target whose record lags holds the log back; once it is gone,
    the next sync drops what every remaining record has passed."""
    lagging = "test://lagging"
    staging = synced.postgres.staging_database
    execute(
        synced,
        staging,
        "with lag as (insert into c360_state.targets (target) values (%s) returning target_id)"
        " insert into c360_state.tables (target_id, kind, name, state_table, shape,"
        " from_label, to_label, rows, run_id, table_oid, change_batch)"
        " select lag.target_id, kind, name, state_table || '_lag', shape, from_label, to_label,"
        " rows, run_id, table_oid, change_batch from c360_state.tables as t, lag"
        " where t.target_id = (select min(target_id) from c360_state.targets)",
        (lagging,),
    )
    (lag,) = column(
        synced,
        staging,
        "select change_batch from c360_state.tables join c360_state.targets using (target_id)"
        f" where target = '{lagging}' and name = 'PlayEvent'",
    )
    try:
        # two rounds: the first one's removals fall below the record's position
        # round numbers of their own (the kill test below takes ROUNDS + 1)
        for round_no in (ROUNDS + 2, ROUNDS + 3):
            mutate(synced, random.Random(SEED + round_no), round_no)
            build_in_place(synced, dbt_project)
            assert by_name(sync(synced))["PlayEvent"][1] > 0
        # passed by the first target's record, still needed by the lagging one
        assert play_event_removals(synced, f"> {lag} and c360_batch < pos") > 0
    finally:
        execute(
            synced,
            staging,
            "delete from c360_state.tables where target_id ="
            " (select target_id from c360_state.targets where target = %s);"
            " delete from c360_state.targets where target = %s",
            (lagging, lagging),
        )
    sync(synced)
    assert play_event_removals(synced, "< pos") == 0
    # the newest removals the record has seen stay: its position stays where it is
    assert play_event_removals(synced, "= pos") > 0
    assert_graph_equals_fresh_load(driver, synced)


def test_changed_columns_need_a_full_export(synced):
    execute(
        synced,
        synced.postgres.staging_database,
        "update c360_state.tables set shape = shape || ',gone:text' where name = 'Media'",
    )
    try:
        with pytest.raises(SyncStateError, match="label Media changed columns"):
            export(synced, mode="sync")
    finally:
        export(synced, mode="merge", labels=("Media",))
    sync(synced)


def test_a_record_emptied_by_a_crash_needs_a_full_export(synced):
    # what PostgreSQL does to an unlogged table when it restarts after a crash
    execute(
        synced,
        synced.postgres.staging_database,
        "do $$ begin execute format('truncate c360_state.%I', (select state_table"
        " from c360_state.tables where name = 'Tag' order by updated_at desc limit 1)); end $$",
    )
    try:
        with pytest.raises(SyncStateError, match="record of label Tag was emptied"):
            export(synced, mode="sync")
        assert export(synced, dry_run=True).mode == "merge"
    finally:
        export(synced, mode="merge", labels=("Tag",))
    sync(synced)


# Runs the CLI's sync with the record's commit replaced by SIGKILL: the process
# dies after every Neo4j write and reconciliation, before the record moves on.
KILLED_BEFORE_THE_RECORD = """
import os, signal, sys
from c360.export import sync
sync.commit = lambda *args, **kwargs: os.kill(os.getpid(), signal.SIGKILL)
from c360.cli import main
sys.argv = ["c360-export", "--mode", "sync"]
main()
"""


def test_a_sync_killed_between_neo4j_and_its_record_is_repaired_by_the_next(
    synced, driver, dbt_project, stack_environ
):
    """The record lags behind Neo4j: the next sync sends the same change again,
    which keyed MERGE and keyed deletes apply without loss or duplicate."""
    sync(synced)
    mutate(synced, random.Random(SEED + 1), ROUNDS + 1)
    build_in_place(synced, dbt_project)
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_BEFORE_THE_RECORD],
        env=stack_environ,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    # Neo4j holds the change already
    assert_graph_equals_fresh_load(driver, synced)
    rerun = sync(synced)
    again = by_name(rerun)
    assert sum(w + d for w, d in again.values()) > 0, again
    # the audit says what became of the killed run
    ((killed_status,),) = pg_rows(
        synced,
        "select status from control.etl_run_logs where run_id <> %s"
        " order by started_at desc limit 1",
        params=(rerun.run_id,),
    )
    assert killed_status == "abandoned"
    assert_graph_equals_fresh_load(driver, synced)
    # the record caught up: nothing is left to send
    settled = sync(synced)
    assert sum(t.rows_written + t.rows_deleted for t in settled.tables) == 0
    chained = snapshot(driver, synced)
    export(synced, mode="merge", clear=True)
    assert snapshot(driver, synced) == chained
