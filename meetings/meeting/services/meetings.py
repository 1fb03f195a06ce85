"""Verbs over meetings: create, edit, move through their states. They check
permissions and state, flush, audit and notify; the caller commits."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from auth.models import Community, User
from meetings.audit.services import record
from meetings.dbtypes import utcnow
from meetings.errors import (
    ConfirmationNeeded,
    Conflict,
    InvalidTransition,
    PollStillOpen,
    ValidationFailed,
)
from meetings.extensions import db
from meetings.meeting.models import (
    TRANSITIONS,
    AgendaItem,
    Attendance,
    Meeting,
    MeetingStatus,
    Presence,
)
from meetings.meeting.permissions import require_manager, require_meeting_creator
from meetings.meeting.services import topics
from meetings.meeting.services.common import (
    as_utc,
    format_when,
    link_to,
    place_text,
    when_text,
)
from meetings.notifications.services import notify
from meetings.polls.models import Poll, PollStatus

TITLE_MAX = 200
DESCRIPTION_MAX = 10_000
LOCATION_MAX = 200
ONLINE_URL_MAX = 500
REASON_MAX = 2_000

# What a secretary may change, and which of it is "time or place".
EDITABLE = (
    "title",
    "description",
    "starts_at",
    "ends_at",
    "location",
    "online_url",
    "host_id",
    "recorder_id",
    "request_ids",
    "allow_proxies",
    "max_proxies_per_person",
    "speaking_limit_seconds",
)
# The room's settings (issue 16), their defaults and the numbers' ranges.
ROOM_DEFAULTS = {"allow_proxies": False, "max_proxies_per_person": 1, "speaking_limit_seconds": 180}
PROXIES_PER_PERSON = (1, 10)
SPEAKING_LIMIT_SECONDS = (30, 1800)
TIME_AND_PLACE = ("starts_at", "ends_at", "location", "online_url")

# --- validation -----------------------------------------------------------------------


def _member_or_error(
    community: Community, user_id: int | None, field: str, fields: dict[str, list[str]]
) -> User | None:
    if user_id is None:
        return None
    user = db.session.get(User, user_id)
    if user is None or user.membership_in(community.id) is None:
        fields[field] = [_("Please choose a member of %(community)s.", community=community.name)]
        return None
    return user


def _validated(community: Community, values: dict[str, Any], meeting: Meeting | None) -> dict:
    """Clean the details of a meeting, or ValidationFailed with a message per field."""
    fields: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}

    title = (values.get("title") or "").strip()
    if not title:
        fields["title"] = [_("Please give the meeting a title.")]
    elif len(title) > TITLE_MAX:
        fields["title"] = [_("At most %(n)d characters.", n=TITLE_MAX)]
    clean["title"] = title

    description = (values.get("description") or "").strip()
    if len(description) > DESCRIPTION_MAX:
        fields["description"] = [_("At most %(n)d characters.", n=DESCRIPTION_MAX)]
    clean["description"] = description

    location = (values.get("location") or "").strip()
    online_url = (values.get("online_url") or "").strip() or None
    if len(location) > LOCATION_MAX:
        fields["location"] = [_("At most %(n)d characters.", n=LOCATION_MAX)]
    if online_url is not None:
        if len(online_url) > ONLINE_URL_MAX:
            fields["online_url"] = [_("At most %(n)d characters.", n=ONLINE_URL_MAX)]
        elif not online_url.lower().startswith(("https://", "http://")) or " " in online_url:
            fields["online_url"] = [_("Please give a web address starting with https://.")]
    if not location and online_url is None and "online_url" not in fields:
        fields["location"] = [_("Please give the place, or an online link.")]
    clean["location"], clean["online_url"] = location, online_url

    starts_at: datetime | None = values.get("starts_at")
    ends_at: datetime | None = values.get("ends_at")
    if starts_at is None:
        fields["starts_at"] = [_("Please give the start.")]
    if ends_at is None:
        fields["ends_at"] = [_("Please give the end.")]
    if starts_at is not None and ends_at is not None:
        starts_at, ends_at = as_utc(starts_at), as_utc(ends_at)
        if ends_at <= starts_at:
            fields["ends_at"] = [_("The end must be after the start.")]
        elif (ends_at - starts_at).days >= 1:
            fields["ends_at"] = [_("A meeting lasts less than a day.")]
    clean["starts_at"], clean["ends_at"] = starts_at, ends_at

    clean["host"] = _member_or_error(community, values.get("host_id"), "host_id", fields)
    clean["recorder"] = _member_or_error(
        community, values.get("recorder_id"), "recorder_id", fields
    )
    current = list(meeting.topics) if meeting is not None else []
    clean["topics"] = topics.topics_or_error(
        community, values.get("request_ids") or [], current, fields
    )
    _room_settings(values, clean, fields)
    if fields:
        raise ValidationFailed(_("Please correct the marked fields."), fields)
    return clean


def _room_settings(values: dict[str, Any], clean: dict[str, Any], fields: dict) -> None:
    """Proxies allowed (a yes or no), proxies per person and the speaking limit
    (whole numbers within their ranges)."""
    allow = values.get("allow_proxies", ROOM_DEFAULTS["allow_proxies"])
    if not isinstance(allow, bool):
        fields["allow_proxies"] = [_("Please answer yes or no.")]
    clean["allow_proxies"] = allow
    for name, (low, high) in (
        ("max_proxies_per_person", PROXIES_PER_PERSON),
        ("speaking_limit_seconds", SPEAKING_LIMIT_SECONDS),
    ):
        value = values.get(name, ROOM_DEFAULTS[name])
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            fields[name] = [
                _("Please give a whole number from %(low)d to %(high)d.", low=low, high=high)
            ]
        clean[name] = value


# --- creating and editing -------------------------------------------------------------


def create_meeting(actor: User, community: Community, **values: Any) -> Meeting:
    """A draft meeting; ``values`` are the fields of ``EDITABLE``."""
    require_meeting_creator(actor, community)
    clean = _validated(community, values, None)
    meeting = Meeting(
        community=community,
        title=clean["title"],
        description=clean["description"],
        starts_at=clean["starts_at"],
        ends_at=clean["ends_at"],
        location=clean["location"],
        online_url=clean["online_url"],
        host=clean["host"],
        recorder=clean["recorder"],
        allow_proxies=clean["allow_proxies"],
        max_proxies_per_person=clean["max_proxies_per_person"],
        speaking_limit_seconds=clean["speaking_limit_seconds"],
        status=MeetingStatus.DRAFT,
        created_by=actor,
    )
    db.session.add(meeting)
    db.session.flush()
    topics.set_topics(actor, meeting, clean["topics"])
    record(actor, "meeting.created", meeting, community_id=community.id, title=meeting.title)
    return meeting


def _current_values(meeting: Meeting) -> dict[str, Any]:
    return {
        "title": meeting.title,
        "description": meeting.description,
        "starts_at": meeting.starts_at,
        "ends_at": meeting.ends_at,
        "location": meeting.location,
        "online_url": meeting.online_url,
        "host_id": meeting.host_id,
        "recorder_id": meeting.recorder_id,
        "request_ids": meeting.request_ids,
        "allow_proxies": meeting.allow_proxies,
        "max_proxies_per_person": meeting.max_proxies_per_person,
        "speaking_limit_seconds": meeting.speaking_limit_seconds,
    }


def update_meeting(actor: User, meeting: Meeting, **changes: Any) -> Meeting:
    """Change any of the details of ``EDITABLE``. Changing the time or place of
    a scheduled meeting tells everyone invited."""
    require_manager(actor, meeting)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    if meeting.status in (MeetingStatus.CANCELLED, MeetingStatus.MINUTES_PUBLISHED):
        raise Conflict(
            _(
                "This meeting is “%(status)s”: it can no longer be changed.",
                status=meeting.status.label,
            )
        )
    before = _current_values(meeting)
    values = {**before, **changes}
    clean = _validated(meeting.community, values, meeting)

    changed = [
        name
        for name in EDITABLE
        if name in changes and _normalised(name, values[name]) != _normalised(name, before[name])
    ]
    if meeting.status not in (MeetingStatus.DRAFT, MeetingStatus.SCHEDULED):
        frozen = [name for name in changed if name in (*TIME_AND_PLACE, "request_ids")]
        if frozen:
            message = _(
                "The meeting has begun: its time, place and topics can no longer be changed."
            )
            raise Conflict(message, {name: [message] for name in frozen})
    if not changed:
        return meeting

    meeting.title = clean["title"]
    meeting.description = clean["description"]
    meeting.starts_at, meeting.ends_at = clean["starts_at"], clean["ends_at"]
    meeting.location, meeting.online_url = clean["location"], clean["online_url"]
    meeting.host, meeting.recorder = clean["host"], clean["recorder"]
    meeting.allow_proxies = clean["allow_proxies"]
    meeting.max_proxies_per_person = clean["max_proxies_per_person"]
    meeting.speaking_limit_seconds = clean["speaking_limit_seconds"]
    if "request_ids" in changed:
        topics.set_topics(actor, meeting, clean["topics"])
    rescheduled = [name for name in changed if name in TIME_AND_PLACE]
    if rescheduled:
        meeting.sequence += 1
    db.session.flush()
    record(actor, "meeting.updated", meeting, changed=changed)
    if rescheduled and meeting.status == MeetingStatus.SCHEDULED:
        _notify_rescheduled(actor, meeting, before)
    return meeting


def _normalised(name: str, value: Any) -> Any:
    if name in ("starts_at", "ends_at") and isinstance(value, datetime):
        return as_utc(value)
    if name == "request_ids":
        return sorted(set(value or []))
    if name in ("title", "description", "location"):
        return (value or "").strip()
    if name == "online_url":
        return (value or "").strip() or None
    return value


def _notify_rescheduled(actor: User, meeting: Meeting, before: dict[str, Any]) -> None:
    record(
        actor,
        "meeting.rescheduled",
        meeting,
        starts_at=meeting.starts_at.isoformat(),
        ends_at=meeting.ends_at.isoformat(),
        location=meeting.location,
        previous_starts_at=before["starts_at"].isoformat(),
        previous_location=before["location"],
    )
    for attendance in _invitees(meeting):
        notify(
            attendance.user,
            "meeting.rescheduled",
            _l("Changed: %(title)s", title=meeting.title),
            _l(
                "The consultation meeting “%(title)s” now takes place %(when)s, %(place)s.",
                title=meeting.title,
                when=when_text(meeting),
                place=place_text(meeting),
            ),
            link_to(meeting),
        )


def _invitees(meeting: Meeting) -> list[Attendance]:
    """Everyone who has been sent an invitation."""
    return [a for a in meeting.attendances if a.notified_at is not None]


# --- states ---------------------------------------------------------------------------


def transition_meeting(
    actor: User,
    meeting: Meeting,
    to: MeetingStatus | str,
    reason: str | None = None,
    *,
    confirmed: bool = True,
) -> Meeting:
    """Move the meeting to its next state: ``scheduled``, ``in_progress``,
    ``closed`` or ``cancelled`` (with a reason). ``minutes_published`` comes
    from publishing the minutes (``mark_minutes_published``).

    Closing marks the attendees whose presence nobody recorded absent, so a
    closed meeting's minutes say present or absent of everyone. Starting a
    meeting far from its time (``off_schedule``) and closing one with such
    attendees (``unmarked_attendances``) are refused with ConfirmationNeeded
    unless ``confirmed``: the web pages and the API pass what the secretary
    confirmed; scripts (the demo, tests) decide for themselves."""
    require_manager(actor, meeting)
    try:
        to = MeetingStatus(to)
    except ValueError:
        message = _("Unknown state.")
        raise ValidationFailed(message, {"to": [message]})
    current = meeting.status
    if to == MeetingStatus.MINUTES_PUBLISHED:
        raise InvalidTransition(_("A meeting’s minutes are published from its minutes page."))
    if to not in TRANSITIONS[current]:
        raise InvalidTransition(_illegal_message(current, to))
    reason = (reason or "").strip() or None
    if to == MeetingStatus.CANCELLED:
        problem = None
        if reason is None:
            problem = _("Please give the reason; it is sent to everyone invited.")
        elif len(reason) > REASON_MAX:
            problem = _("At most %(n)d characters.", n=REASON_MAX)
        if problem:
            raise ValidationFailed(problem, {"reason": [problem]})

    now = utcnow()
    if to == MeetingStatus.IN_PROGRESS and not confirmed and off_schedule(meeting, now):
        raise ConfirmationNeeded(
            _(
                "This meeting is planned for %(when)s. Start it now all the same?",
                when=format_when(meeting),
            )
        )
    if to in (MeetingStatus.CLOSED, MeetingStatus.CANCELLED):
        _require_no_open_poll(meeting)
    if to == MeetingStatus.CLOSED and not confirmed:
        unmarked = len(unmarked_attendances(meeting))
        if unmarked:
            raise ConfirmationNeeded(
                ngettext(
                    "%(num)d attendee’s presence is not recorded: close and mark them absent?",
                    "%(num)d attendees’ presence is not recorded: close and mark them absent?",
                    unmarked,
                )
            )
    _guarded_status_change(meeting, current, to)
    if to == MeetingStatus.SCHEDULED:
        meeting.scheduled_at = meeting.scheduled_at or now
    elif to == MeetingStatus.IN_PROGRESS:
        meeting.started_at = now
    elif to == MeetingStatus.CLOSED:
        meeting.closed_at = now
        _mark_unmarked_absent(actor, meeting)
    elif to == MeetingStatus.CANCELLED:
        meeting.cancelled_at = now
        meeting.cancel_reason = reason
    db.session.flush()
    record(actor, f"meeting.{to.value}", meeting, from_status=current.value, reason=reason)

    if to == MeetingStatus.SCHEDULED:
        for item in meeting.topics:
            topics.schedule_topic(actor, meeting, item)
        _send_pending_invitations(meeting)
    elif to == MeetingStatus.CLOSED:
        topics.deliberate_topics(actor, meeting)
    elif to == MeetingStatus.CANCELLED:
        for item in meeting.topics:
            topics.unschedule_topic(actor, meeting, item)
        _notify_cancelled(meeting, reason or "")
    return meeting


def start_window() -> timedelta:
    """How long before its planned start a meeting starts without a question
    (``MEETING_START_WINDOW_MINUTES``, default 60)."""
    return timedelta(minutes=current_app.config["MEETING_START_WINDOW_MINUTES"])


def off_schedule(meeting: Meeting, now: datetime | None = None) -> bool:
    """Whether starting the meeting now is far from its planned time: earlier
    than ``start_window()`` before its start, or after its planned end."""
    now = now or utcnow()
    return now < as_utc(meeting.starts_at) - start_window() or now > as_utc(meeting.ends_at)


def unmarked_attendances(meeting: Meeting) -> list[Attendance]:
    """The attendees whose presence nobody has recorded, by name: those the
    close will mark absent."""
    unmarked = [a for a in meeting.attendances if a.presence is None]
    return sorted(unmarked, key=lambda a: (a.user.display_name, a.id))


def _mark_unmarked_absent(actor: User, meeting: Meeting) -> None:
    unmarked = unmarked_attendances(meeting)
    if not unmarked:
        return
    for attendance in unmarked:
        attendance.presence = Presence.ABSENT
    db.session.flush()
    record(
        actor,
        "meeting.unmarked_absent",
        meeting,
        user_ids=[attendance.user_id for attendance in unmarked],
    )


def _require_no_open_poll(meeting: Meeting) -> None:
    """A meeting that ends never leaves a vote open behind it."""
    open_poll = db.session.scalar(
        db.select(Poll.title)
        .join(AgendaItem, AgendaItem.id == Poll.agenda_item_id)
        .where(AgendaItem.meeting_id == meeting.id, Poll.status == PollStatus.OPEN)
        .order_by(Poll.id)
        .limit(1)
    )
    if open_poll is not None:
        raise PollStillOpen(
            _(
                "The poll “%(title)s” is still open: close it (or enter its show of hands) "
                "before the meeting ends.",
                title=open_poll,
            )
        )


def mark_minutes_published(actor: User, meeting: Meeting) -> Meeting:
    """For the minutes: publishing them takes a closed meeting to its last state."""
    require_manager(actor, meeting)
    current = meeting.status
    if current != MeetingStatus.CLOSED:
        raise InvalidTransition(_illegal_message(current, MeetingStatus.MINUTES_PUBLISHED))
    _guarded_status_change(meeting, current, MeetingStatus.MINUTES_PUBLISHED)
    db.session.flush()
    record(actor, "meeting.minutes_published", meeting, from_status=current.value)
    return meeting


def _guarded_status_change(meeting: Meeting, current: MeetingStatus, to: MeetingStatus) -> None:
    """``UPDATE … WHERE status = <current>``: of two secretaries pressing the
    same button at once, one wins and the other is told."""
    result = db.session.execute(
        db.update(Meeting)
        .where(Meeting.id == meeting.id, Meeting.status == current)
        .values(status=to, updated_at=utcnow())
        .execution_options(synchronize_session="evaluate")
    )
    if result.rowcount != 1:
        raise InvalidTransition(
            _("Someone else changed this meeting just now. Please look at it again.")
        )
    meeting.status = to


def _illegal_message(current: MeetingStatus, to: MeetingStatus) -> str:
    possible = [s for s in TRANSITIONS[current] if s != MeetingStatus.MINUTES_PUBLISHED]
    if current == to:
        return _("The meeting is already “%(status)s”.", status=current.label)
    if not possible:
        return _(
            "This meeting is “%(current)s”: it cannot become “%(to)s”, nor change state any more.",
            current=current.label,
            to=to.label,
        )
    return _(
        "This meeting is “%(current)s”: it cannot become “%(to)s”. Possible: %(possible)s.",
        current=current.label,
        to=to.label,
        possible=", ".join(f"“{s.label}”" for s in MeetingStatus if s in possible),
    )


def _send_pending_invitations(meeting: Meeting) -> None:
    """Invitations made while the meeting was a draft go out when it is scheduled."""
    for attendance in meeting.attendances:
        if attendance.notified_at is None:
            send_invitation(attendance)


def send_invitation(attendance: Attendance) -> None:
    meeting = attendance.meeting
    notify(
        attendance.user,
        "meeting.invited",
        _l("Invitation: %(title)s", title=meeting.title),
        _l(
            "You are invited as %(role)s to the consultation meeting “%(title)s”, "
            "%(when)s, %(place)s. Please say whether you will come.",
            role=attendance.role.label,
            title=meeting.title,
            when=when_text(meeting),
            place=place_text(meeting),
        ),
        link_to(meeting),
    )
    attendance.notified_at = utcnow()


def _notify_cancelled(meeting: Meeting, reason: str) -> None:
    for attendance in _invitees(meeting):
        notify(
            attendance.user,
            "meeting.cancelled",
            _l("Cancelled: %(title)s", title=meeting.title),
            _l(
                "The consultation meeting “%(title)s” (%(when)s) is cancelled. Reason: %(reason)s",
                title=meeting.title,
                when=when_text(meeting),
                reason=reason,
            ),
            link_to(meeting),
        )
