"""`c360-export refresh` on the session's project: attach check -> dbt build -> export,
one audited run under the export lock."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from c360.config import Settings
from c360.errors import ExitCode
from c360.export.lock import export_lock
from c360.export.options import ExportOptions
from c360.export.target import neo4j_target
from c360.neo4j_driver import connected_driver
from c360.refresh import STEPS, run_refresh
from graph_helpers import cli, export, pg_execute, pg_rows
from neo4j import Driver


@pytest.fixture(scope="module")
def on_record(graph_tables: Settings) -> None:
    """A full export on record, so a refresh's export step syncs."""
    result = export(graph_tables, mode="merge", clear=True, allow_mass_delete=True)
    assert result.status == "completed"


def refresh(settings: Settings, project: Path) -> Any:
    return cli(settings, "refresh", "--project-dir", str(project), "--json")


def run_count(settings: Settings) -> int:
    return pg_rows(settings, "select count(*) from control.etl_run_logs")[0][0]


def run_row(settings: Settings, run_id: str | None = None) -> dict[str, Any]:
    """A run's row (the latest without `run_id`), its phases as a dict."""
    where = f"where run_id = '{run_id}'" if run_id else "order by started_at desc limit 1"
    (row,) = pg_rows(
        settings,
        f"select run_id::text, kind, mode, status, error, phases from control.etl_run_logs {where}",
    )
    return dict(zip(("run_id", "kind", "mode", "status", "error", "phases"), row, strict=True))


def sync_record(settings: Settings) -> list[tuple[Any, ...]]:
    return pg_rows(
        settings,
        "select kind, name, rows, run_id::text, updated_at from c360_state.tables"
        " order by target_id, kind, name",
    )


def account_name(driver: Driver, settings: Settings, account_id: str) -> str | None:
    records = driver.execute_query(
        "MATCH (a:Account {account_id: $id}) RETURN a.full_name AS name",
        id=account_id,
        database_=settings.neo4j.database,
    ).records
    return records[0]["name"]


def set_account_name(settings: Settings, account_id: str, name: str) -> None:
    quoted = name.replace("'", "''")
    pg_execute(
        settings,
        f"update accounts set full_name = '{quoted}' where account_id = '{account_id}'",
        "profiles_db",
    )


def test_a_source_change_reaches_neo4j_in_one_audited_run(
    graph_tables, dbt_project, driver, on_record
):
    account_id, original = pg_rows(
        graph_tables,
        "select account_id::text, full_name from accounts where full_name is not null"
        " order by account_id limit 1",
        "profiles_db",
    )[0]
    busy: dict[str, int] = {}

    def meanwhile(step: str) -> None:
        # the lock is the refresh's across its steps: an export or a second refresh
        # started during the dbt build is turned away at once
        if step == "dbt_build":
            busy["export"] = cli(graph_tables, "--mode", "merge").exit_code
            busy["refresh"] = refresh(graph_tables, dbt_project).exit_code

    runs = run_count(graph_tables)
    set_account_name(graph_tables, account_id, "Refreshed Name")
    try:
        result = run_refresh(graph_tables, dbt_project, ExportOptions(), on_step=meanwhile)
    finally:
        set_account_name(graph_tables, account_id, original)
    assert busy == {"export": ExitCode.BUSY, "refresh": ExitCode.BUSY}
    assert account_name(driver, graph_tables, account_id) == "Refreshed Name"
    assert result.export.mode == "sync"
    assert result.export.run_id == result.run_id
    assert run_count(graph_tables) == runs + 1
    run = run_row(graph_tables, result.run_id)
    assert (run["kind"], run["mode"], run["status"], run["error"]) == (
        "refresh",
        "sync",
        "completed",
        None,
    )
    assert all(run["phases"][step] > 0 for step in STEPS)
    assert run["phases"]["dbt_build"] > run["phases"]["attach_check"]
    assert "diff" in run["phases"], "the export's own phases are the run's too"
    written = pg_rows(
        graph_tables,
        "select rows_written from control.etl_table_logs"
        f" where run_id = '{result.run_id}' and kind = 'node' and name = 'Account'",
    )
    assert written == [(1,)]

    # the change undone, through the command a scheduler runs
    done = refresh(graph_tables, dbt_project)
    assert done.exit_code == 0, done.output
    summary = json.loads(done.stdout)
    assert summary["status"] == "completed"
    assert set(summary["steps"]) == set(STEPS)
    assert summary["export"]["mode"] == "sync"
    assert account_name(driver, graph_tables, account_id) == original
    assert run_row(graph_tables, summary["run_id"])["status"] == "completed"


def test_stale_generated_files_stop_it_before_dbt_runs(graph_tables, dbt_project, tmp_path):
    project = tmp_path / "stale"
    shutil.copytree(dbt_project, project, ignore=shutil.ignore_patterns("target", "logs"))
    with (project / "seeds" / "control" / "field_exclusion_rules.csv").open("a") as rows:
        rows.write("streaming,play_events,session_id,true,test\n")
    result = cli(graph_tables, "refresh", "--project-dir", str(project))
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "refresh stopped at attach_check" in result.stderr
    assert "out of date: models/staging/streaming/stg_streaming__play_events.sql" in result.stderr
    assert "c360-export models generate" in result.stderr
    assert not (project / "target").exists(), "dbt ran"
    run = run_row(graph_tables)
    assert (run["kind"], run["status"]) == ("refresh", "failed")
    assert "attach_check" in run["error"]
    assert set(run["phases"]) == {"attach_check"}


def test_a_failed_dbt_build_exports_nothing_and_the_next_refresh_recovers(
    graph_tables, dbt_project, driver, on_record
):
    media_id, release_date = pg_rows(
        graph_tables,
        "select media_id, release_date from media_content where release_date is not null"
        " order by media_id limit 1",
        "streaming_db",
    )[0]
    record = sync_record(graph_tables)
    db = graph_tables.neo4j.database

    def released() -> Any:
        return driver.execute_query(
            "MATCH (m:Media {media_id: $id}) RETURN m.release_date AS d", id=media_id, database_=db
        ).records[0]["d"]

    before = released()
    # Neo4j cannot hold an infinite date: the graph table's finite_temporal test fails
    pg_execute(
        graph_tables,
        f"update media_content set release_date = 'infinity' where media_id = '{media_id}'",
        "streaming_db",
    )
    try:
        failed = refresh(graph_tables, dbt_project)
    finally:
        pg_execute(
            graph_tables,
            f"update media_content set release_date = '{release_date}'"
            f" where media_id = '{media_id}'",
            "streaming_db",
        )
    assert failed.exit_code == ExitCode.FAILED, failed.output
    assert json.loads(failed.stdout)["exit_code"] == ExitCode.FAILED
    assert "refresh stopped at dbt_build: dbt build failed" in failed.stderr
    assert "Failure in test finite_temporal_node_media_release_date" in failed.stderr
    run = run_row(graph_tables)
    assert (run["kind"], run["mode"], run["status"]) == ("refresh", "auto", "failed")
    assert "finite_temporal_node_media_release_date" in run["error"]
    assert set(run["phases"]) == {"attach_check", "dbt_build"}
    tables = pg_rows(
        graph_tables,
        f"select count(*) from control.etl_table_logs where run_id = '{run['run_id']}'",
    )
    assert tables == [(0,)]
    assert sync_record(graph_tables) == record
    assert released() == before

    done = refresh(graph_tables, dbt_project)
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["export"]["mode"] == "sync"
    assert released() == before


def test_a_refresh_while_another_run_holds_the_target_exits_4(graph_tables, dbt_project):
    with connected_driver(graph_tables) as driver:
        key = neo4j_target(graph_tables, driver).key
    runs = run_count(graph_tables)
    with export_lock(graph_tables.postgres.dsn(), key):
        result = refresh(graph_tables, dbt_project)
    assert result.exit_code == ExitCode.BUSY, result.output
    assert "another c360-export is writing to" in result.stderr
    assert json.loads(result.stdout)["exit_code"] == ExitCode.BUSY
    assert run_count(graph_tables) == runs
