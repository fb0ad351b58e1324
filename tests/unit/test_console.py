"""Counts in messages agree with their nouns."""

from __future__ import annotations

import pytest
from c360.console import counted


@pytest.mark.parametrize(
    ("count", "expected"),
    [(0, "0 labels"), (1, "1 label"), (2, "2 labels"), (12345, "12,345 labels")],
)
def test_a_count_takes_the_noun_in_its_number(count, expected):
    assert counted(count, "label") == expected
