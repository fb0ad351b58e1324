"""The shape of `meta.c360`: written once by c360.transform.meta, documented for
the macros, and asked for by them key by key."""

from __future__ import annotations

import re
import shutil
from dataclasses import fields
from pathlib import Path

import pytest
import yaml
from c360.control.load import load_control_rows
from c360.control.model import CONTROL_DIR, CONTROL_FILES
from c360.transform.meta import (
    ControlRowsMeta,
    EdgeMeta,
    NodeMeta,
    SourceColumnsMeta,
    StagingMeta,
)
from test_golden import reference_render

PROJECT = Path(__file__).resolve().parents[3]
KINDS = {m.kind: m for m in (StagingMeta, NodeMeta, EdgeMeta, ControlRowsMeta, SourceColumnsMeta)}


def documented_keys() -> dict[str, list[str]]:
    """kind -> the keys the `meta.c360` table of docs/architecture.md lists."""
    doc = (PROJECT / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = doc.split("### `meta.c360`: what the macros read", 1)[1].split("\n## ", 1)[0]
    keys = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if line.startswith("| `") and len(cells) == 4:
            # a key is a name in backticks right after the start or a comma
            keys[cells[0].strip("`")] = re.findall(r"(?:^|, )`(\w+)`", cells[2])
    return keys


def test_every_kind_is_documented_with_its_keys_in_order():
    assert documented_keys() == {
        kind: [f.name for f in fields(meta)] for kind, meta in KINDS.items()
    }


def call_arguments(text: str, name: str) -> list[str]:
    """The argument text of every call of macro `name` in `text`."""
    found = []
    for call in re.finditer(rf"\b{name}\(", text):
        depth, end = 1, call.end()
        while depth:
            depth += {"(": 1, ")": -1}.get(text[end], 0)
            end += 1
        found.append(text[call.end() : end - 1])
    return found


def test_every_key_a_macro_asks_for_is_written():
    """The keys the macros check (the lists given to c360_mapping and
    c360_checked_meta, and c360_edge_keys's) are keys of some kind of meta.c360."""
    written = {"kind"} | {f.name for meta in KINDS.values() for f in fields(meta)}
    written |= {"key_columns", "rows"}  # of each seed under `seeds`
    asked: set[str] = set()
    for path in (PROJECT / "macros").rglob("*.sql"):
        text = path.read_text(encoding="utf-8")
        arguments = call_arguments(text, "c360_mapping") + call_arguments(text, "c360_checked_meta")
        edge_keys = re.search(r"{% macro c360_edge_keys.*?endmacro", text, re.DOTALL)
        for listed in [*(re.search(r"\[[^\]]*\]", a) for a in arguments), edge_keys]:
            if listed is not None:
                asked |= set(re.findall(r"'(\w+)'", listed.group(0)))
    assert {"one_node_per_key", "via_to_column", "execution_order", "seeds", "rows"} <= asked
    assert asked <= written


def test_as_meta_gives_kind_first_then_every_field_as_plain_yaml():
    rows = load_control_rows(PROJECT)
    edge = EdgeMeta.of(next(r for r in rows.relationships if r.relationship_type == "PLAYED"), rows)
    meta = edge.as_meta()
    assert list(meta) == ["kind", *(f.name for f in fields(EdgeMeta))]
    assert meta["kind"] == "edge"
    assert meta["dangling_severity"] == "warn"  # blank in the row: the default
    assert meta["from_key_columns"] == ["event_id"]
    assert meta["start_columns"] == ["start_event_id"]
    assert meta["end_columns"] == ["end_media_id"]
    assert yaml.safe_load(yaml.safe_dump(meta)) == meta


def test_the_generated_models_carry_the_meta_of_their_rows():
    rows = load_control_rows(PROJECT)
    rendered = reference_render()
    nodes = yaml.safe_load(rendered[Path("models/graph/nodes/_nodes__models.yml")])
    edges = yaml.safe_load(rendered[Path("models/graph/edges/_edges__models.yml")])
    metas = {m["name"]: m["config"]["meta"]["c360"] for m in nodes["models"] + edges["models"]}
    assert metas["node_ip_address"] == NodeMeta.of(rows.node("IPAddress")).as_meta()
    used_ip = next(r for r in rows.relationships if r.relationship_type == "USED_IP")
    assert metas["edge_used_ip"] == EdgeMeta.of(used_ip, rows).as_meta()
    staging = yaml.safe_load(rendered[Path("models/staging/profiles/_profiles__models.yml")])
    accounts = next(m for m in staging["models"] if m["name"] == "stg_profiles__accounts")
    assert accounts["config"]["meta"]["c360"] == {
        "kind": "staging",
        "source_name": "profiles",
        "table_name": "accounts",
        "dbt_source": "profiles",
        "remote_table": "accounts",
        "excluded_columns": ["hashed_password"],
        "strategy": "updated_at",
        "key_columns": ["account_id"],
        "watermark_column": "updated_at",
    }


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copytree(PROJECT / CONTROL_DIR, tmp_path / CONTROL_DIR)
    return tmp_path


def test_the_control_rows_test_carries_every_row_of_every_file(project: Path):
    """Inactive rows, sources and exclusions included, each with every column."""
    with (project / CONTROL_DIR / "source_databases.csv").open("a") as handle:
        handle.write("archive,,,archive_db,archive_reader,C360_ARCHIVE_DB_PASSWORD,,false,Old.\n")
    rows = load_control_rows(project)
    meta = ControlRowsMeta.of(rows).as_meta()
    assert meta["kind"] == "control_rows"
    assert list(meta["seeds"]) == [f.seed for f in CONTROL_FILES]
    for control_file in CONTROL_FILES:
        seed = meta["seeds"][control_file.seed]
        assert seed["key_columns"] == list(control_file.key_columns)
        assert seed["rows"] == [dict(r) for r in rows.seed_rows[control_file.seed]]
        assert all(list(r) == list(control_file.columns) for r in seed["rows"])
    assert meta["seeds"]["source_databases"]["rows"][-1] == {
        "source_name": "archive",
        "host": None,
        "port": None,
        "database_name": "archive_db",
        "user_name": "archive_reader",
        "password_env_var": "C360_ARCHIVE_DB_PASSWORD",
        "fetch_size": None,
        "is_active": False,
        "description": "Old.",
        "schemas": None,
    }
    assert meta["seeds"]["field_exclusion_rules"]["key_columns"] == [
        "source_name",
        "table_name",
        "column_name",
    ]


def test_the_committed_test_of_the_control_rows_holds_the_committed_rows():
    path = PROJECT / "data-tests" / "generated_models_match_control_rows.yml"
    (test,) = yaml.safe_load(path.read_text(encoding="utf-8"))["data_tests"]
    expected = ControlRowsMeta.of(load_control_rows(PROJECT)).as_meta()
    assert test["config"]["meta"]["c360"] == expected
