"""Ballots under concurrency, against the real app (issue 4).

The app runs under gunicorn in processes of its own (several workers, each
with several threads), on a database of its own made for this module: a
temporary SQLite file, or a new PostgreSQL database next to
``TEST_DATABASE_URL``, dropped afterwards. The meeting, its voters and their
API tokens are written to that database, and committed, before the server
starts; the tests then vote through HTTP from many threads at once and read
what was stored straight from the database.

One ballot per voter is the database's rule (the primary key of the voter
roll), the count is taken once at close under the poll's exclusive lock, and
a ballot racing the close is either counted or refused — these tests check
that this holds with real processes and real connections, which the
rolled-back transactions of the rest of the suite cannot show.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import _on_postgres, _postgres_database
from flask_migrate import upgrade

from auth import services as auth_services
from auth.models import Community, Membership, User
from meetings import create_app
from meetings.dbtypes import utcnow
from meetings.extensions import db as _db
from meetings.meeting import services as meeting_services
from meetings.meeting.models import MeetingStatus
from meetings.polls import services as poll_services
from meetings.polls.models import Ballot, BallotChoice, Poll, PollOption, PollVote

pytestmark = pytest.mark.slow

PROJECT_ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
SECRET_KEY = "concurrency-test-secret-key"
VOTERS = 300
WORKERS, THREADS = 4, 4
REQUEST_SECONDS = 60  # one HTTP exchange at most
BURST_SECONDS = 180  # one test's burst of requests at most


# --- the database and the server -------------------------------------------------------


@dataclass
class Polls:
    """Open polls of the served meeting, one per test, with their option ids."""

    many: tuple[int, list[int]]  # secret yes/no/abstain: 200 voters at once
    one_voter: tuple[int, list[int]]  # named single choice: one voter, 50 requests
    race: tuple[int, list[int]]  # named multiple choice: voting while it closes


@dataclass
class Served:
    url: str
    engine: sa.Engine  # to read what the server stored
    voter_tokens: list[str]
    secretary_token: str
    polls: Polls


@pytest.fixture(scope="module")
def served_database(tmp_path_factory) -> Iterator[str]:
    if _on_postgres():
        url, drop = _postgres_database(os.environ["TEST_DATABASE_URL"])
        yield url
        drop()
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('served') / 'served.db'}"


@pytest.fixture(scope="module")
def served(served_database, tmp_path_factory) -> Iterator[Served]:
    """Migrate the database and commit the meeting, voters, tokens and polls.

    Module-scoped fixtures are set up before the suite's function-scoped
    ``db`` fixture swaps ``db.session`` for one bound to the shared test
    database, so ``db.session`` here is this app's own."""
    app = create_app(
        {
            "SECRET_KEY": SECRET_KEY,
            "DATABASE_URL": served_database,
            "REDIS_URL": None,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "MAIL_SERVER": None,
        }
    )
    app.instance_path = str(tmp_path_factory.mktemp("served-instance"))
    with app.app_context():
        upgrade()
    with app.test_request_context(headers={"Accept-Language": "en"}):
        community = Community(name="并发测试社区", street="中兴街道", district="开发区")
        secretary = User(username="race-sec", display_name="林书记")
        secretary.set_password("not-used-here-1")
        _db.session.add_all([community, secretary])
        _db.session.add(Membership(user=secretary, community=community, is_secretary=True))
        voters = []
        for number in range(VOTERS):
            voter = User(username=f"racer{number:03d}", display_name=f"居民代表{number}")
            voter.set_password("not-used-here-1")
            _db.session.add_all([voter, Membership(user=voter, community=community)])
            voters.append(voter)
        _db.session.flush()
        starts_at = utcnow() + timedelta(days=1)
        meeting = meeting_services.create_meeting(
            secretary,
            community,
            title="飞马转盘中心路协商议事会",
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=2),
            location="社区活动室",
        )
        invitations = [meeting_services.Invitation(v, "resident_rep") for v in voters]
        meeting_services.invite(secretary, meeting, invitations)
        item = meeting_services.add_agenda_item(secretary, meeting, "中心路通行方案")
        meeting_services.transition_meeting(secretary, meeting, MeetingStatus.SCHEDULED)
        meeting_services.transition_meeting(secretary, meeting, MeetingStatus.IN_PROGRESS)

        def poll(title: str, kind: str, secret: bool, **extra) -> tuple[int, list[int]]:
            spec = poll_services.PollSpec(title=title, kind=kind, secret=secret, **extra)
            created = poll_services.create_poll(secretary, item, spec)
            poll_services.open_poll(secretary, created)
            return created.id, [option.id for option in created.options]

        choices = [poll_services.OptionSpec(label) for label in ("设道闸", "限时停车", "移交市政")]
        polls = Polls(
            many=poll("是否设置道闸", "yes_no_abstain", secret=True),
            one_voter=poll("通行方案", "single", secret=False, options=choices),
            race=poll("可接受的方案", "multiple", secret=False, options=choices, max_choices=2),
        )
        voter_tokens = [auth_services.issue_token(v)[0] for v in voters]
        secretary_token = auth_services.issue_token(secretary)[0]
        _db.session.commit()
        _db.engine.dispose()
    engine = sa.create_engine(served_database)
    try:
        yield Served(served_database, engine, voter_tokens, secretary_token, polls)
    finally:
        engine.dispose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn serving ``wsgi:app``; its output goes to a log file."""

    def __init__(self, database_url: str, log: Path) -> None:
        self.port = _free_port()
        self.log = log
        self._log_file = log.open("wb")
        env = os.environ | {
            "DATABASE_URL": database_url,
            "SECRET_KEY": SECRET_KEY,
            "LOGIN_RATE_LIMIT": "100000 per minute",
            "REDIS_URL": "",
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--bind",
                f"{HOST}:{self.port}",
                "--workers",
                str(WORKERS),
                "--worker-class",
                "gthread",
                "--threads",
                str(THREADS),
                "--timeout",
                "120",
                "--graceful-timeout",
                "5",
                "wsgi:app",
            ],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_until_serving(self, token: str, poll_id: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                if self.call("GET", f"/api/v1/polls/{poll_id}", token, timeout=5)[0] == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not serve within {timeout} s")

    def call(
        self, method: str, path: str, token: str | None = None, payload=None, timeout: float = 0
    ) -> tuple[int, dict]:
        """One request on a connection of its own: (status, JSON body)."""
        connection = http.client.HTTPConnection(HOST, self.port, timeout=timeout or REQUEST_SECONDS)
        headers = {"Content-Type": "application/json", "Accept-Language": "en"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            body = json.dumps(payload).encode() if payload is not None else None
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
        finally:
            connection.close()
        try:
            return response.status, json.loads(text) if text else {}
        except ValueError:
            return response.status, {"text": text[:500]}

    def stop(self) -> None:
        try:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
                try:
                    self.process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(self.process.pid, signal.SIGKILL)
                    self.process.wait(timeout=15)
        finally:
            self._log_file.close()

    def output(self, since: int = 0) -> str:
        return self.log.read_bytes()[since:].decode("utf-8", "replace")


@pytest.fixture(scope="module")
def server(served, tmp_path_factory) -> Iterator[Server]:
    """The app under gunicorn, stopped at the end of the module, failed or not."""
    server = Server(served.url, tmp_path_factory.mktemp("gunicorn") / "gunicorn.log")
    try:
        server.wait_until_serving(served.secretary_token, served.polls.many[0])
        yield server
    except BaseException:
        print(server.output())
        raise
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def server_output_on_failure(server) -> Iterator[None]:
    """What the server logged during the test; pytest shows it if the test fails."""
    start = server.log.stat().st_size
    yield
    print(f"--- gunicorn output during the test ---\n{server.output(start)}")


# --- helpers ---------------------------------------------------------------------------


def at_once(calls: list[Callable[[], tuple[int, dict]]], threads: int) -> list[tuple[int, dict]]:
    """Run the calls from ``threads`` threads, all released together once
    queued; the answers come back in the calls' order."""
    go = threading.Event()

    def released(call):
        go.wait(timeout=BURST_SECONDS)
        return call()

    executor = ThreadPoolExecutor(max_workers=threads)
    try:
        futures = [executor.submit(released, call) for call in calls]
        go.set()
        _done, not_done = wait(futures, timeout=BURST_SECONDS)
        assert not not_done, f"{len(not_done)} requests did not finish in {BURST_SECONDS} s"
        return [future.result() for future in futures]
    finally:
        executor.shutdown(wait=False, cancel_futures=True)


def error_code(answer: tuple[int, dict]) -> str | None:
    return (answer[1].get("error") or {}).get("code")


@dataclass
class StoredPoll:
    status: str
    cast_count: int | None
    ballots: int
    roll: int  # poll_vote rows
    receipts: set[str]
    choices: Counter  # option id -> ballot_choice rows
    stored_votes: dict[int, int | None]  # option id -> votes stored at close
    voter_ids: list[int | None]


def stored(served: Served, poll_id: int) -> StoredPoll:
    poll, option = Poll.__table__, PollOption.__table__
    ballot, choice, vote = Ballot.__table__, BallotChoice.__table__, PollVote.__table__
    count = sa.func.count()
    with served.engine.connect() as conn:
        status, cast_count = conn.execute(
            sa.select(poll.c.status, poll.c.cast_count).where(poll.c.id == poll_id)
        ).one()
        return StoredPoll(
            status=status,
            cast_count=cast_count,
            ballots=conn.scalar(sa.select(count).where(ballot.c.poll_id == poll_id)),
            roll=conn.scalar(sa.select(count).where(vote.c.poll_id == poll_id)),
            receipts=set(
                conn.scalars(sa.select(ballot.c.receipt).where(ballot.c.poll_id == poll_id))
            ),
            choices=Counter(
                dict(
                    conn.execute(
                        sa.select(choice.c.option_id, count)
                        .where(choice.c.poll_id == poll_id)
                        .group_by(choice.c.option_id)
                    ).all()
                )
            ),
            stored_votes=dict(
                conn.execute(
                    sa.select(option.c.id, option.c.votes).where(option.c.poll_id == poll_id)
                ).all()
            ),
            voter_ids=list(
                conn.scalars(sa.select(ballot.c.voter_id).where(ballot.c.poll_id == poll_id))
            ),
        )


def ballot_of(served: Served, poll_id: int, receipt: str) -> tuple[int | None, list[int]]:
    """The voter (named polls) and the chosen option ids of one ballot."""
    ballot, choice = Ballot.__table__, BallotChoice.__table__
    with served.engine.connect() as conn:
        voter_id = conn.scalar(
            sa.select(ballot.c.voter_id).where(
                ballot.c.poll_id == poll_id, ballot.c.receipt == receipt
            )
        )
        options = conn.scalars(
            sa.select(choice.c.option_id)
            .where(choice.c.poll_id == poll_id, choice.c.receipt == receipt)
            .order_by(choice.c.option_id)
        )
        return voter_id, list(options)


def user_id_of(served: Served, username: str) -> int:
    with served.engine.connect() as conn:
        table = User.__table__
        return conn.scalar(sa.select(table.c.id).where(table.c.username == username))


# --- the tests -------------------------------------------------------------------------


def test_200_voters_at_once_each_get_one_counted_ballot(served, server):
    poll_id, (yes, no, abstain) = served.polls.many
    voters = served.voter_tokens[:200]
    chosen = [(yes, no, abstain)[number % 3] for number in range(len(voters))]
    path = f"/api/v1/polls/{poll_id}/ballots"
    answers = at_once(
        [
            lambda token=token, option=option: server.call(
                "POST", path, token, {"option_ids": [option]}
            )
            for token, option in zip(voters, chosen, strict=True)
        ],
        threads=32,
    )

    assert Counter(status for status, _body in answers) == {201: 200}, answers
    receipts = [body["receipt"] for _status, body in answers]
    assert len(set(receipts)) == 200
    before = stored(served, poll_id)
    assert (before.ballots, before.roll) == (200, 200)
    assert before.receipts == set(receipts)
    assert before.choices == Counter(chosen)
    assert set(before.voter_ids) == {None}  # a secret poll keeps no voter on the ballot

    status, result = server.call("POST", f"/api/v1/polls/{poll_id}/close", served.secretary_token)
    assert status == 200, result
    assert (result["eligible"], result["cast"]) == (VOTERS, 200)
    assert {o["id"]: o["votes"] for o in result["options"]} == dict(Counter(chosen))
    after = stored(served, poll_id)
    assert (after.status, after.cast_count, after.ballots, after.roll) == ("closed", 200, 200, 200)
    assert after.stored_votes == {option: before.choices[option] for option in (yes, no, abstain)}


def test_one_voter_sending_50_ballots_at_once_gets_exactly_one(served, server):
    poll_id, options = served.polls.one_voter
    token = served.voter_tokens[200]
    path = f"/api/v1/polls/{poll_id}/ballots"
    # Different choices, so the stored ballot shows which request won.
    sent = [options[number % len(options)] for number in range(50)]
    answers = at_once(
        [
            lambda option=option: server.call("POST", path, token, {"option_ids": [option]})
            for option in sent
        ],
        threads=50,
    )

    won = [index for index, (status, _body) in enumerate(answers) if status == 201]
    assert len(won) == 1, answers
    refused = [answer for index, answer in enumerate(answers) if index != won[0]]
    assert {(status, error_code((status, body))) for status, body in refused} == {
        (409, "already_voted")
    }, refused
    state = stored(served, poll_id)
    assert (state.ballots, state.roll) == (1, 1)
    receipt = answers[won[0]][1]["receipt"]
    assert state.receipts == {receipt}
    assert ballot_of(served, poll_id, receipt) == (user_id_of(served, "racer200"), [sent[won[0]]])


def test_ballots_racing_the_close_are_counted_or_refused_never_lost(served, server):
    poll_id, (barrier, parking, city) = served.polls.race
    voters = served.voter_tokens[:VOTERS]
    chosen = [
        [(barrier,), (parking, city), (city,), (barrier, parking)][n % 4] for n in range(VOTERS)
    ]
    path = f"/api/v1/polls/{poll_id}/ballots"
    counted = threading.Semaphore(0)
    closing: dict[str, tuple[int, dict]] = {}

    def vote(token: str, options) -> tuple[int, dict]:
        answer = server.call("POST", path, token, {"option_ids": list(options)})
        if answer[0] == 201:
            counted.release()
        return answer

    def close_midway() -> None:
        # Once a tenth of the voters have a receipt, the secretary closes the poll.
        for _ in range(VOTERS // 10):
            assert counted.acquire(timeout=BURST_SECONDS)
        closing["answer"] = server.call(
            "POST", f"/api/v1/polls/{poll_id}/close", served.secretary_token
        )

    closer = threading.Thread(target=close_midway, daemon=True)
    closer.start()
    answers = at_once(
        [
            lambda token=token, options=options: vote(token, options)
            for token, options in zip(voters, chosen, strict=True)
        ],
        threads=32,
    )
    closer.join(timeout=BURST_SECONDS)
    assert not closer.is_alive() and "answer" in closing, "the close was not sent"

    status, result = closing["answer"]
    assert status == 200, result
    outcomes = Counter(
        "counted" if status == 201 else error_code((status, body)) for status, body in answers
    )
    assert set(outcomes) <= {"counted", "poll_not_open"}, answers

    accepted = [
        (answers[n][1]["receipt"], chosen[n]) for n in range(VOTERS) if answers[n][0] == 201
    ]
    expected = Counter(option for _receipt, options in accepted for option in options)
    state = stored(served, poll_id)
    assert state.status == "closed"
    # Every 201 is a stored ballot, nothing else is, and the stored count is theirs.
    assert state.receipts == {receipt for receipt, _options in accepted}
    assert state.ballots == state.roll == state.cast_count == len(accepted) == result["cast"]
    assert state.choices == expected
    assert state.stored_votes == {option: expected[option] for option in (barrier, parking, city)}
    assert {o["id"]: o["votes"] for o in result["options"]} == state.stored_votes
    # The close did come in the middle of the voting.
    assert outcomes["counted"] >= VOTERS // 10
    assert outcomes["poll_not_open"] > 0, "the close came after every ballot: no race"
    # And a ballot after the close is refused too.
    late = server.call("POST", path, voters[-1], {"option_ids": [city]})
    assert (late[0], error_code(late)) == (409, "poll_not_open"), late
