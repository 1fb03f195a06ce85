"""What the board (挂图作战), the project page, the request page, the
minutes and the public portal read."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import case, func, or_, select

from auth.models import Community
from meetings.extensions import db
from meetings.meeting.models import agenda_item_request, meeting_topic
from meetings.polls.models import Poll
from meetings.projects.models import (
    Project,
    ProjectRating,
    ProjectStatus,
    ProjectUpdate,
    Resolution,
    project_request,
)
from meetings.projects.services.common import is_overdue, today
from meetings.projects.services.ratings import RatingStats, rating_stats
from meetings.requests.models import ResidentRequest

# The board: projects under way first, finished ones last.
BOARD_ORDER = {
    ProjectStatus.IN_PROGRESS: 0,
    ProjectStatus.PLANNED: 1,
    ProjectStatus.SUSPENDED: 2,
    ProjectStatus.COMPLETED: 3,
}


@dataclass(frozen=True)
class ProjectCard:
    """A project as the board and the API list show it."""

    project: Project
    is_overdue: bool
    rating: RatingStats

    @property
    def progress_step(self) -> int:
        """The percent rounded down to a multiple of 5, for the bar's CSS class."""
        return self.project.progress_percent // 5 * 5


@dataclass
class BoardSummary:
    """The board: the figures of all the community's projects, and a page of
    cards (of one status, if asked)."""

    community: Community
    cards: list[ProjectCard]
    counts: dict[ProjectStatus, int] = field(default_factory=dict)
    total: int = 0
    overdue: int = 0
    rating: RatingStats = RatingStats()
    page: Pagination | None = None


def projects_statement(community_id: int | None = None, status: ProjectStatus | None = None):
    """The projects, board order: under way first, then by due date."""
    statement = select(Project).options(db.joinedload(Project.community))
    if community_id is not None:
        statement = statement.where(Project.community_id == community_id)
    if status is not None:
        statement = statement.where(Project.status == status)
    rank = case(
        *[(Project.status == status, order) for status, order in BOARD_ORDER.items()], else_=9
    )
    return statement.order_by(rank, Project.due_date.is_(None), Project.due_date, Project.id)


def cards_for(projects: list[Project]) -> list[ProjectCard]:
    stats = rating_stats(project.id for project in projects)
    now = today()
    return [
        ProjectCard(project, is_overdue(project, now), stats.get(project.id, RatingStats()))
        for project in projects
    ]


def projects_of(community: Community, status: ProjectStatus | None = None) -> list[Project]:
    """A community's projects in board order, optionally of one status."""
    return list(db.session.scalars(projects_statement(community.id, status)))


BOARD_PAGE = 24


def board_summary(
    community: Community,
    status: ProjectStatus | None = None,
    page: int = 1,
    per_page: int = BOARD_PAGE,
) -> BoardSummary:
    """The community's board: the number of projects per status, how many
    are overdue and the average rating, counted in the database, and a page
    of cards (of ``status``, if given) in board order."""
    counts = dict.fromkeys(ProjectStatus, 0)
    for project_status, count in db.session.execute(
        select(Project.status, func.count())
        .where(Project.community_id == community.id)
        .group_by(Project.status)
    ):
        counts[ProjectStatus(project_status)] = count
    overdue = db.session.scalar(
        select(func.count()).where(
            Project.community_id == community.id,
            Project.status != ProjectStatus.COMPLETED,
            Project.due_date < today(),
        )
    )
    count, average = db.session.execute(
        select(func.count(ProjectRating.id), func.avg(ProjectRating.score))
        .join(ProjectRating.project)
        .where(Project.community_id == community.id)
    ).one()
    found = db.paginate(
        projects_statement(community.id, status), page=page, per_page=per_page, error_out=False
    )
    return BoardSummary(
        community=community,
        cards=cards_for(found.items),
        counts=counts,
        total=sum(counts.values()),
        overdue=overdue,
        rating=RatingStats(count, round(float(average), 1) if count else None),
        page=found,
    )


@dataclass
class RequestOutcome:
    """What became of a request: the resolutions on it and the projects answering it."""

    resolutions: list[Resolution]
    projects: list[Project]

    def __bool__(self) -> bool:
        return bool(self.resolutions or self.projects)


def outcome_of_request(item: ResidentRequest) -> RequestOutcome:
    projects = list(
        db.session.scalars(
            select(Project)
            .join(project_request, project_request.c.project_id == Project.id)
            .where(project_request.c.request_id == item.id)
            .order_by(Project.id)
        )
    )
    on_items = select(agenda_item_request.c.agenda_item_id).where(
        agenda_item_request.c.request_id == item.id
    )
    on_meetings = select(meeting_topic.c.meeting_id).where(meeting_topic.c.request_id == item.id)
    named_items = select(agenda_item_request.c.agenda_item_id)
    resolutions = list(
        db.session.scalars(
            select(Resolution)
            .where(
                or_(
                    Resolution.project_id.in_([project.id for project in projects]),
                    Resolution.agenda_item_id.in_(on_items),
                    # on one of its meetings, on no agenda item or on one naming no request
                    Resolution.meeting_id.in_(on_meetings)
                    & or_(
                        Resolution.agenda_item_id.is_(None),
                        Resolution.agenda_item_id.not_in(named_items),
                    ),
                )
            )
            .order_by(Resolution.id)
            .options(
                db.joinedload(Resolution.meeting),
                db.joinedload(Resolution.project),
                db.joinedload(Resolution.poll).selectinload(Poll.options),
            )
        )
    )
    return RequestOutcome(resolutions, projects)


def updates_of(project: Project) -> list[ProjectUpdate]:
    """The progress updates, newest first."""
    return list(
        db.session.scalars(
            select(ProjectUpdate)
            .where(ProjectUpdate.project_id == project.id)
            .order_by(ProjectUpdate.on_date.desc(), ProjectUpdate.id.desc())
            .options(db.joinedload(ProjectUpdate.author))
        )
    )
