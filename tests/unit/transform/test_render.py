"""Rendering the generated dbt files from control rows and source columns: no server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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
        "is_active,description,schemas",
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
    "table_change_tracking": [
        "source_name,table_name,strategy,key_columns,watermark_column,is_active,description"
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
        "c360_row_hash": None, "c360_batch": None,
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
        "config": {"severity": "error", "meta": {"c360_changed_rows_only": False}},
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


def staging_entry(files: dict[Path, str], model: str) -> dict[str, Any]:
    models = yaml.safe_load(files[Path("models/staging/crm/_crm__models.yml")])["models"]
    return next(m for m in models if m["name"] == model)


def test_a_tracked_table_gets_an_incremental_staging_model(tmp_path):
    """append_only reads past the newest staged value, delete+insert on the key
    (quoted for dbt's delete where it must be), a change of columns stops it."""
    tracking = ["crm,people,append_only,person_id order,version,true,Only inserts."]
    rows = project(tmp_path, {"table_change_tracking": tracking})
    people = (SourceColumn("version", "bigint"), SourceColumn("order", "integer"))
    files = render(
        rows, columns() | {("crm", "people"): (*columns()[("crm", "people")], *people)}, RESERVED
    )
    sql = files[Path("models/staging/crm/stg_crm__people.sql")]
    assert (
        "    select * from {{ source('crm', 'people') }}\n"
        "    {%- if is_incremental() %}\n"
        "        {{- changed_rows_where(\n"
        "            source('crm', 'people'), 'version', 'append_only'\n"
        "        ) }}\n"
        "    {%- endif %}\n\n"
        "),\n"
    ) in sql
    entry = staging_entry(files, "stg_crm__people")
    assert entry["config"] | {"meta": None} == {
        "materialized": "incremental",
        "incremental_strategy": "delete+insert",
        "unique_key": ["person_id", '"order"'],
        "on_schema_change": "fail",
        "meta": None,
    }
    assert entry["config"]["meta"]["c360"] == {
        "kind": "staging",
        "source_name": "crm",
        "table_name": "people",
        "dbt_source": "crm",
        "remote_table": "people",
        "excluded_columns": [],
        "strategy": "append_only",
        "key_columns": ["person_id", "order"],
        "watermark_column": "version",
    }
    assert (
        "Incremental (append_only): a build reads the rows whose version is past"
        in (entry["description"])
    )


def test_full_and_untracked_tables_stay_tables_read_in_full(tmp_path):
    rows = project(tmp_path, {"table_change_tracking": ["crm,teams,full,,,true,Small."]})
    files = render(rows, columns(), RESERVED)
    for model in ("stg_crm__people", "stg_crm__teams"):
        entry = staging_entry(files, model)
        assert list(entry["config"]) == ["meta"]
        assert entry["config"]["meta"]["c360"]["strategy"] == "full"
        assert "is_incremental" not in files[Path(f"models/staging/crm/{model}.sql")]
    assert (
        "read again on every build (table_change_tracking: full)"
        in (staging_entry(files, "stg_crm__teams")["description"])
    )
    assert "table_change_tracking" not in staging_entry(files, "stg_crm__people")["description"]


@pytest.mark.parametrize(
    ("strategy", "column", "problem"),
    [
        ("updated_at", SourceColumn("changed", "bigint"), "changed is bigint; strategy updated_at"),
        ("append_only", SourceColumn("changed", "text"), "changed is text; strategy append_only"),
    ],
)
def test_a_watermark_of_a_type_that_does_not_order_writes_is_refused(
    tmp_path, strategy, column, problem
):
    tracking = [f"crm,people,{strategy},person_id,changed,true,x"]
    rows = project(tmp_path, {"table_change_tracking": tracking})
    with pytest.raises(ConfigError) as error:
        render(
            rows, columns() | {("crm", "people"): (*columns()[("crm", "people")], column)}, RESERVED
        )
    assert (
        f"table_change_tracking.csv:2 (table_name=people): watermark_column crm.people.{problem}"
        in (str(error.value))
    )
    assert "or use strategy full" in str(error.value)
