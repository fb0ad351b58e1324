"""The mass-delete guard."""

from __future__ import annotations

import pytest
from c360.errors import MassDeleteError
from c360.export.guard import Loss, check_deletes


def test_deleting_up_to_the_share_passes():
    check_deletes([Loss("label A", 10, 5), Loss("type T", 0, 0)], 0.5)


def test_deleting_more_than_the_share_names_every_label_and_type_over_it():
    with pytest.raises(MassDeleteError) as stopped:
        check_deletes([Loss("label A", 10, 6), Loss("label B", 10, 1), Loss("type T", 4, 4)], 0.5)
    message = str(stopped.value)
    assert "label A: 6 of 10 (60%)" in message
    assert "type T: 4 of 4 (100%)" in message
    assert "label B" not in message
    assert "--allow-mass-delete" in message


def test_a_share_of_zero_forbids_any_delete():
    with pytest.raises(MassDeleteError):
        check_deletes([Loss("label A", 1000, 1)], 0.0)
