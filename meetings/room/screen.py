"""What the big screen (投屏) shows of a meeting, read in a few queries: the
item under way with its countdown, the speakers' queue, attendance against
quorum, an open poll's turnout — never its choices — and, once closed, its
result. Names and roles only: nothing here carries a phone number or a
ballot's choice before the close."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import selectinload

from meetings.dbtypes import utcnow
from meetings.extensions import db
from meetings.meeting import services as meeting_services
from meetings.meeting.models import AgendaItem, Attendance, Meeting
from meetings.polls import services as poll_services
from meetings.polls.models import Poll, PollStatus
from meetings.polls.views import OptionRow, result_rows
from meetings.room import services


@dataclass(frozen=True)
class Speaker:
    name: str
    role: str  # the attendance's role label


@dataclass(frozen=True)
class ScreenPoll:
    poll: Poll
    turnout: poll_services.Turnout | None  # online polls
    rows: list[OptionRow] | None  # once closed


@dataclass(frozen=True)
class ScreenState:
    meeting: Meeting
    item: AgendaItem | None
    item_deadline: datetime | None
    current_speaker: Speaker | None
    speaker_started_at: datetime | None
    speaker_deadline: datetime | None
    waiting: list[Speaker]
    quorum: meeting_services.Quorum
    poll: ScreenPoll | None
    now: datetime

    @property
    def item_remaining(self) -> int | None:
        """Seconds left of the item's planned time (negative once over)."""
        if self.item_deadline is None:
            return None
        return int((self.item_deadline - self.now).total_seconds())

    @property
    def speaker_remaining(self) -> int | None:
        if self.speaker_deadline is None:
            return None
        return int((self.speaker_deadline - self.now).total_seconds())


def clock(seconds: int | None) -> str:
    """Seconds as m:ss, with a minus once past zero: 185 → 3:05, -7 → -0:07."""
    if seconds is None:
        return ""
    sign = "-" if seconds < 0 else ""
    minutes, rest = divmod(abs(seconds), 60)
    return f"{sign}{minutes}:{rest:02d}"


def _shown_poll(meeting: Meeting) -> Poll | None:
    """An open poll (the one opened last), else the last one closed."""
    of_meeting = db.select(AgendaItem.id).where(AgendaItem.meeting_id == meeting.id)
    base = (
        db.select(Poll)
        .where(Poll.agenda_item_id.in_(of_meeting))
        .options(selectinload(Poll.options))
    )
    poll = db.session.scalar(
        base.where(Poll.status == PollStatus.OPEN).order_by(Poll.opened_at.desc(), Poll.id.desc())
    )
    if poll is None:
        poll = db.session.scalar(
            base.where(Poll.status == PollStatus.CLOSED).order_by(
                Poll.closed_at.desc(), Poll.id.desc()
            )
        )
    return poll


def _screen_poll(poll: Poll | None) -> ScreenPoll | None:
    if poll is None:
        return None
    turnout = None if poll.in_room else poll_services.turnout(poll)
    rows = result_rows(poll) if poll.status == PollStatus.CLOSED else None
    return ScreenPoll(poll, turnout, rows)


def screen_state(meeting_id: int) -> ScreenState:
    meeting = db.session.scalar(
        db.select(Meeting)
        .where(Meeting.id == meeting_id)
        .options(
            selectinload(Meeting.community),
            selectinload(Meeting.agenda_items),
            selectinload(Meeting.attendances).selectinload(Attendance.user),
        )
    )
    roles = {a.user_id: str(a.role.label) for a in meeting.attendances}
    queue = services.speaker_queue(meeting)

    def speaker(entry) -> Speaker:
        return Speaker(entry.user.display_name, roles.get(entry.user_id, ""))

    current = queue.current
    return ScreenState(
        meeting=meeting,
        item=meeting.current_agenda_item,
        item_deadline=services.item_deadline(meeting),
        current_speaker=speaker(current) if current else None,
        speaker_started_at=current.started_at if current else None,
        speaker_deadline=services.speaker_deadline(meeting, current),
        waiting=[speaker(entry) for entry in queue.waiting],
        quorum=meeting_services.quorum(meeting),
        poll=_screen_poll(_shown_poll(meeting)),
        now=utcnow(),
    )
