"""The graph model drawn from the control rows, and the README showing the current one."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from itertools import combinations
from pathlib import Path

import pytest
from c360.control.load import load_control_rows
from c360.control.model import ControlRows, NodeMapping, RelationshipMapping, RowRef
from c360.transform.diagram import ASSET, exposure_description, mermaid, svg

PROJECT = Path(__file__).resolve().parents[3]
ROWS = load_control_rows(PROJECT)
SVG = "{http://www.w3.org/2000/svg}"
REF = RowRef("test.csv", 2, "test")


def node(label, table, key, properties=(), *, source="bank", one_per_key=False, extension=False):
    return NodeMapping(
        label,
        source,
        table,
        tuple(key.split()),
        tuple(properties),
        one_per_key,
        True,
        "",
        extension,
        REF,
    )


def rel(kind, start, end, order=1, keys=(), properties=()):
    return RelationshipMapping(
        kind,
        start,
        "a",
        end,
        "b",
        None,
        None,
        None,
        None,
        None,
        True,
        order,
        "",
        None,
        tuple(keys),
        tuple(properties),
        REF,
    )


def model(nodes, relationships):
    return ControlRows((), tuple(nodes), (), tuple(relationships), (), {})


# A banking model: 15 labels, 19 types, property extensions, a self-relationship
# with a key and properties, a cycle (Person -> Loan -> Person), long arrows.
BANKING = model(
    [
        node("Person", "persons", "person_id", ("name", "birth_date", "risk_score")),
        node(
            "Person", "mart_person_segments", "person_id", ("segment",), source=None, extension=True
        ),
        node("Person", "kyc_checks", "person_id", source="kyc", extension=True),
        node("Account", "accounts", "account_id", ("iban", "opened_at", "status")),
        node("Address", "addresses", "address_id"),
        node("Phone", "phones", "phone_number", one_per_key=True),
        node("Email", "emails", "email", one_per_key=True),
        node("Card", "cards", "card_id"),
        node("Merchant", "merchants", "merchant_id"),
        node("Device", "logins", "device_id", one_per_key=True),
        node("IPAddress", "logins", "ip", one_per_key=True),
        node("Branch", "branches", "branch_id"),
        node("Loan", "loans", "loan_id"),
        node("Employee", "employees", "employee_id"),
        node("Company", "companies", "company_id"),
        node("Country", "countries", "country_code"),
    ],
    [
        rel("OWNS", "Person", "Account", 1, properties=("since", "role")),
        rel("LIVES_AT", "Person", "Address", 2),
        rel("HAS_PHONE", "Person", "Phone", 3),
        rel("HAS_EMAIL", "Person", "Email", 4),
        rel("TRANSFERRED", "Account", "Account", 5, ("transaction_id",), ("amount", "at")),
        rel("HAS_CARD", "Account", "Card", 6),
        rel("PAID", "Card", "Merchant", 7, ("payment_id",), ("amount", "at")),
        rel("LOGGED_IN_FROM", "Person", "Device", 8),
        rel("USED_IP", "Device", "IPAddress", 9),
        rel("HELD_AT", "Account", "Branch", 10),
        rel("BORROWED", "Person", "Loan", 11),
        rel("MANAGES", "Employee", "Branch", 12),
        rel("WORKS_FOR", "Person", "Company", 13),
        rel("LOCATED_IN", "Address", "Country", 14),
        rel("REGISTERED_IN", "Company", "Country", 15),
        rel("REFERRED", "Employee", "Person", 16),
        rel("GUARANTEES", "Loan", "Person", 17, properties=("share",)),
        rel("MERCHANT_OF", "Merchant", "Company", 18),
        rel("SERVES", "Branch", "Country", 19),
    ],
)


def drawn(rows: ControlRows) -> ET.Element:
    return ET.fromstring(svg(rows))


def groups(root: ET.Element, kind: str) -> dict[str, ET.Element]:
    """The SVG's label boxes or relationship labels, by their title."""
    found = root.findall(f".//{SVG}g[@class='{kind}']")
    return {g.findall(f"{SVG}text")[0].text: g for g in found}


def texts(group: ET.Element) -> list[str]:
    return [t.text or "" for t in group.findall(f"{SVG}text")]


def rectangle(group: ET.Element) -> tuple[float, float, float, float]:
    rect = group.find(f"{SVG}rect")
    assert rect is not None
    x, y = float(rect.get("x", 0)), float(rect.get("y", 0))
    return x, y, x + float(rect.get("width", 0)), y + float(rect.get("height", 0))


def test_mermaid_has_a_box_per_label_and_an_arrow_per_type():
    text = mermaid(ROWS)
    assert text.startswith("flowchart LR\n")
    for node_ in ROWS.active_nodes:
        assert f'    {node_.label}["<b>{node_.label}</b><br/>key: ' in text
    for rel_ in ROWS.active_relationships:
        arrow = f'    {rel_.from_label} -->|"<b>{rel_.relationship_type}</b>'
        assert arrow in text
    assert '"<b>TRANSFERRED</b><br/>one per transaction_id<br/>' in text
    assert 'IPAddress["<b>IPAddress</b><br/>key: ip_address<br/>one node per distinct key"]' in text


def test_a_label_shows_its_extensions_properties_and_where_they_come_from():
    text = mermaid(BANKING)
    person = next(line for line in text.splitlines() if line.startswith("    Person["))
    assert "<br/>+ from model mart_person_segments:<br/>  segment<br/>" in person
    assert "<br/>+ from kyc.kyc_checks:<br/>  every column but the key" in person
    box = texts(groups(drawn(BANKING), "label")["Person"])
    assert box[:2] == ["Person", "key: person_id"]
    assert box.index("+ from model mart_person_segments:") + 1 == box.index("  segment")
    assert box[-2:] == ["+ from kyc.kyc_checks:", "  every column but the key"]


def test_long_property_lists_wrap_between_names():
    rows = model([node("Wide", "wide", "id", [f"column_{n}" for n in range(12)])], [])
    lines = texts(groups(drawn(rows), "label")["Wide"])[1:]
    assert all(len(line) <= 30 for line in lines)
    names = [f"column_{n}," for n in range(11)]
    assert " ".join(lines[1:]).split() == ["properties:", *names, "column_11"]


def test_a_relationship_shows_its_key_and_properties_in_both_formats():
    text = mermaid(BANKING)
    paid = '    Card -->|"<b>PAID</b><br/>one per payment_id<br/>properties: amount, at"| Merchant'
    assert paid in text.splitlines()
    assert '    Person -->|"<b>OWNS</b><br/>properties: since, role"| Account' in text
    tags = groups(drawn(BANKING), "relationship")
    assert texts(tags["PAID"]) == ["PAID", "one per payment_id", "properties: amount, at"]
    assert texts(tags["OWNS"]) == ["OWNS", "properties: since, role"]
    assert texts(tags["HAS_CARD"]) == ["HAS_CARD"]


def test_a_self_relationship_is_a_loop_above_its_box():
    assert '    Account -->|"<b>TRANSFERRED</b><br/>one per transaction_id<br/>' in mermaid(BANKING)
    root = drawn(BANKING)
    (loop,) = root.findall(f".//{SVG}path[@class='loop']")
    box_top = rectangle(groups(root, "label")["Account"])[1]
    ends = re.findall(r"(-?[\d.]+) (-?[\d.]+)", loop.get("d", ""))
    assert float(ends[0][1]) == float(ends[-1][1]) == pytest.approx(box_top, abs=0.1)
    tag = rectangle(groups(root, "relationship")["TRANSFERRED"])
    assert tag[3] < box_top
    arrows = root.findall(f".//{SVG}path[@class='arrow']")
    assert len(arrows) == len(BANKING.active_relationships) - 1


def test_the_relationship_closing_a_cycle_points_backwards():
    rows = model(
        [node("A", "a", "id"), node("B", "b", "id")],
        [rel("TO_B", "A", "B", 1), rel("TO_A", "B", "A", 2)],
    )
    arrows = drawn(rows).findall(f".//{SVG}path[@class='arrow']")
    assert sorted("marker-start" in a.attrib for a in arrows) == [False, True]


@pytest.mark.parametrize("rows", [ROWS, BANKING], ids=["default", "banking"])
def test_no_box_or_relationship_label_overlaps_another(rows):
    root = drawn(rows)
    labels, tags = groups(root, "label"), groups(root, "relationship")
    assert set(labels) == {n.label for n in rows.active_nodes}
    assert set(tags) == {r.relationship_type for r in rows.active_relationships}
    width, height = float(root.get("width", 0)), float(root.get("height", 0))
    boxes = {name: rectangle(g) for name, g in [*labels.items(), *tags.items()]}
    for name, (x1, y1, x2, y2) in boxes.items():
        assert 0 <= x1 < x2 <= width, name
        assert 0 <= y1 < y2 <= height, name
    for (a, (ax1, ay1, ax2, ay2)), (b, (bx1, by1, bx2, by2)) in combinations(boxes.items(), 2):
        assert ax2 <= bx1 or bx2 <= ax1 or ay2 <= by1 or by2 <= ay1, f"{a} overlaps {b}"


def test_mermaid_escapes_what_would_end_a_label_or_read_as_html():
    rows = model(
        [node("Odd", "odd", 'a"b', ("x#1;", "<tag>", "a&b"))],
        [rel("SELF", "Odd", "Odd", 1, ('k"ey',), ("p<1>",))],
    )
    text = mermaid(rows)
    assert "a#quot;b" in text
    assert "x#35;1;, #lt;tag#gt;, a#amp;b" in text
    assert '|"<b>SELF</b><br/>one per k#quot;ey<br/>properties: p#lt;1#gt;"|' in text
    for line in text.splitlines()[1:]:
        assert line.count('"') == 2, line
    assert "&lt;tag&gt;" in svg(rows)


def test_the_exposure_shows_the_svg_and_carries_the_mermaid_text():
    description = exposure_description(ROWS)
    assert description.startswith("The Customer 360 graph in Neo4j, loaded by `c360-export`")
    assert f"![The graph model]({ASSET.as_posix()})" in description
    assert ASSET.as_posix() == "assets/graph-model.svg"
    assert f"```mermaid\n{mermaid(ROWS)}```\n" in description


def test_the_readme_shows_the_current_model():
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    shown = re.search(r"```mermaid\n(.*?)```", readme, re.S)
    assert shown is not None, "README.md has no mermaid block"
    assert shown.group(1) == mermaid(ROWS), "run `c360-export models diagram` and paste it"
