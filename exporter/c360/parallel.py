"""Work shared out to a few threads, each with its own connection."""

from __future__ import annotations

import queue
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


def _drain(pending: queue.SimpleQueue[Item]) -> Iterator[Item]:
    while True:
        try:
            yield pending.get_nowait()
        except queue.Empty:
            return


def share(
    items: Iterable[Item], workers: int, work: Callable[[Iterator[Item]], list[Result]]
) -> list[Result]:
    """Run `work` on `workers` threads at once, all taking the next of `items` in order.

    Each `work` call gets an iterator over the items left and returns its results
    (it typically opens one connection and handles item after item on it); the
    first failure is raised once every thread has stopped.
    """
    pending: queue.SimpleQueue[Item] = queue.SimpleQueue()
    for item in items:
        pending.put(item)

    def run() -> list[Result]:
        try:
            return work(_drain(pending))
        except BaseException:
            # the other threads stop after their current item
            for _ in _drain(pending):
                pass
            raise

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="c360-worker") as pool:
        running = [pool.submit(run) for _ in range(workers)]
        return [result for future in running for result in future.result()]
