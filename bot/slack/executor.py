"""A thread pool with a bounded queue: work waits for room instead of piling up."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class BoundedExecutor(ThreadPoolExecutor):
    """A thread pool whose queue is bounded: ``submit`` waits while ``threads + backlog``
    tasks are pending.

    The listeners run on one: when Slack sends more than the workers can answer, the backlog
    stops growing (and memory with it) and acknowledgements slow down instead, so the pressure
    shows, rather than answers arriving minutes late from an ever longer queue. The store's
    background writes run on another, with room for bursts.
    """

    def __init__(self, threads: int, backlog: int, name: str = "rolebot-listener") -> None:
        super().__init__(max_workers=threads, thread_name_prefix=name)
        self._room = threading.BoundedSemaphore(threads + backlog)

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        self._room.acquire()
        try:
            future = super().submit(fn, *args, **kwargs)
        except BaseException:
            self._room.release()
            raise
        future.add_done_callback(lambda _: self._room.release())
        return future
