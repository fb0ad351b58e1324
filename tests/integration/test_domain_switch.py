"""A domain switched off by its control rows leaves the next export, and only it
(issue 12): its labels are deleted by the sync, the other domain is untouched.

The module builds from a copy of the project into a staging database of its
own, on the session's sample sources, so the session's graph tables and their
sync record are never touched.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from c360.config import Settings
from c360.export.options import ExportOptions
from c360.export.pipeline import run_export
from c360.neo4j_driver import open_driver
from c360.samples.load import drop_database, reader_environment
from c360.transform.attach import attach_sources
from c360.transform.dbt import copy_project, run_dbt
from c360.transform.files import write_files
from c360.transform.render import render_project

PROJECT = Path(__file__).resolve().parents[2]
STAGING_DB = "c360_test_switch"
BANKING_SOURCES = {"core_banking", "kyc", "payments"}
BANKING_LABELS = {"Person", "BankAccount", "Address", "Phone"}


@dataclass(frozen=True)
class Switch:
    settings: Settings
    project: Path
    env: dict[str, str]


def build(switch: Switch) -> None:
    attach_sources(switch.settings, switch.project, switch.env)
    write_files(switch.project, render_project(switch.settings, switch.project))
    done = run_dbt(switch.settings, switch.project, ["build"])
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]


def switch_banking_off(project: Path) -> None:
    """is_active=false on every row of the banking domain, as a user would set it."""
    for seed, is_banking in (
        ("source_databases", lambda r: r["source_name"] in BANKING_SOURCES),
        ("node_label_mappings", lambda r: r["label"] in BANKING_LABELS),
        (
            "relationship_mappings",
            lambda r: r["from_label"] in BANKING_LABELS or r["to_label"] in BANKING_LABELS,
        ),
    ):
        path = project / "seeds" / "control" / f"{seed}.csv"
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            fields, rows = list(reader.fieldnames or ()), list(reader)
        for row in rows:
            if is_banking(row):
                row["is_active"] = "false"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)


def label_counts(settings: Settings) -> dict[str, int]:
    with open_driver(settings) as driver:
        records, _, _ = driver.execute_query(
            "MATCH (n) UNWIND labels(n) AS label RETURN label, count(*) AS nodes",
            database_=settings.neo4j.database,
        )
    return {r["label"]: r["nodes"] for r in records}


@pytest.fixture(scope="module")
def switch(graph_tables: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Switch]:
    """Both domains built into this module's staging database and bulk-loaded."""
    project = copy_project(PROJECT, tmp_path_factory.mktemp("switch") / "project")
    settings = replace(
        graph_tables,
        project_dir=project,
        postgres=replace(graph_tables.postgres, staging_database=STAGING_DB),
    )
    built = Switch(settings, project, reader_environment(graph_tables, {}))
    build(built)
    # whatever other modules left in the session's Neo4j is replaced
    loaded = run_export(settings, ExportOptions(mode="bulk", allow_mass_delete=True))
    assert loaded.status == "completed", loaded.error
    yield built
    drop_database(graph_tables, STAGING_DB)


def test_switching_banking_off_by_rows_deletes_only_its_labels(switch):
    before = label_counts(switch.settings)
    assert set(before) >= BANKING_LABELS
    switch_banking_off(switch.project)
    build(switch)
    # the marts built on the banking sources are switched off with them
    assert not (switch.project / "models" / "staging" / "core_banking").exists()
    # every node of four labels goes: the guard would stop it, rightly
    synced = run_export(switch.settings, ExportOptions(allow_mass_delete=True))
    assert (synced.mode, synced.status) == ("sync", "completed"), synced.error
    after = label_counts(switch.settings)
    assert set(after) == set(before) - BANKING_LABELS
    assert after == {label: n for label, n in before.items() if label not in BANKING_LABELS}
    deleted = {t.name: t.rows_deleted for t in synced.tables if t.rows_deleted}
    assert set(deleted) <= BANKING_LABELS | {"OWNS", "HAS_ADDRESS", "HAS_PHONE", "TRANSFERRED"}
    assert sum(t.rows_written for t in synced.tables) == 0
