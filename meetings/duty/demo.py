"""Demo of the duty records (履职档案), for ``flask seed-demo``: the district
CPPCC member of the demo (dongli-02) spoke and commented at the activity-room
meeting they attended, so that their record shows every kind of figure. Runs
after the meetings; what is there already is left alone."""

from __future__ import annotations

from datetime import timedelta

from auth.models import User
from meetings.extensions import db
from meetings.meeting.models import AgendaItem, Meeting
from meetings.polls.models import Comment, Proposal
from meetings.room.models import SpeakerEntry

MEMBER = "dongli-02"
MEETING = "182幢活动室改造出新协商议事会"
COMMENT = "建议地面选用防滑材料，卫生间加装扶手，方便老年人使用。"


def seed_duty() -> int:
    """The member's speech and comment; the number of rows added."""
    member = db.session.scalar(db.select(User).where(User.username == MEMBER))
    meeting = db.session.scalar(db.select(Meeting).where(Meeting.title == MEETING))
    if member is None or meeting is None:
        return 0
    added = 0
    spoke = db.session.scalar(
        db.select(SpeakerEntry.id).where(
            SpeakerEntry.meeting_id == meeting.id, SpeakerEntry.user_id == member.id
        )
    )
    if spoke is None:
        began = meeting.starts_at + timedelta(minutes=25)
        db.session.add(
            SpeakerEntry(
                meeting=meeting,
                user=member,
                agenda_item=meeting.agenda_items[0] if meeting.agenda_items else None,
                requested_at=began - timedelta(minutes=5),
                started_at=began,
                ended_at=began + timedelta(minutes=3),
            )
        )
        added += 1
    proposal = db.session.scalar(
        db.select(Proposal)
        .join(AgendaItem, AgendaItem.id == Proposal.agenda_item_id)
        .where(AgendaItem.meeting_id == meeting.id)
        .order_by(Proposal.id)
        .limit(1)
    )
    if proposal is not None and not any(c.author_id == member.id for c in proposal.comments):
        db.session.add(
            Comment(
                proposal=proposal,
                author=member,
                body=COMMENT,
                created_at=meeting.starts_at + timedelta(minutes=40),
            )
        )
        added += 1
    db.session.flush()
    return added
