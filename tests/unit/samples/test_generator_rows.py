"""Generated rows against the reference schemas: every table, every column, in order."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pytest
from c360.samples.banking_generator import BankingCounts
from c360.samples.domains import DOMAINS
from c360.samples.generator import Identity, ScaleCounts
from c360.samples.load import SOURCE_KINDS, source_schema
from source_values import Row, checked_rows, copy_lines

PROJECT = Path(__file__).resolve().parents[3]
SCALE_FACTOR, SEED = 0.01, 5


@pytest.fixture(scope="module")
def generated_rows() -> dict[str, list[Row]]:
    """Every domain's tables' rows at a small scale factor, as the loader sends them,
    by column name."""
    counts = {
        **asdict(ScaleCounts.for_scale_factor(SCALE_FACTOR)),
        **asdict(BankingCounts.for_scale_factor(SCALE_FACTOR)),
    }
    rows: dict[str, list[Row]] = {}
    for domain in DOMAINS:
        plan = domain.generated(SCALE_FACTOR, SEED)
        assert tuple(plan) == domain.kinds
        for kind, loads in plan.items():
            schema = source_schema(PROJECT, kind)
            assert {load.table for load in loads} == set(schema.table_names), kind
            for load in loads:
                lines = copy_lines(load.chunks)
                assert len(lines) == load.expected_rows == counts[load.table], load.table
                rows[load.table] = checked_rows(schema.table(load.table), lines)
    return rows


def test_every_row_fits_its_table(generated_rows):
    tables = {t for kind in SOURCE_KINDS for t in source_schema(PROJECT, kind).table_names}
    assert set(generated_rows) == tables


def test_values_land_in_the_columns_they_are_meant_for(generated_rows):
    ident = Identity.for_seed(SEED, ScaleCounts.for_scale_factor(SCALE_FACTOR).accounts)
    first = generated_rows["accounts"][0]
    assert (first["account_id"], first["email"], first["full_name"]) == (
        ident.account_id(0),
        ident.email(0),
        ident.full_name(0),
    )
    account_ids = {row["account_id"] for row in generated_rows["accounts"]}
    assert {row["account_id_from_token"] for row in generated_rows["play_events"]} <= account_ids
    assert {row["account_id"] for row in generated_rows["subscriptions"]} <= account_ids
    media_ids = {row["media_id"] for row in generated_rows["media_content"]}
    assert {row["media_id"] for row in generated_rows["play_events"]} <= media_ids
    event_ids = [int(row["event_id"]) for row in generated_rows["play_events"]]
    assert event_ids == list(range(1, len(event_ids) + 1))
    ticket_ids = {row["ticket_id"] for row in generated_rows["tickets"]}
    assert {row["ticket_id"] for row in generated_rows["ticket_tag_link"]} <= ticket_ids
