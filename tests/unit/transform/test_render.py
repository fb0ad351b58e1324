"""Rendering the generated dbt files from control rows and source columns: no server."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from c360.control.load import load_control_rows
from c360.control.model import CONTROL_DIR, ControlRows
from c360.errors import ConfigError
from c360.transform.checks import dangling_side
from c360.transform.columns import SourceColumn
from c360.transform.render import render

PROJECT = Path(__file__).resolve().parents[3]
AWKWARD = ('a"b', "with space", "back`tick", "da-sh", "prénom", "order")
RESERVED = frozenset({"order", "select", "user"})

CONTROL = {
    "source_databases": [
        "source_name,host,port,database_name,user_name,password_env_var,fetch_size,"
        "is_active,description",
        "crm,,,crm_db,crm_reader,C360_CRM_DB_PASSWORD,,true,CRM.",
    ],
    "node_label_mappings": [
        "label,source_name,table_name,key_columns,property_columns,one_node_per_key,"
        "is_active,description,is_extension",
        "Person,crm,people,person_id,,false,true,A person.",
        "Team,crm,teams,team_id,,false,true,A team.",
    ],
    "field_exclusion_rules": ["source_name,table_name,column_name,is_excluded,reason"],
    "relationship_mappings": [
        "relationship_type,from_label,from_column,to_label,to_column,via_source_name,"
        "via_table_name,via_from_column,via_to_column,normalize,is_active,execution_order,"
        "description,dangling_severity,key_columns,property_columns",
        "MEMBER_OF,Person,team_id,Team,team_id,,,,,,true,1,A person is in a team.,error",
    ],
}


def project(tmp_path: Path, extra: dict[str, list[str]] | None = None) -> ControlRows:
    (tmp_path / CONTROL_DIR).mkdir(parents=True)
    for seed, lines in CONTROL.items():
        text = "\n".join([*lines, *(extra or {}).get(seed, [])]) + "\n"
        (tmp_path / CONTROL_DIR / f"{seed}.csv").write_text(text)
    return load_control_rows(tmp_path)


def columns(*people: str) -> dict[tuple[str, str], tuple[SourceColumn, ...]]:
    return {
        ("crm", "people"): tuple(
            SourceColumn(name, "text") for name in ("person_id", "team_id", *people)
        ),
        ("crm", "teams"): (SourceColumn("team_id", "text"), SourceColumn("name", "text")),
    }


def test_awkward_column_names_are_quoted_in_sql_and_yaml(tmp_path):
    files = render(project(tmp_path), columns(*AWKWARD), RESERVED)
    sql = files[Path("models/staging/crm/stg_crm__people.sql")]
    listing = sql.split("select\n")[1].split("\n\n")[0].split(",\n")
    assert [line.strip() for line in listing] == [
        "person_id", "team_id", '"a""b"', '"with space"', '"back`tick"', '"da-sh"',
        '"prénom"', '"order"',
    ]  # fmt: skip
    nodes = yaml.safe_load(files[Path("models/graph/nodes/_nodes__models.yml")])
    person = next(m for m in nodes["models"] if m["name"] == "node_person")
    entries = {c["name"]: c.get("quote") for c in person["columns"]}
    assert entries == {
        "person_id": None, "team_id": None, 'a""b': True, "with space": True,
        "back`tick": True, "da-sh": True, "prénom": True, "order": True,
    }  # fmt: skip


def test_edges_test_endpoints_and_dangling_rows_with_the_rows_severity(tmp_path):
    files = render(project(tmp_path), columns(), RESERVED)
    edges = yaml.safe_load(files[Path("models/graph/edges/_edges__models.yml")])
    (edge,) = edges["models"]
    assert edge["config"]["meta"]["c360"]["dangling_severity"] == "error"
    tests = {next(iter(t)): t[next(iter(t))] for t in edge["data_tests"]}
    assert tests["relationships_composite"]["arguments"]["fields"] == ["team_id"]
    assert tests["dangling_rows"] == {
        "arguments": {
            "side": "from",
            "from_relation": "ref('stg_crm__people')",
            "to_relation": "ref('stg_crm__teams')",
        },
        "config": {"severity": "error"},
    }


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("{{ env_var('PGPASSWORD') }}", "holds Jinja delimiters"),
        ("{% if true %}x{% endif %}", "holds Jinja delimiters"),
        ("amount (usd)", "neo4j-admin's CSV header cannot carry ( )"),
        ("a{b}", "neo4j-admin's CSV header cannot carry { }"),
    ],
)
def test_names_c360_cannot_carry_are_named_with_the_way_out(tmp_path, name, message):
    with pytest.raises(ConfigError) as error:
        render(project(tmp_path), columns(name), RESERVED)
    text = str(error.value)
    assert f"crm.people.{name}: {message}" in text
    assert "rename it in the source" in text


def test_a_property_neo4j_admin_cannot_carry_can_be_excluded(tmp_path):
    rows = project(tmp_path, {"field_exclusion_rules": ["crm,people,amount (usd),true,bulk"]})
    files = render(rows, columns("amount (usd)"), RESERVED)
    assert "amount (usd)" not in files[Path("models/staging/crm/stg_crm__people.sql")]


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("123", "dbt would read it as the value 123"),
        ("'quoted'", "dbt would read it as the value 'quoted'"),
        ("ref('x')", "dbt would evaluate it as a call"),
        ("k" * 58, "longer than PostgreSQL's 63 bytes"),
    ],
)
def test_key_names_dbt_test_arguments_would_change_are_refused(tmp_path, key, message):
    rows = project(tmp_path, {"node_label_mappings": [f'Thing,crm,things,"{key}",,false,true,x']})
    table = {("crm", "things"): (SourceColumn(key, "text"),)}
    with pytest.raises(ConfigError, match="key of Thing") as error:
        render(rows, {**columns(), **table}, RESERVED)
    assert message in str(error.value)


def test_dangling_side_is_the_side_whose_join_column_is_not_its_key():
    rows = load_control_rows(PROJECT)
    sides = {r.relationship_type: dangling_side(r, rows) for r in rows.relationships}
    assert sides == {
        "HAS_PAYMENT_METHOD": "to",
        "HAS_SUBSCRIPTION": "to",
        "SUBSCRIBED_TO": "from",
        "PLAYED": "from",
        "TAGGED_WITH": "via",
        "SUBMITTED": "to",
        "WATCHED": "to",
        "USED_IP": "via",
        "USED_DEVICE": "via",
        # bank accounts without their owner; addresses and phones without their person
        "OWNS": "to",
        "HAS_ADDRESS": "to",
        "HAS_PHONE": "to",
        "TRANSFERRED": "via",
    }


def test_no_generated_yaml_holds_jinja_whatever_carries_it(tmp_path):
    rows = project(
        tmp_path, {"node_label_mappings": ["Crew,crm,crews,crew_id,crew_id,false,true,x"]}
    )
    crews = {("crm", "crews"): (SourceColumn("crew_id", "text"), SourceColumn("odd", "{{ x }}"))}
    with pytest.raises(ConfigError, match="generated YAML would hold Jinja") as error:
        render(rows, {**columns(), **crews}, RESERVED)
    assert "models/staging/crm/_crm__models.yml" in str(error.value)
