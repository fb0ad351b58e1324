"""The graph model the control rows describe, drawn: Mermaid text, a standalone
SVG, and the Markdown the `neo4j_graph` exposure shows in dbt docs.

Only the active rows count, as for `models generate`. A label shows its key and
its properties: those its row names (or every column not excluded), then those
each property extension adds, with the table or model they come from. A
relationship type is an arrow from its start label to its end label, labelled
with its type and, when it has them, its key and its other properties.

The SVG is laid out in columns, left to right as Mermaid's `flowchart LR` is:
a label stands one column right of the furthest label with an arrow to it, a
relationship's label stands in the gap after its start label, an arrow longer
than one column keeps a lane free through each column it crosses, and a
relationship from a label to itself is a loop above the label's box.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from itertools import accumulate, combinations
from pathlib import Path
from statistics import fmean

from c360.control.model import ControlRows, NodeMapping, RelationshipMapping

ALL_COLUMNS = "all columns not excluded"
EXTENSION_ALL = "every column but the key"
# Where `models generate` writes the SVG, relative to the project. dbt copies its
# asset-paths into target/, so dbt docs finds it at the same path relative to
# its index.html.
ASSET = Path("assets") / "graph-model.svg"
# A box's lines wrap between names at this many characters: narrow boxes keep
# the picture narrow, so that dbt docs, fitting it to the page, shrinks it less.
WRAP = 30


@dataclass(frozen=True)
class Box:
    """What a label's box or a relationship's label says: a title, then lines."""

    title: str
    lines: tuple[str, ...]


# ---- what the picture says ---------------------------------------------------


def _listing(head: str, names: Sequence[str]) -> list[str]:
    """`head` then the names, comma-separated, wrapped between names at WRAP
    (a name longer than that stands alone on its line)."""
    lines = [head]
    for i, name in enumerate(names):
        item = f"{name}," if i < len(names) - 1 else name
        if len(lines[-1]) + 1 + len(item) > WRAP:
            lines.append(f"  {item}")
        else:
            lines[-1] += f" {item}"
    return lines


def _label_lines(node: NodeMapping, extensions: Sequence[NodeMapping]) -> tuple[str, ...]:
    lines = _listing("key:", node.key_columns)
    if node.one_node_per_key:
        lines.append("one node per distinct key")
    else:
        lines += _listing("properties:", node.property_columns or (ALL_COLUMNS,))
    for extension in extensions:
        added = extension.property_columns or (EXTENSION_ALL,)
        lines += _listing(f"+ from {extension.table}:", added)
    return tuple(lines)


def label_boxes(rows: ControlRows) -> tuple[Box, ...]:
    """One box per active label, in row order."""
    return tuple(
        Box(n.label, _label_lines(n, rows.extensions_of(n.label))) for n in rows.active_nodes
    )


def relationship_box(rel: RelationshipMapping) -> Box:
    """The type, then `one per` its key columns and its other properties, if any."""
    lines = _listing("one per", rel.key_columns) if rel.key_columns else []
    others = [p for p in rel.property_columns if p not in rel.key_columns]
    if others:
        lines += _listing("properties:", others)
    return Box(rel.relationship_type, tuple(lines))


def _relationships(rows: ControlRows) -> list[RelationshipMapping]:
    return sorted(rows.active_relationships, key=lambda r: r.execution_order)


# ---- Mermaid -------------------------------------------------------------------


def mermaid(rows: ControlRows) -> str:
    """A Mermaid flowchart: one box per label, one labelled arrow per type."""
    out = ["flowchart LR"]
    for box in label_boxes(rows):
        out.append(f'    {box.title}["{_mermaid_label(box)}"]')
    for rel in _relationships(rows):
        label = _mermaid_label(relationship_box(rel))
        out.append(f'    {rel.from_label} -->|"{label}"| {rel.to_label}')
    return "\n".join(out) + "\n"


def _mermaid_label(box: Box) -> str:
    """The text of a quoted Mermaid label: the title in bold, a <br/> per line."""
    return "<br/>".join((f"<b>{_mermaid_escape(box.title)}</b>", *map(_mermaid_escape, box.lines)))


def _mermaid_escape(text: str) -> str:
    """Text Mermaid shows as written inside a quoted label, which it reads as HTML
    and where it knows no backslash escapes, only its entity codes."""
    # '#' first: every code starts with one
    for char, code in (
        ("#", "#35;"),
        ('"', "#quot;"),
        ("&", "#amp;"),
        ("<", "#lt;"),
        (">", "#gt;"),
    ):
        text = text.replace(char, code)
    return text


# ---- dbt docs ------------------------------------------------------------------


def exposure_description(rows: ControlRows) -> str:
    """The `neo4j_graph` exposure's Markdown: what the graph is, the SVG that
    `models generate` writes (shown by dbt docs), and the same model as Mermaid
    text for readers of the YAML or the manifest."""
    return (
        "The Customer 360 graph in Neo4j, loaded by `c360-export` from "
        "graph.graph_catalog and the node and edge tables it lists.\n\n"
        f"![The graph model]({ASSET.as_posix()})\n\n"
        f"```mermaid\n{mermaid(rows)}```\n"
    )


# ---- SVG: layout -----------------------------------------------------------------

# Geometry, in pixels, for a 12px monospace font.
_CHAR = 7.25
_LINE = 16
_PAD = 8
_RULE = 6  # below a box's title
_MARGIN = 24
_COLUMN_GAP = 48  # between columns: room for an arrow's bend
_ROW_GAP = 20  # between things in one column
_LANE = 8  # what an arrow crossing a column keeps free there
_LOOP = 28  # height of a loop above its box
_PORT_STEP = 10  # between arrows leaving or entering one side of a box
_SWEEPS = 8


@dataclass
class _Slot:
    """A place in a column: a label (its box, and above it its loops' labels),
    a relationship's label, or the lane of an arrow crossing the column."""

    column: int
    width: float
    height: float
    top: float = 0.0

    @property
    def middle(self) -> float:
        return self.top + self.height / 2


@dataclass(frozen=True)
class _Arrow:
    """A relationship between two labels, drawn left to right through `chain`:
    its start label's slot, its label's, its lanes', its end label's; `backward`
    when the relationship goes right to left (it closed a cycle)."""

    box: Box
    chain: tuple[str, ...]
    backward: bool


@dataclass(frozen=True)
class _Layout:
    boxes: Mapping[str, Box]
    loops: Mapping[str, tuple[Box, ...]]
    slots: Mapping[str, _Slot]
    columns: Sequence[Sequence[str]]
    arrows: Sequence[_Arrow]
    column_left: Sequence[float]
    column_width: Sequence[float]


def _text_width(lines: Sequence[str]) -> float:
    return _CHAR * max(map(len, lines))


def _box_size(box: Box) -> tuple[float, float]:
    """A label's box: padding round its text, a rule under its title."""
    return (
        2 * _PAD + _text_width((box.title, *box.lines)),
        2 * _PAD + _RULE + _LINE * (1 + len(box.lines)),
    )


def _tag_size(box: Box) -> tuple[float, float]:
    """A relationship's label: no rule under the title, less padding."""
    return _PAD + _text_width((box.title, *box.lines)), _PAD + _LINE * (1 + len(box.lines))


def _loop_space(loops: Sequence[Box]) -> float:
    """Height above a box for its loops and their labels, stacked."""
    if not loops:
        return 0.0
    return _loop_height(len(loops) - 1) * 0.75 + sum(_tag_size(b)[1] + 4 for b in loops)


def _loop_height(index: int) -> float:
    return _LOOP + 14 * index


def _backward(labels: Sequence[str], arrows: Sequence[tuple[str, str]]) -> set[int]:
    """Indexes of the arrows closing a cycle, found depth first in row order:
    drawn right to left, so that all the others can go left to right."""
    out: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for i, (start, end) in enumerate(arrows):
        out[start].append((i, end))
    on_path: set[str] = set()
    done: set[str] = set()
    backward: set[int] = set()

    def visit(label: str) -> None:
        on_path.add(label)
        for i, end in out[label]:
            if end in on_path:
                backward.add(i)
            elif end not in done:
                visit(end)
        on_path.discard(label)
        done.add(label)

    for label in labels:
        if label not in done:
            visit(label)
    return backward


def _layers(labels: Sequence[str], arrows: Sequence[tuple[str, str]]) -> dict[str, int]:
    """Each label's layer: one more than the furthest label with an arrow to it
    (the arrows acyclic, so len(labels) rounds settle it)."""
    layer = dict.fromkeys(labels, 0)
    for _ in labels:
        for start, end in arrows:
            layer[end] = max(layer[end], layer[start] + 1)
    return layer


def _layout(rows: ControlRows) -> _Layout:
    boxes = {b.title: b for b in label_boxes(rows)}
    loops: dict[str, list[Box]] = defaultdict(list)
    between = []
    for rel in _relationships(rows):
        if rel.from_label == rel.to_label:
            loops[rel.from_label].append(relationship_box(rel))
        else:
            between.append(rel)
    pairs = [(r.from_label, r.to_label) for r in between]
    backward = _backward(list(boxes), pairs)
    pairs = [(e, s) if i in backward else (s, e) for i, (s, e) in enumerate(pairs)]
    layer = _layers(list(boxes), pairs)
    slots: dict[str, _Slot] = {}
    for label, box in boxes.items():
        width, height = _box_size(box)
        above = loops[label]
        wide = max([width, *(_tag_size(b)[0] for b in above)])
        slots[label] = _Slot(2 * layer[label], wide, height + _loop_space(above))
    arrows = []
    for i, (rel, (start, end)) in enumerate(zip(between, pairs, strict=True)):
        box = relationship_box(rel)
        first = 2 * layer[start] + 1
        slots[f"{i}:label"] = _Slot(first, *_tag_size(box))
        for column in range(first + 1, 2 * layer[end]):
            slots[f"{i}:{column}"] = _Slot(column, 0.0, _LANE)
        lanes = [f"{i}:{c}" for c in range(first + 1, 2 * layer[end])]
        chain = (start, f"{i}:label", *lanes, end)
        arrows.append(_Arrow(box, chain, i in backward))
    columns: list[list[str]] = [[] for _ in range(2 * max(layer.values(), default=0) + 1)]
    for key, slot in slots.items():
        columns[slot.column].append(key)
    left, right = _neighbours(arrows)
    _order(columns, left, right)
    _place(columns, slots, left, right)
    widths = [max([slots[k].width for k in c], default=0.0) for c in columns]
    lefts = list(accumulate((w + _COLUMN_GAP for w in widths[:-1]), initial=float(_MARGIN)))
    return _Layout(
        boxes, {k: tuple(v) for k, v in loops.items()}, slots, columns, arrows, lefts, widths
    )


def _neighbours(
    arrows: Sequence[_Arrow],
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """For each slot, the slots an arrow joins it to in the column to its left,
    and in the column to its right."""
    left: dict[str, list[str]] = defaultdict(list)
    right: dict[str, list[str]] = defaultdict(list)
    for arrow in arrows:
        for a, b in zip(arrow.chain, arrow.chain[1:], strict=False):
            right[a].append(b)
            left[b].append(a)
    return left, right


def _order(
    columns: list[list[str]], left: Mapping[str, list[str]], right: Mapping[str, list[str]]
) -> None:
    """Order each column to cross few arrows: sweeps sorting a column by where its
    slots' neighbours stand (the barycentre heuristic), keeping the best order."""
    best, fewest = [list(c) for c in columns], _crossings(columns, right)
    for _ in range(_SWEEPS):
        for i in range(1, len(columns)):
            _sort_by(columns[i], columns[i - 1], left)
        for i in range(len(columns) - 2, -1, -1):
            _sort_by(columns[i], columns[i + 1], right)
        crossings = _crossings(columns, right)
        if crossings < fewest:
            best, fewest = [list(c) for c in columns], crossings
    columns[:] = best


def _sort_by(column: list[str], beside: Sequence[str], neighbours: Mapping[str, list[str]]) -> None:
    where = {key: (i + 0.5) / len(beside) for i, key in enumerate(beside)}

    def rank(item: tuple[int, str]) -> float:
        i, key = item
        near = [where[n] for n in neighbours.get(key, ())]
        # a slot with no neighbour there keeps its place
        return fmean(near) if near else (i + 0.5) / len(column)

    column[:] = [key for _, key in sorted(enumerate(column), key=rank)]


def _crossings(columns: Sequence[Sequence[str]], right: Mapping[str, list[str]]) -> int:
    where = {key: i for column in columns for i, key in enumerate(column)}
    count = 0
    for column in columns:
        joins = [(where[a], where[b]) for a in column for b in right.get(a, ())]
        count += sum((a1 - a2) * (b1 - b2) < 0 for (a1, b1), (a2, b2) in combinations(joins, 2))
    return count


def _place(
    columns: Sequence[Sequence[str]],
    slots: Mapping[str, _Slot],
    left: Mapping[str, list[str]],
    right: Mapping[str, list[str]],
) -> None:
    """Each slot's top: near the middle of its neighbours, sweeping both ways,
    never closer than _ROW_GAP to the next in its column; then the whole moved
    down to the margin."""
    for column in columns:
        _pack(column, slots, [0.0] * len(column))
    for _ in range(_SWEEPS):
        for column in [*columns, *reversed(columns)]:
            wanted = []
            for key in column:
                near = [slots[n].middle for n in (*left.get(key, ()), *right.get(key, ()))]
                middle = fmean(near) if near else slots[key].middle
                wanted.append(middle - slots[key].height / 2)
            _pack(column, slots, wanted)
    shift = _MARGIN - min((s.top for s in slots.values()), default=0.0)
    for slot in slots.values():
        slot.top += shift


def _pack(column: Sequence[str], slots: Mapping[str, _Slot], wanted: Sequence[float]) -> None:
    """Set the column's tops as near `wanted` as can be (least squares) in this
    order, _ROW_GAP apart: isotonic regression by pooling adjacent violators,
    on the tops less the room the slots above need."""
    heights = [slots[k].height + _ROW_GAP for k in column]
    room = list(accumulate(heights[:-1], initial=0.0))
    pools: list[tuple[float, int]] = []  # (mean, size)
    for value in (w - r for w, r in zip(wanted, room, strict=True)):
        mean, size = value, 1
        while pools and pools[-1][0] > mean:
            above, count = pools.pop()
            mean, size = (above * count + mean * size) / (count + size), count + size
        pools.append((mean, size))
    tops = [mean for mean, size in pools for _ in range(size)]
    for key, top, r in zip(column, tops, room, strict=True):
        slots[key].top = top + r


# ---- SVG: drawing ----------------------------------------------------------------


def svg(rows: ControlRows) -> str:
    """A standalone SVG of the model, laid out left to right (see the module's doc)."""
    layout = _layout(rows)
    width = layout.column_left[-1] + layout.column_width[-1] + _MARGIN if layout.columns else 0
    height = max((s.top + s.height for s in layout.slots.values()), default=0.0) + _MARGIN
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="monospace" font-size="12">',
        "<defs><marker id='arrow' viewBox='0 0 10 10' refX='10' refY='5' markerWidth='8' "
        "markerHeight='8' orient='auto-start-reverse'><path d='M 0 0 L 10 5 L 0 10 z' "
        "fill='#555'/></marker></defs>",
        '<rect width="100%" height="100%" fill="#fff"/>',
    ]
    # the arrows first: their labels and the boxes hide what passes behind them
    for arrow, ports in zip(layout.arrows, _ports(layout), strict=True):
        parts.append(_arrow(layout, arrow, ports))
    for arrow in layout.arrows:
        key = arrow.chain[1]
        parts.extend(_tag(arrow.box, _centre(layout, key), layout.slots[key].top))
    for label, box in layout.boxes.items():
        parts.extend(_label(layout, label, box))
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _centre(layout: _Layout, key: str) -> float:
    column = layout.slots[key].column
    return layout.column_left[column] + layout.column_width[column] / 2


def _box_top(layout: _Layout, label: str) -> float:
    """A label's box sits at the bottom of its slot, below its loops."""
    slot = layout.slots[label]
    return slot.top + slot.height - _box_size(layout.boxes[label])[1]


def _ports(layout: _Layout) -> list[tuple[float, float]]:
    """Per arrow, where it leaves its left box and enters its right one: the
    arrows on one side of a box spread along it, in the order of where they go."""
    ends: list[list[float]] = [[0.0, 0.0] for _ in layout.arrows]
    for side, (own, other) in enumerate(((0, 1), (-1, -2))):
        sharing: dict[str, list[int]] = defaultdict(list)
        for i, arrow in enumerate(layout.arrows):
            sharing[arrow.chain[own]].append(i)
        for label, arrows in sharing.items():
            arrows.sort(key=lambda i: layout.slots[layout.arrows[i].chain[other]].middle)
            height = _box_size(layout.boxes[label])[1]
            step = min(_PORT_STEP, (height - 2 * _PAD) / len(arrows))
            middle = _box_top(layout, label) + height / 2
            for n, i in enumerate(arrows):
                ends[i][side] = middle + (n - (len(arrows) - 1) / 2) * step
    return [(start, end) for start, end in ends]


def _arrow(layout: _Layout, arrow: _Arrow, ports: tuple[float, float]) -> str:
    """The arrow as one path: straight through each column it crosses (its
    label's, its lanes'), bending only in the gaps between columns."""
    start, *between, end = arrow.chain
    half_start = _box_size(layout.boxes[start])[0] / 2
    half_end = _box_size(layout.boxes[end])[0] / 2
    column = layout.slots[start].column
    column_right = layout.column_left[column] + layout.column_width[column]
    x, y = _centre(layout, start) + half_start, ports[0]
    path = [f"M {x:.1f} {y:.1f}", f"L {column_right:.1f} {y:.1f}"]
    x = column_right
    for key in between:
        column = layout.slots[key].column
        to_y = layout.slots[key].middle
        path.append(_bend(x, y, layout.column_left[column], to_y))
        x, y = layout.column_left[column] + layout.column_width[column], to_y
        path.append(f"L {x:.1f} {y:.1f}")
    column = layout.slots[end].column
    path.append(_bend(x, y, layout.column_left[column], ports[1]))
    path.append(f"L {_centre(layout, end) - half_end:.1f} {ports[1]:.1f}")
    head = "marker-start" if arrow.backward else "marker-end"
    return (
        f'<path class="arrow" d="{" ".join(path)}" fill="none" stroke="#555" {head}="url(#arrow)"/>'
    )


def _bend(x1: float, y1: float, x2: float, y2: float) -> str:
    """A curve from the current point (x1, y1) to (x2, y2), level at both ends."""
    mid = (x1 + x2) / 2
    return f"C {mid:.1f} {y1:.1f} {mid:.1f} {y2:.1f} {x2:.1f} {y2:.1f}"


def _tag(box: Box, centre: float, top: float) -> list[str]:
    """A relationship's label, on a white ground hiding the arrow behind it."""
    width, height = _tag_size(box)
    parts = [
        '<g class="relationship">',
        f'<rect x="{centre - width / 2:.1f}" y="{top:.1f}" width="{width:.1f}" '
        f'height="{height:.1f}" rx="4" fill="#fff" stroke="#ddd"/>',
        f'<text x="{centre:.1f}" y="{top + _PAD / 2 + _LINE * 0.75:.1f}" text-anchor="middle" '
        f'font-weight="bold" fill="#a33">{escape(box.title)}</text>',
    ]
    for i, text in enumerate(box.lines):
        parts.append(
            f'<text x="{centre - width / 2 + _PAD / 2:.1f}" '
            f'y="{top + _PAD / 2 + _LINE * (i + 1.75):.1f}" fill="#333" '
            f'xml:space="preserve">{escape(text)}</text>'
        )
    parts.append("</g>")
    return parts


def _label(layout: _Layout, label: str, box: Box) -> list[str]:
    """A label's box: its name centred over a rule, its lines left-aligned; above
    it, its loops, each with its relationship's label."""
    width, height = _box_size(box)
    x, y = _centre(layout, label) - width / 2, _box_top(layout, label)
    parts = [
        '<g class="label">',
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" rx="6" '
        'fill="#eef4fb" stroke="#2b5d8c"/>',
        f'<text x="{x + width / 2:.1f}" y="{y + _PAD + _LINE * 0.75:.1f}" text-anchor="middle" '
        f'font-weight="bold">{escape(box.title)}</text>',
        f'<line x1="{x:.1f}" y1="{y + _PAD + _LINE + _RULE / 2:.1f}" x2="{x + width:.1f}" '
        f'y2="{y + _PAD + _LINE + _RULE / 2:.1f}" stroke="#2b5d8c" stroke-opacity="0.4"/>',
    ]
    for i, text in enumerate(box.lines):
        parts.append(
            f'<text x="{x + _PAD:.1f}" y="{y + _PAD + _RULE + _LINE * (i + 1.75):.1f}" '
            f'xml:space="preserve">{escape(text)}</text>'
        )
    parts.append("</g>")
    loops = layout.loops.get(label, ())
    centre = x + width / 2
    # a curve's top is 3/4 of its control points' height
    tag_bottom = y - _loop_height(len(loops) - 1) * 0.75 - 4
    for i, loop in enumerate(loops):
        right, left, top = (
            centre + width / 4 + 8 * i,
            centre - width / 4 - 8 * i,
            y - _loop_height(i),
        )
        parts.append(
            f'<path class="loop" d="M {right:.1f} {y:.1f} C {right:.1f} {top:.1f} {left:.1f} '
            f'{top:.1f} {left:.1f} {y:.1f}" fill="none" stroke="#555" marker-end="url(#arrow)"/>'
        )
        tag_bottom -= _tag_size(loop)[1] + 4
        parts.extend(_tag(loop, centre, tag_bottom + 4))
    return parts
