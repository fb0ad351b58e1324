"""The sample stories' rows against the reference schemas: every table, every column, in order."""

from __future__ import annotations

from pathlib import Path

import pytest
from c360.samples.domains import DOMAINS, STREAMING
from c360.samples.load import SOURCE_KINDS, source_schema
from c360.samples.schema import SourceSchema
from c360.samples.story import PERSONAS, build_samples, sample_loads
from source_values import Row, checked_rows, copy_lines

PROJECT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def story_rows() -> dict[str, list[Row]]:
    """Every domain's tables' rows, as the loader sends them, by column name."""
    rows: dict[str, list[Row]] = {}
    for domain in DOMAINS:
        for kind, loads in domain.story().items():
            schema = source_schema(PROJECT, kind)
            for load in loads:
                lines = copy_lines(load.chunks)
                assert len(lines) == load.expected_rows, load.table
                rows[load.table] = checked_rows(schema.table(load.table), lines)
    return rows


@pytest.mark.parametrize("domain", DOMAINS, ids=lambda d: d.name)
def test_each_story_fills_every_table_of_its_schemas(domain):
    plan = domain.story()
    assert tuple(plan) == domain.kinds
    for kind, loads in plan.items():
        schema: SourceSchema = source_schema(PROJECT, kind)
        assert {load.table for load in loads} == set(schema.table_names), kind
        assert all(load.expected_rows for load in loads), kind


def test_the_streaming_story_is_the_sample_data():
    data = build_samples()
    assert tuple(data.tables) == STREAMING.kinds
    for kind in STREAMING.kinds:
        loads = sample_loads(data, kind)
        assert [(load.table, load.expected_rows) for load in loads] == [
            (table, len(rows)) for table, rows in data.tables[kind].items()
        ]


def test_every_row_fits_its_table(story_rows):
    # the checks run in the fixture; here, that they saw every table
    tables = {t for kind in SOURCE_KINDS for t in source_schema(PROJECT, kind).table_names}
    assert set(story_rows) == tables


@pytest.mark.parametrize(
    ("table", "first", "second"),
    [
        ("accounts", "email", "full_name"),  # both text: told apart by name
        ("play_events", "event_timestamp", "ip_address"),  # told apart by type
    ],
)
def test_a_row_in_another_column_order_is_caught(table, first, second):
    kind = next(k for k in STREAMING.kinds if table in source_schema(PROJECT, k).table_names)
    columns = source_schema(PROJECT, kind).table(table)
    load = next(load for load in sample_loads(build_samples(), kind) if load.table == table)
    fields = copy_lines(load.chunks)[0].split("\t")
    i, j = columns.column_names.index(first), columns.column_names.index(second)
    fields[i], fields[j] = fields[j], fields[i]
    with pytest.raises(AssertionError, match=f"{table} line 1"):
        checked_rows(columns, ["\t".join(fields)])
    with pytest.raises(AssertionError, match="values for the columns"):
        checked_rows(columns, ["\t".join(fields[:-1])])


def test_values_land_in_the_columns_they_are_meant_for(story_rows):
    accounts = {row["email"]: row for row in story_rows["accounts"]}
    john = accounts["john.smith@email.com"]
    assert john["full_name"] == "John Smith"
    assert john["created_at"].startswith("2023-03-14 09:00:00")
    assert len(accounts) == len(PERSONAS)
    account_ids = {row["account_id"] for row in story_rows["accounts"]}
    assert {row["account_id_from_token"] for row in story_rows["play_events"]} <= account_ids
    assert {row["account_id"] for row in story_rows["payment_methods"]} <= account_ids
    ticket = next(row for row in story_rows["tickets"] if row["ticket_id"] == "TCK-1013")
    assert ticket["subject"] == "Audio drifts after\r\nten minutes"
    assert ticket["customer_email"] == "frances.allen@email.com"
    media = next(row for row in story_rows["media_content"] if row["media_id"] == "MOV-0016")
    assert media["title"] == "Tab\tSeparated Lives"
    assert media["release_date"] == "2015-01-01"
    assert media["duration_minutes"] == "99"
