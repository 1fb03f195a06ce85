"""Writing to the outbox. Delivery is the worker's job (``deliver.py``)."""

from __future__ import annotations

from collections.abc import Iterable

from flask import current_app

from auth.models import User
from meetings.extensions import db
from meetings.notifications.models import EmailStatus, Notification


def notify(
    user: User, kind: str, subject: str, body: str = "", link: str | None = None
) -> Notification:
    """Queue a notification in the caller's transaction: it exists exactly
    when the change that caused it is committed."""
    wants_email = bool(user.email and current_app.config.get("MAIL_SERVER"))
    notification = Notification(
        user=user,
        kind=kind,
        subject=subject[:200],
        body=body,
        link=link,
        email_status=EmailStatus.PENDING if wants_email else EmailStatus.SKIPPED,
    )
    db.session.add(notification)
    return notification


def notify_all(
    users: Iterable[User], kind: str, subject: str, body: str = "", link: str | None = None
) -> list[Notification]:
    return [notify(user, kind, subject, body, link) for user in users]
