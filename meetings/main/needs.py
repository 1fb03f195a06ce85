"""What needs a signed-in person now, for their home page: the polls waiting
for their ballot, the invitations they have not answered, their requests
waiting for a rating, the completed projects of their communities they have
not rated, and for those who take orders or run a community the counts of
their open orders and tasks.

Read-only, and a fixed number of queries whatever the history: each list is
one query led by an index on the person (the voter roll, ``attendance.user_id``,
``resident_request.requester_id``, ``project.community_id`` with the rating's
unique (project, user)), each count one query.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, or_
from sqlalchemy.orm import contains_eager, joinedload

from auth.models import Community, User
from meetings.dbtypes import utcnow
from meetings.extensions import db
from meetings.meeting.models import Attendance, Meeting, MeetingStatus, Rsvp
from meetings.organisation.roles import Posts
from meetings.polls.models import Poll
from meetings.polls.queries import polls_waiting_for
from meetings.projects.models import Project, ProjectRating, ProjectStatus
from meetings.projects.services import open_task_count
from meetings.requests.models import RATABLE, ResidentRequest
from meetings.requests.orders import OPEN_ORDER, overdue_condition, unclaimed_condition

# A completed project asks its residents for a rating this long; older ones
# stay on the project board (a resident is not reminded of years of them).
PROJECT_RATING_DAYS = 90
# At most this many lines of a kind; the rest is on the page the line links to.
SHOWN = 5


@dataclass(frozen=True)
class CommunityOrders:
    community: Community
    open: int
    unclaimed: int
    overdue: int


@dataclass
class Needs:
    polls: list[Poll] = field(default_factory=list)
    invitations: list[Attendance] = field(default_factory=list)
    requests_to_rate: list[ResidentRequest] = field(default_factory=list)
    projects_to_rate: list[Project] = field(default_factory=list)
    # None: the person takes no orders (or has no tasks) and sees no line
    open_orders: int | None = None
    open_tasks: int | None = None
    community_orders: list[CommunityOrders] = field(default_factory=list)

    @property
    def anything(self) -> bool:
        return bool(self.polls) or self.besides_polls

    @property
    def besides_polls(self) -> bool:
        """Something in the list under the vote cards."""
        return bool(
            self.invitations
            or self.requests_to_rate
            or self.projects_to_rate
            or self.open_orders
            or self.open_tasks
            or any(c.open for c in self.community_orders)
        )


def needs_of(user: User, posts: Posts, now: datetime | None = None) -> Needs:
    """Everything waiting for ``user`` (``posts``: their posts, read once per page)."""
    now = now or utcnow()
    community_ids = [m.community_id for m in user.memberships]
    secretary_of = [m.community for m in user.memberships if m.is_secretary]
    needs = Needs(
        polls=polls_waiting_for(user),
        invitations=unanswered_invitations(user, now),
        requests_to_rate=requests_to_rate(user),
        projects_to_rate=projects_to_rate(user, community_ids, now),
    )
    if posts.takes_orders:
        needs.open_orders = open_order_count(user, posts)
    if posts.takes_orders or posts.unit_ids or secretary_of:
        needs.open_tasks = open_task_count(user)
    if secretary_of:
        needs.community_orders = orders_of_communities(secretary_of, now)
    return needs


def unanswered_invitations(user: User, now: datetime) -> list[Attendance]:
    """Announced meetings still to come (or under way) the person has not answered."""
    return list(
        db.session.scalars(
            db.select(Attendance)
            .join(Attendance.meeting)
            .where(
                Attendance.user_id == user.id,
                Attendance.rsvp == Rsvp.INVITED,
                Meeting.status.in_([MeetingStatus.SCHEDULED, MeetingStatus.IN_PROGRESS]),
                Meeting.ends_at >= now,
            )
            .order_by(Meeting.starts_at, Meeting.id)
            .limit(SHOWN)
            .options(contains_eager(Attendance.meeting))
        )
    )


def requests_to_rate(user: User) -> list[ResidentRequest]:
    """The person's own requests handled or answered, waiting for their rating."""
    return list(
        db.session.scalars(
            db.select(ResidentRequest)
            .where(ResidentRequest.requester_id == user.id, ResidentRequest.status.in_(RATABLE))
            .order_by(ResidentRequest.id.desc())
            .limit(SHOWN)
        )
    )


def projects_to_rate(user: User, community_ids: list[int], now: datetime) -> list[Project]:
    """Projects of the person's communities completed in the last
    ``PROJECT_RATING_DAYS`` that they have not rated, newest first."""
    if not community_ids:
        return []
    rated = (
        db.select(ProjectRating.id)
        .where(ProjectRating.project_id == Project.id, ProjectRating.user_id == user.id)
        .exists()
    )
    return list(
        db.session.scalars(
            db.select(Project)
            .where(
                Project.community_id.in_(community_ids),
                Project.status == ProjectStatus.COMPLETED,
                Project.completed_at >= now - timedelta(days=PROJECT_RATING_DAYS),
                ~rated,
            )
            .order_by(Project.completed_at.desc(), Project.id.desc())
            .limit(SHOWN)
            .options(joinedload(Project.community))
        )
    )


def open_order_count(user: User, posts: Posts) -> int:
    """Open orders dispatched to the person, their grids or their units
    (those of ``orders.my_orders``)."""
    mine = [ResidentRequest.assignee_user_id == user.id]
    if posts.grid_ids:
        mine.append(ResidentRequest.assignee_grid_id.in_(posts.grid_ids))
    if posts.unit_ids:
        mine.append(ResidentRequest.assignee_unit_id.in_(posts.unit_ids))
    return (
        db.session.scalar(
            db.select(func.count())
            .select_from(ResidentRequest)
            .where(or_(*mine), ResidentRequest.status.in_(OPEN_ORDER))
        )
        or 0
    )


def orders_of_communities(communities: list[Community], now: datetime) -> list[CommunityOrders]:
    """The open, late-unclaimed and overdue orders of each community a
    secretary runs, in one query (``orders.order_counts`` per community)."""
    rows = db.session.execute(
        db.select(
            ResidentRequest.community_id,
            func.count(),
            func.count().filter(unclaimed_condition(now)),
            func.count().filter(overdue_condition(now)),
        )
        .where(
            ResidentRequest.community_id.in_([c.id for c in communities]),
            ResidentRequest.status.in_(OPEN_ORDER),
        )
        .group_by(ResidentRequest.community_id)
    )
    counts = {row[0]: row[1:] for row in rows}
    return [CommunityOrders(c, *counts.get(c.id, (0, 0, 0))) for c in communities]
