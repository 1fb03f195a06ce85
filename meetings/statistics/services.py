"""Statistics of a community, a street or all streets over a period (issue 17).

Plain functions over SQL aggregates: ``statistics_for`` runs a fixed number
of statements whatever the size of the history (``STATEMENTS``), each a
GROUP BY or a single aggregate row; Python only adds up the few rows they
give. Both databases give the same figures: durations are computed in SQL as
seconds (``_seconds``), medians with window functions (``_median``), local
dates with the time zone's fixed offset (``_local_date``).

What each figure counts (the period is ``[from 00:00, to + 1 day 00:00)`` in
the communities' time zone):

- requests: those *received* in the period; of them, answered within the
  reply limit (the first reply — accepted, answered, declined or dispatched,
  the first event leaving ``submitted`` — within ``REQUEST_REPLY_DAYS`` of
  receipt, the rule of ``requests.services.is_overdue``), answered late,
  overdue (still waiting past the limit), still waiting within it; the
  median hours to the first reply and to the close; by category and
  channel; reopened (rated 2 or less at least once).
- satisfaction: the residents' ratings (1–5) of requests *given* in the period.
- orders: the requests *dispatched* in the period, by assignee (grid, person,
  unit): on time (handled on or before the due date, in local dates), late
  (handled after it, or still open past it), other (open within the due
  date, or handed back).
- meetings: those *starting* in the period, by state; held = in progress,
  closed or with published minutes. Attendance by role over the held ones:
  present / invited. Polls of the held meetings: closed ones, turnout =
  ballots cast / eligible voters.
- resolutions and projects: see ``_projects``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from auth import permissions
from auth.models import Community, User
from meetings.dbtypes import utcnow
from meetings.errors import NotAllowed, NotFound, ValidationFailed
from meetings.extensions import db
from meetings.main.periods import Period, local_today, month_of, year_of
from meetings.meeting.models import (
    AgendaItem,
    Attendance,
    AttendeeRole,
    Meeting,
    MeetingStatus,
    Presence,
)
from meetings.meeting.services.common import zone
from meetings.organisation import roles
from meetings.organisation.models import Grid, Street, Unit
from meetings.polls.models import Poll, PollStatus
from meetings.projects.models import (
    Decision,
    Project,
    ProjectRating,
    ProjectStatus,
    Resolution,
)
from meetings.requests.models import (
    RequestCategory,
    RequestChannel,
    RequestRating,
    ResidentRequest,
)
from meetings.requests.orders import OPEN_ORDER
from meetings.requests.services import reply_days
from meetings.statistics import indexes  # noqa: F401 - its index is part of the schema

# The longest period one may ask for: five years and a leap day.
MAX_PERIOD_DAYS = 5 * 365 + 2
SCORES = (1, 2, 3, 4, 5)
HELD = (MeetingStatus.IN_PROGRESS, MeetingStatus.CLOSED, MeetingStatus.MINUTES_PUBLISHED)


class ScopeKind(enum.StrEnum):
    COMMUNITY = "community"
    STREET = "street"
    ALL = "all"


# --- the period ---------------------------------------------------------------------------


def shortcuts(today: date) -> dict[str, Period]:
    """This month, last month, this year, last year."""
    this_month = month_of(today)
    return {
        "this_month": this_month,
        "last_month": month_of(this_month.start - timedelta(days=1)),
        "this_year": year_of(today),
        "last_year": year_of(date(today.year - 1, 1, 1)),
    }


def make_period(start: date | None, end: date | None, today: date | None = None) -> Period:
    """The period asked for; the current month by default. 422 (on ``from`` /
    ``to``) when it ends before it starts or is longer than five years."""
    today = today or local_today()
    if start is None and end is None:
        return month_of(today)
    if start is None:
        start = end.replace(day=1)
    if end is None:
        end = max(start, today)
    if end < start:
        problem = _("The period must end on or after the day it starts.")
        raise ValidationFailed(problem, {"to": [problem]})
    period = Period(start, end)
    if period.days > MAX_PERIOD_DAYS:
        problem = _("A period of at most five years, please.")
        raise ValidationFailed(problem, {"from": [problem]})
    return period


# --- the scope and who may see it ------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    kind: ScopeKind
    id: int | None
    name: str
    # the street of a community, for the links back
    street_id: int | None = None

    def community_filter(self, column: sa.ColumnElement) -> sa.ColumnElement[bool]:
        """The rows of the scope's communities."""
        if self.kind == ScopeKind.COMMUNITY:
            return column == self.id
        if self.kind == ScopeKind.STREET:
            return column.in_(sa.select(Community.id).where(Community.street_id == self.id))
        return sa.true()


def can_see(user: User | None, scope: Scope) -> bool:
    """A community's figures: its secretaries, its street's staff and
    administrators; a street's: its staff and administrators; all streets':
    administrators."""
    if not permissions.is_authenticated(user):
        return False
    if permissions.is_admin(user):
        return True
    if scope.kind == ScopeKind.COMMUNITY:
        membership = user.membership_in(scope.id)
        if membership is not None and membership.is_secretary:
            return True
        return scope.street_id is not None and roles.is_street_staff(user, scope.street_id)
    if scope.kind == ScopeKind.STREET:
        return roles.is_street_staff(user, scope.id)
    return False


def require_viewer(user: User | None, scope: Scope) -> None:
    if not can_see(user, scope):
        raise NotAllowed(
            _(
                "Only the secretaries, the street office's staff and administrators"
                " may see these statistics."
            )
        )


def find_scope(kind: str | ScopeKind | None, scope_id: int | None) -> Scope:
    """The community, street or everything named; 422 for a bad scope or a
    missing id, 404 for an unknown one."""
    try:
        kind = ScopeKind(kind)
    except ValueError:
        problem = _("The scope is community, street or all.")
        raise ValidationFailed(problem, {"scope": [problem]}) from None
    if kind == ScopeKind.ALL:
        return Scope(kind, None, _("All streets"))
    if scope_id is None:
        problem = _("Name the community or street (id).")
        raise ValidationFailed(problem, {"id": [problem]})
    if kind == ScopeKind.COMMUNITY:
        community = db.session.get(Community, scope_id)
        if community is None:
            raise NotFound(_("No such community."))
        return Scope(kind, community.id, community.name, community.street_id)
    street = db.session.get(Street, scope_id)
    if street is None:
        raise NotFound(_("No such street."))
    return Scope(kind, street.id, street.name, street.id)


# --- portable SQL ------------------------------------------------------------------------


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _seconds(later: sa.ColumnElement, earlier: sa.ColumnElement) -> sa.ColumnElement[float]:
    """``later - earlier`` in seconds, on either database."""
    if _dialect() == "postgresql":
        return sa.func.extract("epoch", later - earlier)
    return (sa.func.julianday(later) - sa.func.julianday(earlier)) * 86400.0


def _local_date(column: sa.ColumnElement) -> sa.ColumnElement:
    """A UTC timestamp column's date in the communities' time zone, as text
    ``YYYY-MM-DD`` (the zone's present offset: Asia/Shanghai has no summer time)."""
    offset = int(utcnow().astimezone(zone()).utcoffset().total_seconds())
    if _dialect() == "postgresql":
        shifted = column + sa.literal_column(f"interval '{offset} seconds'", sa.Interval)
        return sa.func.to_char(shifted, "YYYY-MM-DD")
    return sa.func.date(column, f"{offset:+d} seconds")


def _date_text(column: sa.ColumnElement) -> sa.ColumnElement:
    """A DATE column as text ``YYYY-MM-DD`` (SQLite stores it so)."""
    if _dialect() == "postgresql":
        return sa.func.to_char(column, "YYYY-MM-DD")
    return sa.type_coerce(column, sa.String)


def _ratio(part: int, whole: int) -> float | None:
    return None if not whole else round(100.0 * part / whole, 1)


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600.0, 1)


# --- the figures --------------------------------------------------------------------------


@dataclass
class Count:
    """One line of a breakdown: a code, its label and how many."""

    code: str
    label: str
    count: int


@dataclass
class RequestFigures:
    received: int = 0
    answered_in_time: int = 0
    answered_late: int = 0
    overdue: int = 0
    waiting: int = 0
    closed: int = 0
    reopened: int = 0
    median_first_reply_hours: float | None = None
    median_close_hours: float | None = None
    reply_days: int = 0
    by_category: list[Count] = field(default_factory=list)
    by_channel: list[Count] = field(default_factory=list)

    @property
    def in_time_percent(self) -> float | None:
        return _ratio(self.answered_in_time, self.received)


@dataclass
class Satisfaction:
    ratings: int = 0
    average: float | None = None
    distribution: dict[int, int] = field(default_factory=lambda: dict.fromkeys(SCORES, 0))
    satisfied: int = 0  # 4 or 5

    @property
    def satisfied_percent(self) -> float | None:
        return _ratio(self.satisfied, self.ratings)


@dataclass
class OrderLine:
    kind: str  # grid, user, unit
    id: int
    name: str
    count: int = 0
    on_time: int = 0
    late: int = 0
    other: int = 0


@dataclass
class OrderFigures:
    dispatched: int = 0
    on_time: int = 0
    late: int = 0
    other: int = 0
    by_grid: list[OrderLine] = field(default_factory=list)
    by_person: list[OrderLine] = field(default_factory=list)
    by_unit: list[OrderLine] = field(default_factory=list)

    @property
    def on_time_percent(self) -> float | None:
        done = self.on_time + self.late
        return _ratio(self.on_time, done)


@dataclass
class MeetingFigures:
    held: int = 0
    planned: int = 0  # scheduled or draft, starting in the period
    cancelled: int = 0
    with_minutes: int = 0


@dataclass
class RoleAttendance:
    role: str
    label: str
    invited: int
    present: int
    excused: int

    @property
    def rate(self) -> float | None:
        return _ratio(self.present, self.invited)


@dataclass
class PollFigures:
    polls: int = 0
    eligible: int = 0
    cast: int = 0
    adopted: int = 0
    rejected: int = 0
    decided: int = 0
    no_quorum: int = 0

    @property
    def turnout(self) -> float | None:
        return _ratio(self.cast, self.eligible)


@dataclass
class ProjectFigures:
    resolutions: int = 0
    resolutions_agreed: int = 0
    resolutions_in_notice: int = 0
    completed_on_time: int = 0
    completed_late: int = 0
    suspended: int = 0
    overdue: int = 0  # not completed, past due within the period
    in_progress: int = 0
    ratings: int = 0
    rating_average: float | None = None


@dataclass
class CommunityLine:
    """One community's (or street's) main figures, side by side."""

    id: int
    name: str
    street_id: int | None
    street_name: str
    received: int = 0
    answered_in_time: int = 0
    overdue: int = 0
    ratings: int = 0
    rating_sum: int = 0
    meetings_held: int = 0

    @property
    def rating_average(self) -> float | None:
        return None if not self.ratings else round(self.rating_sum / self.ratings, 2)

    @property
    def in_time_percent(self) -> float | None:
        return _ratio(self.answered_in_time, self.received)


@dataclass
class Statistics:
    scope: Scope
    period: Period
    requests: RequestFigures
    satisfaction: Satisfaction
    orders: OrderFigures
    meetings: MeetingFigures
    attendance_by_role: list[RoleAttendance]
    polls: PollFigures
    projects: ProjectFigures
    # a line per community (street and all scopes), and per street (all)
    communities: list[CommunityLine]
    streets: list[CommunityLine]


def statistics_for(scope: Scope, period: Period, now: datetime | None = None) -> Statistics:
    """Every figure of the scope over the period: ``STATEMENTS`` statements,
    one more for the list of a street's or all communities."""
    now = now or utcnow()
    requests, requests_by_community = _requests(scope, period, now)
    satisfaction, ratings_by_community = _satisfaction(scope, period)
    meetings, held_by_community = _meetings(scope, period)
    communities: list[CommunityLine] = []
    if scope.kind != ScopeKind.COMMUNITY:
        communities = _communities(scope)
        for line in communities:
            line.received, line.answered_in_time, line.overdue = requests_by_community.get(
                line.id, (0, 0, 0)
            )
            line.ratings, line.rating_sum = ratings_by_community.get(line.id, (0, 0))
            line.meetings_held = held_by_community.get(line.id, 0)
    return Statistics(
        scope=scope,
        period=period,
        requests=requests,
        satisfaction=satisfaction,
        orders=_orders(scope, period, now),
        meetings=meetings,
        attendance_by_role=_attendance(scope, period),
        polls=_polls(scope, period),
        projects=_projects(scope, period, now),
        communities=communities,
        streets=_streets(communities) if scope.kind == ScopeKind.ALL else [],
    )


# requests 1, satisfaction 1, orders 1, meetings 1, attendance 1, polls 1,
# projects 3; the list of communities 1 (street and all scopes)
STATEMENTS = 9
STATEMENTS_WITH_COMMUNITIES = STATEMENTS + 1


def _received(scope: Scope, period: Period):
    return (
        ResidentRequest.created_at >= period.starts_at,
        ResidentRequest.created_at < period.ends_at,
        scope.community_filter(ResidentRequest.community_id),
    )


def _median(source: sa.CTE, value: sa.ColumnElement) -> sa.ScalarSelect:
    """The median of ``value`` over the rows of ``source`` (NULLs left out):
    percentile_cont on PostgreSQL (one sort: 2 × 290 ms → 2 × 60 ms for the
    five years of all streets under the bench's load, bench/statistics_pages.py);
    on SQLite, which has none, the middle rows of a window over the sorted
    values. Both give the mean of the two middle values of an even count."""
    if _dialect() == "postgresql":
        return (
            sa.select(sa.func.percentile_cont(0.5).within_group(value))
            .select_from(source)
            .correlate(None)
            .scalar_subquery()
        )
    ranked = (
        sa.select(
            value.label("v"),
            sa.func.row_number().over(order_by=value).label("rn"),
            sa.func.count().over().label("n"),
        )
        .select_from(source)
        .where(value.is_not(None))
        .subquery()
    )
    return (
        sa.select(sa.func.avg(ranked.c.v))
        .where(ranked.c.rn.in_([(ranked.c.n + 1) // 2, (ranked.c.n + 2) // 2]))
        .correlate(None)
        .scalar_subquery()
    )


def _requests(
    scope: Scope, period: Period, now: datetime
) -> tuple[RequestFigures, dict[int, tuple[int, int, int]]]:
    """One statement: the requests received, counted by community and,
    apart, by category and channel, with the two medians over all of them —
    from the moments each request keeps on its row (``first_replied_at``,
    ``closed_at``, ``reopened_at``, set by ``requests.services.transition``
    with its events). Overdue and in time as ``requests.services.is_overdue``
    has it: still without a reply when ``created_at + REQUEST_REPLY_DAYS`` is past."""
    request = ResidentRequest
    lines = (
        sa.select(
            request.id,
            request.community_id,
            request.category,
            request.channel,
            request.created_at,
            request.first_replied_at.label("first_reply_at"),
            request.closed_at,
            sa.case((request.reopened_at.is_not(None), 1), else_=0).label("reopened"),
        )
        .where(*_received(scope, period))
        .cte("request_lines")
    )
    days = reply_days()
    reply = _seconds(lines.c.first_reply_at, lines.c.created_at)
    replied = lines.c.first_reply_at.is_not(None)
    overdue = sa.and_(
        lines.c.first_reply_at.is_(None), lines.c.created_at < now - timedelta(days=days)
    )
    zero = sa.literal(0)
    by_community = sa.select(
        sa.literal("community").label("kind"),
        lines.c.community_id,
        sa.null().label("category"),
        sa.null().label("channel"),
        sa.func.count().label("received"),
        sa.func.count(sa.case((sa.and_(replied, reply <= days * 86400), 1))),
        sa.func.count(sa.case((sa.and_(replied, reply > days * 86400), 1))),
        sa.func.count(sa.case((overdue, 1))),
        sa.func.count(sa.case((lines.c.closed_at.is_not(None), 1))),
        sa.func.coalesce(sa.func.sum(lines.c.reopened), 0),
        _median(lines, reply),
        _median(lines, _seconds(lines.c.closed_at, lines.c.created_at)),
    ).group_by(lines.c.community_id)
    by_kind = sa.select(
        sa.literal("kind"),
        sa.null(),
        lines.c.category,
        lines.c.channel,
        sa.func.count(),
        zero,
        zero,
        zero,
        zero,
        zero,
        sa.null(),
        sa.null(),
    ).group_by(lines.c.category, lines.c.channel)
    figures = RequestFigures(reply_days=days)
    per_community: dict[int, tuple[int, int, int]] = {}
    by_category = dict.fromkeys(RequestCategory, 0)
    by_channel = dict.fromkeys(RequestChannel, 0)
    for row in db.session.execute(sa.union_all(by_community, by_kind)):
        kind, community_id, category, channel, received = row[:5]
        if kind == "kind":
            by_category[RequestCategory(category)] += received
            by_channel[RequestChannel(channel)] += received
            continue
        in_time, late, late_waiting, closed, reopened = (int(value or 0) for value in row[5:10])
        figures.received += received
        figures.answered_in_time += in_time
        figures.answered_late += late
        figures.overdue += late_waiting
        figures.closed += closed
        figures.reopened += reopened
        figures.median_first_reply_hours = _hours(_float(row[10]))
        figures.median_close_hours = _hours(_float(row[11]))
        per_community[community_id] = (received, in_time, late_waiting)
    figures.waiting = (
        figures.received - figures.answered_in_time - figures.answered_late - figures.overdue
    )
    figures.by_category = [Count(c.value, str(c.label), n) for c, n in by_category.items()]
    figures.by_channel = [Count(c.value, str(c.label), n) for c, n in by_channel.items()]
    return figures, per_community


def _float(value) -> float | None:
    return None if value is None else float(value)


def _satisfaction(scope: Scope, period: Period) -> tuple[Satisfaction, dict[int, tuple[int, int]]]:
    """The ratings given in the period, by community and score."""
    rows = db.session.execute(
        sa.select(ResidentRequest.community_id, RequestRating.score, sa.func.count())
        .join(ResidentRequest, ResidentRequest.id == RequestRating.request_id)
        .where(
            RequestRating.created_at >= period.starts_at,
            RequestRating.created_at < period.ends_at,
            scope.community_filter(ResidentRequest.community_id),
        )
        .group_by(ResidentRequest.community_id, RequestRating.score)
    ).all()
    figures = Satisfaction()
    per_community: dict[int, tuple[int, int]] = {}
    for community_id, score, count in rows:
        figures.distribution[int(score)] += count
        ratings, total = per_community.get(community_id, (0, 0))
        per_community[community_id] = (ratings + count, total + int(score) * count)
    figures.ratings = sum(figures.distribution.values())
    if figures.ratings:
        total = sum(score * count for score, count in figures.distribution.items())
        figures.average = round(total / figures.ratings, 2)
    figures.satisfied = figures.distribution[4] + figures.distribution[5]
    return figures, per_community


def _orders(scope: Scope, period: Period, now: datetime) -> OrderFigures:
    request = ResidentRequest
    handled_on = _local_date(request.handled_at)
    due = _date_text(request.order_due_date)
    today_text = local_today(now).isoformat()
    on_time = sa.and_(request.handled_at.is_not(None), handled_on <= due)
    late = sa.or_(
        sa.and_(request.handled_at.is_not(None), handled_on > due),
        sa.and_(
            request.handled_at.is_(None),
            request.status.in_([status.value for status in OPEN_ORDER]),
            due < today_text,
        ),
    )
    # counted first, named after: the names join a few hundred lines, not every order
    counted = (
        sa.select(
            request.assignee_grid_id.label("grid_id"),
            request.assignee_user_id.label("user_id"),
            request.assignee_unit_id.label("unit_id"),
            sa.func.count().label("count"),
            sa.func.count(sa.case((on_time, 1))).label("on_time"),
            sa.func.count(sa.case((late, 1))).label("late"),
        )
        .where(
            request.dispatched_at >= period.starts_at,
            request.dispatched_at < period.ends_at,
            scope.community_filter(request.community_id),
        )
        .group_by(request.assignee_grid_id, request.assignee_user_id, request.assignee_unit_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(
            counted.c.grid_id,
            counted.c.user_id,
            counted.c.unit_id,
            Grid.name,
            User.display_name,
            Unit.name,
            counted.c.count,
            counted.c.on_time,
            counted.c.late,
        )
        .select_from(counted)
        .outerjoin(Grid, Grid.id == counted.c.grid_id)
        .outerjoin(User, User.id == counted.c.user_id)
        .outerjoin(Unit, Unit.id == counted.c.unit_id)
    ).all()
    figures = OrderFigures()
    for grid_id, user_id, unit_id, grid, person, unit, count, in_time, overdue in rows:
        figures.dispatched += count
        figures.on_time += in_time
        figures.late += overdue
        figures.other += count - in_time - overdue
        if grid_id is not None:
            line, target = OrderLine("grid", grid_id, grid), figures.by_grid
        elif user_id is not None:
            line, target = OrderLine("user", user_id, person), figures.by_person
        elif unit_id is not None:
            line, target = OrderLine("unit", unit_id, unit), figures.by_unit
        else:
            continue  # handed back: no assignee any more; counted in "other"
        line.count, line.on_time, line.late = count, in_time, overdue
        line.other = count - in_time - overdue
        target.append(line)
    for target in (figures.by_grid, figures.by_person, figures.by_unit):
        target.sort(key=lambda line: (-line.count, line.name))
    return figures


def _meetings_in(scope: Scope, period: Period):
    return (
        Meeting.starts_at >= period.starts_at,
        Meeting.starts_at < period.ends_at,
        scope.community_filter(Meeting.community_id),
    )


def _meetings(scope: Scope, period: Period) -> tuple[MeetingFigures, dict[int, int]]:
    figures = MeetingFigures()
    held_by_community: dict[int, int] = {}
    for community_id, status, count in db.session.execute(
        sa.select(Meeting.community_id, Meeting.status, sa.func.count())
        .where(*_meetings_in(scope, period))
        .group_by(Meeting.community_id, Meeting.status)
    ):
        if status in HELD:
            figures.held += count
            held_by_community[community_id] = held_by_community.get(community_id, 0) + count
        elif status == MeetingStatus.CANCELLED:
            figures.cancelled += count
        else:
            figures.planned += count
        if status == MeetingStatus.MINUTES_PUBLISHED:
            figures.with_minutes += count
    return figures, held_by_community


def _attendance(scope: Scope, period: Period) -> list[RoleAttendance]:
    rows = db.session.execute(
        sa.select(
            Attendance.role,
            sa.func.count(),
            sa.func.count(sa.case((Attendance.presence == Presence.PRESENT.value, 1))),
            sa.func.count(sa.case((Attendance.presence == Presence.EXCUSED.value, 1))),
        )
        .join(Meeting, Meeting.id == Attendance.meeting_id)
        .where(*_meetings_in(scope, period), Meeting.status.in_([s.value for s in HELD]))
        .group_by(Attendance.role)
    ).all()
    found = {role: (invited, present, excused) for role, invited, present, excused in rows}
    return [
        RoleAttendance(role.value, str(role.label), *found[role])
        for role in AttendeeRole
        if role in found
    ]


def _polls(scope: Scope, period: Period) -> PollFigures:
    rows = db.session.execute(
        sa.select(
            Poll.outcome,
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(Poll.eligible_count), 0),
            sa.func.coalesce(sa.func.sum(Poll.cast_count), 0),
        )
        .join(AgendaItem, AgendaItem.id == Poll.agenda_item_id)
        .join(Meeting, Meeting.id == AgendaItem.meeting_id)
        .where(*_meetings_in(scope, period), Poll.status == PollStatus.CLOSED.value)
        .group_by(Poll.outcome)
    ).all()
    figures = PollFigures()
    for outcome, count, eligible, cast in rows:
        figures.polls += count
        figures.eligible += int(eligible)
        figures.cast += int(cast)
        if outcome is not None and hasattr(figures, outcome.value):
            setattr(figures, outcome.value, getattr(figures, outcome.value) + count)
    return figures


def _projects(scope: Scope, period: Period, now: datetime) -> ProjectFigures:
    """Resolutions recorded at meetings starting in the period; projects
    completed in the period (on time: on or before the due date, or without
    one; late: after it), suspended now or in progress (of those created
    before the period's end), overdue (not completed, due within the period
    and before today); ratings of projects given in the period."""
    figures = ProjectFigures()
    row = db.session.execute(
        sa.select(
            sa.func.count(),
            sa.func.count(sa.case((Resolution.decision == Decision.ADOPTED.value, 1))),
            sa.func.count(sa.case((Resolution.status == "in_notice", 1))),
        )
        .join(Meeting, Meeting.id == Resolution.meeting_id)
        .where(*_meetings_in(scope, period))
    ).one()
    figures.resolutions, figures.resolutions_agreed, figures.resolutions_in_notice = row
    completed_on = _local_date(Project.completed_at)
    due = _date_text(Project.due_date)
    completed_in = sa.and_(
        Project.status == ProjectStatus.COMPLETED.value,
        Project.completed_at >= period.starts_at,
        Project.completed_at < period.ends_at,
    )
    last_day = min(period.end, local_today(now) - timedelta(days=1)).isoformat()
    row = db.session.execute(
        sa.select(
            sa.func.count(
                sa.case(
                    (
                        sa.and_(
                            completed_in, sa.or_(Project.due_date.is_(None), completed_on <= due)
                        ),
                        1,
                    )
                )
            ),
            sa.func.count(sa.case((sa.and_(completed_in, completed_on > due), 1))),
            sa.func.count(sa.case((Project.status == ProjectStatus.SUSPENDED.value, 1))),
            sa.func.count(sa.case((Project.status == ProjectStatus.IN_PROGRESS.value, 1))),
            sa.func.count(
                sa.case(
                    (
                        sa.and_(
                            Project.status != ProjectStatus.COMPLETED.value,
                            due >= period.start.isoformat(),
                            due <= last_day,
                        ),
                        1,
                    )
                )
            ),
        ).where(
            Project.created_at < period.ends_at,
            scope.community_filter(Project.community_id),
        )
    ).one()
    (
        figures.completed_on_time,
        figures.completed_late,
        figures.suspended,
        figures.in_progress,
        figures.overdue,
    ) = row
    ratings, total = db.session.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(ProjectRating.score), 0))
        .join(Project, Project.id == ProjectRating.project_id)
        .where(
            ProjectRating.created_at >= period.starts_at,
            ProjectRating.created_at < period.ends_at,
            scope.community_filter(Project.community_id),
        )
    ).one()
    figures.ratings = ratings
    figures.rating_average = round(int(total) / ratings, 2) if ratings else None
    return figures


def _communities(scope: Scope) -> list[CommunityLine]:
    """A line per community of the scope, by street and name (the figures
    are filled in from the other statements)."""
    rows = db.session.execute(
        sa.select(Community.id, Community.name, Community.street_id, Street.name)
        .outerjoin(Street, Street.id == Community.street_id)
        .where(scope.community_filter(Community.id))
        .order_by(Street.name, Community.name)
    ).all()
    return [
        CommunityLine(id, name, street_id, street or "") for id, name, street_id, street in rows
    ]


def _streets(communities: list[CommunityLine]) -> list[CommunityLine]:
    """The communities' lines added up by street (no statement)."""
    streets: dict[int | None, CommunityLine] = {}
    for line in communities:
        total = streets.setdefault(
            line.street_id,
            CommunityLine(
                line.street_id or 0, line.street_name or _("No street"), line.street_id, ""
            ),
        )
        total.received += line.received
        total.answered_in_time += line.answered_in_time
        total.overdue += line.overdue
        total.ratings += line.ratings
        total.rating_sum += line.rating_sum
        total.meetings_held += line.meetings_held
    return list(streets.values())
