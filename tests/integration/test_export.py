"""Export modes against the real pipeline's graph tables and a real Neo4j."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from c360.config import Settings
from c360.errors import ExportBusyError, ExportFailedError, ServerUnavailableError
from c360.export import merge, script
from c360.export.lock import export_lock
from c360.export.options import ExportOptions, NoProgress
from c360.export.pipeline import run_export
from c360.export.target import neo4j_target
from c360.neo4j_driver import connected_driver
from graph_helpers import (
    cli,
    dbt,
    export,
    pg_execute,
    pg_rows,
    snapshot,
    wipe,
)
from neo4j import Driver
from neo4j.time import Date, DateTime

# values with quotes, backslashes, newlines and non-ASCII, read from the sources
SPECIAL_VALUES = {
    ("Account", "account_id", "full_name"): (
        "profiles_db",
        "select account_id::text, full_name from accounts",
    ),
    ("Media", "media_id", "title"): ("streaming_db", "select media_id, title from media_content"),
    ("Ticket", "ticket_id", "subject"): (
        "support_db",
        "select ticket_id, subject from helpdesk.tickets",
    ),
}


def graph_counts(settings: Settings) -> dict[str, int]:
    rows = pg_rows(settings, "select kind, name, table_name from graph.graph_catalog")
    return {
        f"{kind}:{name}": pg_rows(settings, f'select count(*) from graph."{table}"')[0][0]
        for kind, name, table in rows
    }


def neo4j_counts(driver: Driver, settings: Settings) -> dict[str, int]:
    db = settings.neo4j.database
    labels, _, _ = driver.execute_query(
        "MATCH (n) UNWIND labels(n) AS l RETURN l, count(*) AS c", database_=db
    )
    types, _, _ = driver.execute_query(
        "MATCH ()-[r]->() RETURN type(r) AS t, count(*) AS c", database_=db
    )
    return {f"node:{r['l']}": r["c"] for r in labels} | {f"edge:{r['t']}": r["c"] for r in types}


def assert_special_values(driver: Driver, settings: Settings) -> None:
    checked = 0
    for (label, key, prop), (database, query) in SPECIAL_VALUES.items():
        expected = {k: v for k, v in pg_rows(settings, query, database) if v is not None}
        records, _, _ = driver.execute_query(
            f"MATCH (n:{label}) WHERE n.{prop} IS NOT NULL RETURN n.{key} AS k, n.{prop} AS v",
            database_=settings.neo4j.database,
        )
        assert {r["k"]: r["v"] for r in records} == expected
        checked += sum(
            1 for v in expected.values() if any(c in v for c in "'\"\\\n") or not v.isascii()
        )
    assert checked >= 5, "the sample data should carry quotes, backslashes, newlines, non-ASCII"


@pytest.fixture(scope="module")
def bulk_graph(graph_tables: Settings, driver: Driver) -> dict[str, object]:
    # this module's graph, whatever an earlier module left in the test server
    result = export(graph_tables, mode="bulk", allow_mass_delete=True)
    assert result.status == "completed"
    assert all(c.ok for c in result.counts)
    return snapshot(driver, graph_tables)


def test_bulk_matches_graph_tables_and_types(graph_tables, driver, bulk_graph):
    assert neo4j_counts(driver, graph_tables) == graph_counts(graph_tables)
    assert_special_values(driver, graph_tables)
    db = graph_tables.neo4j.database
    account = driver.execute_query(
        "MATCH (a:Account) WHERE a.created_at IS NOT NULL RETURN a LIMIT 1", database_=db
    ).records[0]["a"]
    assert isinstance(account["created_at"], DateTime)
    assert isinstance(account["account_id"], str)
    plan = driver.execute_query("MATCH (p:Plan) RETURN p LIMIT 1", database_=db).records[0]["p"]
    assert isinstance(plan["monthly_fee"], float)
    assert isinstance(plan["plan_id"], int)
    media = driver.execute_query(
        "MATCH (m:Media) WHERE m.release_date IS NOT NULL RETURN m LIMIT 1", database_=db
    ).records[0]["m"]
    assert isinstance(media["release_date"], Date)


def test_merge_gives_the_same_graph_as_bulk(graph_tables, driver, bulk_graph):
    result = export(graph_tables, mode="merge", clear=True)
    assert result.mode == "merge"
    assert {t.status for t in result.tables} == {"completed"}
    assert snapshot(driver, graph_tables) == bulk_graph
    assert_special_values(driver, graph_tables)


def test_merge_rerun_is_idempotent(graph_tables, driver, bulk_graph):
    export(graph_tables, mode="merge")
    export(graph_tables, mode="merge", batch_size=7)
    assert snapshot(driver, graph_tables) == bulk_graph


def test_parallel_writers_with_small_batches_give_the_same_graph(graph_tables, driver, bulk_graph):
    wipe(driver, graph_tables)
    # many batches per table, so writers interleave on every label and empty type
    result = export(graph_tables, mode="merge", writers=3, batch_size=7)
    assert {t.status for t in result.tables} == {"completed"}
    assert snapshot(driver, graph_tables) == bulk_graph


def test_writers_free_each_batch_once_written(graph_tables, driver):
    batches = [[(i,) for i in range(start, start + 5)] for start in range(0, 50, 5)]
    written = merge.write(
        driver,
        graph_tables.neo4j.database,
        "UNWIND $rows AS row RETURN row[0]",
        iter(batches),
        writers=3,
    )
    assert written == 50
    # the driver keeps a batch alive until a full garbage collection otherwise
    assert batches == [[]] * 10


def test_clearing_a_label_removes_its_relationships_of_every_type(graph_tables, driver, bulk_graph):
    db = graph_tables.neo4j.database
    result = export(graph_tables, mode="merge", labels=("Account",), clear=True)
    assert [t.name for t in result.tables] == ["Account"]
    counts = neo4j_counts(driver, graph_tables)
    assert counts["node:Account"] == graph_counts(graph_tables)["node:Account"]
    touching, _, _ = driver.execute_query(
        "MATCH (:Account)-[r]-() RETURN count(r) AS c", database_=db
    )
    assert touching[0]["c"] == 0
    # the record forgot the types the clear took along: auto rewrites, no sync
    assert export(graph_tables, dry_run=True).mode == "merge"
    export(graph_tables, mode="merge")
    assert snapshot(driver, graph_tables) == bulk_graph


def test_cypher_script_gives_the_same_graph(graph_tables, driver, bulk_graph, tmp_path):
    path = tmp_path / "graph.cypher"
    result = export(graph_tables, mode="cypher", output=path, batch_size=50)
    assert result.output == str(path)
    wipe(driver, graph_tables)
    with (
        driver.session(database=graph_tables.neo4j.database) as session,
        path.open(encoding="utf-8") as lines,
    ):
        for statement in script.statements(lines):
            # auto-commit, as cypher-shell runs a script
            session.run(statement).consume()
    assert snapshot(driver, graph_tables) == bulk_graph
    assert_special_values(driver, graph_tables)


def test_auto_picks_sync_once_a_full_export_is_on_record(graph_tables, bulk_graph):
    export(graph_tables, mode="merge")
    assert export(graph_tables, dry_run=True).mode == "sync"
    # --clear rewrites what it selects: never an incremental run
    assert export(graph_tables, dry_run=True, clear=True).mode == "merge"


def test_update_propagates_and_null_removes(graph_tables, driver, bulk_graph, dbt_project):
    account_id, email = pg_rows(
        graph_tables,
        "select account_id::text, email from accounts where full_name is not null "
        "order by email limit 1",
        "profiles_db",
    )[0]
    media_id = pg_rows(
        graph_tables, "select media_id from media_content order by media_id limit 1", "streaming_db"
    )[0][0]
    original, changed_at = pg_rows(
        graph_tables,
        f"select full_name, updated_at::text from accounts where account_id = '{account_id}'",
        "profiles_db",
    )[0]
    genre = pg_rows(
        graph_tables,
        f"select genre from media_content where media_id = '{media_id}'",
        "streaming_db",
    )[0][0]
    tables = dict(pg_rows(graph_tables, "select name, table_name from graph.graph_catalog"))

    def change_sources(
        full_name: str | None, genre: str | None, updated_at: str | None = None
    ) -> None:
        """Set both source values, then rebuild and test the two graph tables with
        their upstream staging models, whatever those are materialized as (an
        export takes only tables that passed their tests). With `updated_at`, the
        account is put back as it was, its time of change included (which its
        trigger would stamp), and staging read in full, as after any source put
        back in time (docs/architecture.md, Change tracking)."""
        account = f"update accounts set full_name = {_quote(full_name)}"
        if updated_at is not None:
            account = (
                "alter table accounts disable trigger user; "
                f"{account}, updated_at = {_quote(updated_at)}"
            )
        pg_execute(
            graph_tables,
            f"{account} where account_id = '{account_id}'; "
            "alter table accounts enable trigger user",
            "profiles_db",
        )
        pg_execute(
            graph_tables,
            f"update media_content set genre = {_quote(genre)} where media_id = '{media_id}'",
            "streaming_db",
        )
        dbt(
            graph_tables,
            dbt_project,
            "build",
            *(["--full-refresh"] if updated_at is not None else []),
            "--select",
            "+" + tables["Account"],
            "+" + tables["Media"],
        )

    try:
        change_sources("Renamed Ünïcode 'x'", None)
        export(graph_tables, mode="merge")
        db = graph_tables.neo4j.database
        node = driver.execute_query(
            "MATCH (a:Account {account_id: $id}) RETURN a", id=account_id, database_=db
        ).records[0]["a"]
        assert node["full_name"] == "Renamed Ünïcode 'x'"
        assert node["email"] == email
        media = driver.execute_query(
            "MATCH (m:Media {media_id: $id}) RETURN m", id=media_id, database_=db
        ).records[0]["m"]
        assert "genre" not in media
    finally:
        change_sources(original, genre, changed_at)
    export(graph_tables, mode="merge")
    assert snapshot(driver, graph_tables) == bulk_graph


def _quote(value: str | None) -> str:
    return "null" if value is None else "'" + value.replace("'", "''") + "'"


def last_run(settings: Settings) -> tuple[str, str, str | None, str]:
    return pg_rows(
        settings,
        "select run_id::text, status, error, target from control.etl_run_logs "
        "order by started_at desc limit 1",
    )[0]


def test_completed_run_is_audited(graph_tables, bulk_graph):
    result = export(graph_tables, mode="merge")
    run_id, status, error, target = last_run(graph_tables)
    assert (run_id, status, error) == (result.run_id, "completed", None)
    assert graph_tables.neo4j.password not in target
    tables = pg_rows(
        graph_tables,
        "select kind, name, rows_read, rows_written, status from control.etl_table_logs "
        f"where run_id = '{run_id}'",
    )
    expected = graph_counts(graph_tables)
    assert {f"{k}:{n}": (r, w, s) for k, n, r, w, s in tables} == {
        key: (count, count, "completed") for key, count in expected.items()
    }


def test_failing_run_leaves_a_failed_row(graph_tables, driver, bulk_graph):
    bad = Settings.from_env(
        env={
            "C360_HOME": str(graph_tables.home),
            "C360_PG_PORT": str(graph_tables.postgres.port),
            "C360_NEO4J_BOLT_PORT": str(graph_tables.bolt_port),
            "C360_STAGING_DB": graph_tables.postgres.staging_database,
            "NEO4J_PASSWORD": "not-the-password",
        },
        project_dir=graph_tables.project_dir,
    )
    with pytest.raises(ServerUnavailableError):
        export(bad, mode="merge")
    _, status, error, target = last_run(graph_tables)
    assert status == "failed"
    assert "Neo4j" in error
    assert "not-the-password" not in error + target


def test_reconciliation_mismatch_fails_and_names_the_label(graph_tables, driver, bulk_graph):
    db = graph_tables.neo4j.database
    driver.execute_query("CREATE (:Plan {plan_id: -1, plan_name: 'stray'})", database_=db)
    try:
        with pytest.raises(ExportFailedError, match="label Plan"):
            export(graph_tables, mode="merge", labels=("Plan",))
        run_id, status, error, _ = last_run(graph_tables)
        assert status == "failed"
        assert "Plan" in error
        (row,) = pg_rows(
            graph_tables,
            "select status, error from control.etl_table_logs "
            f"where run_id = '{run_id}' and name = 'Plan'",
        )
        assert row[0] == "failed"
        assert "reconciliation" in row[1]
    finally:
        driver.execute_query("MATCH (p:Plan {plan_id: -1}) DETACH DELETE p", database_=db)


def test_second_export_on_the_same_target_fails_at_once(graph_tables, bulk_graph):
    with connected_driver(graph_tables) as driver:
        key = neo4j_target(graph_tables, driver).key
    with export_lock(graph_tables.postgres.dsn(), key):
        with pytest.raises(ExportBusyError, match="another c360-export"):
            export(graph_tables, mode="merge")
        result = cli(graph_tables, "--mode", "merge")
        assert result.exit_code == 4
        assert "another c360-export" in result.output


def test_cli_dry_run_json_writes_nothing(graph_tables, driver, bulk_graph):
    before = neo4j_counts(driver, graph_tables)
    runs = pg_rows(graph_tables, "select count(*) from control.etl_run_logs")[0][0]
    result = cli(graph_tables, "--dry-run", "--json", "--label", "Account", "--label", "Plan")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert plan["dry_run"] is True
    # both labels are on the record of the last full export
    assert plan["mode"] == "sync"
    assert {t["name"] for t in plan["tables"]} == {"Account", "Plan"}
    assert neo4j_counts(driver, graph_tables) == before
    assert pg_rows(graph_tables, "select count(*) from control.etl_run_logs")[0][0] == runs


def test_cli_merge_json_summary(graph_tables, bulk_graph):
    result = cli(graph_tables, "--mode", "merge", "--json", "--batch-size", "500")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["status"] == "completed"
    assert all(c["ok"] for c in summary["reconciliation"])


class KillAfter(NoProgress):
    """Kills the Neo4j server from another thread once `batches` batches are written."""

    def __init__(self, batches: int, kill: object) -> None:
        self.left = batches
        self.kill = kill
        self.thread: threading.Thread | None = None

    def advance(self, rows: int) -> None:
        self.left -= 1
        if self.left == 0:
            self.thread = threading.Thread(target=self.kill)
            self.thread.start()


def test_neo4j_killed_mid_merge_fails_then_rerun_converges(
    graph_tables, driver, bulk_graph, neo4j_server
):
    wipe(driver, graph_tables)
    progress = KillAfter(5, neo4j_server.kill)
    with pytest.raises(ExportFailedError):
        run_export(
            graph_tables,
            ExportOptions(mode="merge", batch_size=10, retry_seconds=3),
            progress=progress,
        )
    assert progress.thread is not None
    progress.thread.join()
    run_id, status, error, _ = last_run(graph_tables)
    assert status == "failed"
    assert error
    failed = pg_rows(
        graph_tables,
        f"select count(*) from control.etl_table_logs where run_id = '{run_id}' "
        "and status = 'failed'",
    )[0][0]
    assert failed >= 1
    neo4j_server.start()
    export(graph_tables, mode="merge")
    assert snapshot(driver, graph_tables) == bulk_graph


def test_bulk_output_directory_holds_typed_csv(graph_tables, bulk_graph, tmp_path):
    # bulk replaces the database; the graph must come back identical
    result = export(graph_tables, mode="bulk", output=tmp_path)
    header = (tmp_path / "nodes_Account.header.csv").read_text()
    assert header.startswith(":ID(Account),account_id")
    assert "created_at:datetime" in header
    assert result.status == "completed"
    assert Path(tmp_path / "nodes_Account.csv").stat().st_size > 0
