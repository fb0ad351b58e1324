"""Sources with tables in schemas other than public: the row's `schemas`, and
table names short or `schema.table`, checked before anything is attached."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from c360.control.load import load_control_rows
from c360.control.model import CONTROL_DIR, Table, local_schema
from c360.control.rules import check_columns, written_table_name
from c360.errors import ConfigError
from c360.transform.naming import dbt_source, staging_model

PROJECT = Path(__file__).resolve().parents[3]
CRM = "crm,,,crm_db,crm_reader,C360_CRM_DB_PASSWORD,,true,CRM and billing.,billing crm"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The repository's control rows plus source crm (schemas billing and crm)."""
    shutil.copytree(PROJECT / CONTROL_DIR, tmp_path / CONTROL_DIR)
    append_to(tmp_path, "source_databases", CRM)
    return tmp_path


def append_to(project: Path, seed: str, line: str) -> None:
    with (project / CONTROL_DIR / f"{seed}.csv").open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")


def problems_of(project: Path) -> str:
    with pytest.raises(ConfigError) as error:
        load_control_rows(project)
    return str(error.value)


# crm's attached tables: contacts in both schemas, invoices in billing only
ATTACHED = {
    Table("crm", "billing.contacts"): "billing",
    Table("crm", "crm.contacts"): "crm",
    Table("crm", "invoices"): "billing",
}
COLUMNS = {table: ["contact_id", "invoice_id"] for table in ATTACHED}


def test_blank_schemas_means_public_and_a_list_is_read_in_order(project: Path) -> None:
    rows = load_control_rows(project)
    assert rows.source("profiles").schemas == ("public",)
    assert rows.source("support").schemas == ("helpdesk",)
    assert rows.source("crm").schemas == ("billing", "crm")


def test_local_schemas_dbt_sources_and_staging_models_are_named_by_one_rule() -> None:
    assert local_schema("profiles", "public") == "src_profiles"
    assert local_schema("support", "helpdesk") == "src_support__helpdesk"
    assert dbt_source("support", "helpdesk") == "support__helpdesk"
    assert dbt_source("profiles", "public") == "profiles"
    assert staging_model("support", "tickets") == "stg_support__tickets"
    assert staging_model("crm", "billing.contacts") == "stg_crm__billing__contacts"


def test_a_table_is_written_short_unless_two_schemas_share_its_name() -> None:
    assert written_table_name("helpdesk", "tickets", 1) == "tickets"
    assert written_table_name("billing", "contacts", 2) == "billing.contacts"
    assert written_table_name("public", "a.b", 1) == "public.a.b"
    assert Table("crm", "public.a.b").remote_table == "a.b"
    assert Table("crm", "billing.contacts").remote_table == "contacts"
    assert Table("crm", "billing.contacts").schema_qualifier == "billing"
    assert Table("crm", "invoices").schema_qualifier is None
    assert Table(None, "model.x").schema_qualifier is None


@pytest.mark.parametrize(
    ("schemas", "problem"),
    [
        ("Billing", "schema 'Billing' must match"),
        ("billing billing", "duplicate schema in schemas"),
    ],
)
def test_a_schema_that_is_not_a_plain_name_or_twice_is_refused(
    project: Path, schemas: str, problem: str
) -> None:
    append_to(
        project,
        "source_databases",
        f"crm2,,,crm2_db,crm2_reader,C360_CRM2_DB_PASSWORD,,true,Another.,{schemas}",
    )
    assert f"source_databases.csv:9 (source_name=crm2): {problem}" in problems_of(project)


def test_two_sources_whose_local_schemas_would_collide_are_refused(project: Path) -> None:
    # crm's schema billing and a source named crm__billing both want src_crm__billing
    append_to(
        project,
        "source_databases",
        "crm__billing,,,other_db,other_reader,C360_OTHER_DB_PASSWORD,,true,Other.,",
    )
    assert (
        "source_databases.csv:9 (source_name=crm__billing): its local schema "
        "src_crm__billing is also that of the source at line 8"
    ) in problems_of(project)


def test_a_qualified_name_must_name_a_schema_of_its_source(project: Path) -> None:
    append_to(
        project,
        "node_label_mappings",
        "Contact,crm,sales.contacts,contact_id,,false,true,A contact.,false",
    )
    assert (
        "node_label_mappings.csv:20 (label=Contact): table_name 'sales.contacts' names schema "
        "'sales', which is not among the schemas of source 'crm' (billing crm: "
    ) in problems_of(project)


def checked(project: Path, *node_rows: str) -> str:
    for row in node_rows:
        append_to(project, "node_label_mappings", row)
    with pytest.raises(ConfigError) as error:
        check_columns(load_control_rows(project), COLUMNS, ATTACHED)
    return str(error.value)


def test_an_ambiguous_short_name_is_refused_naming_file_row_and_both_schemas(
    project: Path,
) -> None:
    problem = checked(project, "Contact,crm,contacts,contact_id,,false,true,A contact.,false")
    assert (
        f"{CONTROL_DIR}/node_label_mappings.csv:20 (label=Contact): table_name 'contacts' is "
        "ambiguous: schemas billing and crm of source 'crm' both have a table contacts; "
        "write billing.contacts or crm.contacts"
    ) in problem


def test_a_qualified_name_is_refused_where_the_short_one_is_unambiguous(project: Path) -> None:
    problem = checked(
        project, "Invoice,crm,billing.invoices,invoice_id,,false,true,An invoice.,false"
    )
    assert (
        "(label=Invoice): table_name 'billing.invoices': schema billing is the only schema "
        "of source 'crm' with a table invoices, so it is written short: invoices"
    ) in problem


def test_a_table_no_schema_has_is_named_with_the_sources_row(project: Path) -> None:
    problem = checked(project, "Order,crm,crm.orders,order_id,,false,true,An order.,false")
    assert (
        "(label=Order): table 'orders' does not exist in schema crm (or crm_reader may not "
        "read it); run `c360-export sources attach` after adding a source table "
        f"({CONTROL_DIR}/source_databases.csv:8 (source_name=crm))"
    ) in problem


def test_qualified_names_of_a_shared_name_are_accepted(project: Path) -> None:
    for row in (
        "Contact,crm,crm.contacts,contact_id,,false,true,A contact.,false",
        "Payer,crm,billing.contacts,contact_id,,false,true,A billing contact.,false",
        "Invoice,crm,invoices,invoice_id,,false,true,An invoice.,false",
    ):
        append_to(project, "node_label_mappings", row)
    rows = load_control_rows(project)
    # only crm's rows: the other sources' tables are not attached here
    crm_rows = replace(
        rows,
        nodes=tuple(n for n in rows.nodes if n.source_name == "crm"),
        exclusions=(),
        relationships=(),
        tracking=(),
    )
    check_columns(crm_rows, COLUMNS, ATTACHED)
    assert {n.table for n in crm_rows.nodes} == set(ATTACHED)
