"""`bench/run.py` end to end at a tiny scale factor, on the test stack, isolated.

The bench loads its sources into `benchsmoke_*` databases and builds into its own
staging database through a scratch copy of the dbt project, so the reference
databases and the `c360` staging database the other tests use stay as they are.
Neo4j has one database: the bench leaves it empty, with no constraint
(`--final-state empty`), which every other module's fixture starts from by
exporting itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest
from c360.config import Settings
from c360.samples.load import SOURCE_KINDS

PROJECT = Path(__file__).resolve().parents[2]
PREFIX = "benchsmoke_"
STAGING = "benchsmoke_c360"

REQUIRED_KEYS = (
    "scale_factor",
    "source_rows",
    "bulk_vs_lower_bound",
    "speedup_vs_original",
    "merge_nodes_per_s",
    "merge_rels_per_s",
    "incremental_fraction_of_full",
    "rss_ratio_max_vs_sf1",
)
STAGES = ("source_load", "attach", "models_generate", "dbt_build", "bulk", "merge_clear", "merge")


def _drop_databases(settings: Settings) -> None:
    conn = psycopg2.connect(settings.postgres.dsn("postgres"))
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            for name in (STAGING, *(PREFIX + s for s in SOURCE_KINDS)):
                cur.execute(f'drop database if exists "{name}" with (force)')
    finally:
        conn.close()


@pytest.fixture
def bench_result(stack: Settings, tmp_path: Path) -> dict[str, object]:
    results = tmp_path / "results"
    argv = [
        sys.executable,
        str(PROJECT / "bench" / "run.py"),
        "--scale-factor",
        "0.01",
        "--database-prefix",
        PREFIX,
        "--staging-db",
        STAGING,
        "--work-dir",
        str(tmp_path / "work"),
        "--results-dir",
        str(results),
        "--no-latest",
        "--original-timeout",
        "300",
        "--final-state",
        "empty",
    ]
    try:
        # the stack fixture points this process's environment at the test stack
        done = subprocess.run(
            argv, env=dict(os.environ), capture_output=True, text=True, timeout=1200, check=False
        )
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
        assert "bulk_vs_lower_bound" in done.stdout  # the printed table
        assert not (results / "latest.json").exists()
        return json.loads((results / "0.01.json").read_text())
    finally:
        _drop_databases(stack)


def test_bench_smoke_writes_every_figure(bench_result: dict[str, object]) -> None:
    result = bench_result
    for key in REQUIRED_KEYS:
        assert key in result, key
    assert result["scale_factor"] == 0.01
    assert result["source_rows"] > 1000
    assert result["graph_nodes"] > 0
    assert result["graph_relationships"] > 0
    for key in ("bulk_vs_lower_bound", "merge_nodes_per_s", "merge_rels_per_s"):
        assert result[key] > 0, key
    # (a) finishes at this size, so the speedup is measured here, at this SF
    original = result["baselines"]["original"]
    assert original["finished"]
    # the original matched junction rows as nodes: a relationship per transaction,
    # through a table no label reads, is beyond it, so its graph is smaller
    assert original["types_not_expressible"] == ["TRANSFERRED"]
    assert original["counts_match_graph_tables"] is None
    assert result["speedup_vs_original"] > 0
    assert result["speedup_vs_original_sf"] == 0.01
    assert result["baselines"]["lower_bound"]["seconds"] > 0
    stages = result["stages"]
    for name in STAGES:
        stage = stages[name]
        assert stage["seconds"] > 0, name
        assert stage["rows_per_s"] > 0, name
        assert stage["peak_rss_mb"] > 0, name
    # null until the exporter has an incremental run; then a positive fraction
    fraction = result["incremental_fraction_of_full"]
    assert fraction is None or fraction > 0
    assert result["exporter_peak_rss_mb"] > 0
    # the merge wrote every row of the graph tables
    merge = result["merge"]
    assert merge["node_rows"] == result["graph_nodes"]
    assert merge["rel_rows"] == result["graph_relationships"]
