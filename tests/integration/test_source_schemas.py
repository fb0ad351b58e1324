"""A source whose tables live in two schemas, one table name in both, and source
schema drift reported by `dbt build` itself (issue 14), on the real servers.

The module attaches a small CRM source of its own (schemas `billing` and `crm`,
`contacts` in both) to a staging database of its own, in a copy of the dbt
project: the session's sample graph tables are never touched.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from c360.config import Settings
from c360.errors import ConfigError
from c360.samples.load import drop_database, recreate_database
from c360.transform.attach import attach_sources
from c360.transform.dbt import copy_project, run_dbt
from c360.transform.files import write_files
from c360.transform.render import render_project
from graph_helpers import pg_execute, pg_rows, write_rows

PROJECT = Path(__file__).resolve().parents[2]
SOURCE_DB = "c360_test_crm_src"
STAGING_DB = "c360_test_crm"
PASSWORD_VAR = "C360_CRM_DB_PASSWORD"

SOURCE_SQL = """
create schema billing;
create schema crm;
create table billing.contacts (
    contact_id text primary key,
    name text,
    iban text,
    updated_at timestamptz not null default now()
);
create table billing.invoices (
    invoice_id integer primary key,
    contact_id text,
    amount numeric(10, 2)
);
create table crm.contacts (
    contact_id text primary key,
    full_name text,
    segment text
);
insert into billing.contacts (contact_id, name, iban) values
    ('B1', 'Acme billing', 'DE00 1234'), ('B2', 'Globex billing', null);
insert into billing.invoices values (1, 'B1', 10.50), (2, 'B1', 99.00), (3, 'B2', 1.00);
insert into crm.contacts values
    ('C1', 'Ann Acme', 'gold'), ('C2', 'Bob Globex', 'silver'), ('C3', 'Cy', null);
"""

LABELS = [
    "Contact,crm,crm.contacts,contact_id,,false,true,A CRM contact.,false",
    "Payer,crm,billing.contacts,contact_id,,false,true,A billing contact.,false",
    "Invoice,crm,invoices,invoice_id,,false,true,An invoice.,false",
]
RELATIONSHIPS = [
    "BILLED,Invoice,contact_id,Payer,contact_id,,,,,,true,1,An invoice is billed.,error,,",
]
EXCLUSIONS = ["crm,billing.contacts,iban,true,Bank details stay in the source."]
TRACKING = ["crm,billing.contacts,updated_at,contact_id,updated_at,true,A default sets it."]
ADVICE = "Run `c360-export sources attach && c360-export models generate`"


@dataclass(frozen=True)
class Crm:
    settings: Settings
    project: Path
    env: dict[str, str]


def source_row(settings: Settings, schemas: str) -> str:
    user = settings.postgres.user
    return ",".join(["crm", "", "", SOURCE_DB, user, PASSWORD_VAR, "", "true", "CRM.", schemas])


def build(crm: Crm, *args: str) -> tuple[int, str]:
    done = run_dbt(crm.settings, crm.project, ["build", *args])
    return done.returncode, done.stdout + done.stderr


@pytest.fixture(scope="module")
def crm(stack: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crm]:
    """The CRM source attached, the files generated, `dbt build` passed."""
    recreate_database(stack, SOURCE_DB)
    pg_execute(stack, SOURCE_SQL, SOURCE_DB)
    project = copy_project(PROJECT, tmp_path_factory.mktemp("crm") / "project")
    write_rows(project, "source_databases", [source_row(stack, "billing crm")])
    write_rows(project, "node_label_mappings", LABELS)
    write_rows(project, "relationship_mappings", RELATIONSHIPS)
    write_rows(project, "field_exclusion_rules", EXCLUSIONS)
    write_rows(project, "table_change_tracking", TRACKING)
    settings = replace(
        stack, project_dir=project, postgres=replace(stack.postgres, staging_database=STAGING_DB)
    )
    env = {PASSWORD_VAR: stack.postgres.password or ""}
    attach_sources(settings, project, env)
    built = Crm(settings, project, env)
    write_files(project, render_project(settings, project))
    code, output = build(built)
    assert code == 0, output[-6000:]
    yield built
    drop_database(stack, STAGING_DB)
    drop_database(stack, SOURCE_DB)


def test_qualified_names_reach_their_staging_models_from_their_schemas(crm: Crm) -> None:
    staged = {
        table: sorted(pg_rows(crm.settings, f"select * from staging.{table}", STAGING_DB))
        for table in ("stg_crm__crm__contacts", "stg_crm__billing__contacts", "stg_crm__invoices")
    }
    assert [row[:2] for row in staged["stg_crm__crm__contacts"]] == [
        ("C1", "Ann Acme"),
        ("C2", "Bob Globex"),
        ("C3", "Cy"),
    ]
    # iban excluded: the exclusion names the table as the other rows do
    assert [row[:2] for row in staged["stg_crm__billing__contacts"]] == [
        ("B1", "Acme billing"),
        ("B2", "Globex billing"),
    ]
    assert len(staged["stg_crm__billing__contacts"][0]) == 3
    assert len(staged["stg_crm__invoices"]) == 3
    payers = pg_rows(crm.settings, "select count(*) from graph.edge_billed", STAGING_DB)
    assert payers == [(3,)]


def test_the_manifest_shows_the_remote_schemas(crm: Crm) -> None:
    manifest = json.loads((crm.project / "target" / "manifest.json").read_text())
    sources = {
        (s["source_name"], s["name"]): s
        for s in manifest["sources"].values()
        if s["source_name"].startswith("crm")
    }
    assert set(sources) == {
        ("crm__billing", "contacts"),
        ("crm__billing", "invoices"),
        ("crm__crm", "contacts"),
    }
    billing = sources[("crm__billing", "contacts")]
    assert billing["schema"] == "src_crm__billing"
    assert billing["meta"]["c360"]["remote_schema"] == "billing"
    assert billing["description"] == f"Foreign table over {SOURCE_DB}.billing.contacts."
    assert sources[("crm__crm", "contacts")]["schema"] == "src_crm__crm"
    staging = manifest["nodes"]["model.c360.stg_crm__crm__contacts"]
    assert staging["depends_on"]["nodes"] == ["source.c360.crm__crm.contacts"]


def test_an_ambiguous_short_name_is_refused_naming_the_row_and_both_schemas(crm: Crm) -> None:
    path = crm.project / "seeds" / "control" / "node_label_mappings.csv"
    rows = path.read_text(encoding="utf-8")
    short = LABELS[0].replace("crm.contacts", "contacts")
    write_rows(crm.project, "node_label_mappings", [short, *LABELS[1:]])
    try:
        with pytest.raises(ConfigError) as refused:
            render_project(crm.settings, crm.project)
    finally:
        path.write_text(rows, encoding="utf-8")
    assert (
        "seeds/control/node_label_mappings.csv:2 (label=Contact): table_name 'contacts' is "
        "ambiguous: schemas billing and crm of source 'crm' both have a table contacts; "
        "write billing.contacts or crm.contacts"
    ) in str(refused.value)


def test_a_schema_the_source_lacks_is_refused_naming_its_row(crm: Crm) -> None:
    path = crm.project / "seeds" / "control" / "source_databases.csv"
    rows = path.read_text(encoding="utf-8")
    write_rows(crm.project, "source_databases", [source_row(crm.settings, "billing crm sales")])
    try:
        # a mistake in the rows, not a server's failure: exit 2, not 3
        with pytest.raises(ConfigError) as refused:
            attach_sources(crm.settings, crm.project, crm.env)
    finally:
        path.write_text(rows, encoding="utf-8")
        attach_sources(crm.settings, crm.project, crm.env)
    assert (
        "seeds/control/source_databases.csv:2 (source_name=crm): schema 'sales' (in schemas) "
        f"does not exist in database {SOURCE_DB}"
    ) in str(refused.value)


def test_a_source_attached_without_its_catalog_is_refused_at_models_generate(crm: Crm) -> None:
    """An installation attached before the drift test existed: attach again first."""
    pg_execute(crm.settings, "drop foreign table source_catalog.crm", STAGING_DB)
    try:
        with pytest.raises(ConfigError) as refused:
            render_project(crm.settings, crm.project)
    finally:
        attach_sources(crm.settings, crm.project, crm.env)
    assert "source_catalog holds no catalog of source crm" in str(refused.value)
    assert "run `c360-export sources attach`" in str(refused.value)


def test_columns_added_dropped_or_retyped_in_the_source_are_reported_by_dbt_build(
    crm: Crm,
) -> None:
    """A new column warns; a read column dropped or retyped fails the build, before
    the staging model reads the source, naming source, table and column."""
    select = ("--select", "source:crm__crm.contacts+")
    pg_execute(crm.settings, "alter table crm.contacts add column phone text", SOURCE_DB)
    code, output = build(crm, *select)
    assert code == 0, output[-6000:]
    assert (
        "source crm (crm.contacts): column phone (text) is new in the source, not read yet. "
        + ADVICE
    ) in output

    pg_execute(crm.settings, "alter table crm.contacts drop column segment", SOURCE_DB)
    code, output = build(crm, *select)
    assert code == 1
    assert "source crm (crm.contacts): column segment (text) is gone from the source" in output
    assert ADVICE in output
    assert "SKIP relation staging.stg_crm__crm__contacts" in output

    pg_execute(
        crm.settings,
        "alter table crm.contacts add column segment text, alter column full_name type varchar(40)",
        SOURCE_DB,
    )
    code, output = build(crm, *select)
    assert code == 1
    assert (
        "source crm (crm.contacts): column full_name was text when the models were generated "
        "and is character varying now"
    ) in output
    assert "column segment" not in output  # back, with its type: no longer a difference

    # attach and generate again: the build passes with the source as it is now
    attach_sources(crm.settings, crm.project, crm.env)
    write_files(crm.project, render_project(crm.settings, crm.project))
    code, output = build(crm, *select, "--full-refresh")
    assert code == 0, output[-6000:]
