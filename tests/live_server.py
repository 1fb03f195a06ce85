"""The app under gunicorn, on a database of its own, for the tests that need
real processes and real connections (``test_vote_concurrency``,
``test_crash_safety``, ``test_backup``).

The database is a temporary SQLite file, or a new PostgreSQL database next to
``TEST_DATABASE_URL``, dropped afterwards (``own_database``). A meeting in
progress, its voters with their API tokens and the module's polls are
committed to it before the server starts (``serve_meeting``); the tests then
vote through HTTP and read what was stored straight from the database
(``stored``, ``ballot_of``, ``ballots_of``).
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
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Generic, TypeVar

import sqlalchemy as sa
from ballot_store import stored_ballots
from conftest import _on_postgres, _postgres_database
from flask_migrate import upgrade

from auth import services as auth_services
from auth.models import Community, Membership, User
from meetings import create_app
from meetings.dbtypes import utcnow
from meetings.extensions import db as _db
from meetings.meeting import services as meeting_services
from meetings.meeting.models import AgendaItem, MeetingStatus
from meetings.polls import services as poll_services
from meetings.polls.models import Poll, PollOption, PollVote

PROJECT_ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
SECRET_KEY = "concurrency-test-secret-key"
REQUEST_SECONDS = 60  # one HTTP exchange at most

P = TypeVar("P")


# --- the database and what is committed to it before the server starts ------------------


@contextlib.contextmanager
def own_database(tmp_path_factory) -> Iterator[str]:
    """The URL of a new database of the kind the suite runs on."""
    if _on_postgres():
        url, drop = _postgres_database(os.environ["TEST_DATABASE_URL"])
        try:
            yield url
        finally:
            drop()
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('served') / 'served.db'}"


@dataclass
class Served(Generic[P]):
    url: str
    engine: sa.Engine  # to read what the server stored
    voter_tokens: list[str]
    voter_ids: list[int]  # in the order of the tokens
    secretary_token: str
    polls: P  # what the module's ``open_polls`` returned


def open_poll(
    secretary: User, item: AgendaItem, title: str, kind: str, secret: bool, **extra
) -> tuple[int, list[int]]:
    """A poll on ``item``, opened: its id and its option ids."""
    spec = poll_services.PollSpec(title=title, kind=kind, secret=secret, **extra)
    created = poll_services.create_poll(secretary, item, spec)
    poll_services.open_poll(secretary, created)
    return created.id, [option.id for option in created.options]


def meeting_in_progress(voters: int, prefix: str) -> tuple[User, list[User], AgendaItem]:
    """In the session, not committed: a community, its secretary, ``voters``
    residents (``{prefix}000`` …) invited as voting representatives, and a
    meeting in progress with one agenda item. Returns the secretary, the
    voters and the item."""
    community = Community(name="并发测试社区", street="中兴街道", district="开发区")
    secretary = User(username=f"{prefix}-sec", display_name="林书记")
    secretary.set_password("not-used-here-1")
    _db.session.add_all([community, secretary])
    _db.session.add(Membership(user=secretary, community=community, is_secretary=True))
    people = []
    for number in range(voters):
        voter = User(username=f"{prefix}{number:03d}", display_name=f"居民代表{number}")
        voter.set_password("not-used-here-1")
        _db.session.add_all([voter, Membership(user=voter, community=community)])
        people.append(voter)
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
    invitations = [meeting_services.Invitation(v, "resident_rep") for v in people]
    meeting_services.invite(secretary, meeting, invitations)
    item = meeting_services.add_agenda_item(secretary, meeting, "中心路通行方案")
    meeting_services.transition_meeting(secretary, meeting, MeetingStatus.SCHEDULED)
    meeting_services.transition_meeting(secretary, meeting, MeetingStatus.IN_PROGRESS)
    return secretary, people, item


@contextlib.contextmanager
def serve_meeting(
    database_url: str,
    instance_path: Path,
    voters: int,
    open_polls: Callable[[User, AgendaItem], P],
) -> Iterator[Served[P]]:
    """Migrate the database and commit a meeting in progress with ``voters``
    invited resident representatives (``racer000``, ``racer001`` …), API
    tokens for them and the secretary, and the polls ``open_polls`` opens.

    Call it from a module-scoped fixture: those are set up before the suite's
    function-scoped ``db`` fixture swaps ``db.session`` for one bound to the
    shared test database, so ``db.session`` here is this app's own."""
    app = create_app(
        {
            "SECRET_KEY": SECRET_KEY,
            "DATABASE_URL": database_url,
            "REDIS_URL": None,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "MAIL_SERVER": None,
        }
    )
    app.instance_path = str(instance_path)
    with app.app_context():
        upgrade()
    with app.test_request_context(headers={"Accept-Language": "en"}):
        secretary, people, item = meeting_in_progress(voters, "racer")
        polls = open_polls(secretary, item)
        voter_tokens = [auth_services.issue_token(v)[0] for v in people]
        voter_ids = [v.id for v in people]
        secretary_token = auth_services.issue_token(secretary)[0]
        _db.session.commit()
        _db.engine.dispose()
    engine = sa.create_engine(database_url)
    try:
        yield Served(database_url, engine, voter_tokens, voter_ids, secretary_token, polls)
    finally:
        engine.dispose()


# --- the server -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn serving ``wsgi:app`` in a process group of its own; its output
    goes to a log file."""

    def __init__(self, database_url: str, log: Path, workers: int = 4, threads: int = 4) -> None:
        self.port = free_port()
        self.log = log
        self._log_file = log.open("wb")
        env = os.environ | {
            "DATABASE_URL": database_url,
            "SECRET_KEY": SECRET_KEY,
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
                str(workers),
                "--worker-class",
                "gthread",
                "--threads",
                str(threads),
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

    def wait_until_healthy(self, timeout: float = 60) -> None:
        """Until ``/healthz`` answers 200: the app is loaded and reaches its database."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                if self.call("GET", "/healthz", timeout=5)[0] == 200:
                    return
            time.sleep(0.1)
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

    def worker_pids(self) -> list[int]:
        """The master's children: its workers."""
        children = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                # The fields after the command, which is in parentheses: state, ppid …
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == self.process.pid and fields[0] != "Z":
                    children.append(int(entry.name))
        return children

    def kill_workers(self) -> list[int]:
        """SIGKILL every worker (the master stays and starts new ones)."""
        pids = self.worker_pids()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return pids

    def kill_all(self) -> None:
        """SIGKILL the master and its workers at once, as a power cut or the
        OOM killer would, and wait until none of them is left running."""
        workers = self.worker_pids()
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=15)
        deadline = time.monotonic() + 15
        # An exited worker (a zombie, or gone) has closed its files and lost its locks.
        while any(_running(pid) for pid in workers):
            if time.monotonic() > deadline:
                raise RuntimeError(f"workers {workers} still run after SIGKILL")
            time.sleep(0.05)

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


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


# --- what the server stored -------------------------------------------------------------


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
    poll, option, vote = Poll.__table__, PollOption.__table__, PollVote.__table__
    with served.engine.connect() as conn:
        status, cast_count = conn.execute(
            sa.select(poll.c.status, poll.c.cast_count).where(poll.c.id == poll_id)
        ).one()
        ballots = stored_ballots(conn, poll_id)
        return StoredPoll(
            status=status,
            cast_count=cast_count,
            ballots=len(ballots),
            roll=conn.scalar(sa.select(sa.func.count()).where(vote.c.poll_id == poll_id)),
            receipts=set(ballots),
            choices=Counter(option for _voter, chosen in ballots.values() for option in chosen),
            stored_votes=dict(
                conn.execute(
                    sa.select(option.c.id, option.c.votes).where(option.c.poll_id == poll_id)
                ).all()
            ),
            voter_ids=[voter_id for voter_id, _chosen in ballots.values()],
        )


def ballot_of(served: Served, poll_id: int, receipt: str) -> tuple[int | None, list[int]]:
    """The voter (named polls) and the chosen option ids of one ballot."""
    voter_id, chosen = ballots_of(served, poll_id).get(receipt, (None, ()))
    return voter_id, list(chosen)


def ballots_of(served: Served, poll_id: int) -> dict[str, tuple[int | None, tuple[int, ...]]]:
    """Every ballot of the poll by receipt: its voter (named polls) and its
    chosen option ids, in order; a ballot without choices has ``()``."""
    with served.engine.connect() as conn:
        return stored_ballots(conn, poll_id)


def user_id_of(served: Served, username: str) -> int:
    with served.engine.connect() as conn:
        table = User.__table__
        return conn.scalar(sa.select(table.c.id).where(table.c.username == username))
