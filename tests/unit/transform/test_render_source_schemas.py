"""The dbt files of a source whose tables live in two schemas, one name in both."""

from __future__ import annotations

from pathlib import Path

import yaml
from c360.control.load import load_control_rows
from c360.control.model import CONTROL_DIR, Table
from c360.transform.columns import SourceColumn
from c360.transform.render import render

CONTROL = {
    "source_databases": [
        "source_name,host,port,database_name,user_name,password_env_var,fetch_size,"
        "is_active,description,schemas",
        "crm,,,crm_db,crm_reader,C360_CRM_DB_PASSWORD,,true,CRM.,billing crm",
    ],
    "node_label_mappings": [
        "label,source_name,table_name,key_columns,property_columns,one_node_per_key,"
        "is_active,description,is_extension",
        "Contact,crm,crm.contacts,contact_id,,false,true,A contact.,false",
        "Payer,crm,billing.contacts,contact_id,,false,true,A payer.,false",
        "Invoice,crm,invoices,invoice_id,,false,true,An invoice.,false",
    ],
    "field_exclusion_rules": [
        "source_name,table_name,column_name,is_excluded,reason",
        "crm,billing.contacts,iban,true,Bank details stay in the source.",
    ],
    "relationship_mappings": [
        "relationship_type,from_label,from_column,to_label,to_column,via_source_name,"
        "via_table_name,via_from_column,via_to_column,normalize,is_active,execution_order,"
        "description,dangling_severity,key_columns,property_columns",
        "BILLED,Invoice,contact_id,Payer,contact_id,,,,,,true,1,An invoice is billed.,",
    ],
    "table_change_tracking": [
        "source_name,table_name,strategy,key_columns,watermark_column,is_active,description",
        "crm,billing.contacts,updated_at,contact_id,updated_at,true,A trigger sets it.",
    ],
}
TEXT = SourceColumn("contact_id", "text")
COLUMNS = {
    Table("crm", "crm.contacts"): (TEXT, SourceColumn("name", "text")),
    Table("crm", "billing.contacts"): (
        TEXT,
        SourceColumn("iban", "text"),
        SourceColumn("updated_at", "timestamp with time zone", "timestamptz"),
    ),
    Table("crm", "invoices"): (SourceColumn("invoice_id", "integer", "int4", 32, 0), TEXT),
}
REMOTE = {
    Table("crm", "crm.contacts"): "crm",
    Table("crm", "billing.contacts"): "billing",
    Table("crm", "invoices"): "billing",
}


def rendered(tmp_path: Path) -> dict[Path, str]:
    (tmp_path / CONTROL_DIR).mkdir(parents=True)
    for seed, lines in CONTROL.items():
        (tmp_path / CONTROL_DIR / f"{seed}.csv").write_text("\n".join(lines) + "\n")
    return render(load_control_rows(tmp_path), COLUMNS, frozenset(), REMOTE)


def test_each_schema_is_a_dbt_source_over_its_local_schema(tmp_path):
    files = rendered(tmp_path)
    folder = Path("models/staging/crm")
    sources = yaml.safe_load(files[folder / "_crm__sources.yml"])["sources"]
    assert [(s["name"], s["schema"]) for s in sources] == [
        ("crm__billing", "src_crm__billing"),
        ("crm__crm", "src_crm__crm"),
    ]
    billing, crm = sources
    assert billing["config"]["meta"]["c360"] == {
        "source_name": "crm",
        "database_name": "crm_db",
        "remote_schema": "billing",
    }
    assert [t["name"] for t in billing["tables"]] == ["contacts", "invoices"]
    assert billing["tables"][0]["description"] == "Foreign table over crm_db.billing.contacts."
    assert [t["name"] for t in crm["tables"]] == ["contacts"]
    assert sorted(p.name for p in files if p.parent == folder and p.suffix == ".sql") == [
        "stg_crm__billing__contacts.sql",
        "stg_crm__crm__contacts.sql",
        "stg_crm__invoices.sql",
    ]
    sql = files[folder / "stg_crm__billing__contacts.sql"]
    assert "select * from {{ source('crm__billing', 'contacts') }}" in sql
    assert "source('crm__billing', 'contacts'), 'updated_at', 'updated_at'" in sql
    assert "iban" not in sql  # excluded, spelt as the rows write the table


def test_each_source_table_records_its_columns_for_the_drift_test(tmp_path):
    files = rendered(tmp_path)
    sources = yaml.safe_load(files[Path("models/staging/crm/_crm__sources.yml")])["sources"]
    (test,) = sources[0]["tables"][0]["data_tests"]
    config = test["source_columns_match"]["config"]
    assert config["severity"] == "warn"
    meta = config["meta"]["c360"]
    assert {k: meta[k] for k in ("table_name", "remote_schema", "remote_table")} == {
        "table_name": "billing.contacts",
        "remote_schema": "billing",
        "remote_table": "contacts",
    }
    assert (meta["catalog_schema"], meta["catalog_table"]) == ("source_catalog", "crm")
    assert [(c["name"], c["type"], c["read"]) for c in meta["columns"]] == [
        ("contact_id", "text", True),
        ("iban", "text", False),
        ("updated_at", "timestamp with time zone", True),
    ]
    models = yaml.safe_load(files[Path("models/staging/crm/_crm__models.yml")])["models"]
    staging = next(m for m in models if m["name"] == "stg_crm__billing__contacts")
    assert staging["config"]["meta"]["c360"]["dbt_source"] == "crm__billing"
    assert staging["config"]["meta"]["c360"]["remote_table"] == "contacts"
