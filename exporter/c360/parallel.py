"""Work shared out to a few threads, each with its own connection or session."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


def share(
    items: Iterable[Item], workers: int, work: Callable[[Iterator[Item]], list[Result]]
) -> list[Result]:
    """Run `work` on `workers` threads at once, all taking the next of `items` in order.

    Each `work` call gets an iterator over the items left and returns its results
    (it typically opens one connection and handles item after item on it).
    Items are drawn one at a time, so `items` may be a stream larger than memory.
    After the first failure, in a thread or in the caller (Ctrl-C), no thread
    takes another item; the failure is raised once every thread has stopped.
    """
    source = iter(items)
    drawing = threading.Lock()
    stop = threading.Event()

    def mine() -> Iterator[Item]:
        while not stop.is_set():
            with drawing:
                item = next(source, _END)
            if item is _END:
                return
            yield item  # type: ignore[misc]

    def run() -> list[Result]:
        try:
            return work(mine())
        except BaseException:
            stop.set()
            raise

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="c360-worker") as pool:
        running = [pool.submit(run) for _ in range(workers)]
        try:
            return [result for future in running for result in future.result()]
        except BaseException:
            stop.set()
            raise


_END = object()
