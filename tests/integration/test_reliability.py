"""Paths that used to lose or corrupt the graph silently (issue 9), each reproduced
on the real servers: a dbt swap under an export, untested tables, a failed or
interrupted bulk import, one database under two URIs, PostgreSQL lost mid-run,
mass deletes, a `merge --clear` cut short."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psycopg2
import psycopg2.errors
import pytest
from c360.config import Settings
from c360.errors import (
    ExportBusyError,
    ExportFailedError,
    MassDeleteError,
    ServerUnavailableError,
    UnpublishedGraphError,
)
from c360.export import bulk, catalog, state
from c360.export.catalog import Column, LabelPlan
from c360.export.lock import export_lock
from c360.export.options import ExportOptions, NoProgress
from c360.export.pipeline import run_export
from c360.export.snapshot import published_graph
from c360.export.target import neo4j_target
from c360.neo4j_driver import connected_driver
from c360.pg import pg_connection
from c360.stack import neo4j_admin
from c360.stack import postgres as stack_postgres
from c360.transform.dbt import run_dbt
from graph_helpers import cli, dbt, export, pg_rows, snapshot
from neo4j import Driver

PROJECT = Path(__file__).resolve().parents[2]
SWAPPED = "edge_tagged_with"
SWAPPED_TYPE = "edge:TAGGED_WITH"


@pytest.fixture(scope="module")
def exported(graph_tables: Settings, driver: Driver) -> dict[str, Any]:
    """A bulk export of the published graph tables; the graph as it then is."""
    # this module's graph, whatever an earlier module left in the test server
    result = export(graph_tables, mode="bulk", allow_mass_delete=True)
    assert result.status == "completed"
    return snapshot(driver, graph_tables)


def staging(settings: Settings) -> psycopg2.extensions.connection:
    """A plain session on the staging database, as dbt's."""
    return psycopg2.connect(settings.postgres.dsn())


def last_run(settings: Settings) -> tuple[str, str, str | None]:
    return pg_rows(
        settings,
        "select run_id::text, status, error from control.etl_run_logs "
        "order by started_at desc limit 1",
    )[0]


def counts(driver: Driver, settings: Settings) -> tuple[int, int]:
    record = driver.execute_query(
        "MATCH (n) WITH count(n) AS nodes MATCH ()-[r]->() RETURN nodes, count(r) AS rels",
        database_=settings.neo4j.database,
    ).records[0]
    return record["nodes"], record["rels"]


# -------------------------------------------------- 1: a dbt swap under an export


def swap_in_copy(conn: psycopg2.extensions.connection, table: str) -> None:
    """What dbt's table materialization does, left uncommitted: a new table renamed
    into place of the old one (which becomes `<table>__c360_old`)."""
    with conn.cursor() as cur:
        cur.execute(f"create table graph.{table}__c360_new as select * from graph.{table}")
        cur.execute(f"alter table graph.{table} rename to {table}__c360_old")
        cur.execute(f"alter table graph.{table}__c360_new rename to {table}")


def swap_back(settings: Settings, table: str) -> None:
    with pg_connection(settings.postgres.dsn()) as conn, conn.cursor() as cur:
        cur.execute(f"drop table graph.{table}")
        cur.execute(f"alter table graph.{table}__c360_old rename to {table}")
        conn.commit()


def test_sync_overlapping_a_dbt_swap_refuses_and_deletes_nothing(graph_tables, driver, exported):
    dbt_session = staging(graph_tables)
    swap_in_copy(dbt_session, SWAPPED)
    outcome: list[BaseException | None] = []

    def sync() -> None:
        try:
            export(graph_tables, mode="sync")
            outcome.append(None)
        except BaseException as error:
            outcome.append(error)

    worker = threading.Thread(target=sync)
    worker.start()
    try:
        # the export waits for dbt's swap to commit rather than reading past it
        time.sleep(2)
        assert worker.is_alive()
        dbt_session.commit()
        worker.join(60)
        (error,) = outcome
        # the swapped-in table's tests never ran: nothing is exported from it
        assert isinstance(error, UnpublishedGraphError), error
        assert f"graph.{SWAPPED}: replaced after dbt invocation" in str(error)
        assert snapshot(driver, graph_tables) == exported
        _, status, message = last_run(graph_tables)
        assert status == "failed"
        assert SWAPPED in message
    finally:
        dbt_session.close()
        swap_back(graph_tables, SWAPPED)
    assert export(graph_tables, mode="sync").status == "completed"


def test_a_dbt_swap_waits_for_the_export_that_reads_the_table(graph_tables, exported):
    with published_graph(graph_tables.postgres.dsn()) as graph:
        dbt_session = staging(graph_tables)
        try:
            with dbt_session.cursor() as cur:
                cur.execute("set lock_timeout = '1s'")
            with pytest.raises(psycopg2.errors.LockNotAvailable):
                swap_in_copy(dbt_session, SWAPPED)
        finally:
            dbt_session.close()
        with graph.snapshot.connection() as reader, reader.cursor() as cur:
            cur.execute(f"select count(*) from graph.{SWAPPED}")
            assert cur.fetchone()[0] == graph.rows[SWAPPED_TYPE] > 0


# -------------------------------------------------- 3: tables that failed their tests


def test_tables_that_failed_their_tests_are_exported_by_no_mode(
    graph_tables, driver, exported, dbt_project
):
    # a plan without a key, in the table's last change batch, which its tests read
    with pg_connection(graph_tables.postgres.dsn()) as conn, conn.cursor() as cur:
        cur.execute(
            "insert into graph.node_plan (plan_id, c360_row_hash, c360_batch)"
            " select null, 0, max(c360_batch) from graph.node_plan"
        )
        conn.commit()
    try:
        failed = run_dbt(
            graph_tables, dbt_project, ("test", "--select", "node_plan"), profiles_dir=dbt_project
        )
        assert failed.returncode != 0, failed.stdout[-2000:]
        for mode in ("merge", "bulk", "sync"):
            with pytest.raises(UnpublishedGraphError, match=r"graph\.node_plan: dbt invocation"):
                export(graph_tables, mode=mode)
        result = cli(graph_tables, "--mode", "merge")
        assert result.exit_code == 1
        assert "not_null_node_plan_plan_id" in result.stderr
        assert snapshot(driver, graph_tables) == exported
    finally:
        with pg_connection(graph_tables.postgres.dsn()) as conn, conn.cursor() as cur:
            cur.execute("delete from graph.node_plan where plan_id is null")
            conn.commit()
        dbt(graph_tables, dbt_project, "test", "--select", "node_plan")
    assert export(graph_tables, mode="sync").status == "completed"


# -------------------------------------------------- 2 and 4: bulk import failures


def duplicate_key_files(directory: Path) -> list[bulk.CsvFile]:
    plan = LabelPlan("C360Duplicate", "node_c360_duplicate", (Column("k", "text"),), ())
    header = directory / "dup.header.csv"
    data = directory / "dup.csv"
    header.write_text(",".join(bulk.node_header(plan)) + "\n")
    data.write_text("a,a,C360Duplicate\na,a,C360Duplicate\n")
    return [bulk.CsvFile(plan, header, data, 2)]


def test_a_failed_import_keeps_the_running_graph_and_says_why(
    graph_tables, driver, exported, tmp_path
):
    report = tmp_path / "import.report"
    args = bulk.import_args(duplicate_key_files(tmp_path), graph_tables.neo4j.database, report)
    with pytest.raises(ExportFailedError) as failure:
        neo4j_admin.replace_database(graph_tables, args, report)
    message = str(failure.value)
    assert "Id 'a' is defined more than once in group 'C360Duplicate'" in message
    assert "The running graph was not touched" in message
    with connected_driver(graph_tables) as fresh:
        assert snapshot(fresh, graph_tables) == exported


def admin_processes(settings: Settings) -> list[int]:
    """neo4j-admin processes of this stack (other stacks may run beside it)."""
    ours = f"{settings.home / 'neo4j'}/".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if ours in command and (b"Admin" in command or b"import" in command):
                found.append(int(entry.name))
    return found


def test_an_interrupted_bulk_import_leaves_no_tool_running_and_the_graph_up(
    graph_tables, exported, stack_environ
):
    exporter = subprocess.Popen(
        [str(Path(sys.executable).parent / "c360-export"), "--mode", "bulk"],
        env=stack_environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not admin_processes(graph_tables):
        assert exporter.poll() is None, exporter.stdout.read() if exporter.stdout else ""
        assert time.monotonic() < deadline, "neo4j-admin never started"
        time.sleep(0.05)
    exporter.send_signal(signal.SIGINT)
    output, _ = exporter.communicate(timeout=60)
    assert exporter.returncode != 0, output
    assert "Traceback" not in output
    time.sleep(1)
    assert admin_processes(graph_tables) == []
    _, status, error = last_run(graph_tables)
    assert (status, error) == ("failed", "interrupted")
    with connected_driver(graph_tables) as fresh:
        assert snapshot(fresh, graph_tables) == exported
    assert export(graph_tables, mode="sync").status == "completed"


# -------------------------------------------------- 5: one database, two spellings


def test_the_lock_and_the_record_follow_the_database_not_the_uri(
    graph_tables, exported, monkeypatch
):
    with connected_driver(graph_tables) as d:
        key = neo4j_target(graph_tables, d).key
    monkeypatch.setenv("NEO4J_URI", f"bolt://localhost:{graph_tables.bolt_port}")
    other = Settings.from_env()
    assert other.neo4j.uri != graph_tables.neo4j.uri
    with connected_driver(other) as d:
        assert neo4j_target(other, d).key == key
    with export_lock(graph_tables.postgres.dsn(), key), pytest.raises(ExportBusyError):
        run_export(other, ExportOptions(mode="merge", clear=True))
    # the record written through 127.0.0.1 serves localhost too
    assert run_export(other, ExportOptions(dry_run=True)).mode == "sync"


# -------------------------------------------------- 6: servers lost or refusing


def test_unreachable_postgres_is_one_line_and_exit_3(stack, monkeypatch):
    monkeypatch.setenv("C360_STACK", "external")
    monkeypatch.setenv("PGHOST", "127.0.0.1")
    monkeypatch.setenv("PGPORT", "1")
    monkeypatch.setenv("NEO4J_PASSWORD", "unused")
    for args in (("--dry-run",), ("--dry-run", "--json"), ("models", "check")):
        result = cli(stack, *args)
        assert result.exit_code == 3, result.output
        assert "Traceback" not in result.output
        assert "cannot connect to PostgreSQL" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_a_wrong_postgres_password_is_exit_3(stack, monkeypatch):
    monkeypatch.setenv("C360_STACK", "external")
    monkeypatch.setenv("PGHOST", "127.0.0.1")
    monkeypatch.setenv("PGPORT", str(stack.postgres.port))
    monkeypatch.setenv("PGUSER", stack.postgres.user)
    monkeypatch.setenv("PGPASSWORD", "not-the-password")
    monkeypatch.setenv("NEO4J_PASSWORD", "unused")
    result = cli(stack, "--dry-run")
    assert result.exit_code == 3, result.output
    assert "password authentication failed" in result.stderr
    assert "not-the-password" not in result.output


def test_a_wrong_neo4j_password_names_the_authentication(graph_tables, monkeypatch):
    monkeypatch.setenv("NEO4J_PASSWORD", "not-the-password")
    result = cli(graph_tables, "--mode", "merge")
    assert result.exit_code == 3, result.output
    assert "refused the credentials" in result.stderr
    assert "stack up" not in result.stderr


class StopPostgresAfter(NoProgress):
    """Stops the test stack's PostgreSQL (fast shutdown) once `batches` batches are written."""

    def __init__(self, batches: int, settings: Settings) -> None:
        self.left = batches
        self.settings = settings

    def advance(self, rows: int) -> None:
        self.left -= 1
        if self.left == 0:
            stack_postgres.stop(self.settings)


def test_postgres_lost_mid_export_fails_cleanly_and_the_run_is_marked_abandoned(
    graph_tables, exported
):
    try:
        with pytest.raises(ServerUnavailableError, match="lost the connection to PostgreSQL"):
            run_export(
                graph_tables,
                ExportOptions(mode="merge", batch_size=5),
                progress=StopPostgresAfter(3, graph_tables),
            )
    finally:
        stack_postgres.start(graph_tables)
    lost, status, _ = last_run(graph_tables)
    assert status == "running"
    assert export(graph_tables, mode="merge").status == "completed"
    (row,) = pg_rows(
        graph_tables, f"select status, error from control.etl_run_logs where run_id = '{lost}'"
    )
    assert row[0] == "abandoned"
    assert "marked by run" in row[1]


# -------------------------------------------------- the mass-delete guard


def test_a_sync_that_would_delete_most_of_a_label_stops_before_deleting(
    graph_tables, driver, exported
):
    with pg_connection(graph_tables.postgres.dsn()) as conn:
        with connected_driver(graph_tables) as d:
            key = neo4j_target(graph_tables, d).key
        (entry,) = [
            s for s in state.load(conn, key, _plan(graph_tables).tables) if s.plan.name == "Tag"
        ]
        with conn.cursor() as cur:
            # the record claims many more tags than the graph table has: a sync would delete them
            cur.execute(
                f"insert into c360_state.{entry.state_table} (tag_id, c360_hash)"
                " select -g, 0 from generate_series(1, %s) g",
                (entry.rows * 2,),
            )
            # and no longer knows the table (as after a `--full-refresh`): the sync
            # compares it whole, where the extra keys become deletes
            cur.execute(
                "update c360_state.tables set rows = rows * 3, table_oid = 0"
                " where state_table = %s",
                (entry.state_table,),
            )
        conn.commit()
    before = counts(driver, graph_tables)
    with pytest.raises(MassDeleteError, match="label Tag"):
        export(graph_tables, mode="sync")
    assert counts(driver, graph_tables) == before
    # deleting keys Neo4j never had is harmless: allowed, the sync converges
    result = export(graph_tables, mode="sync", allow_mass_delete=True)
    assert result.status == "completed"
    assert snapshot(driver, graph_tables) == exported


def test_merge_clear_that_would_empty_most_of_a_label_stops_first(graph_tables, driver, exported):
    db = graph_tables.neo4j.database
    driver.execute_query(
        "UNWIND range(1, 50) AS i CREATE (:Plan {plan_id: -i, plan_name: 'stray'})",
        database_=db,
    )
    try:
        with pytest.raises(MassDeleteError, match="label Plan"):
            export(graph_tables, mode="merge", clear=True, labels=("Plan",))
        strays = driver.execute_query(
            "MATCH (p:Plan) WHERE p.plan_id < 0 RETURN count(p) AS c", database_=db
        ).records[0]["c"]
        assert strays == 50
    finally:
        driver.execute_query("MATCH (p:Plan) WHERE p.plan_id < 0 DETACH DELETE p", database_=db)


def _plan(settings: Settings) -> Any:
    with pg_connection(settings.postgres.dsn()) as conn:
        return catalog.read_plan(conn)


# -------------------------------------------------- 11: a merge --clear cut short


class FailAfter(NoProgress):
    def __init__(self, batches: int) -> None:
        self.left = batches

    def advance(self, rows: int) -> None:
        self.left -= 1
        if self.left == 0:
            raise KeyboardInterrupt("stopped by the test")


def test_a_merge_clear_cut_short_leaves_no_record_and_no_pending_tables(
    graph_tables, driver, exported
):
    with pytest.raises(KeyboardInterrupt):
        run_export(
            graph_tables,
            ExportOptions(mode="merge", clear=True, batch_size=5),
            progress=FailAfter(3),
        )
    _, status, error = last_run(graph_tables)
    assert (status, error) == ("failed", "interrupted")
    assert pg_rows(
        graph_tables,
        "select count(*) from pg_tables where schemaname = 'c360_state' and tablename like 'p%'",
    ) == [(0,)]
    # no record claims what the cleared graph lacks, so auto does not pick sync
    assert export(graph_tables, dry_run=True).mode == "merge"
    assert export(graph_tables).status == "completed"
    assert snapshot(driver, graph_tables) == exported


# -------------------------------------------------- 10: dangling rows reported


def test_dangling_rows_reach_the_summary_and_the_audit(graph_tables, exported):
    # computed on the sources: tickets whose e-mail matches no account's
    emails = {
        e
        for (e,) in pg_rows(graph_tables, "select lower(trim(email)) from accounts", "profiles_db")
    }
    tickets = pg_rows(
        graph_tables,
        "select lower(trim(customer_email)) from helpdesk.tickets where customer_email is not null",
        "support_db",
    )
    expected = sum(1 for (email,) in tickets if email not in emails)
    assert expected > 0, "the sample story has a walk-in ticket"
    result = export(graph_tables, mode="sync")
    dangling = {t.name: t.dangling for t in result.tables}
    assert dangling["SUBMITTED"] == expected
    assert dangling["Account"] is None
    audited = pg_rows(
        graph_tables,
        "select rows_dangling from control.etl_table_logs"
        f" where run_id = '{result.run_id}' and name = 'SUBMITTED'",
    )
    assert audited == [(expected,)]
    summary = cli(graph_tables, "--json")
    assert summary.exit_code == 0, summary.output
    tables = {t["name"]: t for t in json.loads(summary.stdout)["tables"]}
    assert tables["SUBMITTED"]["rows_dangling"] == expected
