"""Control rows read from files: every value checked before anything is generated."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from c360.control.load import load_control_rows
from c360.control.model import CONTROL_DIR, CONTROL_FILES, Table
from c360.control.rules import LABEL_PATTERN, check_columns
from c360.errors import ConfigError
from c360.export import cypher

PROJECT = Path(__file__).resolve().parents[3]
COLUMNS = PROJECT / "tests" / "unit" / "transform" / "fixtures" / "reference_columns.json"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The repository's control rows, free to edit."""
    shutil.copytree(PROJECT / CONTROL_DIR, tmp_path / CONTROL_DIR)
    return tmp_path


def replace_in(project: Path, seed: str, old: str, new: str) -> None:
    path = project / CONTROL_DIR / f"{seed}.csv"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize(
    ("seed", "old", "new", "where"),
    [
        (
            "source_databases",
            '"Accounts and billing',
            "\"{{ env_var('PGPASSWORD') }} Accounts and billing",
            "source_databases.csv:2 (source_name=profiles): description",
        ),
        (
            "node_label_mappings",
            "One node per ticket tag.",
            "{% do run_query('drop schema graph') %}",
            "node_label_mappings.csv:9 (label=Tag): description",
        ),
        (
            "field_exclusion_rules",
            "Credential: must never leave staging.",
            "{# hidden #}",
            "field_exclusion_rules.csv:2 (column_name=hashed_password): reason",
        ),
        (
            "relationship_mappings",
            "A play event played a title.",
            'A play event {{ env_var("PGPASSWORD") }}',
            "relationship_mappings.csv:5 (relationship_type=PLAYED): description",
        ),
        (
            "table_change_tracking",
            "Clients only insert events",
            "{{ run_query('truncate staging.stg_streaming__play_events') }}",
            "table_change_tracking.csv:7 (table_name=play_events): description",
        ),
    ],
)
def test_jinja_in_any_control_value_is_refused_naming_file_line_row_and_column(
    project: Path, seed: str, old: str, new: str, where: str
) -> None:
    replace_in(project, seed, old, new)
    with pytest.raises(ConfigError) as error:
        load_control_rows(project)
    assert f"{CONTROL_DIR / where} holds Jinja delimiters" in str(error.value)


def test_braces_that_are_not_jinja_pass(project: Path) -> None:
    replace_in(project, "relationship_mappings", "played a title.", "played {a title} }}")
    assert load_control_rows(project).relationships


def test_dangling_severity_blank_means_the_default_and_is_checked(project: Path) -> None:
    rows = load_control_rows(project)
    assert {r.dangling_severity for r in rows.relationships} == {None}
    assert {r.severity for r in rows.relationships} == {"warn"}
    replace_in(project, "relationship_mappings", "played a title.,", "played a title.,error")
    rows = load_control_rows(project)
    played = next(r for r in rows.relationships if r.relationship_type == "PLAYED")
    assert played.dangling_severity == "error"
    replace_in(project, "relationship_mappings", "played a title.,error", "played a title.,fatal")
    with pytest.raises(ConfigError, match=r"PLAYED.*dangling_severity must be blank or one of"):
        load_control_rows(project)


def append_to(project: Path, seed: str, line: str) -> None:
    with (project / CONTROL_DIR / f"{seed}.csv").open("a") as handle:
        handle.write(line + "\n")


def problems_of(project: Path) -> str:
    with pytest.raises(ConfigError) as error:
        load_control_rows(project)
    return str(error.value)


def set_label_inactive(project: Path, label: str) -> None:
    path = project / CONTROL_DIR / "node_label_mappings.csv"
    lines = path.read_text().splitlines()
    (index,) = [i for i, line in enumerate(lines) if line.startswith(f"{label},")]
    lines[index] = lines[index].replace(",false,true,", ",false,false,")
    path.write_text("\n".join(lines) + "\n")


# Each kind of bad row once, named by file, line and row: the rows dbt's own
# SQL copy of these rules used to refuse (now only `models generate` judges).
@pytest.mark.parametrize(
    ("seed", "line", "where", "problem"),
    [
        (
            "node_label_mappings",
            "bad-label,support,agents,agent_id,,false,true,x",
            "node_label_mappings.csv:{line} (label=bad-label)",
            "label must match ^[A-Z][A-Za-z0-9_]*$",
        ),
        (
            "node_label_mappings",
            "Agent,nosuch,agents,agent_id,,false,true,x",
            "node_label_mappings.csv:{line} (label=Agent)",
            "unknown source 'nosuch' (not in source_databases)",
        ),
        (
            "node_label_mappings",
            "Plan,profiles,plans,plan_id,,false,true,x",
            "node_label_mappings.csv:{line} (label=Plan)",
            "duplicate mapping for this label (first at line 3)",
        ),
        (
            "node_label_mappings",
            "Agent,support,agents,,,false,true,x",
            "node_label_mappings.csv:{line} (label=Agent)",
            "key_columns is empty",
        ),
        (
            "node_label_mappings",
            "Agent,support,agents,agent_id,team,true,true,x",
            "node_label_mappings.csv:{line} (label=Agent)",
            "one_node_per_key nodes carry only their key",
        ),
        (
            "node_label_mappings",
            "Agent,support,agents,agent_id,,no,true,x",
            "node_label_mappings.csv:{line} (label=Agent)",
            "one_node_per_key must be true or false, not 'no'",
        ),
        (
            "source_databases",
            "Archive,,,archive_db,reader,C360_ARCHIVE_DB_PASSWORD,,false,x",
            "source_databases.csv:{line} (source_name=Archive)",
            "source_name must match ^[a-z][a-z0-9_]*$",
        ),
        (
            "source_databases",
            "archive,,,archive_db,reader,hunter2!,,false,x",
            "source_databases.csv:{line} (source_name=archive)",
            "password_env_var must name an environment variable",
        ),
        (
            "source_databases",
            "archive,,,archive_db,reader,C360_ARCHIVE_DB_PASSWORD,0,false,x",
            "source_databases.csv:{line} (source_name=archive)",
            "fetch_size must be a positive integer, not '0'",
        ),
        (
            "field_exclusion_rules",
            "nosuch,accounts,email,true,x",
            "field_exclusion_rules.csv:{line} (column_name=email)",
            "unknown source 'nosuch'",
        ),
        (
            "field_exclusion_rules",
            "profiles,accounts,hashed_password,true,again",
            "field_exclusion_rules.csv:{line} (column_name=hashed_password)",
            "duplicate exclusion rule (first at line 2)",
        ),
        (
            "relationship_mappings",
            "lower_case,Account,account_id,Plan,plan_id,,,,,,true,10,x,",
            "relationship_mappings.csv:{line} (relationship_type=lower_case)",
            "relationship_type must match ^[A-Z][A-Za-z0-9_]*$",
        ),
        (
            "relationship_mappings",
            "OWNS,Account,account_id,Nothing,plan_id,,,,,,true,10,x,",
            "relationship_mappings.csv:{line} (relationship_type=OWNS)",
            "to_label 'Nothing' is not a label of node_label_mappings",
        ),
        (
            "relationship_mappings",
            "OWNS,Account,account_id,Plan,plan_id,support,tickets,,,,true,10,x,",
            "relationship_mappings.csv:{line} (relationship_type=OWNS)",
            "via_table_name, via_from_column and via_to_column must be all set or all blank",
        ),
        (
            "relationship_mappings",
            "OWNS,Account,account_id,Plan,plan_id,,,,,,true,10,x,,plan_id,",
            "relationship_mappings.csv:{line} (relationship_type=OWNS)",
            "key_columns needs a junction (via_table_name)",
        ),
        (
            "relationship_mappings",
            "OWNS,Account,account_id,Plan,plan_id,,,,,,true,10,x,,,start_account_id",
            "relationship_mappings.csv:{line} (relationship_type=OWNS)",
            "property columns ['start_account_id'] have the names of the edge table's "
            "start/end key columns",
        ),
        (
            "node_label_mappings",
            "Customer,,mart_people,person_id,segment,false,true,x,true",
            "node_label_mappings.csv:{line} (label=Customer)",
            "is_extension adds properties to label 'Customer', which has no row of its own",
        ),
        (
            "node_label_mappings",
            "Account,,mart_accounts,email,segment,false,true,x,true",
            "node_label_mappings.csv:{line} (label=Account)",
            "key_columns 'email' are not the key of Account ('account_id')",
        ),
        (
            "node_label_mappings",
            "Account,,mart_accounts,account_id,segment,true,true,x,true",
            "node_label_mappings.csv:{line} (label=Account)",
            "one_node_per_key must be false for an extension",
        ),
        (
            "node_label_mappings",
            "Account,,mart_accounts,account_id,segment,false,true,x,",
            "node_label_mappings.csv:{line} (label=Account)",
            "duplicate mapping for this label (first at line 2)",
        ),
        (
            "relationship_mappings",
            "OWNS,Account,account_id,Plan,plan_id,,,,,upper,true,10,x,",
            "relationship_mappings.csv:{line} (relationship_type=OWNS)",
            "normalize must be blank or one of lower_trim",
        ),
        (
            "relationship_mappings",
            "OWNS,Account,account_id,Plan,plan_id,,,,,,true,0,x,",
            "relationship_mappings.csv:{line} (relationship_type=OWNS)",
            "execution_order must be a positive integer, not '0'",
        ),
    ],
)
def test_each_kind_of_bad_row_is_refused_naming_file_line_and_row(
    project: Path, seed: str, line: str, where: str, problem: str
) -> None:
    # the line the appended row gets, whatever the reference rows number
    where = where.format(
        line=len((project / CONTROL_DIR / f"{seed}.csv").read_text().splitlines()) + 1
    )
    append_to(project, seed, line)
    assert f"{CONTROL_DIR / where}: {problem}" in problems_of(project)


def test_an_active_relationship_needs_active_labels(project: Path) -> None:
    set_label_inactive(project, "Media")
    assert (
        f"{CONTROL_DIR / 'relationship_mappings.csv'}:5 (relationship_type=PLAYED): the "
        "relationship is active but its to_label 'Media' is inactive"
    ) in problems_of(project)


def test_an_active_mapping_needs_an_active_source(project: Path) -> None:
    replace_in(project, "source_databases", '50000,true,"Legacy', '50000,false,"Legacy')
    assert "(label=Ticket): source 'support' is inactive" in problems_of(project)


def test_columns_are_checked_against_the_attached_tables(project: Path) -> None:
    reference = json.loads(COLUMNS.read_text(encoding="utf-8"))
    columns = {
        (t["source"], t["table"]): [c["name"] for c in t["columns"]] for t in reference["columns"]
    }
    append_to(project, "node_label_mappings", "Agent,support,agents,agent_key,,false,true,x")
    with pytest.raises(ConfigError) as error:
        check_columns(load_control_rows(project), columns)
    assert ("(label=Agent): key column 'agent_key' does not exist in support.agents") in str(
        error.value
    )
    columns[("profiles", "accounts")].remove("hashed_password")
    with pytest.raises(ConfigError) as error:
        check_columns(load_control_rows(PROJECT), columns)
    assert (
        "(column_name=hashed_password): column profiles.accounts.hashed_password does not "
        "exist in the attached source"
    ) in str(error.value)


TRACKING = "table_change_tracking"


@pytest.mark.parametrize(
    ("old", "new", "where", "problem"),
    [
        (
            "play_events,append_only,",
            "play_events,append_once,",
            "table_change_tracking.csv:7 (table_name=play_events)",
            "unknown strategy 'append_once': must be one of full, append_only, updated_at",
        ),
        (
            "play_events,append_only,event_id,event_id,",
            "play_events,append_only,event_id,,",
            "table_change_tracking.csv:7 (table_name=play_events)",
            "strategy append_only needs a watermark_column (the column that only grows",
        ),
        (
            "tickets,updated_at,ticket_id,last_updated_at,",
            "tickets,updated_at,ticket_id,,",
            "table_change_tracking.csv:8 (table_name=tickets)",
            "strategy updated_at needs a watermark_column (the time each insert or update sets)",
        ),
        (
            "plans,full,,,",
            "plans,full,,plan_id,",
            "table_change_tracking.csv:3 (table_name=plans)",
            "strategy full re-reads every row, so watermark_column must be blank",
        ),
        (
            "accounts,updated_at,account_id,updated_at,",
            "accounts,updated_at,,updated_at,",
            "table_change_tracking.csv:2 (table_name=accounts)",
            "strategy updated_at needs key_columns, the table's unique key",
        ),
    ],
)
def test_each_kind_of_bad_change_tracking_row_is_refused_naming_its_row(
    project: Path, old: str, new: str, where: str, problem: str
) -> None:
    replace_in(project, TRACKING, old, new)
    assert f"{CONTROL_DIR / where}: {problem}" in problems_of(project)


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (
            "support,agents,full,,,true,Agents.",
            "no active label or relationship reads support.agents, so the row would do "
            "nothing; map the table, or set is_active=false",
        ),
        (
            "streaming,play_events,full,,,true,Again.",
            "duplicate change tracking row for this table (first at line 7)",
        ),
        ("nosuch,agents,full,,,true,x", "unknown source 'nosuch' (not in source_databases)"),
        (
            ",person_profiles,full,,,true,A mart.",
            "source_name is blank: change tracking is for source tables",
        ),
        ("support,agents,full,,,maybe,x", "is_active must be true or false, not 'maybe'"),
    ],
)
def test_a_change_tracking_row_names_a_table_an_active_row_reads_once(
    project: Path, line: str, problem: str
) -> None:
    append_to(project, TRACKING, line)
    table = line.split(",")[1]
    where = f"{TRACKING}.csv:16 (table_name={table})"
    assert f"{CONTROL_DIR / where}: {problem}" in problems_of(project)


def test_a_table_without_an_active_row_is_read_in_full(project: Path) -> None:
    """An inactive row is kept on file (its own values still checked): the table
    is read in full, as a table without a row is."""
    rows = load_control_rows(project)
    tickets = rows.change_tracking(Table("support", "tickets"))
    assert tickets is not None
    assert tickets.is_incremental
    assert (tickets.strategy, tickets.key_columns, tickets.watermark_column) == (
        "updated_at",
        ("ticket_id",),
        "last_updated_at",
    )
    assert rows.change_tracking(Table("support", "agents")) is None
    append_to(project, TRACKING, "support,agents,full,,,false,Not mapped yet.")
    replace_in(project, TRACKING, "last_updated_at,true,", "last_updated_at,false,")
    rows = load_control_rows(project)
    assert rows.change_tracking(Table("support", "agents")) is None
    assert rows.change_tracking(Table("support", "tickets")) is None


def test_an_inactive_sources_tracking_rows_are_kept_unchecked(project: Path) -> None:
    append_to(project, "source_databases", "archive,,,archive_db,reader,ARCHIVE_PASSWORD,,false,x")
    append_to(project, TRACKING, "archive,old_orders,append_only,order_id,order_id,true,Old.")
    assert load_control_rows(project).change_tracking(Table("archive", "old_orders")) is not None


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        (
            "play_events,append_only,event_id,event_id,",
            "play_events,append_only,event_id,event_no,",
            "(table_name=play_events): watermark_column 'event_no' does not exist in "
            "streaming.play_events",
        ),
        (
            "payment_methods,updated_at,payment_method_id,",
            "payment_methods,updated_at,payment_method_id card_id,",
            "(table_name=payment_methods): key column 'card_id' does not exist in "
            "profiles.payment_methods",
        ),
        (
            "accounts,updated_at,account_id,updated_at,",
            "accounts,updated_at,account_id,hashed_password,",
            "(table_name=accounts): watermark_column 'hashed_password' is excluded by "
            "field_exclusion_rules",
        ),
    ],
)
def test_tracking_columns_are_checked_against_the_attached_table(
    project: Path, old: str, new: str, problem: str
) -> None:
    reference = json.loads(COLUMNS.read_text(encoding="utf-8"))
    columns = {
        (t["source"], t["table"]): [c["name"] for c in t["columns"]] for t in reference["columns"]
    }
    check_columns(load_control_rows(project), columns)
    replace_in(project, TRACKING, old, new)
    with pytest.raises(ConfigError) as error:
        check_columns(load_control_rows(project), columns)
    assert problem in str(error.value)


def test_the_label_rule_is_the_one_cypher_checks_names_with() -> None:
    assert cypher.check_label("PaymentMethod") == "PaymentMethod"
    for name in ("paymentMethod", "Payment-Method", "Account\n", ""):
        assert not LABEL_PATTERN.fullmatch(name)
        with pytest.raises(ConfigError):
            cypher.check_label(name)


def test_every_row_is_kept_as_dbt_loads_it_into_its_seed(project: Path) -> None:
    """Text as written (spaces kept), a blank or `null` cell as NULL, integers
    and booleans as PostgreSQL parses the seed's typed columns."""
    replace_in(
        project,
        "source_databases",
        'support,,,support_db,support_reader,C360_SUPPORT_DB_PASSWORD,50000,true,"Legacy',
        'support,NULL,,support_db,support_reader,C360_SUPPORT_DB_PASSWORD, 050000 ,TRUE," Legacy',
    )
    append_to(project, "field_exclusion_rules", "support,agents,team,false,")
    rows = load_control_rows(project)
    support = rows.seed_rows["source_databases"][2]
    assert support == {
        "source_name": "support",
        "host": None,
        "port": None,
        "database_name": "support_db",
        "user_name": "support_reader",
        "password_env_var": "C360_SUPPORT_DB_PASSWORD",
        "fetch_size": 50000,
        "is_active": True,
        "description": " Legacy support desk: tickets, tags and agents.",
        "schemas": "helpdesk",
    }
    assert rows.source("support").description == "Legacy support desk: tickets, tags and agents."
    assert rows.seed_rows["field_exclusion_rules"][-1] == {
        "source_name": "support",
        "table_name": "agents",
        "column_name": "team",
        "is_excluded": False,
        "reason": None,
    }
    for control_file in CONTROL_FILES:
        for row in rows.seed_rows[control_file.seed]:
            assert set(row) == set(control_file.columns), control_file.seed


def test_the_seed_column_types_are_the_types_the_rows_are_read_as(project: Path) -> None:
    """A seed row as dbt loads it is typed by the seeds' `column_types`; the rows
    kept for the comparison must be typed alike."""
    seeds = yaml.safe_load((PROJECT / CONTROL_DIR / "_control__seeds.yml").read_text())
    declared = {s["name"]: s["config"]["column_types"] for s in seeds["seeds"]}
    python_type = {"text": str, "integer": int, "boolean": bool}
    rows = load_control_rows(project)
    assert set(declared) == {f.seed for f in CONTROL_FILES}
    for control_file in CONTROL_FILES:
        types = declared[control_file.seed]
        assert tuple(types) == control_file.columns
        for row in rows.seed_rows[control_file.seed]:
            for column, value in row.items():
                if value is not None:
                    assert type(value) is python_type[types[column]], (control_file.seed, column)
