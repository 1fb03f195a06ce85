"""Crash safety: ballots when the server is killed in the middle of a burst (issue 6).

gunicorn serves the real app on a database of this module's own
(``live_server``); 300 voters send their ballots at once, and when a third of
them hold a receipt the server gets SIGKILL: no shutdown, no rollback by the
app. Once in the workers only (the master starts new ones), once in the
whole process group (then a new gunicorn is started on the same database).

A ballot is one transaction: the voter's line on the roll (``poll_vote``),
the ballot, its choices and its audit entry commit together or not at all.
So afterwards every ballot answered 201 is stored as it was sent; a request
the kill cut off was committed or not, never in part, and the voter who sends
it again learns which: 201 with a receipt if it was not, 409 already_voted if
it was; no voter has two ballots, the audit chain verifies, and on SQLite the
file passes ``integrity_check`` and the app's writer lock (``<db>-writer``,
see ``meetings.database``) held by a killed worker is free again. Whether a
kill lands while a worker holds that lock is chance; the last test kills a
writer in its transaction on purpose.
"""

from __future__ import annotations

import contextlib
import fcntl
import http.client
import itertools
import os
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from conftest import _on_postgres
from live_server import (
    PROJECT_ROOT,
    Served,
    Server,
    ballots_of,
    open_poll,
    own_database,
    serve_meeting,
    stored,
)

from meetings.audit.models import AuditEntry
from meetings.audit.services import verify_chain
from meetings.database import SQLiteConnection
from meetings.polls import services as poll_services
from meetings.polls.models import PollVote

pytestmark = pytest.mark.slow

VOTERS = 300
WORKERS, THREADS = 3, 6
CLIENTS = 32  # requests in flight at once, more than the server's 18 threads
KILL_AFTER = VOTERS // 3  # receipts handed out before the kill
BURST_SECONDS = 180  # one burst of requests at most

Ballots = list[tuple[int, ...]]  # the option ids each voter sends, by voter


@dataclass
class Polls:
    workers_killed: tuple[int, list[int]]  # named multiple choice
    all_killed: tuple[int, list[int]]  # secret yes/no/abstain


def open_polls(secretary, item) -> Polls:
    choices = [poll_services.OptionSpec(label) for label in ("设道闸", "限时停车", "移交市政")]
    return Polls(
        workers_killed=open_poll(
            secretary,
            item,
            "可接受的方案",
            "multiple",
            secret=False,
            options=choices,
            max_choices=2,
        ),
        all_killed=open_poll(secretary, item, "是否设置道闸", "yes_no_abstain", secret=True),
    )


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[Served[Polls]]:
    with (
        own_database(tmp_path_factory) as url,
        serve_meeting(url, tmp_path_factory.mktemp("crash-instance"), VOTERS, open_polls) as served,
    ):
        yield served


@pytest.fixture
def launch(served, tmp_path) -> Iterator[Callable[[], Server]]:
    """Start gunicorn on the served database, serving once this returns.
    Every server started is stopped at the end of the test and what it logged
    is printed, which pytest shows when the test fails."""
    numbers = itertools.count(1)
    with contextlib.ExitStack() as stack:

        def start() -> Server:
            number = next(numbers)
            server = Server(served.url, tmp_path / f"gunicorn-{number}.log", WORKERS, THREADS)
            # Run last in, first out: stopped first, then its output.
            stack.callback(lambda: print(f"--- gunicorn {number} ---\n{server.output()}"))
            stack.callback(server.stop)
            server.wait_until_serving(served.secretary_token, served.polls.all_killed[0])
            return server

        yield start


# --- helpers ---------------------------------------------------------------------------


def send(server: Server, poll_id: int, token: str, options: tuple[int, ...]) -> tuple[int, dict]:
    """Cast a ballot: (status, body), or (0, the error) when no answer came."""
    try:
        path = f"/api/v1/polls/{poll_id}/ballots"
        return server.call("POST", path, token, {"option_ids": list(options)})
    except (OSError, http.client.HTTPException) as error:
        return 0, {"error": repr(error)}


def error_code(answer: tuple[int, dict]) -> str | None:
    return (answer[1].get("error") or {}).get("code") if answer[0] else None


def burst_with_a_kill(
    served: Served, server: Server, poll_id: int, sent: Ballots, kill: Callable[[], object]
) -> list[tuple[int, dict]]:
    """Every voter sends a ballot, ``CLIENTS`` at a time; once ``KILL_AFTER``
    have a receipt, ``kill`` runs while the others are in flight. The answers
    come back in the voters' order."""
    receipts = threading.Semaphore(0)
    killed: dict[str, object] = {}

    def vote(voter: int) -> tuple[int, dict]:
        answer = send(server, poll_id, served.voter_tokens[voter], sent[voter])
        if answer[0] == 201:
            receipts.release()
        return answer

    def kill_midway() -> None:
        for _ in range(KILL_AFTER):
            if not receipts.acquire(timeout=BURST_SECONDS):
                return
        try:
            kill()
            killed["done"] = True
        except Exception as error:
            killed["failed"] = error

    killer = threading.Thread(target=kill_midway, daemon=True)
    killer.start()
    with ThreadPoolExecutor(max_workers=CLIENTS) as executor:
        answers = list(executor.map(vote, range(VOTERS), timeout=BURST_SECONDS))
    killer.join(timeout=BURST_SECONDS)
    assert killed.get("done"), f"the server was not killed: {killed}"
    return answers


def retry_cut_off(
    served: Served, server: Server, poll_id: int, sent: Ballots, first: list[tuple[int, dict]]
) -> dict[int, tuple[int, dict]]:
    """The voters left without an answer send the same ballot again."""
    cut_off = [voter for voter, (status, _body) in enumerate(first) if status == 0]
    with ThreadPoolExecutor(max_workers=CLIENTS // 2) as executor:
        again = executor.map(
            lambda voter: send(server, poll_id, served.voter_tokens[voter], sent[voter]),
            cut_off,
            timeout=BURST_SECONDS,
        )
        return dict(zip(cut_off, again, strict=True))


def check_every_ballot(
    served: Served,
    server: Server,
    poll_id: int,
    sent: Ballots,
    secret: bool,
    first: list[tuple[int, dict]],
    again: dict[int, tuple[int, dict]],
) -> None:
    # The burst's answers: a receipt, or none at all when the kill cut it off.
    assert {status for status, _body in first} <= {201, 0}, [a for a in first if a[0] != 201]
    assert again, "the kill cut off no request: nothing was in flight"
    outcomes = Counter((status, error_code((status, body))) for status, body in again.values())
    assert set(outcomes) <= {(201, None), (409, "already_voted")}, again
    print(f"receipts before the kill and after: {len(first) - len(again)}; retried: {outcomes}")

    def as_stored(voter: int) -> tuple[int | None, tuple[int, ...]]:
        return (None if secret else served.voter_ids[voter]), tuple(sorted(sent[voter]))

    receipts = {
        voter: body["receipt"]
        for voter, (status, body) in [*enumerate(first), *again.items()]
        if status == 201
    }
    # 409 on the second try: the first was committed though its answer was lost.
    committed_unanswered = [voter for voter, (status, _body) in again.items() if status == 409]
    assert len(receipts) + len(committed_unanswered) == VOTERS
    ballots = ballots_of(served, poll_id)
    # Every 201 is a ballot stored as it was sent …
    assert {receipt: ballots.get(receipt) for receipt in receipts.values()} == {
        receipt: as_stored(voter) for voter, receipt in receipts.items()
    }
    # … and the other ballots are the cut-off ones that were committed, whole.
    unanswered = [ballot for receipt, ballot in ballots.items() if receipt not in receipts.values()]
    assert Counter(unanswered) == Counter(as_stored(voter) for voter in committed_unanswered)

    # One line on the roll, one ballot and one audit entry per voter: nothing half written.
    state = stored(served, poll_id)
    assert state.ballots == state.roll == len(ballots) == VOTERS
    assert sum(state.choices.values()) == sum(len(options) for _voter, options in ballots.values())
    vote, audit = PollVote.__table__, AuditEntry.__table__
    with served.engine.connect() as conn:
        roll = conn.scalars(sa.select(vote.c.user_id).where(vote.c.poll_id == poll_id)).all()
        cast_by = conn.scalars(
            sa.select(audit.c.actor_id).where(
                audit.c.action == "ballot.cast", audit.c.object_id == poll_id
            )
        ).all()
    assert Counter(roll) == Counter(cast_by) == Counter(served.voter_ids)

    # The server still works: no second ballot, and the count at close is the stored one.
    voter, receipt = next(iter(receipts.items()))
    twice = send(server, poll_id, served.voter_tokens[voter], sent[voter])
    assert (twice[0], error_code(twice)) == (409, "already_voted"), twice
    assert server.call("GET", "/healthz")[0] == 200
    status, result = server.call("POST", f"/api/v1/polls/{poll_id}/close", served.secretary_token)
    assert status == 200, result
    assert (result["eligible"], result["cast"]) == (VOTERS, VOTERS)
    assert {o["id"]: o["votes"] for o in result["options"]} == dict(state.choices)


def check_database(served: Served) -> None:
    with served.engine.connect() as conn:
        report = verify_chain(conn)
        entries = conn.scalar(sa.select(sa.func.count()).select_from(AuditEntry.__table__))
        assert report.ok, report
        # Linked, or (PostgreSQL) still waiting to be: none is lost from the walk.
        assert report.count + report.unsealed == entries
        if conn.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalars().all() == ["ok"]
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []


def writer_lock_is_free(database_file: str) -> bool:
    """Whether the app's SQLite writer lock could be taken now (it is not held)."""
    descriptor = os.open(database_file + "-writer", os.O_RDWR)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    else:
        fcntl.flock(descriptor, fcntl.LOCK_UN)
        return True
    finally:
        os.close(descriptor)


def ballots_for(options: list[int], multiple: bool) -> Ballots:
    if multiple:
        a, b, c = options
        return [[(a,), (b, c), (c,), (a, b)][voter % 4] for voter in range(VOTERS)]
    return [(options[voter % len(options)],) for voter in range(VOTERS)]


# --- the tests -------------------------------------------------------------------------


def test_workers_killed_mid_burst_lose_no_ballot_and_count_none_twice(served, launch):
    poll_id, options = served.polls.workers_killed
    sent = ballots_for(options, multiple=True)
    server = launch()
    before = server.worker_pids()

    first = burst_with_a_kill(served, server, poll_id, sent, server.kill_workers)

    # The master is still there and has started new workers, which serve the retries.
    assert server.process.poll() is None
    assert not set(server.worker_pids()) & set(before)
    again = retry_cut_off(served, server, poll_id, sent, first)
    check_every_ballot(served, server, poll_id, sent, False, first, again)
    check_database(served)


def test_whole_server_killed_mid_burst_loses_no_ballot_after_a_restart(served, launch):
    poll_id, options = served.polls.all_killed
    sent = ballots_for(options, multiple=False)
    server = launch()

    first = burst_with_a_kill(served, server, poll_id, sent, server.kill_all)

    if served.engine.dialect.name == "sqlite":
        # A worker killed while holding the writer lock must not leave it taken.
        assert writer_lock_is_free(sa.make_url(served.url).database)
    check_database(served)  # as the kill left it, before anything else writes
    restarted = launch()
    again = retry_cut_off(served, restarted, poll_id, sent, first)
    check_every_ballot(served, restarted, poll_id, sent, True, first, again)
    check_database(served)


WRITE_AND_WAIT = """
import sys, time
import sqlalchemy as sa
from meetings.database import SQLiteConnection
engine = sa.create_engine(sys.argv[1], connect_args={"factory": SQLiteConnection})
with engine.connect() as conn:
    conn.begin()
    conn.exec_driver_sql("INSERT INTO t VALUES (1)")
    print("writing", flush=True)
    time.sleep(120)
"""


@pytest.mark.skipif(_on_postgres(), reason="SQLite only")
def test_a_writer_killed_in_its_transaction_leaves_the_lock_free(tmp_path):
    """The same as the bursts above may or may not catch: a process killed
    while it holds the writer lock, in the middle of a write transaction."""
    database_file = str(tmp_path / "killed.db")
    engine = sa.create_engine(
        f"sqlite:///{database_file}", connect_args={"factory": SQLiteConnection}
    )
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (n INTEGER)")
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITE_AND_WAIT, f"sqlite:///{database_file}"],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout.readline().strip() == "writing"
        assert not writer_lock_is_free(database_file)
        writer.kill()
        writer.wait(timeout=10)
        assert writer_lock_is_free(database_file)
        with engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO t VALUES (2)")
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT n FROM t").scalars().all() == [2]
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalars().all() == ["ok"]
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait(timeout=10)
        writer.stdout.close()
        engine.dispose()
