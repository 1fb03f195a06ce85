"""履职档案: what a CPPCC member or representative did over a period.

A person's record (``duty_record``) and a street's summary (``street_summary``,
a row per person who took part in the meetings of the street's communities)
give the same figures, each counted by an SQL aggregate: the whole record is
one statement however long the period, the street summary two.

What counts (the period is of local days, ``from`` and ``to`` included):

- meetings: those that *start* in the period and were announced (scheduled,
  under way, closed, minutes published; neither drafts nor cancelled ones);
  *invited* is an attendance in one, *attended* one marked present;
- proposals, comments, speeches and ballots are those of these meetings: a
  proposal tabled under one of its agenda items, a comment under such a
  proposal (hidden ones left out), a turn in its speakers' queue that began,
  a line on the voter roll of one of its polls. Only *that* the person
  voted: ``poll_vote`` says who voted, never what (docs/ballot-secrecy.md);
- requests *raised*: made in the period by the person or typed in by them
  for a resident; *handled*: an order they were assigned or claimed that was
  handled in the period, or a reply they gave in the period, each request
  once.

Nothing here commits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import aliased

from auth import permissions
from auth.models import Community, Membership, User
from meetings.errors import NotAllowed, NotFound, ValidationFailed
from meetings.extensions import db
from meetings.main.periods import Period, local_today, year_of
from meetings.meeting.models import (
    AgendaItem,
    Attendance,
    AttendeeRole,
    Meeting,
    MeetingStatus,
    Presence,
)
from meetings.meeting.services.common import as_local
from meetings.organisation import roles
from meetings.organisation.models import Street
from meetings.polls.models import Comment, Poll, PollVote, Proposal
from meetings.requests.models import ResidentRequest
from meetings.room.models import SpeakerEntry

# Meetings that count: announced, not called off.
COUNTED_STATUSES = (
    MeetingStatus.SCHEDULED,
    MeetingStatus.IN_PROGRESS,
    MeetingStatus.CLOSED,
    MeetingStatus.MINUTES_PUBLISHED,
)
# The longest period one may ask for: ten years of records on one page.
PERIOD_MAX_DAYS = 3660

FIGURES = (
    "meetings_invited",
    "meetings_attended",
    "proposals",
    "comments",
    "speeches",
    "ballots_cast",
    "requests_raised",
    "requests_handled",
)


# --- the period -----------------------------------------------------------------------


def this_year() -> Period:
    return year_of(local_today())


def period(start: date | str | None, end: date | str | None) -> Period:
    """The period asked for; this year's missing ends filled in. 422 when a
    date cannot be read, ends before it starts, or spans too long."""
    default = this_year()
    first = _date(start, "from") or default.start
    last = _date(end, "to") or default.end
    if last < first:
        raise ValidationFailed(
            _("The period ends before it starts."),
            {"to": [_("Choose a date on or after the start.")]},
        )
    if (last - first).days > PERIOD_MAX_DAYS:
        raise ValidationFailed(
            _("The period is too long."),
            {"from": [_("Choose a period of at most ten years.")]},
        )
    return Period(first, last)


def _date(value: date | str | None, name: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValidationFailed(
            _("The date could not be read."),
            {name: [_("Give a date as YYYY-MM-DD.")]},
        ) from None


# --- the figures ----------------------------------------------------------------------


@dataclass
class Figures:
    meetings_invited: int = 0
    meetings_attended: int = 0
    proposals: int = 0
    comments: int = 0
    speeches: int = 0
    ballots_cast: int = 0
    requests_raised: int = 0
    requests_handled: int = 0

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in FIGURES}


def figure_labels() -> dict[str, Any]:
    """The figures' names as the pages and the exports head them."""
    return {
        "meetings_invited": _("Meetings invited"),
        "meetings_attended": _("Meetings attended"),
        "proposals": _("Proposals tabled"),
        "comments": _("Comments"),
        "speeches": _("Speeches"),
        "ballots_cast": _("Ballots cast"),
        "requests_raised": _("Requests raised"),
        "requests_handled": _("Requests handled"),
    }


def figure_short_labels() -> dict[str, Any]:
    """The figures' names under their group's heading (Meetings, Requests),
    where a wide table heads its columns."""
    return {
        "meetings_invited": _("Invited"),
        "meetings_attended": _("Attended"),
        "proposals": _("Proposals"),
        "comments": _("Comments"),
        "speeches": _("Speeches"),
        "ballots_cast": _("Ballots"),
        "requests_raised": _("Raised"),
        "requests_handled": _("Handled"),
    }


def _counted_meetings(span: Period, community_ids=None) -> sa.Select:
    """The ids of the meetings that count in the period (of some communities)."""
    statement = sa.select(Meeting.id).where(
        span.holds(Meeting.starts_at), Meeting.status.in_(COUNTED_STATUSES)
    )
    if community_ids is not None:
        statement = statement.where(Meeting.community_id.in_(community_ids))
    return statement


def _figures(span: Period, person_id: int | None = None, community_ids=None) -> dict[int, Figures]:
    """Every figure of one person (or of everyone: ``person_id`` None) in one
    statement, a UNION ALL of an aggregate per kind of thing grouped by
    person. ``community_ids`` narrows meetings and requests to those of some
    communities (a street's)."""
    meetings = _counted_meetings(span, community_ids).scalar_subquery()

    def people(column):
        return sa.true() if person_id is None else column == person_id

    none = sa.literal(0)
    present = sa.func.sum(sa.case((Attendance.presence == Presence.PRESENT, 1), else_=0))
    ballots = (
        sa.select(sa.literal("ballots_cast"), PollVote.user_id, sa.func.count(), none)
        .join(Poll, Poll.id == PollVote.poll_id)
        .join(AgendaItem, AgendaItem.id == Poll.agenda_item_id)
        .where(AgendaItem.meeting_id.in_(meetings))
    )
    if person_id is not None:
        # One person's lines on the rolls, found from their attendances (a
        # voter is always an attendee): poll_vote's key leads with the poll,
        # so asked by the person it would be read whole (918,000 rows at
        # scale 1.0: the record of street-1, five years, 159 → 12 ms).
        ballots = ballots.join(
            Attendance,
            sa.and_(
                Attendance.meeting_id == AgendaItem.meeting_id,
                Attendance.user_id == PollVote.user_id,
            ),
        ).where(Attendance.user_id == person_id)
    parts = [
        # invited and attended, in one pass over the attendances
        sa.select(sa.literal("meetings"), Attendance.user_id, sa.func.count(), present)
        .where(Attendance.meeting_id.in_(meetings), people(Attendance.user_id))
        .group_by(Attendance.user_id),
        sa.select(sa.literal("proposals"), Proposal.author_id, sa.func.count(), none)
        .join(AgendaItem, AgendaItem.id == Proposal.agenda_item_id)
        .where(AgendaItem.meeting_id.in_(meetings), people(Proposal.author_id))
        .group_by(Proposal.author_id),
        sa.select(sa.literal("comments"), Comment.author_id, sa.func.count(), none)
        .join(Proposal, Proposal.id == Comment.proposal_id)
        .join(AgendaItem, AgendaItem.id == Proposal.agenda_item_id)
        .where(
            AgendaItem.meeting_id.in_(meetings),
            Comment.hidden_at.is_(None),
            people(Comment.author_id),
        )
        .group_by(Comment.author_id),
        sa.select(sa.literal("speeches"), SpeakerEntry.user_id, sa.func.count(), none)
        .where(
            SpeakerEntry.meeting_id.in_(meetings),
            SpeakerEntry.started_at.is_not(None),
            people(SpeakerEntry.user_id),
        )
        .group_by(SpeakerEntry.user_id),
        # the roll only: who voted, never what
        ballots.group_by(PollVote.user_id),
    ]
    for kind, pairs in (
        ("requests_raised", _raised(span, community_ids)),
        ("requests_handled", _handled(span, community_ids)),
    ):
        pairs = pairs.subquery()
        parts.append(
            sa.select(sa.literal(kind), pairs.c.user_id, sa.func.count(), none)
            .where(pairs.c.user_id.is_not(None), people(pairs.c.user_id))
            .group_by(pairs.c.user_id)
        )
    found: dict[int, Figures] = {}
    for kind, user_id, number, attended in db.session.execute(sa.union_all(*parts)):
        figures = found.setdefault(user_id, Figures())
        if kind == "meetings":
            figures.meetings_invited, figures.meetings_attended = number, int(attended or 0)
        else:
            setattr(figures, kind, number)
    return found


def _requests(community_ids) -> sa.ColumnElement[bool]:
    if community_ids is None:
        return sa.true()
    return ResidentRequest.community_id.in_(community_ids)


def _raised(span: Period, community_ids) -> sa.CompoundSelect:
    """(request, person) for each request made by or typed in by the person;
    UNION: a request both made and typed in by one person counts once."""
    made = span.holds(ResidentRequest.created_at)
    return sa.union(
        sa.select(ResidentRequest.id, ResidentRequest.requester_id.label("user_id")).where(
            made, _requests(community_ids)
        ),
        sa.select(ResidentRequest.id, ResidentRequest.raised_by_id).where(
            made, _requests(community_ids)
        ),
    )


def _handled(span: Period, community_ids) -> sa.CompoundSelect:
    """(request, person) for each order the person was assigned or claimed
    and that was handled in the period, and each reply they gave in it."""
    handled = span.holds(ResidentRequest.handled_at)
    return sa.union(
        sa.select(ResidentRequest.id, ResidentRequest.assignee_user_id.label("user_id")).where(
            handled, _requests(community_ids)
        ),
        sa.select(ResidentRequest.id, ResidentRequest.claimed_by_id).where(
            handled, _requests(community_ids)
        ),
        sa.select(ResidentRequest.id, ResidentRequest.replied_by_id).where(
            span.holds(ResidentRequest.replied_at), _requests(community_ids)
        ),
    )


# --- who may see a record -------------------------------------------------------------


def _communities_where_sits(person_id: int):
    """The communities the person is a member of or was invited to a meeting of."""
    return sa.union(
        sa.select(Membership.community_id).where(Membership.user_id == person_id),
        sa.select(Meeting.community_id)
        .join(Attendance, Attendance.meeting_id == Meeting.id)
        .where(Attendance.user_id == person_id),
    )


def can_see_record(user: User | None, person: User) -> bool:
    """The person themself, an administrator, the secretary of a community
    where the person sits (a member, or invited to one of its meetings) and
    the staff of such a community's street."""
    if not permissions.is_authenticated(user):
        return False
    if user.is_admin or user.id == person.id:
        return True
    secretary_of = {m.community_id for m in user.memberships if m.is_secretary}
    street_ids = roles.street_ids_of(user)
    if not secretary_of and not street_ids:
        return False
    sits = _communities_where_sits(person.id).subquery()
    places = db.session.execute(
        sa.select(Community.id, Community.street_id).where(Community.id.in_(sa.select(sits)))
    ).all()
    return any(
        community_id in secretary_of or (street_id is not None and street_id in street_ids)
        for community_id, street_id in places
    )


def require_record_viewer(user: User | None, person: User) -> None:
    if not can_see_record(user, person):
        raise NotAllowed(
            _(
                "Only the person, the secretaries of their communities, "
                "their street's office and administrators may see a duty record."
            )
        )


def get_person(person_id: int) -> User:
    person = db.session.get(User, person_id)
    if person is None:
        raise NotFound(_("No such person."))
    return person


def can_see_street_summary(user: User | None, street: Street) -> bool:
    return permissions.is_admin(user) or roles.is_street_staff(user, street.id)


def require_street_summary_viewer(user: User | None, street: Street) -> None:
    if not can_see_street_summary(user, street):
        raise NotAllowed(_("Only the staff of this street's office may see this."))


def get_street(street_id: int) -> Street:
    street = db.session.get(Street, street_id)
    if street is None:
        raise NotFound(_("No such street."))
    return street


# --- a person's record ----------------------------------------------------------------


@dataclass
class MeetingLine:
    """One meeting the person was invited to, as the record lists it."""

    id: int
    title: str
    starts_at: datetime
    community: str
    role: AttendeeRole
    presence: Presence | None
    speeches: int
    proposals: int
    # polls of the meeting in which they voted: that they did, never what
    ballots: int

    @property
    def attended(self) -> bool:
        return self.presence == Presence.PRESENT

    @property
    def local_start(self) -> datetime:
        return as_local(self.starts_at)


@dataclass
class DutyRecord:
    person: User
    period: Period
    figures: Figures
    meetings: list[MeetingLine] = field(default_factory=list)

    @property
    def roles(self) -> list[AttendeeRole]:
        seen: list[AttendeeRole] = []
        for line in self.meetings:
            if line.role not in seen:
                seen.append(line.role)
        return seen


def duty_record(person: User, start: date | str | None = None, end: date | str | None = None):
    """The person's record over the period (default: this year), in two
    statements: the figures, and the meetings they were invited to."""
    span = start if isinstance(start, Period) else period(start, end)
    figures = _figures(span, person.id).get(person.id, Figures())
    return DutyRecord(person, span, figures, _meeting_lines(span, person.id))


def _meeting_lines(span: Period, person_id: int) -> list[MeetingLine]:
    """The meetings the person was invited to, each with their speeches,
    proposals and ballots in it: the person's counts per meeting joined in
    (correlated subqueries, three a meeting, took 331 ms for the 1,697
    meetings of street-1 over five years at scale 1.0)."""
    meetings = _counted_meetings(span).scalar_subquery()
    spoke = (
        sa.select(SpeakerEntry.meeting_id.label("meeting_id"), sa.func.count().label("n"))
        .where(
            SpeakerEntry.user_id == person_id,
            SpeakerEntry.started_at.is_not(None),
            SpeakerEntry.meeting_id.in_(meetings),
        )
        .group_by(SpeakerEntry.meeting_id)
        .subquery()
    )
    tabled = (
        sa.select(AgendaItem.meeting_id.label("meeting_id"), sa.func.count().label("n"))
        .join(Proposal, Proposal.agenda_item_id == AgendaItem.id)
        .where(Proposal.author_id == person_id, AgendaItem.meeting_id.in_(meetings))
        .group_by(AgendaItem.meeting_id)
        .subquery()
    )
    # through the person's attendances, as in ``_figures``
    mine = aliased(Attendance)
    voted = (
        sa.select(AgendaItem.meeting_id.label("meeting_id"), sa.func.count().label("n"))
        .join(Poll, Poll.agenda_item_id == AgendaItem.id)
        .join(mine, mine.meeting_id == AgendaItem.meeting_id)
        .join(PollVote, sa.and_(PollVote.poll_id == Poll.id, PollVote.user_id == mine.user_id))
        .where(mine.user_id == person_id, mine.meeting_id.in_(meetings))
        .group_by(AgendaItem.meeting_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(
            Meeting.id,
            Meeting.title,
            Meeting.starts_at,
            Community.name,
            Attendance.role,
            Attendance.presence,
            sa.func.coalesce(spoke.c.n, 0),
            sa.func.coalesce(tabled.c.n, 0),
            sa.func.coalesce(voted.c.n, 0),
        )
        .join(Attendance, Attendance.meeting_id == Meeting.id)
        .join(Community, Community.id == Meeting.community_id)
        .outerjoin(spoke, spoke.c.meeting_id == Meeting.id)
        .outerjoin(tabled, tabled.c.meeting_id == Meeting.id)
        .outerjoin(voted, voted.c.meeting_id == Meeting.id)
        .where(
            Attendance.user_id == person_id,
            span.holds(Meeting.starts_at),
            Meeting.status.in_(COUNTED_STATUSES),
        )
        .order_by(Meeting.starts_at, Meeting.id)
    )
    return [MeetingLine(*row) for row in rows]


# --- a street's summary ---------------------------------------------------------------


@dataclass
class SummaryRow:
    person_id: int
    name: str
    roles: list[AttendeeRole]
    communities: list[str]
    figures: Figures


@dataclass
class StreetSummary:
    street: Street
    period: Period
    rows: list[SummaryRow]
    role: AttendeeRole | None = None

    @property
    def totals(self) -> Figures:
        total = Figures()
        for row in self.rows:
            for name in FIGURES:
                setattr(total, name, getattr(total, name) + getattr(row.figures, name))
        return total


def street_role(value: str | None) -> AttendeeRole | None:
    """The role a summary is narrowed to (None: all); 422 on an unknown one."""
    if not value:
        return None
    try:
        return AttendeeRole(value)
    except ValueError:
        raise ValidationFailed(
            _("There is no such role."), {"role": [_("Choose one of the roles.")]}
        ) from None


def street_summary(
    street: Street, start=None, end=None, role: AttendeeRole | None = None
) -> StreetSummary:
    """A row per person invited to a meeting of the street's communities in
    the period, with their figures in those communities, in two statements:
    who (with roles and communities), and the figures."""
    span = start if isinstance(start, Period) else period(start, end)
    community_ids = sa.select(Community.id).where(Community.street_id == street.id)
    meetings = _counted_meetings(span, community_ids).subquery()
    # who took part, in which roles and communities: grouped first, named
    # after, sorted here (sorting the joined rows by name in the database took
    # half of the query's 140 ms for the 24,700 attendances of a street's year
    # at scale 1.0)
    taken = (
        sa.select(Attendance.user_id, Attendance.role, Meeting.community_id)
        .join(Meeting, Meeting.id == Attendance.meeting_id)
        .where(Attendance.meeting_id.in_(sa.select(meetings.c.id)))
        .group_by(Attendance.user_id, Attendance.role, Meeting.community_id)
        .subquery()
    )
    places = db.session.execute(
        sa.select(User.id, User.display_name, taken.c.role, Community.name)
        .join(taken, taken.c.user_id == User.id)
        .join(Community, Community.id == taken.c.community_id)
    ).all()
    places.sort(key=lambda place: (place[1], place[0], str(place[2]), place[3]))
    rows: dict[int, SummaryRow] = {}
    for user_id, name, taken_role, community in places:
        row = rows.setdefault(user_id, SummaryRow(user_id, name, [], [], Figures()))
        if taken_role not in row.roles:
            row.roles.append(taken_role)
        if community not in row.communities:
            row.communities.append(community)
    if role is not None:
        rows = {user_id: row for user_id, row in rows.items() if role in row.roles}
    if rows:
        # everyone's figures in the street, kept for those in its meetings
        for user_id, figures in _figures(span, None, community_ids).items():
            if user_id in rows:
                rows[user_id].figures = figures
    return StreetSummary(street, span, list(rows.values()), role)
