"""``flask --app wsgi backup PATH`` and ``restore PATH``: a consistent copy of
a live database, restored only into an empty one."""

from __future__ import annotations

import contextlib
import http.client
import io
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from ballot_store import stored_ballots
from conftest import _on_postgres, _postgres_database
from flask_migrate import upgrade
from live_server import HOST, Server, meeting_in_progress
from project_helpers import image_bytes
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from auth import services as auth_services
from auth.models import Community, User
from meetings import create_app
from meetings.audit.services import record, verify_chain
from meetings.backup import libpq_connection
from meetings.extensions import db as _db
from meetings.polls import services as poll_services
from meetings.projects import uploads
from meetings.projects.models import Project, ProjectUpdate

ROOT = Path(__file__).resolve().parent.parent
SECRET_KEY = "test-secret-key-not-for-production"


@pytest.fixture
def second_empty_database_url(tmp_path) -> Iterator[str]:
    """Another empty database (``empty_database_url`` is the first): the restore target."""
    if _on_postgres():
        url, drop = _postgres_database(os.environ["TEST_DATABASE_URL"])
        yield url
        drop()
    else:
        yield f"sqlite:///{tmp_path / 'restored.db'}"


@contextlib.contextmanager
def committing(app) -> Iterator[None]:
    """The app's context with a session that really commits: the ``db``
    fixture binds ``db.session`` to the shared test connection."""
    test_session = _db.session
    _db.session = _db._make_scoped_session({})
    try:
        with app.test_request_context(headers={"Accept-Language": "en"}):
            yield
            _db.session.remove()
    finally:
        _db.session = test_session


@pytest.fixture
def make_app(app_config):
    apps = []

    def make(url: str):
        other = create_app({**app_config, "DATABASE_URL": url})
        apps.append(other)
        return other

    yield make
    for other in apps:
        with other.app_context():
            _db.engine.dispose()


def flask_cli(database_url: str, *args: str) -> subprocess.CompletedProcess:
    """``flask --app wsgi …`` in a process of its own, as an operator runs it."""
    env = os.environ | {"DATABASE_URL": database_url, "SECRET_KEY": SECRET_KEY}
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def run_cli(app, *args: str):
    """The command in this process, on ``app``'s database, with a session that commits."""
    with committing(app):
        return app.test_cli_runner().invoke(args=list(args))


def counts(url: str, poll_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per poll: its ballots (in the box or counted), their choices, the roll
    and the audit entries of ballots cast."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            found = {}
            for poll_id in poll_ids:
                ballots = stored_ballots(connection, poll_id)
                found[poll_id] = {
                    "ballot": len(ballots),
                    "ballot_choice": sum(len(chosen) for _voter, chosen in ballots.values()),
                    "poll_vote": connection.execute(
                        text("SELECT count(*) FROM poll_vote WHERE poll_id = :poll"),
                        {"poll": poll_id},
                    ).scalar_one(),
                    "audited": connection.execute(
                        text(
                            "SELECT count(*) FROM audit_entry"
                            " WHERE action = 'ballot.cast' AND object_id = :poll"
                        ),
                        {"poll": poll_id},
                    ).scalar_one(),
                }
            return found
    finally:
        engine.dispose()


# --- the commands, on the suite's database --------------------------------------------------


def test_backup_refuses_to_overwrite_a_file(runner, tmp_path):
    existing = tmp_path / "backup.db"
    existing.write_bytes(b"precious")
    result = runner.invoke(args=["backup", str(existing)])
    assert result.exit_code == 1
    assert "exists already" in result.output
    assert existing.read_bytes() == b"precious"


def test_restore_refuses_a_database_that_is_not_empty(app, runner, tmp_path):
    backup = tmp_path / "backup"
    with app.app_context():
        kind = _db.engine.url.get_backend_name()
    backup.write_bytes(b"SQLite format 3\x00" if kind == "sqlite" else b"PGDMP\x01")
    result = runner.invoke(args=["restore", str(backup)])
    assert result.exit_code == 1
    assert "The database is not empty" in result.output
    assert "restore only into a new, empty database" in result.output


def test_restore_refuses_a_file_that_is_no_backup(runner, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("会议纪要")
    result = runner.invoke(args=["restore", str(notes)])
    assert result.exit_code == 1
    assert "neither an SQLite backup nor a pg_dump custom-format file" in result.output


def test_restore_refuses_a_backup_of_the_other_kind_of_database(app, runner, tmp_path):
    with app.app_context():
        kind = _db.engine.url.get_backend_name()
    other = tmp_path / "other"
    other.write_bytes(b"PGDMP\x01" if kind == "sqlite" else b"SQLite format 3\x00")
    result = runner.invoke(args=["restore", str(other)])
    assert result.exit_code == 1
    assert "backup; the database configured is" in result.output


def test_pg_dump_gets_a_libpq_url_and_the_password_apart():
    url = make_url("postgresql+psycopg://shang:s3cret@db.internal:5433/shangliang?sslmode=require")
    dsn, env = libpq_connection(url)
    assert dsn == "postgresql://shang@db.internal:5433/shangliang?sslmode=require"
    assert env == {"PGPASSWORD": "s3cret"}
    assert libpq_connection(make_url("postgresql+psycopg://postgres@/x"))[1] == {}


# --- a round trip with real commits ---------------------------------------------------------


def test_backup_and_restore_round_trip(
    make_app, empty_database_url, second_empty_database_url, tmp_path
):
    source = make_app(empty_database_url)
    with source.app_context():
        upgrade()
    with committing(source):
        community = Community(name="东篱社区", street="中兴街道", district="开发区")
        user = User(username="keeper", display_name="记录员")
        user.set_password("correct-horse-9")
        # a progress photo: stored in the database, so the backup carries it
        project = Project(community=community, title="活动室改造出新", responsible_unit="物业")
        photo = uploads.store_photo(io.BytesIO(image_bytes("PNG")))
        update = ProjectUpdate(
            project=project, on_date=date(2026, 3, 1), percent=10, note="开工", photo=photo
        )
        _db.session.add_all([community, user, project, update])
        _db.session.flush()
        for _ in range(5):
            record(user, "user.profile_updated", user, note="备份前")
        photo_url = f"/projects/{project.id}/updates/{update.id}/photo"
        photo_bytes = photo.data
        _db.session.commit()

    backup = tmp_path / "shangliang.backup"
    with source.app_context():
        result = source.test_cli_runner().invoke(args=["backup", str(backup)])
    assert result.exit_code == 0, result.output
    assert f"to {backup}" in result.output
    assert backup.stat().st_size > 0
    assert backup.stat().st_mode & 0o777 == 0o600
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]

    target = make_app(second_empty_database_url)
    with target.app_context():
        result = target.test_cli_runner().invoke(args=["restore", str(backup)])
        assert result.exit_code == 0, result.output
        assert "audit verify" in result.output
        with _db.engine.connect() as connection:
            report = verify_chain(connection)
            names = connection.execute(text("SELECT username FROM user_account")).scalars().all()
            # the restored copy keeps its triggers
            with pytest.raises(DBAPIError, match="append-only"):
                connection.execute(text("DELETE FROM audit_entry"))
        assert report.ok and report.count == 5
        assert names == ["keeper"]

        again = target.test_cli_runner().invoke(args=["restore", str(backup)])
        assert again.exit_code == 1
        assert "The database is not empty" in again.output

    # served by the restored site, whose instance folder has never seen it
    target.instance_path = str(tmp_path / "restored-instance")
    with committing(target):
        served = target.test_client().get(photo_url)
        assert served.status_code == 200 and served.data == photo_bytes
        served.close()


# --- during a voting burst against a real server --------------------------------------------


@contextlib.contextmanager
def gunicorn(database_url: str, log: Path) -> Iterator[int]:
    """The app served on a free port while the block runs: its port."""
    server = Server(database_url, log, workers=2, threads=4)
    try:
        server.wait_until_healthy()
        yield server.port
    finally:
        server.stop()


def prepare_meeting(app, voters: int) -> tuple[list[int], list[tuple[int, int, str]]]:
    """A meeting in progress with a secret and a named poll open; every voter
    holds a token. Returns the poll ids and (poll id, option id, token) calls."""
    with committing(app):
        secretary, people, item = meeting_in_progress(voters, "voter")
        polls = [
            poll_services.create_poll(
                secretary,
                item,
                poll_services.PollSpec(title=title, kind="yes_no_abstain", secret=secret),
            )
            for title, secret in (("是否设置道闸（无记名）", True), ("是否设置道闸（记名）", False))
        ]
        for poll in polls:
            poll_services.open_poll(secretary, poll)
        tokens = [auth_services.issue_token(person)[0] for person in people]
        calls = [
            (poll.id, poll.options[number % 3].id, token)
            for number, token in enumerate(tokens)
            for poll in polls
        ]
        poll_ids = [poll.id for poll in polls]
        _db.session.commit()
    return poll_ids, calls


class Burst:
    """Cast every ballot from a few keep-alive connections: slowly while
    ``slow`` is set, so that ballots keep coming in all the time the backup
    runs, holding the last tenth back until it is cleared (so the backup is of
    a vote in progress); then at full speed."""

    def __init__(self, port: int, calls: list[tuple[int, int, str]], connections: int = 8):
        self.port = port
        self.calls = calls
        self.connections = connections
        self.statuses: list[int] = []
        self.lock = threading.Lock()
        self.slow = threading.Event()
        self.slow.set()
        self.fast = threading.Event()
        self.held_back = len(calls) - len(calls) // 10
        self.threads = [
            threading.Thread(target=self._send, args=(offset,), daemon=True)
            for offset in range(connections)
        ]

    def answered(self) -> int:
        with self.lock:
            return len(self.statuses)

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def hurry(self) -> None:
        self.slow.clear()
        self.fast.set()

    def join(self) -> None:
        for thread in self.threads:
            thread.join(120)

    def _send(self, offset: int) -> None:
        connection = http.client.HTTPConnection(HOST, self.port, timeout=60)
        for poll_id, option_id, token in self.calls[offset :: self.connections]:
            if self.slow.is_set():
                time.sleep(0.1)
                if self.answered() >= self.held_back:
                    self.fast.wait(120)
            try:
                connection.request(
                    "POST",
                    f"/api/v1/polls/{poll_id}/ballots",
                    body=json.dumps({"option_ids": [option_id]}),
                    headers={
                        "Content-Type": "application/json",
                        "Authorization": f"Bearer {token}",
                    },
                )
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                status = 0
                connection.close()
                connection = http.client.HTTPConnection(HOST, self.port, timeout=60)
            with self.lock:
                self.statuses.append(status)
        connection.close()


@pytest.mark.slow
def test_a_backup_taken_during_a_voting_burst_restores_consistent(
    make_app, empty_database_url, second_empty_database_url, tmp_path
):
    source = make_app(empty_database_url)
    with source.app_context():
        upgrade()
    poll_ids, calls = prepare_meeting(source, voters=250)
    backup = tmp_path / "during-the-vote.backup"

    with gunicorn(empty_database_url, tmp_path / "gunicorn.log") as port:
        burst = Burst(port, calls)
        burst.start()
        while burst.answered() < 60:
            time.sleep(0.01)
        answered_before = burst.answered()
        backed_up = flask_cli(empty_database_url, "backup", str(backup))
        answered_after = burst.answered()
        burst.hurry()
        burst.join()

    assert backed_up.returncode == 0, backed_up.stderr
    assert burst.statuses.count(201) == len(calls), sorted(set(burst.statuses))
    # the server kept taking ballots while the backup ran
    assert answered_after > answered_before

    target = make_app(second_empty_database_url)
    restored = run_cli(target, "restore", str(backup))
    assert restored.exit_code == 0, restored.output

    copy = counts(second_empty_database_url, poll_ids)
    total = sum(c["ballot"] for c in copy.values())
    assert answered_before <= total < len(calls)
    for poll_id, c in copy.items():
        # one snapshot: each ballot with its choice, its voter-roll row and its audit entry
        assert c["ballot"] == c["ballot_choice"] == c["poll_vote"] == c["audited"], (poll_id, c)

    verified = run_cli(target, "audit", "verify")
    assert verified.exit_code == 0, verified.output
    assert verified.output.startswith("ok ")

    live = counts(empty_database_url, poll_ids)
    assert all(c["ballot"] == c["poll_vote"] == c["audited"] == 250 for c in live.values())
    assert run_cli(source, "audit", "verify").exit_code == 0

    again = run_cli(target, "restore", str(backup))
    assert again.exit_code == 1
    assert "The database is not empty" in again.output
