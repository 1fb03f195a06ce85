"""What the system knows about a meeting's outcome, read in a fixed number of
queries: its proposals, polls and resolutions (with their projects), and the
requests that were on its agenda. The minutes' draft, the public pages and
the answers to the requesters all read from here."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy.orm import joinedload, selectinload

from meetings.extensions import db
from meetings.meeting.models import AgendaItem, Meeting
from meetings.polls.models import Poll, PollStatus, Proposal
from meetings.projects.models import Project, Resolution
from meetings.requests.models import ResidentRequest


@dataclass
class MeetingOutcome:
    """Proposals and polls per agenda item, and the meeting's resolutions."""

    proposals: dict[int, list[Proposal]] = field(default_factory=dict)
    polls: dict[int, list[Poll]] = field(default_factory=dict)
    resolutions: list[Resolution] = field(default_factory=list)

    def proposals_of(self, item: AgendaItem) -> list[Proposal]:
        return self.proposals.get(item.id, [])

    def polls_of(self, item: AgendaItem) -> list[Poll]:
        return self.polls.get(item.id, [])

    @property
    def closed_polls(self) -> list[Poll]:
        return [
            poll
            for polls in self.polls.values()
            for poll in polls
            if poll.status == PollStatus.CLOSED
        ]

    @property
    def projects(self) -> list[Project]:
        seen: dict[int, Project] = {}
        for resolution in self.resolutions:
            if resolution.project is not None:
                seen.setdefault(resolution.project.id, resolution.project)
        return list(seen.values())


def resolutions_of(meeting: Meeting) -> list[Resolution]:
    """The meeting's resolutions in the order they were recorded, with their
    polls and projects. (The projects' own services may offer the same; this
    is the minutes' read of it.)"""
    return list(
        db.session.scalars(
            db.select(Resolution)
            .where(Resolution.meeting_id == meeting.id)
            .order_by(Resolution.id)
            .options(
                joinedload(Resolution.agenda_item).selectinload(AgendaItem.requests),
                joinedload(Resolution.poll).selectinload(Poll.options),
                joinedload(Resolution.project).selectinload(Project.requests),
            )
        ).unique()
    )


def outcome_of(meeting: Meeting) -> MeetingOutcome:
    item_ids = db.select(AgendaItem.id).where(AgendaItem.meeting_id == meeting.id)
    proposals: dict[int, list[Proposal]] = defaultdict(list)
    for proposal in db.session.scalars(
        db.select(Proposal)
        .where(Proposal.agenda_item_id.in_(item_ids))
        .order_by(Proposal.id)
        .options(joinedload(Proposal.author))
    ):
        proposals[proposal.agenda_item_id].append(proposal)
    polls: dict[int, list[Poll]] = defaultdict(list)
    for poll in db.session.scalars(
        db.select(Poll)
        .where(Poll.agenda_item_id.in_(item_ids))
        .order_by(Poll.id)
        .options(selectinload(Poll.options), joinedload(Poll.result_entered_by))
    ):
        polls[poll.agenda_item_id].append(poll)
    return MeetingOutcome(dict(proposals), dict(polls), resolutions_of(meeting))


def agenda_requests(meeting: Meeting) -> list[ResidentRequest]:
    """The requests that were on the meeting's agenda: its topics and the
    requests its agenda items deal with, each once, oldest first."""
    found: dict[int, ResidentRequest] = {item.id: item for item in meeting.topics}
    for agenda_item in meeting.agenda_items:
        for item in agenda_item.requests:
            found.setdefault(item.id, item)
    return [found[key] for key in sorted(found)]


def resolutions_for(
    item: ResidentRequest, meeting: Meeting, resolutions: list[Resolution]
) -> list[Resolution]:
    """The resolutions that answer this request: those on an agenda item that
    deals with it, or whose project takes it up. A topic that no agenda item
    named is answered by the resolutions not tied to another request's item
    (all of them, when it was the meeting's only topic)."""
    direct = [
        r
        for r in resolutions
        if (r.agenda_item is not None and item in r.agenda_item.requests)
        or (r.project is not None and item in r.project.requests)
    ]
    if direct:
        return direct
    if any(item in agenda_item.requests for agenda_item in meeting.agenda_items):
        return []
    if len(meeting.topics) <= 1:
        return list(resolutions)
    return [r for r in resolutions if r.agenda_item is None or not r.agenda_item.requests]


def outcomes_of(meeting_ids: list[int]) -> dict[int, MeetingOutcome]:
    """Closed polls and resolutions of several meetings (for lists), in two
    queries; proposals are left out."""
    found = {meeting_id: MeetingOutcome() for meeting_id in meeting_ids}
    if not meeting_ids:
        return found
    rows = db.session.execute(
        db.select(AgendaItem.meeting_id, Poll)
        .join(Poll, Poll.agenda_item_id == AgendaItem.id)
        .where(AgendaItem.meeting_id.in_(meeting_ids), Poll.status == PollStatus.CLOSED)
        .order_by(Poll.id)
        .options(selectinload(Poll.options))
    ).all()
    for meeting_id, poll in rows:
        found[meeting_id].polls.setdefault(poll.agenda_item_id, []).append(poll)
    for resolution in db.session.scalars(
        db.select(Resolution)
        .where(Resolution.meeting_id.in_(meeting_ids))
        .order_by(Resolution.id)
        .options(joinedload(Resolution.project), joinedload(Resolution.poll))
    ):
        found[resolution.meeting_id].resolutions.append(resolution)
    return found
