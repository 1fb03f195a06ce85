"""``GroupRunner``: requests arriving together share one run, none waits for company."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from meetings.group_commit import GroupRunner


class Recorder:
    """``run_many`` that records its groups; the first group waits until
    ``queued`` more items are in the runner's queue (so that they form the
    next group), then answers each item with its double, or the item's
    exception."""

    def __init__(self, queued: int = 0) -> None:
        self.groups: list[list] = []
        self.queued = queued
        self.runner: GroupRunner | None = None

    def __call__(self, items: list) -> list:
        if not self.groups and self.queued:
            deadline = time.monotonic() + 10
            while len(self.runner._queue) < self.queued and time.monotonic() < deadline:
                time.sleep(0.001)
        self.groups.append(list(items))
        return [item if isinstance(item, Exception) else item * 2 for item in items]


def runner_with(recorder: Recorder, limit: int = 32) -> GroupRunner:
    recorder.runner = GroupRunner(recorder, limit)
    return recorder.runner


def run_together(runner: GroupRunner, first, rest: list) -> list:
    """Run ``first``, and ``rest`` from other threads while it runs; the outcomes
    (a result or the exception raised) in the order given."""

    def outcome(item):
        try:
            return runner.run(item)
        except Exception as error:  # noqa: BLE001 — the outcome under test
            return error

    with ThreadPoolExecutor(len(rest) + 1) as pool:
        leader = pool.submit(outcome, first)
        while not runner._busy:
            time.sleep(0.001)
        followers = [pool.submit(outcome, item) for item in rest]
        return [leader.result(10)] + [future.result(10) for future in followers]


def test_a_lone_item_runs_at_once_alone():
    recorder = Recorder()
    runner = runner_with(recorder)
    assert runner.run(21) == 42
    assert runner.run(5) == 10
    assert recorder.groups == [[21], [5]]
    assert not runner._busy and not runner._queue


def test_items_arriving_while_one_runs_go_together_next_each_with_its_own_result():
    recorder = Recorder(queued=4)
    runner = runner_with(recorder)
    outcomes = run_together(runner, 1, [2, 3, 4, 5])
    assert outcomes == [2, 4, 6, 8, 10]
    assert recorder.groups[0] == [1]
    assert sorted(recorder.groups[1]) == [2, 3, 4, 5]
    assert not runner._busy and not runner._queue


def test_a_group_holds_at_most_limit_items():
    recorder = Recorder(queued=5)
    runner = runner_with(recorder, limit=2)
    outcomes = run_together(runner, 1, [2, 3, 4, 5, 6])
    assert outcomes == [2, 4, 6, 8, 10, 12]
    assert [len(group) for group in recorder.groups] == [1, 2, 2, 1]


def test_an_items_exception_is_raised_in_its_own_thread_only():
    recorder = Recorder(queued=2)
    runner = runner_with(recorder)
    refused = ValueError("not this one")
    outcomes = run_together(runner, 1, [refused, 3])
    assert outcomes == [2, refused, 6]


def test_when_the_run_fails_every_member_of_the_group_hears_of_it_and_the_runner_goes_on():
    runs = []

    def broken(items):
        runs.append(items)
        if len(runs) == 2:
            raise RuntimeError("the database went away")
        if len(runs) == 1:
            while len(runner._queue) < 2:
                time.sleep(0.001)
        return [item * 2 for item in items]

    runner = GroupRunner(broken)
    outcomes = run_together(runner, 1, [2, 3])
    assert outcomes[0] == 2
    assert all(isinstance(outcome, RuntimeError) for outcome in outcomes[1:])
    assert runner.run(4) == 8  # the lead was handed on, nothing is stuck


def test_a_wrong_number_of_outcomes_is_an_error_for_every_member():
    runner = GroupRunner(lambda items: [])
    with pytest.raises(RuntimeError, match="0 outcomes for a group of 1"):
        runner.run(1)
    assert not runner._busy


def test_many_threads_each_get_their_own_result():
    recorder = Recorder()
    runner = runner_with(recorder, limit=8)
    start = threading.Barrier(16)

    def run(item):
        start.wait()
        return runner.run(item)

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(run, range(16)))
    assert results == [item * 2 for item in range(16)]
    assert sorted(item for group in recorder.groups for item in group) == list(range(16))
    assert max(len(group) for group in recorder.groups) <= 8
