"""A meeting as an iCalendar file (.ics), for phones' and desktops' calendars."""

from __future__ import annotations

from flask_babel import gettext as _
from icalendar import Calendar, Event

from meetings.dbtypes import utcnow
from meetings.meeting.models import Meeting, MeetingStatus

PRODID = "-//Shangliang//有事好商量//ZH"
ICS_STATUS = {
    MeetingStatus.DRAFT: "TENTATIVE",
    MeetingStatus.CANCELLED: "CANCELLED",
}


def uid(meeting: Meeting) -> str:
    """Stable across changes, so a calendar updates the event it already has."""
    return f"meeting-{meeting.id}@shangliang"


def meeting_ics(meeting: Meeting, url: str, show_online_link: bool) -> bytes:
    """The meeting as a one-event calendar. ``url`` is the meeting's page;
    the online link goes only to those who may see it."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")

    event = Event()
    event.add("uid", uid(meeting))
    event.add("dtstamp", utcnow())
    event.add("created", meeting.created_at)
    event.add("last-modified", meeting.updated_at)
    event.add("sequence", meeting.sequence)
    event.add("dtstart", meeting.starts_at)
    event.add("dtend", meeting.ends_at)
    event.add("summary", meeting.title)
    place = meeting.location
    if show_online_link and meeting.online_url:
        place = f"{place} {meeting.online_url}".strip()
    if place:
        event.add("location", place)
    event.add("status", ICS_STATUS.get(meeting.status, "CONFIRMED"))
    event.add("url", url)
    event.add("description", _description(meeting, url, show_online_link))
    calendar.add_component(event)
    return calendar.to_ical()


def _description(meeting: Meeting, url: str, show_online_link: bool) -> str:
    lines = []
    if meeting.status == MeetingStatus.CANCELLED and meeting.cancel_reason:
        lines += [_("Cancelled: %(reason)s", reason=meeting.cancel_reason), ""]
    if meeting.description:
        lines += [meeting.description, ""]
    if meeting.agenda_items:
        lines.append(_("Agenda"))
        for item in meeting.agenda_items:
            minutes = " " + _("(%(n)d min)", n=item.planned_minutes) if item.planned_minutes else ""
            lines.append(f"{item.position}. {item.title}{minutes}")
        lines.append("")
    if show_online_link and meeting.online_url:
        lines.append(_("Online: %(url)s", url=meeting.online_url))
    lines.append(url)
    return "\n".join(lines)
