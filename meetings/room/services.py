"""The verbs of the meeting room (issue 16): the big screen's links, the
speakers' queue (发言) and the agenda item under way. They check permission
and state, flush, audit and ``publish`` what the room sees; the request
commits (and the live events go out after it)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from auth import permissions
from auth.models import User
from meetings.audit.services import record
from meetings.dbtypes import utcnow
from meetings.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from meetings.extensions import db
from meetings.meeting.models import AgendaItem, Attendance, Meeting, MeetingStatus
from meetings.meeting.permissions import (
    can_manage_meeting,
    is_attendee,
    require_attendee,
    require_insider,
    require_manager,
)
from meetings.room.live import publish
from meetings.room.models import ScreenLink, SpeakerEntry

LABEL_MAX = 60
# Meetings whose big screen may be shown: not called off, not long over.
SCREEN_STATUSES = frozenset(
    {
        MeetingStatus.DRAFT,
        MeetingStatus.SCHEDULED,
        MeetingStatus.IN_PROGRESS,
        MeetingStatus.CLOSED,
    }
)

# --- screen links ---------------------------------------------------------------------


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def create_screen_link(actor: User, meeting: Meeting, label: str = "") -> tuple[ScreenLink, str]:
    """A new link for the room's screen (the secretary). The plain token is
    given back this once; only its SHA-256 is kept."""
    require_manager(actor, meeting)
    if meeting.status not in SCREEN_STATUSES:
        raise Conflict(
            _(
                "This meeting is “%(status)s”: it has no big screen any more.",
                status=meeting.status.label,
            )
        )
    label = (label or "").strip()
    if len(label) > LABEL_MAX:
        message = _("At most %(n)d characters.", n=LABEL_MAX)
        raise ValidationFailed(message, {"label": [message]})
    token = secrets.token_urlsafe(32)
    link = ScreenLink(meeting=meeting, token_hash=hash_token(token), label=label, created_by=actor)
    db.session.add(link)
    db.session.flush()
    record(actor, "screen_link.created", link, meeting_id=meeting.id, label=label)
    return link, token


def revoke_screen_link(actor: User, link: ScreenLink) -> ScreenLink:
    """The link stops working at once: its page is gone, its stream refused."""
    require_manager(actor, link.meeting)
    if link.revoked_at is None:
        link.revoked_at = utcnow()
        db.session.flush()
        record(actor, "screen_link.revoked", link, meeting_id=link.meeting_id)
    return link


def get_screen_link(link_id: int) -> ScreenLink:
    link = db.session.get(ScreenLink, link_id)
    if link is None:
        raise NotFound(_("No such screen link."))
    return link


def active_screen_links(meeting: Meeting) -> list[ScreenLink]:
    return list(
        db.session.scalars(
            db.select(ScreenLink)
            .where(ScreenLink.meeting_id == meeting.id, ScreenLink.revoked_at.is_(None))
            .order_by(ScreenLink.id)
        )
    )


def meeting_for_screen_token(token: str | None) -> Meeting | None:
    """The meeting a screen link shows, or None: no such link, revoked, or
    the meeting is cancelled or its minutes are out. (Also the live stream's
    check for ``?screen=TOKEN``.)"""
    if not token or len(token) > 200:
        return None
    link = db.session.scalar(
        db.select(ScreenLink)
        .where(ScreenLink.token_hash == hash_token(token), ScreenLink.revoked_at.is_(None))
        .options(joinedload(ScreenLink.meeting))
    )
    if link is None or link.meeting.status not in SCREEN_STATUSES:
        return None
    return link.meeting


# --- the speakers' queue --------------------------------------------------------------


@dataclass
class SpeakerQueue:
    """Who speaks now, and who waits, in order."""

    current: SpeakerEntry | None = None
    waiting: list[SpeakerEntry] = field(default_factory=list)

    def place_of(self, user: User | None) -> int | None:
        """1 for the first waiting, …; 0 while speaking; None when not in the queue."""
        if user is None or not getattr(user, "is_authenticated", False):
            return None
        if self.current is not None and self.current.user_id == user.id:
            return 0
        for place, entry in enumerate(self.waiting, start=1):
            if entry.user_id == user.id:
                return place
        return None

    def entry_of(self, user: User | None) -> SpeakerEntry | None:
        if user is None or not getattr(user, "is_authenticated", False):
            return None
        if self.current is not None and self.current.user_id == user.id:
            return self.current
        return next((e for e in self.waiting if e.user_id == user.id), None)


def speaker_queue(meeting: Meeting) -> SpeakerQueue:
    """The entries not ended (by the queue's index), with their people."""
    entries = db.session.scalars(
        db.select(SpeakerEntry)
        .where(SpeakerEntry.meeting_id == meeting.id, SpeakerEntry.ended_at.is_(None))
        .order_by(SpeakerEntry.requested_at, SpeakerEntry.id)
        .options(joinedload(SpeakerEntry.user))
    )
    queue = SpeakerQueue()
    for entry in entries:
        if entry.started_at is not None:
            queue.current = entry
        else:
            queue.waiting.append(entry)
    return queue


def get_speaker_entry(entry_id: int) -> SpeakerEntry:
    entry = db.session.get(SpeakerEntry, entry_id)
    if entry is None:
        raise NotFound(_("No such place in the speakers' queue."))
    return entry


def _require_in_progress(meeting: Meeting) -> None:
    if meeting.status != MeetingStatus.IN_PROGRESS:
        raise Conflict(_("Only while the meeting is in progress."))


def _queued(meeting: Meeting, user: User, added_by: User) -> SpeakerEntry:
    """Once in the queue at a time: waiting or speaking."""
    standing = db.session.scalar(
        db.select(SpeakerEntry.id).where(
            SpeakerEntry.meeting_id == meeting.id,
            SpeakerEntry.user_id == user.id,
            SpeakerEntry.ended_at.is_(None),
        )
    )
    if standing is not None:
        raise Conflict(_("%(name)s is already in the speakers' queue.", name=user.display_name))
    entry = SpeakerEntry(
        meeting=meeting,
        user=user,
        agenda_item_id=meeting.current_agenda_item_id,
        added_by_id=added_by.id,
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def _publish_queue(meeting: Meeting) -> None:
    queue = speaker_queue(meeting)
    publish(
        meeting.id,
        "speaker",
        {
            "current_user_id": queue.current.user_id if queue.current else None,
            "waiting": len(queue.waiting),
        },
    )


def ask_for_the_floor(actor: User, meeting: Meeting) -> SpeakerEntry:
    """申请发言: an attendee asks from their phone; once while waiting."""
    require_attendee(actor, meeting)
    _require_in_progress(meeting)
    entry = _queued(meeting, actor, actor)
    record(actor, "speaker.requested", entry, meeting_id=meeting.id)
    _publish_queue(meeting)
    return entry


def add_speaker(actor: User, meeting: Meeting, user: User | None) -> SpeakerEntry:
    """The secretary puts an attendee in the queue (a raised hand in the room)."""
    require_manager(actor, meeting)
    _require_in_progress(meeting)
    if user is None or not is_attendee(user, meeting):
        message = _("Please choose an attendee of the meeting.")
        raise ValidationFailed(message, {"user_id": [message]})
    entry = _queued(meeting, user, actor)
    record(actor, "speaker.added", entry, meeting_id=meeting.id, user_id=user.id)
    _publish_queue(meeting)
    return entry


def require_speaker_or_manager(actor: User | None, entry: SpeakerEntry) -> None:
    is_self = permissions.is_authenticated(actor) and actor.id == entry.user_id
    if not is_self and not can_manage_meeting(actor, entry.meeting):
        raise NotAllowed(_("Only the speaker and the secretary may do this."))


def withdraw(actor: User, entry: SpeakerEntry) -> SpeakerEntry:
    """The speaker (or the secretary) takes a waiting place back."""
    require_speaker_or_manager(actor, entry)
    meeting = entry.meeting
    _require_in_progress(meeting)
    if entry.ended_at is not None or entry.started_at is not None:
        raise Conflict(_("Only a place still waiting can be withdrawn."))
    entry.ended_at = utcnow()
    entry.withdrawn = True
    db.session.flush()
    record(actor, "speaker.withdrawn", entry, meeting_id=meeting.id)
    _publish_queue(meeting)
    return entry


def _end_current(queue: SpeakerQueue, now: datetime) -> SpeakerEntry | None:
    ended = queue.current
    if ended is not None:
        ended.ended_at = now
        queue.current = None
    return ended


def next_speaker(actor: User, meeting: Meeting) -> SpeakerQueue:
    """The current speaker ends; the first waiting one starts (if any)."""
    require_manager(actor, meeting)
    _require_in_progress(meeting)
    queue = speaker_queue(meeting)
    now = utcnow()
    ended = _end_current(queue, now)
    if queue.waiting:
        queue.current = queue.waiting.pop(0)
        queue.current.started_at = now
    elif ended is None:
        raise Conflict(_("Nobody is waiting to speak."))
    db.session.flush()
    record(
        actor,
        "speaker.next",
        meeting,
        ended_user_id=ended.user_id if ended else None,
        started_user_id=queue.current.user_id if queue.current else None,
    )
    _publish_queue(meeting)
    return queue


def end_speaker(actor: User, meeting: Meeting) -> SpeakerQueue:
    """The current speaker ends; nobody starts."""
    require_manager(actor, meeting)
    _require_in_progress(meeting)
    queue = speaker_queue(meeting)
    ended = _end_current(queue, utcnow())
    if ended is None:
        raise Conflict(_("Nobody is speaking."))
    db.session.flush()
    record(actor, "speaker.ended", meeting, user_id=ended.user_id)
    _publish_queue(meeting)
    return queue


def speaker_deadline(meeting: Meeting, entry: SpeakerEntry | None) -> datetime | None:
    if entry is None or entry.started_at is None:
        return None
    return entry.started_at + timedelta(seconds=meeting.speaking_limit_seconds)


# --- the agenda item under way --------------------------------------------------------


def set_current_item(actor: User, meeting: Meeting, item: AgendaItem | None) -> Meeting:
    """The big screen shows ``item`` from now, with its countdown."""
    require_manager(actor, meeting)
    _require_in_progress(meeting)
    if item is None or item.meeting_id != meeting.id:
        message = _("Please choose an item of this meeting's agenda.")
        raise ValidationFailed(message, {"agenda_item_id": [message]})
    meeting.current_agenda_item = item
    meeting.current_item_started_at = utcnow()
    db.session.flush()
    record(actor, "meeting.agenda_item_started", meeting, agenda_item_id=item.id)
    publish(meeting.id, "agenda", {"agenda_item_id": item.id})
    return meeting


def next_agenda_item(actor: User, meeting: Meeting) -> Meeting:
    """On to the next item (the first, when none is under way)."""
    require_manager(actor, meeting)
    _require_in_progress(meeting)
    items = meeting.agenda_items
    if not items:
        raise Conflict(_("The meeting has no agenda."))
    current = meeting.current_agenda_item_id
    positions = [item.id for item in items]
    if current is None or current not in positions:
        following = items[0]
    elif positions.index(current) + 1 < len(items):
        following = items[positions.index(current) + 1]
    else:
        raise Conflict(_("This is the last item of the agenda."))
    return set_current_item(actor, meeting, following)


def item_deadline(meeting: Meeting) -> datetime | None:
    item = meeting.current_agenda_item
    if item is None or meeting.current_item_started_at is None or not item.planned_minutes:
        return None
    return meeting.current_item_started_at + timedelta(minutes=item.planned_minutes)


def attendees_for_picker(meeting: Meeting) -> list[Attendance]:
    """The attendees the secretary may add to the queue, by name."""
    return sorted(meeting.attendances, key=lambda a: (a.user.display_name, a.user_id))


def require_queue_visible(actor: User | None, meeting: Meeting) -> None:
    require_insider(actor, meeting)
