"""The graph model drawn from the control rows, and the README showing the current one."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from c360.control.load import load_control_rows
from c360.transform.diagram import mermaid, svg

PROJECT = Path(__file__).resolve().parents[3]
ROWS = load_control_rows(PROJECT)


def test_mermaid_has_a_box_per_label_and_an_arrow_per_type():
    text = mermaid(ROWS)
    assert text.startswith("flowchart LR\n")
    for node in ROWS.active_nodes:
        assert f'    {node.label}["<b>{node.label}</b><br/>key: ' in text
    for rel in ROWS.active_relationships:
        assert f"    {rel.from_label} -- {rel.relationship_type} --> {rel.to_label}\n" in text
    assert 'IPAddress["<b>IPAddress</b><br/>key: ip_address<br/>one node per distinct key"]' in text


def test_svg_is_one_document_with_a_box_per_label_and_a_line_per_type():
    root = ET.fromstring(svg(ROWS))
    namespace = "{http://www.w3.org/2000/svg}"
    assert root.tag == f"{namespace}svg"
    assert len(root.findall(f"{namespace}rect")) == len(ROWS.active_nodes)
    assert len(root.findall(f"{namespace}line")) == len(ROWS.active_relationships)
    texts = {t.text for t in root.findall(f"{namespace}text")}
    assert {r.relationship_type for r in ROWS.active_relationships} <= texts


def test_the_readme_shows_the_current_model():
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    shown = re.search(r"```mermaid\n(.*?)```", readme, re.S)
    assert shown is not None, "README.md has no mermaid block"
    assert shown.group(1) == mermaid(ROWS), "run `c360-export models diagram` and paste it"
