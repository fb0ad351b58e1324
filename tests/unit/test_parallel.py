"""Work shared out to threads: every item once, in order, and the first failure raised."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from c360 import parallel


def test_every_item_is_handled_once_by_some_worker() -> None:
    seen: list[tuple[str, int]] = []

    def work(items: Iterator[int]) -> list[int]:
        mine = list(items)
        seen.extend((threading.current_thread().name, i) for i in mine)
        return mine

    results = parallel.share(range(100), 3, work)
    assert sorted(results) == list(range(100))
    assert sorted(i for _, i in seen) == list(range(100))


def test_a_failure_is_raised_and_stops_the_other_workers() -> None:
    handled: list[int] = []

    def work(items: Iterator[int]) -> list[int]:
        for item in items:
            if item == 3:
                raise ValueError("item 3 is bad")
            time.sleep(0.001)  # a worker's real item takes a while
            handled.append(item)
        return []

    with pytest.raises(ValueError, match="item 3 is bad"):
        parallel.share(range(1000), 2, work)
    # the queue was emptied when item 3 failed: far fewer than 1000 were handled
    assert len(handled) < 100


def test_items_are_drawn_as_the_workers_take_them() -> None:
    drawn: list[int] = []

    def stream() -> Iterator[int]:
        for i in range(1_000_000):
            drawn.append(i)
            yield i

    def work(items: Iterator[int]) -> list[int]:
        # each worker takes two items and stops: nothing else may be read
        return [next(items), next(items)]

    assert sorted(parallel.share(stream(), 2, work)) == [0, 1, 2, 3]
    assert len(drawn) == 4
