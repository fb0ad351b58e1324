"""dbt against real PostgreSQL: control rows -> staging tables -> graph tables.

Each scenario copies the dbt project into a temporary directory, points its
source_databases rows at this module's own copies of the sample sources and
builds into its own staging database, so the demo database is never touched.
Expected row counts are computed independently with SQL on the sources.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import psycopg2
import pytest
import yaml
from c360.cli import app
from c360.config import Settings
from c360.errors import ConfigError
from c360.samples.domains import BANKING, DOMAINS, STREAMING, load_stories
from c360.samples.load import SOURCE_KINDS, SourceTargets, drop_database, reader_environment
from c360.transform.attach import attach_sources
from c360.transform.dbt import copy_project as copy_dbt_project
from c360.transform.dbt import run_dbt
from c360.transform.files import write_files
from c360.transform.render import render_project
from typer.testing import CliRunner

PROJECT = Path(__file__).resolve().parents[2]
PREFIX = "c360_test_transform_"


@dataclass(frozen=True)
class Scenario:
    settings: Settings
    project: Path
    env: dict[str, str]
    output: str


@pytest.fixture(scope="module")
def base_settings(request: pytest.FixtureRequest) -> Settings:
    """The session's test stack when tests/conftest.py provides one, else the dev stack."""
    try:
        return request.getfixturevalue("stack")
    except pytest.FixtureLookupError:
        return Settings.from_env(env={}, project_dir=PROJECT)


@pytest.fixture(scope="module")
def sources(base_settings: Settings) -> Iterator[SourceTargets]:
    """This module's own copy of the sample sources."""
    targets = SourceTargets.with_prefix(PREFIX)
    load_stories(base_settings, DOMAINS, targets)
    yield targets
    for kind in SOURCE_KINDS:
        drop_database(base_settings, targets.database(kind))


@pytest.fixture(scope="module")
def source_env(base_settings: Settings) -> dict[str, str]:
    """The reader passwords, passed the documented way: the variables the rows name."""
    return reader_environment(base_settings, {})


@pytest.fixture(scope="module")
def staging_databases(base_settings: Settings) -> Iterator[list[str]]:
    names: list[str] = []
    yield names
    for name in names:
        drop_database(base_settings, name)


def copy_project(tmp: Path, targets: SourceTargets) -> Path:
    # every scenario builds from the same throwaway copies of the sources
    assert targets == SourceTargets.with_prefix(PREFIX)
    return copy_dbt_project(PROJECT, tmp, database_prefix=PREFIX)


def write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def append_row(project: Path, seed: str, line: str) -> None:
    with (project / "seeds" / "control" / f"{seed}.csv").open("a") as handle:
        handle.write(line + "\n")


def build(
    base: Settings, project: Path, database: str, env: dict[str, str], databases: list[str]
) -> Scenario:
    """attach -> models generate -> dbt build, as the README says."""
    settings = replace(
        base, project_dir=project, postgres=replace(base.postgres, staging_database=database)
    )
    if database not in databases:
        databases.append(database)
    attach_sources(settings, project, env)
    write_files(project, render_project(settings, project))
    done = run_dbt(settings, project, ["build"])
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    return Scenario(settings, project, env, done.stdout)


def query(settings: Settings, sql: str, database: str | None = None) -> list[tuple[Any, ...]]:
    conn = psycopg2.connect(settings.postgres.dsn(database))
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return list(cur.fetchall())
    finally:
        conn.close()


def count(settings: Settings, table: str) -> int:
    return query(settings, f"select count(*) from graph.{table}")[0][0]


def columns(settings: Settings, schema: str, table: str) -> list[str]:
    rows = query(
        settings,
        "select column_name from information_schema.columns where table_schema = "
        f"'{schema}' and table_name = '{table}' order by ordinal_position",
    )
    return [name for (name,) in rows]


@pytest.fixture(scope="module")
def default_build(
    base_settings, sources, source_env, staging_databases, tmp_path_factory
) -> Scenario:
    project = copy_project(tmp_path_factory.mktemp("default") / "project", sources)
    return build(base_settings, project, "c360_test_transform", source_env, staging_databases)


def expected_counts(settings: Settings, targets: SourceTargets) -> dict[str, int]:
    """Every graph table's row count, computed on the sources alone."""
    profiles, streaming, support = (targets.database(k) for k in STREAMING.kinds)

    def one(sql: str, database: str) -> int:
        return query(settings, sql, database)[0][0]

    accounts = dict(query(settings, "select account_id, email from accounts", profiles))
    events = query(
        settings,
        "select account_id_from_token, event_id, ip_address, device_fingerprint from play_events",
        streaming,
    )
    tickets = query(settings, "select ticket_id, customer_email from helpdesk.tickets", support)
    emails: dict[str, list[Any]] = {}
    for account_id, email in accounts.items():
        emails.setdefault(email.strip().lower(), []).append(account_id)
    return {
        "node_account": len(accounts),
        "node_plan": one("select count(*) from plans", profiles),
        "node_payment_method": one("select count(*) from payment_methods", profiles),
        "node_subscription": one("select count(*) from subscriptions", profiles),
        "node_media": one("select count(*) from media_content", streaming),
        "node_play_event": len(events),
        "node_ticket": len(tickets),
        "node_tag": one("select count(*) from helpdesk.ticket_tags", support),
        "node_ticket_tag_link": one("select count(*) from helpdesk.ticket_tag_link", support),
        "node_ip_address": len({e[2] for e in events if e[2] is not None}),
        "node_device": len({e[3] for e in events if e[3] is not None}),
        "edge_has_payment_method": one(
            "select count(distinct (a.account_id, p.payment_method_id)) from accounts a"
            " join payment_methods p on p.account_id = a.account_id",
            profiles,
        ),
        "edge_has_subscription": one(
            "select count(distinct (a.account_id, s.subscription_id)) from accounts a"
            " join subscriptions s on s.account_id = a.account_id",
            profiles,
        ),
        "edge_subscribed_to": one(
            "select count(distinct (s.subscription_id, p.plan_id)) from subscriptions s"
            " join plans p on p.plan_id = s.plan_id",
            profiles,
        ),
        "edge_played": one(
            "select count(distinct (e.event_id, m.media_id)) from play_events e"
            " join media_content m on m.media_id = e.media_id",
            streaming,
        ),
        "edge_tagged_with": one(
            "select count(distinct (t.ticket_id, g.tag_id)) from helpdesk.tickets t"
            " join helpdesk.ticket_tag_link l on l.ticket_id = t.ticket_id"
            " join helpdesk.ticket_tags g on g.tag_id = l.tag_id",
            support,
        ),
        "edge_submitted": len(
            {
                (account_id, ticket_id)
                for ticket_id, email in tickets
                if email is not None
                for account_id in emails.get(email.strip().lower(), [])
            }
        ),
        "edge_watched": len({(e[0], e[1]) for e in events if e[0] in accounts}),
        "edge_used_ip": len({(e[0], e[2]) for e in events if e[0] in accounts and e[2]}),
        "edge_used_device": len({(e[0], e[3]) for e in events if e[0] in accounts and e[3]}),
        **expected_banking_counts(settings, targets),
    }


def expected_banking_counts(settings: Settings, targets: SourceTargets) -> dict[str, int]:
    """The banking domain's graph tables, from its three sources joined here: a
    person's addresses and phones live in another database than the person."""
    core, kyc, payments = (targets.database(k) for k in BANKING.kinds)
    persons = {p for (p,) in query(settings, "select person_id from persons", core)}
    owners = dict(query(settings, "select account_id, owner_person_id from bank_accounts", core))
    addresses = query(settings, "select address_id, person_id from addresses", kyc)
    phones = query(settings, "select phone_id, person_id from phones", kyc)
    transfers = query(
        settings,
        "select from_account_id, to_account_id from transactions"
        " where from_account_id is not null and to_account_id is not null",
        payments,
    )
    return {
        "node_person": len(persons),
        # external counterparties are bank accounts too
        "node_bank_account": len(set(owners) | {a for t in transfers for a in t}),
        "node_address": len(addresses),
        "node_phone": len(phones),
        "edge_owns": sum(owner in persons for owner in owners.values()),
        "edge_has_address": sum(person in persons for _, person in addresses),
        "edge_has_phone": sum(person in persons for _, person in phones),
        "edge_transferred": len(transfers),
    }


def test_graph_tables_have_the_row_counts_of_the_sources(default_build, sources):
    expected = expected_counts(default_build.settings, sources)
    got = {table: count(default_build.settings, table) for table in expected}
    assert got == expected
    assert all(expected.values()), f"empty tables in the sample data: {expected}"
    catalog = query(default_build.settings, "select table_name from graph.graph_catalog")
    assert sorted(t for (t,) in catalog) == sorted(expected)


def test_identity_nodes_and_excluded_columns(default_build):
    settings = default_build.settings
    assert "hashed_password" not in columns(settings, "staging", "stg_profiles__accounts")
    assert "hashed_password" not in columns(settings, "graph", "node_account")
    ips = [ip for (ip,) in query(settings, "select ip_address from graph.node_ip_address")]
    assert ips
    assert all("/" not in ip for ip in ips), "inet must become host() text"
    types = dict(
        query(
            settings,
            "select column_name, data_type from information_schema.columns"
            " where table_schema = 'graph' and table_name = 'node_plan'",
        )
    )
    assert types["monthly_fee"] == "double precision"
    submitted = query(
        settings,
        "select count(*) from graph.edge_submitted e join graph.node_ticket t"
        " on t.ticket_id = e.end_ticket_id join graph.node_account a"
        " on a.account_id = e.start_account_id where t.customer_email <> a.email",
    )[0][0]
    assert submitted > 0, "no legacy ticket with a case/space-different email was linked"


def test_lineage_reaches_the_source_tables(default_build):
    manifest = json.loads((default_build.project / "target" / "manifest.json").read_text())
    nodes = manifest["nodes"]
    account = nodes["model.c360.node_account"]["depends_on"]["nodes"]
    assert "model.c360.stg_profiles__accounts" in account
    staging = nodes["model.c360.stg_profiles__accounts"]["depends_on"]["nodes"]
    assert staging == ["source.c360.profiles.accounts"]
    used_ip = nodes["model.c360.edge_used_ip"]["depends_on"]["nodes"]
    assert "model.c360.stg_streaming__play_events" in used_ip
    exposure = manifest["exposures"]["exposure.c360.neo4j_graph"]["depends_on"]["nodes"]
    assert "model.c360.graph_catalog" in exposure
    assert "model.c360.edge_used_ip" in exposure


def test_no_password_is_written_anywhere(default_build, source_env):
    settings = default_build.settings
    secrets = [*source_env.values(), settings.postgres.password or ""]
    assert all(secrets)
    for folder in ("logs", "target"):
        for path in (default_build.project / folder).rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                for secret in secrets:
                    assert secret.encode() not in data, f"a password is in {path}"
    tables = query(
        settings,
        "select table_name from information_schema.tables where table_schema = 'control'",
    )
    assert len(tables) >= 4
    for (table,) in tables:
        dump = json.dumps(query(settings, f'select t::text from control."{table}" t'))
        for secret in secrets:
            assert secret not in dump, f"a password is in control.{table}"


def test_models_check_reports_stale_files(default_build):
    env = {
        "C360_STAGING_DB": default_build.settings.postgres.staging_database,
        "C360_PROJECT_DIR": str(default_build.project),
        "C360_HOME": str(default_build.settings.home),
        "C360_PG_PORT": str(default_build.settings.postgres.port),
    }
    project = str(default_build.project)
    clean = CliRunner().invoke(app, ["models", "check", "--project-dir", project], env=env)
    assert clean.exit_code == 0, clean.output
    copy = default_build.project.parent / "stale"
    shutil.copytree(default_build.project, copy, ignore=shutil.ignore_patterns("target", "logs"))
    append_row(copy, "field_exclusion_rules", "streaming,play_events,session_id,true,test")
    stale = CliRunner().invoke(app, ["models", "check", "--project-dir", str(copy)], env=env)
    assert stale.exit_code != 0
    assert "models/staging/streaming/stg_streaming__play_events.sql" in stale.output
    assert "c360-export models generate" in stale.output


@pytest.fixture(scope="module")
def extended_build(
    base_settings, sources, source_env, staging_databases, tmp_path_factory
) -> Scenario:
    """Control rows only: one more exclusion, the Agent label, a direct and a
    junction relationship."""
    project = copy_project(tmp_path_factory.mktemp("extended") / "project", sources)
    append_row(project, "field_exclusion_rules", "profiles,accounts,full_name,true,PII test")
    append_row(project, "node_label_mappings", "Agent,support,agents,agent_id,,false,true,Agent")
    append_row(
        project,
        "relationship_mappings",
        "HANDLED,Agent,agent_id,Ticket,agent_id,,,,,,true,10,An agent handled a ticket.",
    )
    append_row(
        project,
        "relationship_mappings",
        "ASSISTED,Agent,agent_id,Account,email,support,tickets,agent_id,customer_email,"
        "lower_trim,true,11,An agent helped an account (through tickets).",
    )
    return build(base_settings, project, "c360_test_transform_ext", source_env, staging_databases)


def test_an_exclusion_row_removes_the_column(extended_build):
    settings = extended_build.settings
    assert "full_name" not in columns(settings, "staging", "stg_profiles__accounts")
    assert "full_name" not in columns(settings, "graph", "node_account")
    assert "email" in columns(settings, "graph", "node_account")


def test_a_new_label_needs_only_control_rows(extended_build, sources):
    settings = extended_build.settings
    support = sources.database("support_db")
    agents = query(settings, "select count(*) from helpdesk.agents", support)[0][0]
    assert agents > 0
    assert count(settings, "node_agent") == agents
    assert columns(settings, "graph", "node_agent") == [
        "agent_id", "full_name", "team", "hired_at", "c360_row_hash", "c360_batch"
    ]  # fmt: skip
    catalog = query(
        settings, "select table_name, key_columns from graph.graph_catalog where name = 'Agent'"
    )
    assert catalog == [("node_agent", ["agent_id"])]
    handled = query(
        settings,
        "select count(distinct (a.agent_id, t.ticket_id)) from helpdesk.agents a"
        " join helpdesk.tickets t on t.agent_id = a.agent_id",
        support,
    )[0][0]
    assert handled > 0
    assert count(settings, "edge_handled") == handled


def test_a_relationship_through_a_junction_table(extended_build, sources):
    settings = extended_build.settings
    support, profiles = sources.database("support_db"), sources.database("profiles_db")
    agent_emails = query(
        settings,
        "select distinct a.agent_id, lower(trim(t.customer_email)) from helpdesk.agents a"
        " join helpdesk.tickets t on t.agent_id = a.agent_id",
        support,
    )
    accounts = query(settings, "select account_id::text, email from accounts", profiles)
    expected = {
        (agent, account)
        for agent, email in agent_emails
        for account, account_email in accounts
        if account_email.strip().lower() == email
    }
    assert expected
    got = set(query(settings, "select start_agent_id, end_account_id from graph.edge_assisted"))
    assert got == expected
    catalog = query(
        settings,
        "select from_label, to_label, start_columns, end_columns from graph.graph_catalog"
        " where name = 'ASSISTED'",
    )
    assert catalog == [("Agent", "Account", ["start_agent_id"], ["end_account_id"])]


@pytest.fixture(scope="module")
def guarded_build(
    base_settings, sources, source_env, staging_databases, tmp_path_factory
) -> Scenario:
    project = copy_project(tmp_path_factory.mktemp("guarded") / "project", sources)
    return build(base_settings, project, "c360_test_transform_bad", source_env, staging_databases)


def _set_inactive(project: Path, label: str) -> None:
    path = project / "seeds" / "control" / "node_label_mappings.csv"
    rows = list(csv.DictReader(path.open()))
    for row in rows:
        if row["label"] == label:
            row["is_active"] = "false"
    write_csv(path, rows)


def _add_node(line: str) -> Any:
    return lambda project: append_row(project, "node_label_mappings", line)


# (name, change, the dbt message parts, the Python message parts): dbt names the
# edited row and asks for `models generate`, which names what is wrong with it.
MALFORMED = [
    (
        "bad_label",
        _add_node("bad-label,support,agents,agent_id,,false,true,x"),
        [
            "node_label_mappings (label=bad-label table_name=agents): "
            "a row the generated files were not made from"
        ],
        ["node_label_mappings.csv:20 (label=bad-label)", "label must match"],
    ),
    (
        "unknown_source",
        _add_node("Agent,nosuch,agents,agent_id,,false,true,x"),
        [
            "node_label_mappings (label=Agent table_name=agents): "
            "a row the generated files were not made from"
        ],
        ["node_label_mappings.csv:20 (label=Agent)", "unknown source 'nosuch'"],
    ),
    (
        "unknown_column",
        _add_node("Agent,support,agents,agent_key,,false,true,x"),
        [
            "node_label_mappings (label=Agent table_name=agents): "
            "a row the generated files were not made from"
        ],
        ["node_label_mappings.csv:20 (label=Agent)", "'agent_key' does not exist"],
    ),
    (
        "duplicate_mapping",
        _add_node("Plan,profiles,plans,plan_id,,false,true,x"),
        ["node_label_mappings (label=Plan table_name=plans): 2 rows with this key"],
        ["node_label_mappings.csv:20 (label=Plan)", "duplicate mapping"],
    ),
    (
        "inactive_label",
        lambda p: _set_inactive(p, "Media"),
        ["node_label_mappings (label=Media table_name=media_content): column is_active differs"],
        ["relationship_mappings.csv:5 (relationship_type=PLAYED)", "'Media' is inactive"],
    ),
]


def graph_table_oids(settings: Settings) -> list[tuple[Any, ...]]:
    return query(
        settings, "select oid from pg_class where relnamespace = 'graph'::regnamespace order by 1"
    )


def edited_copy(scenario: Scenario, tmp_path: Path, change: Any) -> tuple[Settings, Path]:
    """A copy of the scenario's project with `change` made to its control rows,
    on the same staging database, without `models generate`."""
    project = tmp_path / "project"
    shutil.copytree(scenario.project, project, ignore=shutil.ignore_patterns("target", "logs"))
    change(project)
    return replace(scenario.settings, project_dir=project), project


def assert_build_stops_before_any_graph_table(
    settings: Settings, project: Path, parts: list[str]
) -> None:
    before = graph_table_oids(settings)
    done = run_dbt(settings, project, ["build"])
    output = done.stdout + done.stderr
    assert done.returncode != 0
    for part in parts:
        assert part in output, output[-6000:]
    assert "Run `c360-export models generate`" in output
    assert "no graph table was replaced" in output
    assert graph_table_oids(settings) == before, "a graph table was replaced"


@pytest.mark.parametrize(
    ("change", "dbt_message", "python_message"),
    [m[1:] for m in MALFORMED],
    ids=[m[0] for m in MALFORMED],
)
def test_a_malformed_control_row_fails_before_any_graph_table_changes(
    guarded_build, tmp_path, change, dbt_message, python_message
):
    mutated, project = edited_copy(guarded_build, tmp_path, change)

    with pytest.raises(ConfigError) as python_error:
        render_project(mutated, project)
    for part in python_message:
        assert part in str(python_error.value)

    assert_build_stops_before_any_graph_table(mutated, project, dbt_message)


def _set_field(seed: str, key: str, column: str, value: str) -> Any:
    def change(project: Path) -> None:
        path = project / "seeds" / "control" / f"{seed}.csv"
        rows = list(csv.DictReader(path.open()))
        (row,) = [r for r in rows if next(iter(r.values())) == key]
        row[column] = value
        write_csv(path, rows)

    return change


# Edits `models generate` would accept, made without it: whatever a row changes
# (a description no table shows, a row no model reads), the build stops
# naming seed, row and column.
STALE = [
    (
        "description",
        _set_field("relationship_mappings", "PLAYED", "description", "A title was played."),
        "relationship_mappings (relationship_type=PLAYED): column description differs",
    ),
    (
        "key_column",
        _set_field("node_label_mappings", "Account", "key_columns", "email"),
        "node_label_mappings (label=Account table_name=accounts): column key_columns differs",
    ),
    (
        "new_exclusion_row",
        lambda p: append_row(p, "field_exclusion_rules", "support,agents,team,true,Unmapped."),
        "field_exclusion_rules (source_name=support table_name=agents column_name=team): "
        "a row the generated files were not made from",
    ),
    (
        "new_inactive_source_row",
        lambda p: append_row(
            p,
            "source_databases",
            "archive,,,archive_db,archive_reader,C360_ARCHIVE_DB_PASSWORD,,false,Old.",
        ),
        "source_databases (source_name=archive): a row the generated files were not made from",
    ),
    (
        "source_set_inactive",
        _set_field("source_databases", "support", "is_active", "false"),
        "source_databases (source_name=support): column is_active differs",
    ),
    (
        "tracking_row",
        _set_field("table_change_tracking", "payments", "description", "Read in full."),
        "table_change_tracking (source_name=payments table_name=transactions): column "
        "description differs",
    ),
]


@pytest.mark.parametrize(
    ("change", "dbt_message"), [m[1:] for m in STALE], ids=[m[0] for m in STALE]
)
def test_a_seed_edited_without_models_generate_stops_dbt_build(
    guarded_build, tmp_path, change, dbt_message
):
    mutated, project = edited_copy(guarded_build, tmp_path, change)
    assert_build_stops_before_any_graph_table(mutated, project, [dbt_message])


def _drop_meta_key(path: str, model: str, key: str) -> Any:
    def change(project: Path) -> None:
        file = project / path
        document = yaml.safe_load(file.read_text())
        (entry,) = [e for e in document[next(iter(document))] if e["name"] == model]
        del entry["config"]["meta"]["c360"][key]
        file.write_text(yaml.safe_dump(document, sort_keys=False))

    return change


NODES_YML = "models/graph/nodes/_nodes__models.yml"
EDGES_YML = "models/graph/edges/_edges__models.yml"
ROWS_YML = "data-tests/generated_models_match_control_rows.yml"


@pytest.mark.parametrize(
    ("change", "select", "message"),
    [
        (
            _drop_meta_key(NODES_YML, "node_account", "one_node_per_key"),
            "node_account",
            "model node_account: its meta.c360 has no one_node_per_key",
        ),
        (
            _drop_meta_key(EDGES_YML, "edge_tagged_with", "via_to_column"),
            "edge_tagged_with",
            "model edge_tagged_with: its meta.c360 has no via_to_column",
        ),
        (
            _drop_meta_key(EDGES_YML, "edge_played", "from_key_columns"),
            "test_name:dangling_rows,edge_played",
            "model edge_played: its meta.c360 has no from_key_columns",
        ),
        (
            _drop_meta_key(EDGES_YML, "edge_played", "execution_order"),
            "graph_catalog",
            "model edge_played: its meta.c360 has no execution_order",
        ),
        (
            _drop_meta_key(ROWS_YML, "generated_models_match_control_rows", "seeds"),
            "generated_models_match_control_rows",
            "test generated_models_match_control_rows: its meta.c360 has no seeds",
        ),
    ],
    ids=["node", "edge", "dangling_rows", "catalog", "control_rows"],
)
def test_a_meta_lacking_a_key_stops_with_a_compiler_error_naming_model_and_key(
    guarded_build, tmp_path, change, select, message
):
    mutated, project = edited_copy(guarded_build, tmp_path, change)
    done = run_dbt(mutated, project, ["compile", "--select", select])
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert message in output, output[-6000:]
    assert "run `c360-export models generate`" in output
