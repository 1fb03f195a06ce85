"""Read-only lookups for the pages: what a meeting page shows of its
proposals and polls, and the polls waiting for someone's vote — each in a
fixed number of queries, however many agenda items, proposals and polls.

The rules (who may see, vote, table) stay in ``services``; this module only
reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.orm import joinedload, selectinload

from auth.models import User
from meetings.audit.models import AuditEntry
from meetings.errors import NotAllowed
from meetings.extensions import db
from meetings.meeting.models import AgendaItem, Meeting
from meetings.meeting.permissions import can_manage_meeting
from meetings.polls import services
from meetings.polls.models import (
    Comment,
    Poll,
    PollStatus,
    PollVote,
    PollVoter,
    Proposal,
)


@dataclass
class ItemDeliberation:
    """The proposals and polls of one agenda item."""

    proposals: list[Proposal] = field(default_factory=list)
    polls: list[Poll] = field(default_factory=list)


@dataclass
class MeetingDeliberation:
    """What a meeting page shows of the proposals and polls, for one viewer."""

    visible: bool = False
    active: bool = False  # proposals, comments and polls may still be added
    by_item: dict[int, ItemDeliberation] = field(default_factory=dict)
    comment_counts: dict[int, int] = field(default_factory=dict)
    eligible: set[int] = field(default_factory=set)  # polls the viewer may vote in
    voted: set[int] = field(default_factory=set)  # polls the viewer has voted in
    turnout: dict[int, services.Turnout] = field(default_factory=dict)  # open polls

    def of(self, item: AgendaItem) -> ItemDeliberation:
        return self.by_item.get(item.id) or ItemDeliberation()

    def may_vote_now(self, poll: Poll) -> bool:
        """Open, voted online, the viewer is on its roll and has not voted yet."""
        return (
            poll.status == PollStatus.OPEN
            and not poll.in_room
            and poll.id in self.eligible
            and poll.id not in self.voted
        )

    @property
    def waiting(self) -> list[Poll]:
        """The polls waiting for the viewer's vote, in agenda order."""
        return [
            poll for item in self.by_item.values() for poll in item.polls if self.may_vote_now(poll)
        ]


def deliberation_visible(user: User | None, meeting: Meeting) -> bool:
    """Whether the user sees the meeting's proposals and polls
    (``services.require_item_visible``: insiders; everyone once the minutes are out)."""
    if not meeting.agenda_items:
        return False
    try:
        services.require_item_visible(user, meeting.agenda_items[0])
    except NotAllowed:
        return False
    return True


def meeting_deliberation(user: User | None, meeting: Meeting) -> MeetingDeliberation:
    """Proposals (with their authors and number of comments) and polls of
    every agenda item; the viewer's place on each poll's
    roll; live turnout of the open polls for the secretary."""
    if not deliberation_visible(user, meeting):
        return MeetingDeliberation()
    items = {item.id: ItemDeliberation() for item in meeting.agenda_items}
    result = MeetingDeliberation(
        visible=True, active=meeting.status in services.ACTIVE_MEETING, by_item=items
    )
    of_meeting = db.select(AgendaItem.id).where(AgendaItem.meeting_id == meeting.id)

    comments = (
        db.select(func.count(Comment.id))
        .where(Comment.proposal_id == Proposal.id)
        .correlate(Proposal)
        .scalar_subquery()
    )
    rows = db.session.execute(
        db.select(Proposal, comments)
        .where(Proposal.agenda_item_id.in_(of_meeting))
        .order_by(Proposal.id)
        .options(joinedload(Proposal.author))
    ).all()
    for proposal, count in rows:
        items[proposal.agenda_item_id].proposals.append(proposal)
        result.comment_counts[proposal.id] = count

    polls = list(
        db.session.scalars(
            db.select(Poll).where(Poll.agenda_item_id.in_(of_meeting)).order_by(Poll.id)
        )
    )
    for poll in polls:
        items[poll.agenda_item_id].polls.append(poll)
    if not polls:
        return result

    if getattr(user, "is_authenticated", False):
        poll_ids = [poll.id for poll in polls]
        roll = db.session.execute(
            db.select(PollVoter.poll_id, PollVote.user_id)
            .outerjoin(
                PollVote,
                (PollVote.poll_id == PollVoter.poll_id) & (PollVote.user_id == PollVoter.user_id),
            )
            .where(PollVoter.user_id == user.id, PollVoter.poll_id.in_(poll_ids))
        ).all()
        result.eligible = {poll_id for poll_id, _voted in roll}
        result.voted = {poll_id for poll_id, voted in roll if voted is not None}

    open_online = [p.id for p in polls if p.status == PollStatus.OPEN and not p.in_room]
    if open_online and can_manage_meeting(user, meeting):
        result.turnout = turnouts(open_online)
    return result


def turnouts(poll_ids: list[int]) -> dict[int, services.Turnout]:
    """Live eligible / cast numbers of several open polls, in one query."""
    eligible = (
        db.select(func.count())
        .select_from(PollVoter)
        .where(PollVoter.poll_id == Poll.id)
        .correlate(Poll)
        .scalar_subquery()
    )
    cast = (
        db.select(func.count())
        .select_from(PollVote)
        .where(PollVote.poll_id == Poll.id)
        .correlate(Poll)
        .scalar_subquery()
    )
    rows = db.session.execute(db.select(Poll.id, eligible, cast).where(Poll.id.in_(poll_ids)))
    return {poll_id: services.Turnout(e or 0, c or 0) for poll_id, e, c in rows}


def polls_waiting_for(user: User) -> list[Poll]:
    """Open online polls in which the user may vote and has not voted yet,
    with their agenda item and meeting (for "my meetings").

    Led by the open polls (few at any time), each looked up on the voter roll
    and in the votes by their primary keys (poll, voter): an anti-join
    (``NOT EXISTS``), never a list of all the user's votes (the ``NOT IN``
    this replaced scanned the whole voter roll: 98 ms at five years of
    history, with an index on the voter 1 ms)."""
    voted = (
        db.select(PollVote.poll_id)
        .where(PollVote.poll_id == Poll.id, PollVote.user_id == user.id)
        .exists()
    )
    return list(
        db.session.scalars(
            db.select(Poll)
            .join(PollVoter, (PollVoter.poll_id == Poll.id) & (PollVoter.user_id == user.id))
            .where(Poll.status == PollStatus.OPEN, Poll.in_room.is_(False), ~voted)
            .order_by(Poll.opened_at, Poll.id)
            .options(joinedload(Poll.agenda_item).joinedload(AgendaItem.meeting))
        )
    )


def proposal_page(proposal_id: int) -> Proposal:
    """A proposal with its item, meeting, author and comments (their authors
    and who hid them), or NotFound."""
    proposal = db.session.scalar(
        db.select(Proposal)
        .where(Proposal.id == proposal_id)
        .options(
            joinedload(Proposal.author),
            joinedload(Proposal.agenda_item).joinedload(AgendaItem.meeting),
            selectinload(Proposal.comments).joinedload(Comment.author),
            selectinload(Proposal.comments).joinedload(Comment.hidden_by),
        )
    )
    if proposal is None:
        return services.get_proposal(proposal_id)  # raises NotFound
    return proposal


def active_proposals(item: AgendaItem) -> list[Proposal]:
    """The item's proposals that have not been withdrawn: a poll's candidates."""
    return [p for p in services.proposals_of(item) if not p.is_withdrawn]


def voted_at(user: User, poll: Poll) -> datetime | None:
    """When the user cast their ballot in the poll: the time of their audit
    entry ``ballot.cast`` (who and when, never what), or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(
        db.select(AuditEntry.at)
        .where(
            AuditEntry.action == "ballot.cast",
            AuditEntry.object_type == Poll.__tablename__,
            AuditEntry.object_id == poll.id,
            AuditEntry.actor_id == user.id,
        )
        .order_by(AuditEntry.id)
        .limit(1)
    )
