"""The graph model the control rows describe, drawn: Mermaid text and a standalone SVG.

Only the active rows count, as for `models generate`. A label shows its key and
the properties its row names (or that it carries every column not excluded);
a relationship type is an arrow from its start label to its end label.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

from c360.control.model import ControlRows, NodeMapping

ALL_COLUMNS = "all columns not excluded"

# SVG geometry, in pixels: labels sit on a circle, boxes sized to their text.
_CHAR_WIDTH = 7.2
_LINE_HEIGHT = 16
_PADDING = 8
_MARGIN = 40


@dataclass(frozen=True)
class Box:
    label: str
    lines: tuple[str, ...]


def _lines(node: NodeMapping) -> tuple[str, ...]:
    keys = ", ".join(node.key_columns)
    if node.one_node_per_key:
        return (f"key: {keys}", "one node per distinct key")
    properties = ", ".join(node.property_columns) or ALL_COLUMNS
    return (f"key: {keys}", f"properties: {properties}")


def boxes(rows: ControlRows) -> tuple[Box, ...]:
    return tuple(Box(n.label, _lines(n)) for n in rows.active_nodes)


def mermaid(rows: ControlRows) -> str:
    """A Mermaid flowchart: one box per label, one labelled arrow per type."""
    out = ["flowchart LR"]
    for box in boxes(rows):
        text = "<br/>".join((f"<b>{box.label}</b>", *box.lines))
        out.append(f'    {box.label}["{text}"]')
    for rel in sorted(rows.active_relationships, key=lambda r: r.execution_order):
        out.append(f"    {rel.from_label} -- {rel.relationship_type} --> {rel.to_label}")
    return "\n".join(out) + "\n"


def svg(rows: ControlRows) -> str:
    """A standalone SVG: the labels' boxes on a circle, arrows between them."""
    drawn = boxes(rows)
    widths = {
        b.label: _PADDING * 2 + _CHAR_WIDTH * max(len(t) for t in (b.label, *b.lines))
        for b in drawn
    }
    height = _PADDING * 2 + _LINE_HEIGHT * 3
    radius = max(200.0, len(drawn) * 60.0)
    size = 2 * (radius + max(widths.values(), default=0) / 2 + _MARGIN)
    centre = size / 2
    where = {
        b.label: (
            centre + radius * math.cos(2 * math.pi * i / max(len(drawn), 1) - math.pi / 2),
            centre + radius * math.sin(2 * math.pi * i / max(len(drawn), 1) - math.pi / 2),
        )
        for i, b in enumerate(drawn)
    }
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size:.0f}" height="{size:.0f}" '
        f'viewBox="0 0 {size:.0f} {size:.0f}" font-family="monospace" font-size="12">',
        "<defs><marker id='arrow' viewBox='0 0 10 10' refX='10' refY='5' markerWidth='8' "
        "markerHeight='8' orient='auto-start-reverse'><path d='M 0 0 L 10 5 L 0 10 z'/>"
        "</marker></defs>",
    ]
    for rel in rows.active_relationships:
        (x1, y1), (x2, y2) = where[rel.from_label], where[rel.to_label]
        # stop short of the end box, so the arrowhead shows
        length = math.hypot(x2 - x1, y2 - y1) or 1.0
        shorten = height / 2 + 4
        x2, y2 = x2 - (x2 - x1) * shorten / length, y2 - (y2 - y1) * shorten / length
        parts.append(
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
            'stroke="#555" marker-end="url(#arrow)"/>'
        )
        parts.append(
            f'<text x="{(x1 + x2) / 2:.1f}" y="{(y1 + y2) / 2 - 4:.1f}" text-anchor="middle" '
            f'fill="#a33">{escape(rel.relationship_type)}</text>'
        )
    for box in drawn:
        x, y = where[box.label]
        w = widths[box.label]
        parts.append(
            f'<rect x="{x - w / 2:.1f}" y="{y - height / 2:.1f}" width="{w:.1f}" '
            f'height="{height}" rx="6" fill="#eef4fb" stroke="#2b5d8c"/>'
        )
        for i, text in enumerate((box.label, *box.lines)):
            weight = ' font-weight="bold"' if i == 0 else ""
            parts.append(
                f'<text x="{x:.1f}" y="{y - height / 2 + _PADDING + _LINE_HEIGHT * (i + 0.8):.1f}"'
                f' text-anchor="middle"{weight}>{escape(text)}</text>'
            )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
