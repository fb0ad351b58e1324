"""Relationship properties and keys, dbt models as row sources, property
extensions (issue 11), on the real servers.

The module attaches a small ledger source of its own (accounts and the
transfers between them) to a staging database of its own, in a copy of the
dbt project holding a hand-written mart: the session's sample graph tables are
never touched. The mart gives each account a segment (an extension of
`Account`) and is the row source of the `Segment` label.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from c360.config import Settings
from c360.errors import ExportFailedError
from c360.export import script
from c360.export.options import ExportOptions
from c360.export.pipeline import run_export
from c360.neo4j_driver import open_driver
from c360.samples.load import drop_database, recreate_database
from c360.transform.attach import attach_sources
from c360.transform.dbt import copy_project, run_dbt
from c360.transform.files import write_files
from c360.transform.render import render_project
from graph_helpers import cli, pg_execute, pg_rows, write_rows
from neo4j import Driver
from neo4j.time import Date, DateTime

PROJECT = Path(__file__).resolve().parents[2]
SOURCE_DB = "c360_test_ledger_src"
STAGING_DB = "c360_test_ledger"
PASSWORD_VAR = "C360_LEDGER_DB_PASSWORD"

SOURCE_SQL = r"""
create table accounts (
    account_id text primary key,
    owner text,
    opened date
);
create table transfers (
    transfer_id bigint primary key,
    from_account text,
    to_account text,
    amount numeric(12, 2),
    at timestamptz,
    memo text
);
insert into accounts values
    ('A1', 'ana', '2020-01-31'),
    ('A2', 'bo', null),
    ('A3', 'ana', '2021-06-01');
insert into transfers values
    (1, 'A1', 'A2', 9999.99, '2024-03-01 10:00:00.123456+00', 'rent ''March'' "paid"'),
    (2, 'A1', 'A2', 0.01, '2024-03-02 23:59:59+02', E'line one\nline two'),
    (3, 'A2', 'A3', 123.45, null, 'café ☕ 東京'),
    (4, 'A3', 'A1', null, '2024-03-04 00:00:00+00', null),
    (5, 'A1', 'X9', 5.00, '2024-03-05 00:00:00+00', 'to nobody');
"""

# A mart as a user writes one: its columns declared with their types.
MART_SQL = """\
with

sent as (

    select
        from_account as account_id,
        sum(amount) as total_sent
    from {{ ref('stg_ledger__transfers') }}
    group by from_account

)

select
    account_id,
    total_sent,
    case when total_sent >= 1000 then 'gold' else 'bronze' end as segment
from sent
"""
MART_YAML = """\
models:
  - name: mart_account_segments
    description: One row per account that sent money, with its segment.
    columns:
      - name: account_id
        data_type: text
      - name: total_sent
        data_type: numeric(14,2)
      - name: segment
        data_type: text
"""

LABELS = [
    "Account,ledger,accounts,account_id,,false,true,An account.,false",
    "Owner,ledger,accounts,owner,,true,true,An owner.,false",
    "Account,,mart_account_segments,account_id,segment total_sent,false,true,Segment.,true",
    "Segment,,mart_account_segments,segment,,true,true,A segment.,false",
]
RELATIONSHIPS = [
    "TRANSFERRED,Account,account_id,Account,account_id,ledger,transfers,from_account,"
    "to_account,,true,1,One per transfer.,,transfer_id,amount at memo",
    "OWNED_BY,Account,owner,Owner,owner,,,,,,true,2,Owned by.,,,opened",
    "IN_SEGMENT,Account,account_id,Segment,account_id,,,,,,true,3,In a segment.,,,",
]


@dataclass(frozen=True)
class Ledger:
    settings: Settings
    project: Path
    env: dict[str, str]


def generate_and_build(ledger: Ledger) -> None:
    write_files(ledger.project, render_project(ledger.settings, ledger.project))
    done = run_dbt(ledger.settings, ledger.project, ["build"])
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]


@pytest.fixture(scope="module")
def ledger(stack: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ledger]:
    """The ledger attached, its mart written, the files generated, `dbt build` passed."""
    recreate_database(stack, SOURCE_DB)
    pg_execute(stack, SOURCE_SQL, SOURCE_DB)
    project = copy_project(PROJECT, tmp_path_factory.mktemp("ledger") / "project")
    source = ["ledger", "", "", SOURCE_DB, stack.postgres.user, PASSWORD_VAR, "", "true", "L."]
    write_rows(project, "source_databases", [",".join(source)])
    write_rows(project, "node_label_mappings", LABELS)
    write_rows(project, "relationship_mappings", RELATIONSHIPS)
    write_rows(project, "field_exclusion_rules", [])
    write_rows(project, "table_change_tracking", [])
    marts = project / "models" / "marts" / "ledger"
    marts.mkdir(parents=True)
    (marts / "mart_account_segments.sql").write_text(MART_SQL, encoding="utf-8")
    (marts / "_ledger__models.yml").write_text(MART_YAML, encoding="utf-8")
    settings = replace(
        stack, project_dir=project, postgres=replace(stack.postgres, staging_database=STAGING_DB)
    )
    env = {PASSWORD_VAR: stack.postgres.password or ""}
    attach_sources(settings, project, env)
    built = Ledger(settings, project, env)
    generate_and_build(built)
    yield built
    drop_database(stack, STAGING_DB)
    drop_database(stack, SOURCE_DB)


@pytest.fixture(scope="module")
def ledger_driver(ledger: Ledger) -> Iterator[Driver]:
    """A driver to the session's Neo4j, left without this module's graph."""
    with open_driver(ledger.settings) as driver:
        yield driver
    with open_driver(ledger.settings) as driver:
        database = ledger.settings.neo4j.database
        driver.execute_query(
            "MATCH (n) WHERE n:Account OR n:Owner OR n:Segment DETACH DELETE n",
            database_=database,
        )
        for name in ("account", "owner", "segment", "rel_transferred"):
            driver.execute_query(f"DROP CONSTRAINT c360_{name}_key IF EXISTS", database_=database)


def typed(props: dict[str, Any]) -> tuple[tuple[str, str, Any], ...]:
    """Properties with their Neo4j types: a string "1" differs from an integer 1."""
    return tuple(sorted((k, type(v).__name__, v) for k, v in props.items()))


def relationships(driver: Driver, settings: Settings, type_name: str) -> list[Any]:
    records, _, _ = driver.execute_query(
        f"MATCH (a)-[r:{type_name}]->(b) RETURN properties(a) AS a, properties(r) AS r,"
        " properties(b) AS b",
        database_=settings.neo4j.database,
    )
    return sorted(((typed(r["a"]), typed(r["r"]), typed(r["b"])) for r in records), key=repr)


def graph(driver: Driver, settings: Settings) -> dict[str, Any]:
    nodes, _, _ = driver.execute_query(
        "MATCH (n) WHERE n:Account OR n:Owner OR n:Segment"
        " RETURN labels(n) AS labels, properties(n) AS p",
        database_=settings.neo4j.database,
    )
    return {
        "nodes": sorted(((tuple(n["labels"]), typed(n["p"])) for n in nodes), key=repr),
        **{
            t: relationships(driver, settings, t) for t in ("TRANSFERRED", "OWNED_BY", "IN_SEGMENT")
        },
    }


def transfers(driver: Driver, settings: Settings) -> dict[int, dict[str, Any]]:
    records, _, _ = driver.execute_query(
        "MATCH (a:Account)-[r:TRANSFERRED]->(b:Account)"
        " RETURN a.account_id AS a, b.account_id AS b, properties(r) AS r",
        database_=settings.neo4j.database,
    )
    return {r["r"]["transfer_id"]: {"from": r["a"], "to": r["b"], **r["r"]} for r in records}


EXPECTED_TRANSFERS = {
    1: {
        "from": "A1",
        "to": "A2",
        "transfer_id": 1,
        "amount": 9999.99,
        "at": DateTime(2024, 3, 1, 10, 0, 0, 123456000, tzinfo=UTC),
        "memo": "rent 'March' \"paid\"",
    },
    2: {
        "from": "A1",
        "to": "A2",
        "transfer_id": 2,
        "amount": 0.01,
        "at": DateTime(2024, 3, 2, 21, 59, 59, 0, tzinfo=UTC),
        "memo": "line one\nline two",
    },
    3: {"from": "A2", "to": "A3", "transfer_id": 3, "amount": 123.45, "memo": "café ☕ 東京"},
    4: {"from": "A3", "to": "A1", "transfer_id": 4, "at": DateTime(2024, 3, 4, 0, 0, tzinfo=UTC)},
}


@pytest.fixture(scope="module")
def bulk_graph(ledger: Ledger, ledger_driver: Driver) -> dict[str, Any]:
    """The module's graph as a bulk import gives it, other modules' graphs replaced."""
    options = ExportOptions(mode="bulk", allow_mass_delete=True)
    assert run_export(ledger.settings, options).status == "completed"
    with open_driver(ledger.settings) as driver:
        return graph(driver, ledger.settings)


def test_graph_tables_carry_typed_relationship_properties(ledger):
    columns = pg_rows(
        ledger.settings,
        "select table_name, column_name, data_type from information_schema.columns"
        " where table_schema = 'graph' and table_name in ('edge_transferred', 'edge_owned_by')"
        # the change columns every graph table ends with are not properties
        " and column_name not like 'c360\\_%' order by table_name, ordinal_position",
    )
    assert columns == [
        ("edge_owned_by", "start_account_id", "text"),
        ("edge_owned_by", "end_owner", "text"),
        ("edge_owned_by", "opened", "date"),
        ("edge_transferred", "start_account_id", "text"),
        ("edge_transferred", "end_account_id", "text"),
        ("edge_transferred", "transfer_id", "bigint"),
        ("edge_transferred", "amount", "double precision"),
        ("edge_transferred", "at", "timestamp with time zone"),
        ("edge_transferred", "memo", "text"),
    ]
    (catalog_key,) = pg_rows(
        ledger.settings,
        "select key_columns from graph.graph_catalog where name = 'TRANSFERRED'",
    )[0]
    assert catalog_key == ["transfer_id"]


def test_bulk_keeps_parallel_transfers_with_their_properties(ledger, bulk_graph):
    with open_driver(ledger.settings) as driver:
        # transfer 5 goes to an account that does not exist: no relationship
        assert transfers(driver, ledger.settings) == EXPECTED_TRANSFERS
        owned = relationships(driver, ledger.settings, "OWNED_BY")
    # a direct match takes its properties from the start side; NULL is no property
    assert [(plain(a)["account_id"], plain(r)) for a, r, _ in owned] == [
        ("A1", {"opened": Date(2020, 1, 31)}),
        ("A2", {}),
        ("A3", {"opened": Date(2021, 6, 1)}),
    ]


def plain(props: tuple[tuple[str, str, Any], ...]) -> dict[str, Any]:
    return {k: v for k, _, v in props}


def test_an_extension_model_adds_properties_and_a_model_is_a_label_source(ledger, bulk_graph):
    accounts = {
        plain(props)["account_id"]: plain(props)
        for labels, props in bulk_graph["nodes"]
        if labels == ("Account",)
    }
    assert accounts["A1"] == {
        "account_id": "A1",
        "owner": "ana",
        "opened": Date(2020, 1, 31),
        "segment": "gold",
        "total_sent": 10005.0,
    }
    assert accounts["A2"]["segment"] == "bronze"
    segments = sorted(
        plain(props)["segment"] for labels, props in bulk_graph["nodes"] if labels == ("Segment",)
    )
    assert segments == ["bronze", "gold"]


def test_lineage_runs_from_the_graph_table_through_the_mart_to_the_source(ledger):
    manifest = json.loads((ledger.project / "target" / "manifest.json").read_text())
    parents = manifest["parent_map"]
    assert "model.c360.mart_account_segments" in parents["model.c360.node_account"]
    assert "model.c360.mart_account_segments" in parents["model.c360.node_segment"]
    assert parents["model.c360.mart_account_segments"] == ["model.c360.stg_ledger__transfers"]
    assert parents["model.c360.stg_ledger__transfers"] == ["source.c360.ledger.transfers"]


def test_merge_and_cypher_give_the_bulk_graph(ledger, ledger_driver, bulk_graph, tmp_path):
    settings = ledger.settings
    merged = ExportOptions(mode="merge", clear=True, allow_mass_delete=True)
    assert run_export(settings, merged).status == "completed"
    assert graph(ledger_driver, settings) == bulk_graph
    # Community enforces a relationship key's uniqueness (not its existence)
    records, _, _ = ledger_driver.execute_query(
        "SHOW CONSTRAINTS YIELD name, type, entityType, properties"
        " WHERE name = 'c360_rel_transferred_key' RETURN type, entityType, properties",
        database_=settings.neo4j.database,
    )
    assert [tuple(r.values()) for r in records] == [
        ("RELATIONSHIP_UNIQUENESS", "RELATIONSHIP", ["transfer_id"])
    ]
    path = tmp_path / "ledger.cypher"
    assert run_export(settings, ExportOptions(mode="cypher", output=path)).status == "completed"
    ledger_driver.execute_query("MATCH (n) DETACH DELETE n", database_=settings.neo4j.database)
    with (
        ledger_driver.session(database=settings.neo4j.database) as session,
        path.open(encoding="utf-8") as lines,
    ):
        for statement in script.statements(lines):
            session.run(statement).consume()
    assert graph(ledger_driver, settings) == bulk_graph
    # the record of a full export, for the syncs that follow
    assert run_export(settings, merged).status == "completed"


def test_sync_moves_exactly_the_changed_transfer_and_extension(ledger, ledger_driver, bulk_graph):
    settings = ledger.settings
    pg_execute(
        settings,
        "update transfers set amount = 2.50 where transfer_id = 2;"
        " update transfers set memo = 'moved', to_account = 'A1' where transfer_id = 3;"
        " delete from transfers where transfer_id = 4;"
        " insert into transfers values (6, 'A2', 'A1', 2000, null, 'big');",
        SOURCE_DB,
    )
    generate_and_build(ledger)
    # a third of some small labels and types goes: not what the guard is for here
    synced = run_export(settings, ExportOptions(mode="sync", allow_mass_delete=True))
    assert synced.status == "completed", synced
    by_name = {t.name: t for t in synced.tables}
    transferred = by_name["TRANSFERRED"]
    # 2 updated, 3 moved (a delete and an insert), 4 deleted, 6 inserted
    assert (transferred.rows_written, transferred.rows_deleted) == (3, 2)
    expected = {k: dict(v) for k, v in EXPECTED_TRANSFERS.items() if k != 4}
    expected[2]["amount"] = 2.5
    expected[3].update(to="A1", memo="moved")
    expected[6] = {"from": "A2", "to": "A1", "transfer_id": 6, "amount": 2000.0, "memo": "big"}
    assert transfers(ledger_driver, settings) == expected
    records, _, _ = ledger_driver.execute_query(
        "MATCH (a:Account) RETURN a.account_id AS id, a.segment AS segment ORDER BY id",
        database_=settings.neo4j.database,
    )
    # A2 now sent 2123.45, A3 nothing: the mart's change reached the nodes in the sync
    assert [(r["id"], r["segment"]) for r in records] == [
        ("A1", "gold"),
        ("A2", "gold"),
        ("A3", None),
    ]
    assert by_name["Account"].rows_written == 3
    again = run_export(settings, ExportOptions(mode="sync"))
    assert sum(t.rows_written + t.rows_deleted for t in again.tables) == 0


def test_a_merge_over_a_moved_transfer_moves_it(ledger, ledger_driver):
    """A plain merge (no record to diff: another staging database, a lost
    record) meets transfer 6 (inserted by the sync test above) still between
    its old accounts: the key is unique across the type, so the merge moves it
    instead of failing on the constraint."""
    settings = ledger.settings
    before = transfers(ledger_driver, settings)
    pg_execute(settings, "update transfers set to_account = 'A3' where transfer_id = 6", SOURCE_DB)
    generate_and_build(ledger)
    merged = run_export(settings, ExportOptions(mode="merge"))
    assert merged.status == "completed", merged
    expected = {k: dict(v) for k, v in before.items()}
    expected[6]["to"] = "A3"
    assert transfers(ledger_driver, settings) == expected
    # a rerun of the same merge changes nothing
    assert run_export(settings, ExportOptions(mode="merge")).status == "completed"
    assert transfers(ledger_driver, settings) == expected
    # a merge deletes nothing: a transfer gone from the source stays, the counts
    # tell, and the message says what rewrites the graph
    pg_execute(settings, "delete from transfers where transfer_id = 6", SOURCE_DB)
    generate_and_build(ledger)
    with pytest.raises(ExportFailedError) as failed:
        run_export(settings, ExportOptions(mode="merge"))
    message = str(failed.value)
    held = len(expected)
    assert f"relationship type TRANSFERRED: Neo4j has {held}, the graph table has {held - 1}" in (
        message
    )
    assert "--mode merge --clear" in message
    cleared = ExportOptions(mode="merge", clear=True, allow_mass_delete=True)
    assert run_export(settings, cleared).status == "completed"
    del expected[6]
    assert transfers(ledger_driver, settings) == expected


def _refused(ledger: Ledger, monkeypatch: pytest.MonkeyPatch, seed: str, rows: list[str]) -> str:
    """`models generate` on rows changed in `seed`: it must refuse; its output."""
    path = ledger.project / "seeds" / "control" / f"{seed}.csv"
    before = path.read_text(encoding="utf-8")
    generated = {p: p.read_text() for p in (ledger.project / "models").rglob("*.sql")}
    monkeypatch.setenv("C360_STAGING_DB", STAGING_DB)
    try:
        write_rows(ledger.project, seed, rows)
        result = cli(ledger.settings, "models", "generate", "--project-dir", str(ledger.project))
    finally:
        path.write_text(before, encoding="utf-8")
    assert result.exit_code == 2, result.output
    assert {p: p.read_text() for p in (ledger.project / "models").rglob("*.sql")} == generated
    return " ".join(result.output.split())


@pytest.mark.parametrize(
    ("seed", "change", "message"),
    [
        (
            "relationship_mappings",
            (RELATIONSHIPS[0], RELATIONSHIPS[0].replace("amount at memo", "amount fee")),
            "relationship_mappings.csv:2 (relationship_type=TRANSFERRED): relationship column "
            "'fee' does not exist in ledger.transfers",
        ),
        (
            "node_label_mappings",
            (LABELS[3], LABELS[3].replace("mart_account_segments", "mart_nothing")),
            "node_label_mappings.csv:5 (label=Segment): table_name 'mart_nothing' names no "
            "model of this dbt project",
        ),
        (
            "node_label_mappings",
            (LABELS[2], LABELS[2].replace("segment total_sent", "tier")),
            "node_label_mappings.csv:4 (label=Account): property column 'tier' does not "
            "exist in model mart_account_segments",
        ),
        (
            "node_label_mappings",
            (LABELS[2], LABELS[2].replace(",account_id,segment", ",segment,total_sent")),
            "node_label_mappings.csv:4 (label=Account): key_columns 'segment' are not the "
            "key of Account ('account_id')",
        ),
    ],
)
def test_bad_rows_are_refused_before_any_file_changes(ledger, monkeypatch, seed, change, message):
    rows = {"node_label_mappings": LABELS, "relationship_mappings": RELATIONSHIPS}[seed]
    old, new = change
    assert message in _refused(ledger, monkeypatch, seed, [new if r == old else r for r in rows])


def test_a_duplicate_relationship_key_stops_dbt_before_the_edge_table(ledger):
    settings = ledger.settings
    before = pg_rows(settings, "select count(*), max(xmin::text) from graph.edge_transferred")
    pg_execute(settings, "alter table transfers drop constraint transfers_pkey", SOURCE_DB)
    pg_execute(settings, "insert into transfers values (1, 'A3', 'A2', 1, null, 'dup')", SOURCE_DB)
    try:
        done = run_dbt(settings, ledger.project, ["build"])
    finally:
        pg_execute(settings, "delete from transfers where memo = 'dup'", SOURCE_DB)
        pg_execute(settings, "alter table transfers add primary key (transfer_id)", SOURCE_DB)
    assert done.returncode != 0
    output = " ".join(done.stdout.split())
    assert (
        "relationship_mappings.csv:2 (relationship_type=TRANSFERRED) (transfer_id=1): "
        "2 rows of stg_ledger__transfers have this key" in output
    ), done.stdout[-4000:]
    assert (
        pg_rows(settings, "select count(*), max(xmin::text) from graph.edge_transferred") == before
    )
