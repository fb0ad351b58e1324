"""What a failed reconciliation tells the user to run."""

from __future__ import annotations

from c360.export.modes import merge_hint, sync_hint
from c360.export.reconcile import Count

MORE = [Count("node", "Person", expected=19, actual=2000)]
FEWER = [Count("edge", "OWNS", expected=38, actual=30)]


def test_a_sync_short_of_rows_is_repaired_by_a_merge():
    assert "run `c360-export --mode merge` to rewrite" in sync_hint(FEWER)


def test_a_graph_holding_more_than_the_tables_needs_clear():
    assert "run `c360-export --mode merge --clear` to rewrite" in sync_hint(MORE + FEWER)
    assert "--mode merge --clear" in merge_hint(MORE)


def test_a_merge_short_of_rows_gets_no_advice_to_clear():
    assert merge_hint(FEWER) == ""
