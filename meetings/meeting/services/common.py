"""Lookups and helpers shared by the meeting services."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import LazyString, format_date, format_time
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from auth.models import User
from meetings.errors import Conflict, NotFound
from meetings.extensions import db
from meetings.meeting.models import AgendaItem, Attendance, Meeting, MeetingStatus
from meetings.meeting.permissions import can_view_meeting


def zone() -> ZoneInfo:
    """The communities' time zone (config ``TIMEZONE``)."""
    return ZoneInfo(current_app.config["TIMEZONE"])


def as_utc(value: datetime) -> datetime:
    """An aware UTC time; a naive one is read in the community's time zone."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone())
    return value.astimezone(UTC)


def as_local(value: datetime) -> datetime:
    """The naive wall-clock time in the community's zone, e.g. for a form field."""
    return value.astimezone(zone()).replace(tzinfo=None)


def link_to(meeting: Meeting) -> str:
    """The meeting's page (``meeting.show``), built by hand because services
    also run outside a web request (the demo data, the CLI)."""
    return f"/meetings/{meeting.id}"


def format_when(meeting: Meeting) -> str:
    """E.g. 2026年12月2日星期三 19:00–21:00, in the current language."""
    start, end = meeting.starts_at, meeting.ends_at
    text = f"{format_date(start, 'full')} {format_time(start, 'short')}–"
    if format_date(start, "short") != format_date(end, "short"):
        text += f"{format_date(end, 'full')} "
    return text + format_time(end, "short")


def when_text(meeting: Meeting) -> LazyString:
    """The meeting's date and time, rendered in the reader's language (for
    notifications, which are rendered in the recipient's)."""
    return LazyString(format_when, meeting)


def place_text(meeting: Meeting) -> str | LazyString:
    if meeting.location:
        return meeting.location
    return _l("online")


# --- loading --------------------------------------------------------------------------


def meeting_page_options() -> list:
    """Everything a meeting's page shows, in a fixed number of queries however
    many agenda items and attendees it has."""
    return [
        selectinload(Meeting.community),
        selectinload(Meeting.host),
        selectinload(Meeting.recorder),
        selectinload(Meeting.topics),
        selectinload(Meeting.agenda_items).selectinload(AgendaItem.requests),
        selectinload(Meeting.attendances).selectinload(Attendance.user),
    ]


def get_meeting(meeting_id: int, full: bool = False) -> Meeting:
    """The meeting, or NotFound; ``full`` loads its agenda and attendees too."""
    statement = db.select(Meeting).where(Meeting.id == meeting_id)
    if full:
        statement = statement.options(*meeting_page_options())
    meeting = db.session.scalar(statement)
    if meeting is None:
        raise NotFound(_("No such meeting."))
    return meeting


def get_visible_meeting(user: User | None, meeting_id: int, full: bool = False) -> Meeting:
    """The meeting if this user may see it. A draft is as missing as a wrong
    id to those who may not see it: its existence is not public."""
    meeting = get_meeting(meeting_id, full=full)
    if not can_view_meeting(user, meeting):
        raise NotFound(_("No such meeting."))
    return meeting


def get_agenda_item(meeting: Meeting, item_id: int) -> AgendaItem:
    item = db.session.get(AgendaItem, item_id)
    if item is None or item.meeting_id != meeting.id:
        raise NotFound(_("No such agenda item."))
    return item


def get_attendance(meeting: Meeting, user_id: int) -> Attendance:
    attendance = db.session.scalar(
        db.select(Attendance).where(
            Attendance.meeting_id == meeting.id, Attendance.user_id == user_id
        )
    )
    if attendance is None:
        raise NotFound(_("This person is not invited to the meeting."))
    return attendance


# --- checks ---------------------------------------------------------------------------


def require_status(meeting: Meeting, allowed: set[MeetingStatus], message: str) -> None:
    if meeting.status not in allowed:
        raise Conflict(message)
