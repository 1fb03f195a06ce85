"""E-mail delivery of notifications through a real SMTP server (aiosmtpd on a
free local port), with retries, backoff and exactly-once sending."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from auth.models import User
from meetings.dbtypes import utcnow
from meetings.extensions import db as _db
from meetings.notifications.deliver import backoff, claim_statement, deliver_due
from meetings.notifications.models import EmailStatus, Notification
from meetings.notifications.services import notify

SITE = "https://shangliang.example.org"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Recorder:
    """An aiosmtpd handler that keeps every message it accepts; it refuses
    recipients at refused.example for good."""

    def __init__(self) -> None:
        self.envelopes = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.endswith("@refused.example"):
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list[EmailMessage]:
        return [message_from_bytes(e.content, policy=policy.default) for e in self.envelopes]


class SmtpServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.recorder = Recorder()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(
            self.recorder, hostname="127.0.0.1", port=self.port, server_hostname="localhost"
        )
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self) -> list[EmailMessage]:
        return self.recorder.messages


@pytest.fixture
def smtp_config(app, monkeypatch) -> int:
    """Mail configured for a local server on a free port (not started)."""
    port = free_port()
    for key, value in {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": port,
        "MAIL_TIMEOUT": 5,
        "MAIL_DEFAULT_SENDER": "有事好商量 <noreply@shangliang.example.org>",
        "SITE_URL": SITE,
    }.items():
        monkeypatch.setitem(app.config, key, value)
    return port


@pytest.fixture
def smtp_server(smtp_config) -> Iterator[SmtpServer]:
    """A real SMTP server listening where the app sends its mail."""
    server = SmtpServer(smtp_config)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def recipient(db, make_user) -> User:
    user = make_user("wang", display_name="王阿姨")
    user.email = "wang@example.com"
    db.session.flush()
    return user


def reload(db, notification: Notification) -> Notification:
    db.session.expire_all()
    return db.session.get(Notification, notification.id)


def test_due_notification_is_emailed_once(db, smtp_server, recipient):
    notification = notify(
        recipient,
        "meeting.rescheduled",
        "议事会改期：活动室地板",
        "改到周五晚上七点。",
        "/meetings/5",
    )
    db.session.commit()

    report = deliver_due()

    assert (report.claimed, report.sent) == (1, 1)
    (envelope,) = smtp_server.recorder.envelopes
    assert envelope.rcpt_tos == ["wang@example.com"]
    assert envelope.mail_from == "noreply@shangliang.example.org"
    (message,) = smtp_server.messages
    assert message["Subject"] == "[有事好商量] 议事会改期：活动室地板"
    assert message["To"].addresses[0].display_name == "王阿姨"
    assert message["Message-ID"] == f"<notification.{notification.id}@shangliang.example.org>"
    text = message.get_content()
    assert "改到周五晚上七点。" in text
    assert f"{SITE}/meetings/5" in text
    row = reload(db, notification)
    assert row.email_status == EmailStatus.SENT
    assert row.sent_at is not None and row.attempts == 1 and row.claimed_at is None


def test_email_is_in_the_recipients_language(db, smtp_server, recipient):
    recipient.locale = "en"
    notify(recipient, "test.event", _l("Welcome, %(name)s.", name="王阿姨"))
    db.session.commit()

    deliver_due()

    (message,) = smtp_server.messages
    assert message["Subject"] == "[Shangliang] Welcome, 王阿姨."
    assert message["Content-Language"] == "en"


def test_running_again_sends_nothing_twice(db, smtp_server, recipient):
    notify(recipient, "test.event", "第一条")
    notify(recipient, "test.event", "第二条")
    db.session.commit()

    first = deliver_due()
    second = deliver_due(now=utcnow() + timedelta(days=1))

    assert (first.sent, second.claimed) == (2, 0)
    assert sorted(m["Subject"] for m in smtp_server.messages) == [
        "[有事好商量] 第一条",
        "[有事好商量] 第二条",
    ]


def test_a_run_claims_at_most_its_limit(db, smtp_server, recipient):
    for number in range(5):
        notify(recipient, "test.event", f"通知{number}")
    db.session.commit()

    assert [deliver_due(limit=2).sent for _run in range(4)] == [2, 2, 1, 0]
    assert len(smtp_server.messages) == 5


def test_a_subject_with_line_breaks_stays_one_header(db, smtp_server, recipient):
    notify(recipient, "test.event", "活动室\r\nBcc: everyone@example.com")
    db.session.commit()

    assert deliver_due().sent == 1
    (envelope,) = smtp_server.recorder.envelopes
    assert envelope.rcpt_tos == ["wang@example.com"]
    assert smtp_server.messages[0]["Subject"] == "[有事好商量] 活动室 Bcc: everyone@example.com"


def test_only_pending_due_rows_are_sent(db, smtp_server, recipient, make_user):
    no_address = make_user()
    notify(no_address, "test.event", "站内信")
    later = notify(recipient, "test.event", "稍后")
    later.next_attempt_at = utcnow() + timedelta(minutes=5)
    db.session.commit()

    assert deliver_due().claimed == 0
    assert smtp_server.messages == []
    assert deliver_due(now=utcnow() + timedelta(minutes=6)).sent == 1


def test_server_down_keeps_the_message_and_retries_later(db, smtp_config, recipient):
    notification = notify(recipient, "test.event", "议事会通知")
    db.session.commit()
    now = utcnow()

    report = deliver_due(now=now)

    assert (report.sent, report.retrying) == (0, 1)
    row = reload(db, notification)
    assert row.email_status == EmailStatus.PENDING
    assert row.attempts == 1
    assert row.next_attempt_at == now + timedelta(minutes=1)
    assert row.last_error.startswith("ConnectionRefusedError")

    server = SmtpServer(smtp_config)
    server.start()
    try:
        assert deliver_due(now=now + timedelta(seconds=30)).claimed == 0  # not yet due
        assert deliver_due(now=now + timedelta(minutes=2)).sent == 1
        assert deliver_due(now=now + timedelta(hours=1)).claimed == 0
    finally:
        server.stop()
    assert [m["Message-ID"] for m in server.messages] == [
        f"<notification.{notification.id}@shangliang.example.org>"
    ]
    row = reload(db, notification)
    assert (row.email_status, row.attempts) == (EmailStatus.SENT, 2)


def test_gives_up_after_the_last_attempt_and_keeps_the_row(
    app, db, smtp_config, recipient, monkeypatch
):
    monkeypatch.setitem(app.config, "MAIL_MAX_ATTEMPTS", 3)
    notification = notify(recipient, "test.event", "议事会通知")
    db.session.commit()
    now = utcnow()

    statuses = []
    for _attempt in range(3):
        deliver_due(now=now)
        row = reload(db, notification)
        statuses.append((row.email_status, row.attempts))
        now = now + timedelta(hours=2)
    assert deliver_due(now=now + timedelta(days=1)).claimed == 0

    assert statuses == [
        (EmailStatus.PENDING, 1),
        (EmailStatus.PENDING, 2),
        (EmailStatus.FAILED, 3),
    ]
    row = reload(db, notification)
    assert row.last_error and row.sent_at is None
    assert row.subject == "议事会通知"  # kept, in the outbox and the inbox


def test_backoff_doubles_up_to_the_cap(app):
    assert [backoff(n) for n in (1, 2, 3, 4)] == [
        timedelta(minutes=1),
        timedelta(minutes=2),
        timedelta(minutes=4),
        timedelta(minutes=8),
    ]
    assert backoff(20) == timedelta(hours=1)


def test_refused_recipient_fails_at_once(db, smtp_server, make_user):
    user = make_user()
    user.email = "nobody@refused.example"
    notification = notify(user, "test.event", "议事会通知")
    db.session.commit()

    report = deliver_due()

    assert report.failed == 1
    row = reload(db, notification)
    assert (row.email_status, row.attempts) == (EmailStatus.FAILED, 1)
    assert "550" in row.last_error
    assert smtp_server.messages == []


def test_one_bad_recipient_does_not_hold_up_the_others(db, smtp_server, recipient, make_user):
    refused = make_user()
    refused.email = "nobody@refused.example"
    notify(refused, "test.event", "一")
    notify(recipient, "test.event", "二")
    db.session.commit()

    report = deliver_due()

    assert (report.sent, report.failed) == (1, 1)
    assert [m["Subject"] for m in smtp_server.messages] == ["[有事好商量] 二"]


def test_address_removed_before_sending_is_skipped(db, smtp_server, recipient):
    notification = notify(recipient, "test.event", "议事会通知")
    recipient.email = None
    db.session.commit()

    assert deliver_due().skipped == 1
    assert reload(db, notification).email_status == EmailStatus.SKIPPED
    assert smtp_server.messages == []


def test_row_left_sending_by_a_dead_worker_is_sent_after_the_timeout(
    app, db, smtp_server, recipient
):
    notification = notify(recipient, "test.event", "议事会通知")
    db.session.commit()
    now = utcnow()
    # A worker claims it, then dies before sending.
    assert db.session.scalars(claim_statement(now, 10)).all() == [notification.id]
    db.session.commit()

    assert deliver_due(now=now + timedelta(minutes=5)).claimed == 0
    timeout = timedelta(seconds=app.config["MAIL_CLAIM_TIMEOUT"])
    assert deliver_due(now=now + timeout + timedelta(seconds=1)).sent == 1

    assert len(smtp_server.messages) == 1
    assert reload(db, notification).attempts == 2


def test_a_run_out_of_time_gives_the_rest_back_untried(
    app, db, smtp_server, recipient, monkeypatch
):
    notification = notify(recipient, "test.event", "议事会通知")
    db.session.commit()
    monkeypatch.setitem(app.config, "MAIL_CLAIM_TIMEOUT", 0)  # no time to send at all

    report = deliver_due()

    assert (report.claimed, report.released, report.sent) == (1, 1, 0)
    row = reload(db, notification)
    assert (row.email_status, row.attempts, row.claimed_at) == (EmailStatus.PENDING, 0, None)
    assert smtp_server.messages == []


def test_the_database_refuses_an_unknown_email_status(db, recipient):
    notification = notify(recipient, "test.event", "议事会通知")
    notification.email_status = "lost"
    with pytest.raises(IntegrityError):
        db.session.flush()


def test_nothing_is_sent_without_a_mail_server(db, app, recipient, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    notification = notify(recipient, "test.event", "议事会通知")
    db.session.commit()
    monkeypatch.setitem(app.config, "MAIL_SERVER", None)

    report = deliver_due()

    assert not report.mail_enabled and report.claimed == 0
    assert reload(db, notification).email_status == EmailStatus.PENDING


@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="row locks: SQLite runs one writer at a time anyway",
)
def test_two_workers_never_claim_the_same_row(app, db, recipient):
    """Two claims at once, each in its own committed transaction on its own
    connection: the second skips the rows the first holds."""
    engine = _db.engine
    with engine.connect() as setup:
        user_id = setup.execute(
            _db.insert(User)
            .values(username="worker-test", display_name="测试", password_hash="x")
            .returning(User.id)
        ).scalar_one()
        now = utcnow()
        setup.execute(
            _db.insert(Notification),
            [
                {
                    "user_id": user_id,
                    "kind": "test.event",
                    "subject": f"通知{n}",
                    "body": "",
                    "email_status": EmailStatus.PENDING,
                    "attempts": 0,
                    "created_at": now,
                    "next_attempt_at": now,
                }
                for n in range(6)
            ],
        )
        setup.commit()
    try:
        with engine.connect() as first, engine.connect() as second:
            taken_first = first.execute(claim_statement(now, 4)).scalars().all()
            # The first worker has not committed: its rows are locked.
            taken_second = second.execute(claim_statement(now, 10)).scalars().all()
            first.commit()
            second.commit()
        assert len(taken_first) == 4 and len(taken_second) == 2
        assert not set(taken_first) & set(taken_second)
    finally:
        with engine.connect() as cleanup:
            cleanup.execute(_db.delete(User).where(User.id == user_id))  # cascades
            cleanup.commit()


# --- the command -----------------------------------------------------------------


def test_cli_delivers_what_is_due(db, runner, smtp_server, recipient):
    notify(recipient, "test.event", "议事会通知")
    db.session.commit()

    result = runner.invoke(args=["notifications", "deliver"])

    assert result.exit_code == 0, result.output
    assert "sent 1" in result.output
    assert len(smtp_server.messages) == 1


def test_cli_says_when_mail_is_off(runner):
    result = runner.invoke(args=["notifications", "deliver"])
    assert result.exit_code == 0
    assert "MAIL_SERVER is not set" in result.output


def test_cli_loop_runs_until_sigterm(db, runner, smtp_server, recipient):
    notify(recipient, "test.event", "议事会通知")
    db.session.commit()
    default_handler = signal.getsignal(signal.SIGTERM)

    def stop_when_looping() -> None:
        # Only once the command has put its handler in place; before that
        # SIGTERM would end the test run itself.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if signal.getsignal(signal.SIGTERM) is not default_handler and smtp_server.messages:
                os.kill(os.getpid(), signal.SIGTERM)
                return
            time.sleep(0.05)

    stopper = threading.Thread(target=stop_when_looping)
    stopper.start()
    result = runner.invoke(args=["notifications", "deliver", "--loop", "--interval", "0.2"])
    stopper.join()

    assert result.exit_code == 0, result.output
    assert "Stopped." in result.output
    assert len(smtp_server.messages) == 1
    assert signal.getsignal(signal.SIGTERM) is default_handler
