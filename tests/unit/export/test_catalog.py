"""Choosing what an export writes: labels, types, and the mode `auto` stands for."""

from __future__ import annotations

import pytest
from c360.errors import ConfigError
from c360.export.catalog import Column, GraphPlan, LabelPlan, TypePlan
from c360.export.options import ExportOptions
from c360.export.pipeline import choose_mode


def label(name: str) -> LabelPlan:
    return LabelPlan(name, f"node_{name.lower()}", (Column("id", "text"),), ())


def edge(name: str, start: str, end: str) -> TypePlan:
    return TypePlan(
        name,
        f"edge_{name.lower()}",
        start,
        end,
        (Column("start_id", "text"),),
        (Column("end_id", "text"),),
        ("id",),
        ("id",),
        (),
    )


PLAN = GraphPlan(
    (label("A"), label("B"), label("C")),
    (edge("AB", "A", "B"), edge("BC", "B", "C")),
)


def names(plan: GraphPlan) -> tuple[list[str], list[str]]:
    return [p.name for p in plan.labels], [p.name for p in plan.types]


def test_no_selection_is_everything():
    assert PLAN.select() is PLAN


def test_labels_bring_the_types_between_them_only():
    assert names(PLAN.select(labels=["A", "B"])) == (["A", "B"], ["AB"])


def test_types_alone_bring_no_labels():
    assert names(PLAN.select(types=["BC"])) == ([], ["BC"])


def test_an_unknown_name_is_refused_with_the_known_ones():
    with pytest.raises(ConfigError, match="known labels: A, B, C"):
        PLAN.select(labels=["Z"])
    with pytest.raises(ConfigError, match="known types: AB, BC"):
        PLAN.select(types=["ZZ"])


def never() -> bool:
    raise AssertionError("the record was consulted where it cannot matter")


@pytest.mark.parametrize(
    ("options", "empty", "local", "on_record", "expected"),
    [
        (ExportOptions(), True, True, never, "bulk"),
        (ExportOptions(labels=("A",)), True, True, never, "merge"),
        (ExportOptions(), True, False, never, "merge"),
        (ExportOptions(), False, True, lambda: True, "sync"),
        (ExportOptions(), False, True, lambda: False, "merge"),
        (ExportOptions(clear=True), False, True, never, "merge"),
        (ExportOptions(mode="cypher"), False, True, never, "cypher"),
    ],
)
def test_auto_is_bulk_for_an_empty_local_graph_sync_once_recorded_else_merge(
    options, empty, local, on_record, expected
):
    assert choose_mode(options, empty=empty, local=local, on_record=on_record) == expected
