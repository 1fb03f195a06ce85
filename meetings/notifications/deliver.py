"""The e-mail worker: claim the notifications that are due, send them over
SMTP, record each outcome.

Rows are claimed (status ``sending``) and the claim is committed before
anything is sent, so two workers never take the same row. Each outcome is
committed as soon as it is known, so a worker that dies sends again at most the
message it had in flight, once its claim has gone stale — with the same
Message-ID, which lets the receiving side drop the copy. Nothing is deleted:
a message that keeps failing ends as ``failed`` with its last error.
"""

from __future__ import annotations

import smtplib
import ssl
import time
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import Update, and_, or_

from meetings.dbtypes import utcnow
from meetings.extensions import db
from meetings.notifications.models import EmailStatus, Notification
from meetings.notifications.services import INBOX_PATH, recipient_locale

# What a mail server or the network can throw at us; anything else is a bug.
SMTP_ERRORS = (smtplib.SMTPException, OSError)


@dataclass
class DeliveryReport:
    claimed: int = 0
    sent: int = 0
    retrying: int = 0  # failed this time, due again later
    failed: int = 0  # failed for good
    skipped: int = 0  # nobody to send to any more
    released: int = 0  # claimed but left for the next run (out of time)
    mail_enabled: bool = True

    def __str__(self) -> str:
        return (
            f"sent {self.sent}, retrying {self.retrying}, failed {self.failed}, "
            f"skipped {self.skipped}, released {self.released}"
        )


@dataclass
class _Outgoing:
    id: int
    attempts: int
    message: EmailMessage | None = None
    problem: str | None = None  # why there is no message
    skip: bool = False


def mail_enabled() -> bool:
    return bool(current_app.config.get("MAIL_SERVER"))


def deliver_due(now: datetime | None = None, limit: int = 100) -> DeliveryReport:
    """Send the e-mails that are due now; commits as it goes."""
    report = DeliveryReport()
    if not mail_enabled():
        report.mail_enabled = False
        return report
    now = now or utcnow()
    ids = claim_due(now, limit)
    report.claimed = len(ids)
    if not ids:
        return report

    config = current_app.config
    outgoing = _prepare(ids)
    # End the read before the (slow) sending: on SQLite a write after a stale
    # read fails ("database is locked") once the web app has written meanwhile.
    db.session.commit()
    started = time.monotonic()
    # Stop well before the claim goes stale and another worker takes the row.
    budget = config["MAIL_CLAIM_TIMEOUT"] / 2
    mailer = SmtpMailer(config)
    try:
        for item in outgoing:
            if time.monotonic() - started > budget:
                _release(item, now)
                report.released += 1
            elif item.skip:
                _finish(
                    item,
                    now,
                    email_status=EmailStatus.SKIPPED,
                    last_error=item.problem,
                    attempts=Notification.attempts - 1,  # nothing was tried
                )
                report.skipped += 1
            elif item.message is None:
                _finish(item, now, email_status=EmailStatus.FAILED, last_error=item.problem)
                report.failed += 1
            else:
                _send(mailer, item, now, report)
            db.session.commit()
    finally:
        mailer.close()
    return report


def claim_due(now: datetime, limit: int) -> list[int]:
    """Mark up to ``limit`` due rows ``sending`` for this worker and commit."""
    ids = db.session.scalars(claim_statement(now, limit)).all()
    db.session.commit()
    return sorted(ids)


def claim_statement(now: datetime, limit: int) -> Update:
    """One UPDATE … RETURNING id that claims what is due: pending rows whose
    time has come, and rows stuck in ``sending`` by a worker that died (claimed
    longer ago than MAIL_CLAIM_TIMEOUT)."""
    stale_before = now - timedelta(seconds=current_app.config["MAIL_CLAIM_TIMEOUT"])
    due = or_(
        and_(
            Notification.email_status == EmailStatus.PENDING,
            or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now),
        ),
        and_(
            Notification.email_status == EmailStatus.SENDING,
            Notification.claimed_at < stale_before,
        ),
    )
    candidates = (
        db.select(Notification.id)
        .where(due)
        .order_by(Notification.next_attempt_at, Notification.id)
        .limit(limit)
        # PostgreSQL: rows another worker is claiming are skipped, never waited
        # for or taken twice. SQLite has no row locks and ignores this; there
        # the UPDATE runs alone and re-checks ``due`` on every row it changes.
        .with_for_update(skip_locked=True)
        # Evaluated once: PostgreSQL may rescan a plain IN (subquery) for each
        # row, and every rescan would lock and claim further rows.
        .cte("due_notification")
        .prefix_with("MATERIALIZED")
    )
    return (
        db.update(Notification)
        .where(Notification.id.in_(db.select(candidates.c.id)), due)
        .values(
            email_status=EmailStatus.SENDING,
            claimed_at=now,
            # Counted when started, so a message that kills its worker runs out too.
            attempts=Notification.attempts + 1,
        )
        .returning(Notification.id)
        .execution_options(synchronize_session=False)
    )


# --- building the messages -------------------------------------------------------


def site_url() -> str | None:
    """The site's address for links in e-mails: SITE_URL, else SERVER_NAME."""
    config = current_app.config
    if config.get("SITE_URL"):
        return config["SITE_URL"].rstrip("/")
    if config.get("SERVER_NAME"):
        root = (config.get("APPLICATION_ROOT") or "/").rstrip("/")
        return f"{config['PREFERRED_URL_SCHEME']}://{config['SERVER_NAME']}{root}"
    return None


def message_id(notification_id: int) -> str:
    """The same for every attempt at one notification, so copies can be dropped."""
    site = site_url()
    domain = urlsplit(site).hostname if site else None
    if not domain:
        sender = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1]
        domain = sender.rpartition("@")[2] or "localhost"
    return f"<notification.{notification_id}@{domain}>"


def build_message(notification: Notification) -> EmailMessage:
    """The e-mail for one notification, in its recipient's language.

    Raises ValueError when the address cannot go into a header.
    """
    user = notification.user
    site = site_url()
    locale = recipient_locale(user)
    with force_locale(locale):
        lines = [notification.body.strip()] if notification.body.strip() else []
        if site and notification.link:
            lines += ["", _("Open: %(url)s", url=site + notification.link)]
        lines += ["", "-- ", _("Shangliang (有事好商量)")]
        if site:
            lines.append(_("All your notifications: %(url)s", url=site + INBOX_PATH))
        # One line: a title typed with line breaks must not break the header.
        subject = "[" + _("Shangliang") + "] " + " ".join(notification.subject.split())

    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    message["To"] = Address(display_name=user.display_name, addr_spec=user.email or "")
    message["Date"] = format_datetime(notification.created_at)
    message["Message-ID"] = message_id(notification.id)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies
    # base64: 7-bit clean for any server, and compact for Chinese text.
    message.set_content("\n".join(lines) + "\n", cte="base64")
    message["Content-Language"] = locale.replace("_", "-")  # after: set_content clears it
    return message


def _prepare(ids: list[int]) -> list[_Outgoing]:
    notifications = db.session.scalars(
        db.select(Notification)
        .where(Notification.id.in_(ids))
        .order_by(Notification.id)
        .options(db.joinedload(Notification.user))
        .execution_options(populate_existing=True)
    ).all()
    max_attempts = current_app.config["MAIL_MAX_ATTEMPTS"]
    outgoing = []
    for notification in notifications:
        item = _Outgoing(id=notification.id, attempts=notification.attempts)
        user = notification.user
        if not user.email or not user.is_active:
            item.skip = True
            item.problem = "no e-mail address" if not user.email else "account deactivated"
        elif notification.attempts > max_attempts:
            # Only a row taken back from a dead worker gets here.
            item.problem = "gave up: the worker stopped while sending"
        else:
            try:
                item.message = build_message(notification)
            except ValueError as error:
                item.problem = f"cannot write this e-mail: {error}"[:500]
        outgoing.append(item)
    return outgoing


# --- sending and recording -------------------------------------------------------


class SmtpMailer:
    """One SMTP connection for a batch, opened on first use.

    When the server cannot be reached, the rest of the batch fails at once
    with the same error rather than waiting for a timeout each.
    """

    def __init__(self, config: Any):
        self.config = config
        self.smtp: smtplib.SMTP | None = None
        self.unreachable: Exception | None = None

    def _connect(self) -> smtplib.SMTP:
        config = self.config
        host, port, timeout = config["MAIL_SERVER"], config["MAIL_PORT"], config["MAIL_TIMEOUT"]
        if config["MAIL_USE_SSL"]:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                host, port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout)
        try:
            if config["MAIL_USE_TLS"] and not config["MAIL_USE_SSL"]:
                smtp.starttls(context=ssl.create_default_context())
            if config["MAIL_USERNAME"]:
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
        except SMTP_ERRORS:
            smtp.close()
            raise
        return smtp

    def send(self, message: EmailMessage) -> None:
        if self.smtp is None:
            if self.unreachable is not None:
                raise self.unreachable
            try:
                self.smtp = self._connect()
            except SMTP_ERRORS as error:
                self.unreachable = error
                raise
        try:
            self.smtp.send_message(message)
        except smtplib.SMTPServerDisconnected:
            self.smtp = None  # the next message connects again
            raise

    def close(self) -> None:
        if self.smtp is not None:
            with suppress(*SMTP_ERRORS):
                self.smtp.quit()
            self.smtp = None


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8… minutes after the 1st, 2nd, 3rd… failure, up to the cap."""
    config = current_app.config
    seconds = config["MAIL_RETRY_SECONDS"] * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, config["MAIL_RETRY_MAX_SECONDS"]))


def _is_permanent(error: Exception) -> bool:
    """The server refused the recipient for good (5xx): retrying cannot help."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _message in error.recipients.values())
    return False


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:500]


def _send(mailer: SmtpMailer, item: _Outgoing, now: datetime, report: DeliveryReport) -> None:
    assert item.message is not None
    try:
        mailer.send(item.message)
    except SMTP_ERRORS as error:
        gives_up = _is_permanent(error) or item.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]
        current_app.logger.warning(
            "notification %s: e-mail attempt %s failed%s: %s",
            item.id,
            item.attempts,
            "; giving up" if gives_up else "",
            _describe(error),
        )
        if gives_up:
            _finish(item, now, email_status=EmailStatus.FAILED, last_error=_describe(error))
            report.failed += 1
        else:
            _finish(
                item,
                now,
                email_status=EmailStatus.PENDING,
                next_attempt_at=now + backoff(item.attempts),
                last_error=_describe(error),
            )
            report.retrying += 1
    else:
        _finish(item, now, email_status=EmailStatus.SENT, sent_at=utcnow())
        report.sent += 1


def _finish(item: _Outgoing, claimed_at: datetime, **values: Any) -> None:
    """Record the outcome, unless the row was taken over meanwhile."""
    result = db.session.execute(
        db.update(Notification)
        .where(
            Notification.id == item.id,
            Notification.email_status == EmailStatus.SENDING,
            Notification.claimed_at == claimed_at,
        )
        .values(claimed_at=None, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        current_app.logger.warning("notification %s was taken over by another worker", item.id)


def _release(item: _Outgoing, claimed_at: datetime) -> None:
    """Give a claimed row back untried, for the next run."""
    _finish(item, claimed_at, email_status=EmailStatus.PENDING, attempts=Notification.attempts - 1)
