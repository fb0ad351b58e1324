"""Every source type reaches Neo4j exactly, or is refused naming its column (issue 9,
item 7), on the real servers.

The module attaches one small source database of its own, with a column of each
awkward type, to a staging database of its own, from a copy of the dbt project
whose control rows map only that table: the session's sample graph tables are
never touched, and nothing is loaded twice.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from c360.config import Settings
from c360.errors import ExportFailedError
from c360.export import merge
from c360.export.catalog import Column, LabelPlan
from c360.export.options import ExportOptions
from c360.export.pipeline import run_export
from c360.neo4j_driver import open_driver
from c360.samples.load import drop_database, recreate_database
from c360.transform.attach import attach_sources
from c360.transform.dbt import copy_project, run_dbt
from c360.transform.files import write_files
from c360.transform.render import render_project
from graph_helpers import cli, pg_execute, pg_rows, snapshot, write_rows
from neo4j import Driver
from neo4j.time import Date, DateTime, Duration

PROJECT = Path(__file__).resolve().parents[2]
SOURCE_DB = "c360_test_types_src"
STAGING_DB = "c360_test_types"
PASSWORD_VAR = "C360_TYPES_DB_PASSWORD"

SOURCE_SQL = r"""
create table things (
    thing_id integer primary key,
    big numeric(30, 0),
    amount numeric(10, 2),
    units numeric(18, 0),
    ratio real,
    tags text[],
    scores integer[],
    weights double precision[],
    flags boolean[],
    days date[],
    seen timestamptz[],
    wait interval,
    blob bytea,
    doc jsonb,
    happened_at timestamptz,
    born_on date,
    local_at timestamp,
    addr inet
);
insert into things values
(
    1, 123456789012345678901234567890, 12345678.91, 123456789012345678, 1.1,
    '{"a,b","c;d","é \"q\""}', '{1,-2,3}', '{1.5,1e300,-0.1}', '{true,false}',
    '{2024-01-02,0001-01-01}', '{"2024-01-02 03:04:05.123456+00"}',
    '1 year 2 months 3 days 04:05:06.5', '\x00ff7f80', '{"b": 1, "a": [1, 2]}',
    '2024-05-06 07:08:09.123456+02', '2000-02-29', '2024-01-01 12:00:00', '10.0.0.0/8'
),
(
    2, null, null, null, null, '{}', null, null, null, null, null,
    '-1 day +02:00', '', null, null, null, null, '192.168.1.5'
);
"""

THING_1 = {
    "thing_id": 1,
    "amount": 12345678.91,
    "units": 123456789012345678,
    "ratio": 1.1,
    "tags": ["a,b", "c;d", 'é "q"'],
    "scores": [1, -2, 3],
    "weights": [1.5, 1e300, -0.1],
    "flags": [True, False],
    "days": [Date(2024, 1, 2), Date(1, 1, 1)],
    "seen": [DateTime(2024, 1, 2, 3, 4, 5, 123456000, tzinfo=UTC)],
    "wait": Duration(months=14, days=3, seconds=4 * 3600 + 5 * 60 + 6, nanoseconds=500000000),
    "blob": b"\x00\xff\x7f\x80",
    "doc": '{"a": [1, 2], "b": 1}',
    "happened_at": DateTime(2024, 5, 6, 5, 8, 9, 123456000, tzinfo=UTC),
    "born_on": Date(2000, 2, 29),
    "local_at": DateTime(2024, 1, 1, 12, 0, 0),
    "addr": "10.0.0.0/8",
}
# an empty list and an empty byte array become no property
THING_2 = {"thing_id": 2, "wait": Duration(days=-1, seconds=7200), "addr": "192.168.1.5"}


@dataclass(frozen=True)
class Types:
    settings: Settings
    project: Path
    env: dict[str, str]


def source_row(settings: Settings) -> str:
    row = ["types", "", "", SOURCE_DB, settings.postgres.user, PASSWORD_VAR, "", "true", "Types."]
    return ",".join(row)


@pytest.fixture(scope="module")
def attached(stack: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Types]:
    """The source attached to this module's staging database, nothing generated yet."""
    recreate_database(stack, SOURCE_DB)
    pg_execute(stack, SOURCE_SQL, SOURCE_DB)
    project = copy_project(PROJECT, tmp_path_factory.mktemp("types") / "project")
    write_rows(project, "source_databases", [source_row(stack)])
    write_rows(project, "node_label_mappings", ["Thing,types,things,thing_id,,false,true,A."])
    write_rows(project, "relationship_mappings", [])
    write_rows(project, "field_exclusion_rules", [])
    write_rows(project, "table_change_tracking", [])
    settings = replace(
        stack, project_dir=project, postgres=replace(stack.postgres, staging_database=STAGING_DB)
    )
    env = {PASSWORD_VAR: stack.postgres.password or ""}
    attach_sources(settings, project, env)
    yield Types(settings, project, env)
    drop_database(stack, STAGING_DB)
    drop_database(stack, SOURCE_DB)


@pytest.fixture(scope="module")
def built(attached: Types) -> Types:
    """The wide numeric excluded, the files generated and `dbt build` passed."""
    with (attached.project / "seeds" / "control" / "field_exclusion_rules.csv").open("a") as out:
        csv.writer(out, lineterminator="\n").writerow(
            ["types", "things", "big", "true", "Wider than a 64-bit integer."]
        )
    write_files(attached.project, render_project(attached.settings, attached.project))
    done = run_dbt(attached.settings, attached.project, ["build"])
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    return attached


@pytest.fixture(scope="module")
def types_driver(built: Types) -> Iterator[Driver]:
    """A driver to the session's Neo4j, left without this module's nodes: the next
    module's full export must not see them as a mass delete."""
    with open_driver(built.settings) as driver:
        yield driver
    with open_driver(built.settings) as driver:
        database = built.settings.neo4j.database
        driver.execute_query("MATCH (n:Thing) DETACH DELETE n", database_=database)
        driver.execute_query("DROP CONSTRAINT c360_thing_key IF EXISTS", database_=database)


def things(driver: Driver, settings: Settings) -> list[dict[str, Any]]:
    records, _, _ = driver.execute_query(
        "MATCH (n:Thing) RETURN properties(n) AS p ORDER BY n.thing_id",
        database_=settings.neo4j.database,
    )
    return [r["p"] for r in records]


def test_models_generate_refuses_a_numeric_that_would_lose_digits(attached, monkeypatch):
    monkeypatch.setenv("C360_STAGING_DB", STAGING_DB)
    result = cli(attached.settings, "models", "generate", "--project-dir", str(attached.project))
    assert result.exit_code == 2, result.output
    output = " ".join(result.output.split())
    assert "types.things.big (numeric(30,0)): 30 digits do not fit a 64-bit integer" in output
    assert "field_exclusion_rules" in output
    assert not (attached.project / "models" / "graph" / "nodes" / "node_thing.sql").exists()


def test_graph_tables_hold_exact_types(built):
    columns = dict(
        pg_rows(
            built.settings,
            "select column_name, case when data_type = 'ARRAY' then udt_name else data_type end"
            " from information_schema.columns where table_schema = 'graph'"
            " and table_name = 'node_thing'"
            # the change columns every graph table ends with are not properties
            " and column_name not like 'c360\\_%'",
        )
    )
    assert columns == {
        "thing_id": "integer",
        "amount": "double precision",
        "units": "bigint",
        "ratio": "double precision",
        "tags": "_text",
        "scores": "_int4",
        "weights": "_float8",
        "flags": "_bool",
        "days": "_date",
        "seen": "_timestamptz",
        "wait": "interval",
        "blob": "bytea",
        "doc": "text",
        "happened_at": "timestamp with time zone",
        "born_on": "date",
        "local_at": "timestamp without time zone",
        "addr": "text",
    }
    (ratio,) = pg_rows(built.settings, "select ratio from graph.node_thing where thing_id = 1")[0]
    assert ratio == 1.1


def test_bulk_and_merge_load_lists_durations_and_byte_arrays(built, types_driver):
    settings = built.settings
    # the graph replaced is whatever other modules left in the session's Neo4j
    replace_all = ExportOptions(mode="bulk", allow_mass_delete=True)
    assert run_export(settings, replace_all).status == "completed"
    # bulk replaced the database: a fresh driver, without the old store's bookmarks
    with open_driver(settings) as driver:
        assert things(driver, settings) == [THING_1, THING_2]
        loaded = snapshot(driver, settings)
    reload = ExportOptions(mode="merge", clear=True, allow_mass_delete=True)
    assert run_export(settings, reload).status == "completed"
    assert things(types_driver, settings) == [THING_1, THING_2]
    assert snapshot(types_driver, settings) == loaded
    synced = run_export(settings, ExportOptions(mode="sync"))
    assert synced.status == "completed"
    assert sum(t.rows_written for t in synced.tables) == 0


def test_merge_names_the_column_of_a_value_neo4j_refuses(built, types_driver):
    plan = LabelPlan(
        "Thing",
        "node_thing",
        (Column("thing_id", "integer"),),
        (Column("happened_at", "timestamp with time zone"), Column("tags", "text[]")),
    )
    statement = merge.node_statement(plan)
    database = built.settings.neo4j.database
    with pytest.raises(ExportFailedError, match=r"graph\.node_thing\.happened_at: .*'infinity'"):
        merge.write(types_driver, database, statement, [[(99, "infinity", None)]])
    with pytest.raises(ExportFailedError, match=r"graph\.node_thing\.tags: .*a NULL"):
        merge.write(types_driver, database, statement, [[(99, None, ["a", None])]])


def test_values_neo4j_cannot_store_fail_dbt_build_naming_model_and_column(built):
    pg_execute(
        built.settings,
        "insert into things (thing_id, tags, days, happened_at, born_on) values"
        " (3, '{a,null}', null, 'infinity', null),"
        " (4, null, '{2024-01-01,-infinity}', null, '0044-03-15 BC')",
        SOURCE_DB,
    )
    try:
        done = run_dbt(built.settings, built.project, ["build"])
    finally:
        pg_execute(built.settings, "delete from things where thing_id in (3, 4)", SOURCE_DB)
    assert done.returncode != 0
    failed = {
        line.split("Failure in test ")[1].split()[0]
        for line in done.stdout.splitlines()
        if "Failure in test " in line
    }
    assert failed == {
        "finite_temporal_node_thing_happened_at__timestamp_with_time_zone",
        "finite_temporal_node_thing_born_on__date",
        "finite_temporal_node_thing_days__date_",
        "storable_list_node_thing_tags",
    }, done.stdout[-4000:]
