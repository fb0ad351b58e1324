"""Hostile control rows and source schemas, through the real pipeline.

Awkward source column names reach Neo4j as properties in every write mode;
names c360 cannot carry, and Jinja in a control row, are refused before
anything is generated; source rows that lose their relationship are counted
by dbt's `dangling_rows` test. This module builds from its own copies of the
sample sources (with an extra table of awkward columns and dangling play
events) into its own staging databases.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from c360.config import Settings
from c360.errors import ConfigError
from c360.export import script
from c360.neo4j_driver import open_driver
from c360.samples.domains import BANKING, DOMAINS, STREAMING, load_stories
from c360.samples.load import (
    SOURCE_KINDS,
    SourceTargets,
    drop_database,
    reader_environment,
)
from c360.transform.attach import attach_sources
from c360.transform.dbt import copy_project, run_dbt
from c360.transform.files import write_files
from c360.transform.render import render_project
from graph_helpers import cli, export, pg_execute, pg_rows
from neo4j import Driver

PROJECT = Path(__file__).resolve().parents[2]
PREFIX = "c360_test_hostile_"
STAGING = "c360_test_hostile"
FAILING_STAGING = "c360_test_hostile_failing"

# Every one a property of :Member; `team"ref` is also a join column and
# `Team-Key` the key of :Team.
AWKWARD = (
    'a"b',
    "with space",
    "back`tick",
    "da-sh",
    "prénom",
    "order",
    "Upper",
    "x:y",
    "x,y",
    "a\\u0041b",
    'team"ref',
)
AWKWARD_SOURCE_SQL = """
create table people (
    person_id bigint primary key,
    "a""b" text, "with space" text, "back`tick" text, "da-sh" text,
    "prénom" text, "order" text, "Upper" text, "x:y" text, "x,y" text,
    "a\\u0041b" text, "team""ref" text
);
create table teams ("Team-Key" text primary key, "name" text);
insert into teams values ('t-1', 'Red'), ('t-2', 'Blue');
insert into people
select
    i, 'quote " ' || i, 'space ' || i, 'tick ` ' || i, 'dash - ' || i,
    'Zoë ' || i, 'order ' || i, 'UP ' || i, 'colon : ' || i, 'comma , ' || i,
    'backslash \\ ' || i, case when i = 5 then 'no-such-team' else 't-' || (i % 2 + 1) end
from generate_series(1, 5) as i;
-- dbt would evaluate the first name where a generated file carries it; the
-- second breaks neo4j-admin's CSV header
create table templated (id bigint, "{{ env_var('PGPASSWORD') }}" text, "amount (usd)" text);
grant select on people, teams, templated to profiles_reader;
"""
# play events whose media or account exists nowhere: PLAYED, WATCHED, USED_IP and
# USED_DEVICE lose them
DANGLING_PLAYS_SQL = """
alter table play_events drop constraint play_events_media_id_fkey;
insert into play_events (session_id, account_id_from_token, media_id, event_timestamp,
    action, ip_address, device_fingerprint)
select 's-dangling', a, m, now(), 'play', '10.9.9.9', 'fp-dangling'
from (values
    ((select account_id_from_token from play_events limit 1), 'NO-SUCH-MEDIA-1'),
    ((select account_id_from_token from play_events limit 1), 'NO-SUCH-MEDIA-2'),
    ('00000000-0000-0000-0000-00000000dead'::uuid, (select media_id from media_content limit 1)),
    ('00000000-0000-0000-0000-00000000beef'::uuid, 'NO-SUCH-MEDIA-3'),
    ('00000000-0000-0000-0000-00000000f00d'::uuid, null)
) as dangling (a, m);
"""
CONTROL_ROWS = [
    "node_label_mappings:Member,profiles,people,person_id,,false,true,A person.",
    "node_label_mappings:Team,profiles,teams,Team-Key,,false,true,A team.",
    'relationship_mappings:IN_TEAM,Member,"team""ref",Team,Team-Key,,,,,,true,10,In a team.,',
]


@dataclass(frozen=True)
class Build:
    settings: Settings
    project: Path
    output: str


@pytest.fixture(scope="module")
def sources(stack: Settings) -> Iterator[SourceTargets]:
    targets = SourceTargets.with_prefix(PREFIX)
    load_stories(stack, DOMAINS, targets)
    pg_execute(stack, AWKWARD_SOURCE_SQL, targets.database("profiles_db"))
    pg_execute(stack, DANGLING_PLAYS_SQL, targets.database("streaming_db"))
    yield targets
    for database in (STAGING, FAILING_STAGING, *(targets.database(k) for k in SOURCE_KINDS)):
        drop_database(stack, database)


@pytest.fixture(scope="module")
def source_env(stack: Settings) -> dict[str, str]:
    return reader_environment(stack, {})


def staging(stack: Settings, project: Path, database: str) -> Settings:
    return replace(
        stack, project_dir=project, postgres=replace(stack.postgres, staging_database=database)
    )


def add_rows(project: Path, rows: list[str]) -> None:
    for row in rows:
        seed, line = row.split(":", 1)
        with (project / "seeds" / "control" / f"{seed}.csv").open("a") as handle:
            handle.write(line + "\n")


def set_field(project: Path, seed: str, row_start: str, old: str, new: str) -> None:
    path = project / "seeds" / "control" / f"{seed}.csv"
    lines = path.read_text().splitlines()
    (index,) = [i for i, line in enumerate(lines) if line.startswith(row_start)]
    assert old in lines[index]
    lines[index] = lines[index].replace(old, new)
    path.write_text("\n".join(lines) + "\n")


def generate_and_build(settings: Settings, project: Path, env: dict[str, str]) -> Any:
    """attach -> models generate -> dbt build, as the README says."""
    attach_sources(settings, project, env)
    write_files(project, render_project(settings, project))
    return run_dbt(settings, project, ["build"])


@pytest.fixture(scope="module")
def built(stack, sources, source_env, tmp_path_factory) -> Build:
    project = copy_project(PROJECT, tmp_path_factory.mktemp("hostile") / "p", PREFIX)
    add_rows(project, CONTROL_ROWS)
    settings = staging(stack, project, STAGING)
    done = generate_and_build(settings, project, source_env)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    return Build(settings, project, done.stdout)


@pytest.fixture(scope="module")
def hostile_driver(built: Build) -> Iterator[Driver]:
    """A driver to the shared Neo4j, emptied afterwards: the next module's
    export would otherwise find labels it does not have and refuse to delete them."""
    with open_driver(built.settings) as driver:
        yield driver
        driver.execute_query("MATCH (n) DETACH DELETE n", database_=built.settings.neo4j.database)


def expected_people(settings: Settings, targets: SourceTargets) -> dict[int, dict[str, Any]]:
    rows = pg_rows(settings, "select row_to_json(p) from people p", targets.database("profiles_db"))
    return {row["person_id"]: row for (row,) in rows}


def assert_graph_has_the_people(driver: Driver, built: Build, targets: SourceTargets) -> None:
    db = built.settings.neo4j.database
    people = driver.execute_query("MATCH (p:Member) RETURN properties(p) AS p", database_=db)
    assert {r["p"]["person_id"]: r["p"] for r in people.records} == expected_people(
        built.settings, targets
    )
    teams = driver.execute_query(
        "MATCH (p:Member)-[:IN_TEAM]->(t:Team) RETURN p.person_id AS p, t.`Team-Key` AS t",
        database_=db,
    )
    assert sorted((r["p"], r["t"]) for r in teams.records) == [
        (1, "t-2"),
        (2, "t-1"),
        (3, "t-2"),
        (4, "t-1"),
    ]


def test_awkward_column_names_reach_the_graph_tables(built):
    columns = pg_rows(
        built.settings,
        "select column_name from information_schema.columns"
        " where table_schema = 'graph' and table_name = 'node_member'",
    )
    assert {c for (c,) in columns} == {"person_id", *AWKWARD, "c360_row_hash", "c360_batch"}
    edges = pg_rows(built.settings, 'select "end_Team-Key" from graph.edge_in_team')
    assert sorted(e for (e,) in edges) == ["t-1", "t-1", "t-2", "t-2"]


def test_awkward_property_names_in_bulk_merge_cypher_and_sync_modes(
    built, hostile_driver, sources, tmp_path
):
    # this module's graph, whatever an earlier module left in the test server
    assert export(built.settings, mode="bulk", allow_mass_delete=True).status == "completed"
    assert_graph_has_the_people(hostile_driver, built, sources)

    db = built.settings.neo4j.database
    hostile_driver.execute_query("MATCH (n:Member|Team) DETACH DELETE n", database_=db)
    result = export(built.settings, mode="merge", labels=("Member", "Team"))
    assert {t.status for t in result.tables} == {"completed"}
    assert_graph_has_the_people(hostile_driver, built, sources)

    path = tmp_path / "graph.cypher"
    export(built.settings, mode="cypher", labels=("Member", "Team"), output=path)
    hostile_driver.execute_query("MATCH (n:Member|Team) DETACH DELETE n", database_=db)
    with hostile_driver.session(database=db) as session, path.open(encoding="utf-8") as lines:
        for statement in script.statements(lines):
            session.run(statement).consume()
    assert_graph_has_the_people(hostile_driver, built, sources)

    # sync writes only what changed since the export on record: one changed
    # property, one removed (NULL), one relationship gone (its join value NULL,
    # so no row is left dangling)
    pg_execute(
        built.settings,
        'update people set "prénom" = \'Zoé ` "changed"\', "a""b" = null'
        ' where person_id = 1; update people set "team""ref" = null where person_id = 3',
        sources.database("profiles_db"),
    )
    rebuilt = run_dbt(built.settings, built.project, ["build"])
    assert rebuilt.returncode == 0, rebuilt.stdout[-6000:]
    assert export(built.settings, mode="sync").status == "completed"
    people = hostile_driver.execute_query(
        "MATCH (p:Member {person_id: 1}) RETURN properties(p) AS p", database_=db
    )
    person = people.records[0]["p"]
    assert person["prénom"] == 'Zoé ` "changed"'
    assert 'a"b' not in person
    assert person["with space"] == "space 1"
    teams = hostile_driver.execute_query(
        "MATCH (:Member {person_id: 3})-[r:IN_TEAM]->() RETURN count(r) AS c", database_=db
    )
    assert teams.records[0]["c"] == 0


def expected_dangling(settings: Settings, targets: SourceTargets) -> dict[str, int]:
    """Per edge table, the source rows without a partner, computed on the sources."""
    profiles, streaming, support = (targets.database(k) for k in STREAMING.kinds)
    account_rows = pg_rows(settings, "select account_id::text, email from accounts", profiles)
    accounts = {account for account, _ in account_rows}
    emails = {email.strip().lower() for _, email in account_rows}
    events = pg_rows(
        settings,
        "select account_id_from_token::text, ip_address, device_fingerprint from play_events",
        streaming,
    )
    tickets = pg_rows(settings, "select customer_email from helpdesk.tickets", support)
    lost_media = pg_rows(
        settings,
        "select count(*) from play_events e where media_id is not null and not exists"
        " (select 1 from media_content m where m.media_id = e.media_id)",
        streaming,
    )[0][0]
    unknown = [e for e in events if e[0] is not None and e[0] not in accounts]
    return {
        "edge_played": lost_media,
        "edge_watched": len(unknown),
        "edge_used_ip": sum(1 for e in unknown if e[1] is not None),
        "edge_used_device": sum(1 for e in unknown if e[2] is not None),
        "edge_submitted": sum(
            1 for (email,) in tickets if email is not None and email.strip().lower() not in emails
        ),
        "edge_in_team": 1,
        # foreign keys in the sources keep these whole
        "edge_has_payment_method": 0,
        "edge_has_subscription": 0,
        "edge_subscribed_to": 0,
        "edge_tagged_with": 0,
        **expected_banking_dangling(settings, targets),
    }


def expected_banking_dangling(settings: Settings, targets: SourceTargets) -> dict[str, int]:
    """The banking domain's lost rows: KYC records naming no person of core banking
    (another database, so no foreign key keeps them whole)."""
    core, kyc, _ = (targets.database(k) for k in BANKING.kinds)
    persons = {p for (p,) in pg_rows(settings, "select person_id from persons", core)}

    def orphans(table: str) -> int:
        rows = pg_rows(settings, f"select person_id from {table}", kyc)
        return sum(1 for (person,) in rows if person is not None and person not in persons)

    return {
        "edge_has_address": orphans("addresses"),
        "edge_has_phone": orphans("phones"),
        # a foreign key keeps owners whole; every account a transaction names is a node
        "edge_owns": 0,
        "edge_transferred": 0,
    }


def dangling_failures(project: Path) -> dict[str, int]:
    """The failures of each edge table's dangling_rows test in the last dbt run."""
    target = project / "target"
    manifest = json.loads((target / "manifest.json").read_text())["nodes"]
    results = json.loads((target / "run_results.json").read_text())["results"]
    found = {}
    for result in results:
        node = manifest.get(result["unique_id"], {})
        if (node.get("test_metadata") or {}).get("name") == "dangling_rows":
            found[node["attached_node"].split(".")[-1]] = result["failures"]
    return found


def test_dbt_counts_the_rows_that_lose_their_relationship(built, sources):
    expected = expected_dangling(built.settings, sources)
    assert expected["edge_played"] == 3
    assert expected["edge_watched"] == 3
    assert dangling_failures(built.project) == expected
    assert "Warning in test dangling_rows_edge_played" in built.output


def test_source_columns_c360_cannot_carry_are_named_at_models_generate(built, tmp_path):
    project = tmp_path / "p"
    shutil.copytree(built.project, project, ignore=shutil.ignore_patterns("target", "logs"))
    add_rows(project, ["node_label_mappings:Templated,profiles,templated,id,,false,true,x"])
    with pytest.raises(ConfigError) as error:
        render_project(replace(built.settings, project_dir=project), project)
    message = str(error.value)
    assert "profiles.templated.{{ env_var('PGPASSWORD') }}: holds Jinja delimiters" in message
    assert "profiles.templated.amount (usd): neo4j-admin's CSV header cannot carry ( )" in message
    assert "a field_exclusion_rules row" in message


@pytest.fixture(scope="module")
def failing_project(built, source_env, tmp_path_factory) -> Path:
    """A copy of the built project attached to its own staging database, whose
    builds are meant to fail."""
    project = tmp_path_factory.mktemp("failing") / "p"
    shutil.copytree(built.project, project, ignore=shutil.ignore_patterns("target", "logs"))
    attach_sources(staging(built.settings, project, FAILING_STAGING), project, source_env)
    return project


def test_jinja_in_a_control_row_is_refused_and_no_secret_is_written(built, failing_project):
    settings = staging(built.settings, failing_project, FAILING_STAGING)
    secret = settings.postgres.password
    assert secret
    models = {p: p.read_bytes() for p in (failing_project / "models").rglob("*") if p.is_file()}
    set_field(
        failing_project,
        "relationship_mappings",
        "PLAYED,",
        "A play event played a title.",
        '"{{ env_var(""PGPASSWORD"") }}"',
    )
    refused = cli(settings, "models", "generate", "--project-dir", str(failing_project))
    assert refused.exit_code != 0
    assert (
        "relationship_mappings.csv:5 (relationship_type=PLAYED): description holds Jinja"
        in refused.output
    ), refused.output
    after = {p: p.read_bytes() for p in (failing_project / "models").rglob("*") if p.is_file()}
    assert after == models, "models generate wrote files"

    done = run_dbt(settings, failing_project, ["build"])
    output = done.stdout + done.stderr
    assert done.returncode != 0
    # dbt names the edited row; `models generate` (above) says what is wrong with it
    played = "relationship_mappings (relationship_type=PLAYED): column description differs"
    assert played in output, output[-6000:]
    assert "Run `c360-export models generate`" in output
    for folder in ("target", "logs"):
        for path in (failing_project / folder).rglob("*"):
            if path.is_file():
                assert secret.encode() not in path.read_bytes(), f"the password is in {path}"


def test_dangling_severity_error_fails_dbt_build(built, sources, source_env, failing_project):
    settings = staging(built.settings, failing_project, FAILING_STAGING)
    rows = Path("seeds") / "control" / "relationship_mappings.csv"
    shutil.copy(built.project / rows, failing_project / rows)
    set_field(failing_project, "relationship_mappings", "PLAYED,", "title.,", "title.,error")
    done = generate_and_build(settings, failing_project, source_env)
    assert done.returncode != 0
    assert "Failure in test dangling_rows_edge_played" in done.stdout, done.stdout[-6000:]
    failures = dangling_failures(failing_project)
    assert failures["edge_played"] == expected_dangling(settings, sources)["edge_played"]
