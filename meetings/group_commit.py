"""Group commit: the requests of one process that want the same statement at
the same moment share one statement and one commit.

A request arriving while nothing of its kind runs goes at once, alone: no
request ever waits for company. While one runs, the threads arriving meanwhile
queue; when it is done, the first of them takes the queue (up to ``limit``)
and runs it as one statement, and so on. Under a burst the database then does
one statement start, one commit and one WAL flush for several requests, and
fewer backends compete for the same locks.

``run_many`` gets the queued items in arrival order and returns, for each, its
result or the exception to raise in that item's thread; it runs in the thread
of whichever request leads the group (with that request's app context).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class _Waiter(Generic[Item, Result]):
    __slots__ = ("item", "woken", "leads", "outcome")

    def __init__(self, item: Item) -> None:
        self.item = item
        self.woken = threading.Event()
        self.leads = False
        self.outcome: Result | BaseException | None = None


class GroupRunner(Generic[Item, Result]):
    """Runs items through ``run_many`` one group at a time (see the module)."""

    def __init__(
        self,
        run_many: Callable[[list[Item]], Sequence[Result | BaseException]],
        limit: int = 32,
    ) -> None:
        self._run_many = run_many
        self.limit = limit
        self._guard = threading.Lock()
        self._queue: list[_Waiter[Item, Result]] = []
        self._busy = False

    def run(self, item: Item) -> Result:
        waiter: _Waiter[Item, Result] = _Waiter(item)
        with self._guard:
            if self._busy:
                self._queue.append(waiter)
            else:
                self._busy = waiter.leads = True
        if not waiter.leads:
            waiter.woken.wait()
        if waiter.leads:
            self._lead(waiter)
        outcome = waiter.outcome
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome  # type: ignore[return-value]

    def _lead(self, leader: _Waiter[Item, Result]) -> None:
        """Run the leader's group: the leader and the queue so far; then hand
        the lead to the first of those who queued meanwhile."""
        group = [leader]
        try:
            with self._guard:
                taken = self.limit - 1
                group += self._queue[:taken]
                del self._queue[:taken]
            try:
                outcomes = list(self._run_many([waiter.item for waiter in group]))
                if len(outcomes) != len(group):
                    raise RuntimeError(f"{len(outcomes)} outcomes for a group of {len(group)}")
            except BaseException as error:  # every member of the group hears of it
                outcomes = [error] * len(group)
            for waiter, outcome in zip(group, outcomes, strict=True):
                waiter.outcome = outcome
        finally:
            with self._guard:
                successor = self._queue.pop(0) if self._queue else None
                self._busy = successor is not None
            if successor is not None:
                successor.leads = True
                successor.woken.set()
            for waiter in group[1:]:
                waiter.woken.set()
