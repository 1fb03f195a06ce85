"""Writing to the outbox and reading the inbox. Delivery by e-mail is the
worker's job (``deliver.py``)."""

from __future__ import annotations

from collections.abc import Iterable

from flask import current_app
from flask_babel import LazyString, force_locale
from flask_babel import gettext as _
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, func

from auth.models import User
from meetings.dbtypes import utcnow
from meetings.errors import NotFound
from meetings.extensions import db
from meetings.notifications.models import EmailStatus, Notification
from meetings.web import safe_next

INBOX_PATH = "/notifications"  # the inbox page, also linked from e-mails
INBOX_PAGE_SIZE = 20

# What callers pass as subject and body: lazy_gettext(...) with its params, so
# the text is rendered in the recipient's language, not the actor's.
Translatable = str | LazyString


def recipient_locale(user: User) -> str:
    """The language a user reads their notifications in."""
    config = current_app.config
    if user.locale in config["LANGUAGES"]:
        return user.locale
    return config["BABEL_DEFAULT_LOCALE"]


# --- the outbox ----------------------------------------------------------------


def notify(
    user: User, kind: str, subject: Translatable, body: Translatable = "", link: str | None = None
) -> Notification:
    """Queue a notification in the caller's transaction: it exists exactly
    when the change that caused it is committed.

    ``subject`` and ``body`` should be ``lazy_gettext("…", name=…)``: they are
    rendered here in the recipient's language. Parameters are rendered too,
    so pass lazy strings for translatable ones (a role's label, a status; a
    date as ``LazyString(format_datetime, value)``).
    ``link`` is a path on this site, e.g. ``/meetings/5``.
    """
    if link is not None and (safe_next(link) != link or len(link) > 300):
        # A programming error, not bad input: links point into this site only.
        raise ValueError(f"notification links are site paths, not {link!r}")
    with force_locale(recipient_locale(user)):
        subject_text, body_text = str(subject), str(body)
    wants_email = bool(user.email and current_app.config.get("MAIL_SERVER"))
    notification = Notification(
        user=user,
        kind=kind,
        subject=subject_text[:200],
        body=body_text,
        link=link,
        email_status=EmailStatus.PENDING if wants_email else EmailStatus.SKIPPED,
    )
    db.session.add(notification)
    return notification


def notify_all(
    users: Iterable[User],
    kind: str,
    subject: Translatable,
    body: Translatable = "",
    link: str | None = None,
) -> list[Notification]:
    """The same notification to each user (once each), each in their language."""
    # One object per row in a session, so identity finds the repeats.
    return [notify(user, kind, subject, body, link) for user in dict.fromkeys(users)]


# --- the inbox -----------------------------------------------------------------


def inbox_statement(user: User, unread_only: bool = False) -> Select:
    """The user's notifications, newest first."""
    statement = db.select(Notification).where(Notification.user_id == user.id)
    if unread_only:
        statement = statement.where(Notification.read_at.is_(None))
    return statement.order_by(Notification.created_at.desc(), Notification.id.desc())


def inbox_page(user: User, page: int = 1, per_page: int = INBOX_PAGE_SIZE) -> Pagination:
    return db.paginate(
        inbox_statement(user), page=page, per_page=per_page, max_per_page=100, error_out=False
    )


def unread_count(user: User) -> int:
    return db.session.scalar(
        db.select(func.count(Notification.id)).where(
            Notification.user_id == user.id, Notification.read_at.is_(None)
        )
    )


def get_own(user: User, notification_id: int) -> Notification:
    """The user's notification; someone else's is as missing as a wrong id."""
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != user.id:
        raise NotFound(_("No such notification."))
    return notification


def mark_read(user: User, notification_id: int) -> Notification:
    notification = get_own(user, notification_id)
    if notification.read_at is None:
        notification.read_at = utcnow()
        db.session.flush()
    return notification


def mark_all_read(user: User) -> int:
    """Mark every unread notification of the user read; returns how many."""
    result = db.session.execute(
        db.update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    return result.rowcount
