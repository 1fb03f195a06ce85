"""Lookups and checks shared by the verbs of proposals, polls and ballots."""

from __future__ import annotations

from flask_babel import gettext as _

from auth.models import User
from meetings.errors import Conflict, NotFound, ValidationFailed
from meetings.extensions import db
from meetings.meeting.models import AgendaItem, Meeting, MeetingStatus
from meetings.meeting.permissions import require_deliberation_visible
from meetings.polls.models import Comment, Poll, Proposal

TITLE_MAX = 200
BODY_MAX = 10_000
COMMENT_MAX = 4_000

# Meetings in which proposals, comments and polls may still be added.
ACTIVE_MEETING = {MeetingStatus.DRAFT, MeetingStatus.SCHEDULED, MeetingStatus.IN_PROGRESS}


def get_poll(poll_id: int) -> Poll:
    poll = db.session.get(Poll, poll_id)
    if poll is None:
        raise NotFound(_("No such poll."))
    return poll


def get_proposal(proposal_id: int) -> Proposal:
    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None:
        raise NotFound(_("No such proposal."))
    return proposal


def get_comment(comment_id: int) -> Comment:
    comment = db.session.get(Comment, comment_id)
    if comment is None:
        raise NotFound(_("No such comment."))
    return comment


def get_agenda_item(item_id: int) -> AgendaItem:
    item = db.session.get(AgendaItem, item_id)
    if item is None:
        raise NotFound(_("No such agenda item."))
    return item


def require_visible(actor: User | None, poll: Poll) -> None:
    """Attendees and the secretary see a poll; everyone once the minutes are out."""
    require_deliberation_visible(actor, poll.meeting)


def require_item_visible(actor: User | None, item: AgendaItem) -> None:
    require_deliberation_visible(actor, item.meeting)


def require_active(meeting: Meeting) -> None:
    if meeting.status not in ACTIVE_MEETING:
        raise Conflict(_("The meeting is over: nothing can be added to it any more."))


def invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(_("Please correct the marked fields."), {field: [message]})


def checked_text(value: str | None, field: str, maximum: int, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise invalid(field, _("Please fill this in."))
    if len(value) > maximum:
        raise invalid(field, _("At most %(n)d characters.", n=maximum))
    return value
