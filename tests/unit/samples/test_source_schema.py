"""schema.sql read for the loaders: tables, columns in order, types, sequences; what is refused."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest
from c360.errors import ConfigError
from c360.samples.load import SourceTargets, project_root, source_schema
from c360.samples.schema import SOURCE_KINDS, SOURCES_DIR, Column, parse_schema

PROJECT = Path(__file__).resolve().parents[3]
WHERE = Path("sources/x/schema.sql")

SQL = """
-- a comment; with a semicolon, 'quotes' and "double quotes"
create table parent (
    id bigserial primary key,
    code varchar(8) not null unique, -- trailing comment
    amount numeric(10, 2) default 0,
    seen_at timestamp with time zone,
    constraint parent_amount check (amount >= 0),
    unique (code, seen_at)
);

create index parent_code_idx on parent (code);

CREATE TABLE IF NOT EXISTS Link (
    parent_id integer references parent (id),
    other_id integer,
    primary key (parent_id, other_id)
);
create table counted (n integer generated always as identity, note text);
"""


def test_the_reference_kinds_are_the_folders_of_sources():
    folders = sorted(p.parent.name for p in (PROJECT / SOURCES_DIR).glob("*/schema.sql"))
    assert folders == sorted(SOURCE_KINDS)
    assert tuple(f.name for f in fields(SourceTargets)) == SOURCE_KINDS


@pytest.mark.parametrize("kind", SOURCE_KINDS)
def test_each_reference_schema_reads(kind):
    schema = source_schema(PROJECT, kind)
    assert schema.path == PROJECT / "sources" / kind / "schema.sql"
    assert schema.sql == schema.path.read_text()
    assert schema.tables
    assert all(table.columns for table in schema.tables)


def test_tables_and_columns_in_the_order_written():
    schema = parse_schema("x", SQL, WHERE)
    assert schema.table_names == ("parent", "link", "counted")
    parent = schema.table("parent")
    assert parent.columns == (
        Column("id", "bigserial", not_null=True, has_sequence=True),
        Column("code", "varchar(8)", not_null=True, has_sequence=False),
        Column("amount", "numeric(10, 2)", not_null=False, has_sequence=False),
        Column("seen_at", "timestamp with time zone", not_null=False, has_sequence=False),
    )
    assert parent.sequence_columns == ("id",)
    assert [c.base_type for c in parent.columns] == [
        "bigserial",
        "varchar",
        "numeric",
        "timestamp with time zone",
    ]
    link = schema.table("link")
    assert link.column_names == ("parent_id", "other_id")
    assert all(c.not_null for c in link.columns), "a table's primary key is not null"
    assert schema.table("counted").sequence_columns == ("n",)


def test_an_unknown_table_is_named_with_those_there_are():
    with pytest.raises(ConfigError, match=r"no table 'nope' \(it has parent, link, counted\)"):
        parse_schema("x", SQL, WHERE).table("nope")


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ('create table "Mixed" (id integer);', "quotes are not read"),
        ("create table t (status text default 'active');", "quotes are not read"),
        ("create table t (like other);", "table t: cannot read 'like other'"),
        ("create table t as select 1;", "cannot read 'create table t as select 1'"),
        ("create table t (a integer, a text);", "table t names a column twice"),
        ("create table t (a integer); create table t (b integer);", "table t is created twice"),
        ("create table t (primary key (a));", "table t has no column"),
        ("create index i on t (a);", "no `create table` statement"),
    ],
)
def test_what_it_cannot_read_is_refused_naming_the_file(sql, message):
    with pytest.raises(ConfigError, match=str(WHERE)) as error:
        parse_schema("x", sql, WHERE)
    assert message in str(error.value)


def test_outside_the_project_the_checkout_serves(tmp_path: Path):
    assert project_root(tmp_path, SOURCES_DIR) == PROJECT
    (tmp_path / SOURCES_DIR).mkdir()
    assert project_root(tmp_path, SOURCES_DIR) == tmp_path


def test_a_table_in_a_schema_of_its_own_keeps_its_schema():
    schema = parse_schema(
        "x",
        "create schema helpdesk;\n"
        "create table helpdesk.tickets (ticket_id text primary key);\n"
        "create table notes (ticket_id text references helpdesk.tickets (ticket_id));\n",
        WHERE,
    )
    assert schema.table_names == ("tickets", "notes")
    assert schema.table("tickets").schema == "helpdesk"
    assert schema.table("notes").schema == "public"
    assert schema.schemas == ("helpdesk", "public")


def test_the_support_desk_lives_in_schema_helpdesk():
    schema = source_schema(PROJECT, "support_db")
    assert schema.schemas == ("helpdesk",)
