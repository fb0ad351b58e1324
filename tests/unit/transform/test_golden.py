"""The rendered dbt files of the reference control rows, byte for byte, without servers.

The fixture holds the reference sources' columns as `information_schema` gives
them once attached (and PostgreSQL's reserved words), so rendering is tested
here in a second; the integration suite checks the same files against a real
`models generate`.
"""

from __future__ import annotations

import json
from pathlib import Path

from c360.control.load import load_control_rows
from c360.control.model import DEFAULT_SCHEMA, Table
from c360.transform.columns import SourceColumn
from c360.transform.files import generated_files
from c360.transform.render import render

PROJECT = Path(__file__).resolve().parents[3]
FIXTURE = Path(__file__).parent / "fixtures" / "reference_columns.json"


def reference_render() -> dict[Path, str]:
    fixture = json.loads(FIXTURE.read_text(encoding="utf-8"))
    columns = {
        Table(entry["source"], entry["table"]): tuple(SourceColumn(**c) for c in entry["columns"])
        for entry in fixture["columns"]
    }
    # a source table's schema in its database, when not public
    remote_schemas = {
        Table(entry["source"], entry["table"]): entry.get("schema", DEFAULT_SCHEMA)
        for entry in fixture["columns"]
        if entry["source"] is not None
    }
    return render(
        load_control_rows(PROJECT), columns, frozenset(fixture["reserved_words"]), remote_schemas
    )


def test_the_committed_generated_files_are_what_the_control_rows_render():
    rendered = reference_render()
    assert set(rendered) == generated_files(PROJECT)
    for path, content in rendered.items():
        assert (PROJECT / path).read_text(encoding="utf-8") == content, path


def test_every_graph_model_carries_its_control_row_and_a_contract():
    rendered = reference_render()
    for name in ("_nodes__models.yml", "_edges__models.yml"):
        (path,) = [p for p in rendered if p.name == name]
        text = rendered[path]
        assert "meta:\n      c360:" in text
        assert "data_type:" in text
