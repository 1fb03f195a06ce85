"""Helpers shared by the meeting tests (test_meetings*.py); their fixtures
are in ``meeting_fixtures.py``."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from auth.models import User
from meetings.audit.models import AuditEntry
from meetings.dbtypes import utcnow
from meetings.extensions import db
from meetings.meeting.models import Attendance, Meeting, MeetingStatus
from meetings.notifications.models import Notification

SHANGHAI = ZoneInfo("Asia/Shanghai")  # config TIMEZONE in the tests

# The way a meeting gets to each state through the transition service.
PATH = {
    MeetingStatus.DRAFT: [],
    MeetingStatus.SCHEDULED: [MeetingStatus.SCHEDULED],
    MeetingStatus.IN_PROGRESS: [MeetingStatus.SCHEDULED, MeetingStatus.IN_PROGRESS],
    MeetingStatus.CLOSED: [
        MeetingStatus.SCHEDULED,
        MeetingStatus.IN_PROGRESS,
        MeetingStatus.CLOSED,
    ],
    MeetingStatus.CANCELLED: [MeetingStatus.CANCELLED],
}


def next_week(hour: int = 19) -> datetime:
    """A start a week ahead at ``hour`` o'clock in the community's time zone."""
    local = (utcnow() + timedelta(days=7)).astimezone(SHANGHAI)
    return local.replace(hour=hour, minute=0, second=0, microsecond=0)


def fresh(obj):
    """The object as the database has it now (after a request through the client)."""
    db.session.expire_all()
    return db.session.get(type(obj), obj.id)


def notifications_of(user: User, kind: str | None = None) -> list[Notification]:
    statement = db.select(Notification).where(Notification.user_id == user.id)
    if kind is not None:
        statement = statement.where(Notification.kind == kind)
    return list(db.session.scalars(statement.order_by(Notification.id)))


def audit_actions(obj) -> list[str]:
    return list(
        db.session.scalars(
            db.select(AuditEntry.action)
            .where(
                AuditEntry.object_type == type(obj).__tablename__, AuditEntry.object_id == obj.id
            )
            .order_by(AuditEntry.id)
        )
    )


def attendance_of(meeting: Meeting, user: User) -> Attendance:
    db.session.expire_all()
    return db.session.scalar(
        db.select(Attendance).where(
            Attendance.meeting_id == meeting.id, Attendance.user_id == user.id
        )
    )
