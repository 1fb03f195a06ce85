"""PostgreSQL: a close in progress holds back the ballots that arrive
meanwhile (the poll's ballot box lock, ``hold_ballot_box``). An advisory lock
queues fairly: a steady stream of ballots cannot keep the secretary's close
waiting until it dried up. Here a
connection of the test's own holds the poll's advisory lock as a close does;
a ballot sent meanwhile through the API must wait for it, then go in."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest
from conftest import _on_postgres
from live_server import meeting_in_progress, open_poll

from auth import services as auth_services
from meetings.extensions import db as _db
from meetings.polls.services.ballots import POLL_LOCK_CLASS

pytestmark = pytest.mark.skipif(not _on_postgres(), reason="PostgreSQL's advisory locks")

HELD_SECONDS = 1.0


def test_a_ballot_waits_for_a_close_in_progress(committing_app):
    with committing_app.test_request_context(headers={"Accept-Language": "en"}):
        secretary, (voter,), item = meeting_in_progress(1, "queue")
        poll_id, (yes, *_others) = open_poll(
            secretary, item, "是否设置道闸", "yes_no_abstain", secret=False
        )
        token = auth_services.issue_token(voter)[0]
        _db.session.commit()
        dsn = _db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)

    answers: list[tuple[int, float]] = []

    def vote() -> None:
        began = time.monotonic()
        response = committing_app.test_client().post(
            f"/api/v1/polls/{poll_id}/ballots",
            json={"option_ids": [yes]},
            headers={"Authorization": f"Bearer {token}"},
        )
        answers.append((response.status_code, time.monotonic() - began))

    with psycopg.connect(dsn, autocommit=True) as closing:
        closing.execute("SELECT pg_advisory_lock(%s, %s)", [POLL_LOCK_CLASS, poll_id])
        ballot = threading.Thread(target=vote)
        ballot.start()
        ballot.join(HELD_SECONDS)
        assert ballot.is_alive(), f"the ballot did not wait for the close: {answers}"
        closing.execute("SELECT pg_advisory_unlock(%s, %s)", [POLL_LOCK_CLASS, poll_id])
        ballot.join(30)

    [(status, seconds)] = answers
    assert status == 201
    assert seconds >= HELD_SECONDS
