"""The mass-delete guard: a run stops before deleting more of a label or type than allowed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from c360.errors import MassDeleteError


@dataclass(frozen=True)
class Loss:
    """What a run would delete of one label or type that Neo4j holds."""

    what: str
    held: int
    deleting: int


def check_deletes(losses: Iterable[Loss], max_share: float) -> None:
    """MassDeleteError naming each label or type that would lose more than `max_share`."""
    over = [
        f"{loss.what}: {loss.deleting:,} of {loss.held:,} ({loss.deleting / loss.held:.0%})"
        for loss in losses
        if loss.held > 0 and loss.deleting > max_share * loss.held
    ]
    if over:
        raise MassDeleteError(
            f"stopped before deleting more than {max_share:.0%} of what Neo4j holds of "
            + "; ".join(over)
            + ". Nothing was deleted. If that is intended (a source emptied, a mapping "
            "removed), run again with --allow-mass-delete"
        )
