"""What residents read without an account: the published minutes of a
community and the answered requests (without anything personal about the
requester). The search over all of it is ``meetings.search``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, func
from sqlalchemy.orm import aliased, contains_eager, selectinload, with_expression

from auth.models import Community
from meetings.extensions import db
from meetings.meeting.models import Meeting, MeetingStatus
from meetings.minutes.models import MinutesVersion
from meetings.projects.models import Project, project_request
from meetings.requests.models import RequestStatus, ResidentRequest

# Requests with a public answer: replied directly, or resolved / closed.
ANSWERED_STATUSES = (
    RequestStatus.ANSWERED,
    RequestStatus.RESOLVED,
    RequestStatus.HANDLED,
    RequestStatus.CLOSED,
)


def published_minutes(community_id: int | None = None, order: str = "first") -> Select:
    """The current published version of each meeting's minutes, newest first:
    by first publication (a correction does not move a meeting up), with
    ``order="updated"`` by the latest publication (for the feed), with
    ``order="newest"`` newest version first (for the search). Each
    version comes with its meeting and community, and with
    ``first_published_at``, when the meeting's minutes were first published.

    The meetings are chosen first (published minutes, of the community),
    and for each only its own versions are read: the current one is the
    published version no later one supersedes (``NOT EXISTS``, on the
    ``(meeting_id, number)`` key), which replaced a grouping of every
    published version of every community, done twice (list and count)."""
    later = aliased(MinutesVersion)
    superseded = (
        db.select(later.id)
        .where(
            later.meeting_id == MinutesVersion.meeting_id,
            later.number > MinutesVersion.number,
            later.published_at.is_not(None),
        )
        .exists()
    )
    earliest = aliased(MinutesVersion)
    first_published = (
        db.select(func.min(earliest.published_at))
        .where(earliest.meeting_id == MinutesVersion.meeting_id)
        .scalar_subquery()
    )
    statement = (
        db.select(MinutesVersion)
        .join(Meeting, Meeting.id == MinutesVersion.meeting_id)
        .where(
            Meeting.status == MeetingStatus.MINUTES_PUBLISHED,
            MinutesVersion.published_at.is_not(None),
            ~superseded,
        )
        .options(
            contains_eager(MinutesVersion.meeting).joinedload(Meeting.community),
            with_expression(MinutesVersion.first_published_at, first_published),
        )
    )
    if community_id is not None:
        statement = statement.where(Meeting.community_id == community_id)
    if order == "updated":
        return statement.order_by(MinutesVersion.published_at.desc(), MinutesVersion.id.desc())
    if order == "newest":
        # by the version's key: a walk that may stop at the first page (the search)
        return statement.order_by(MinutesVersion.id.desc())
    return statement.order_by(first_published.desc(), Meeting.id.desc())


def _answered(community: Community):
    return (
        ResidentRequest.community_id == community.id,
        ResidentRequest.status.in_([s.value for s in ANSWERED_STATUSES]),
        ResidentRequest.reply.is_not(None),
    )


def answered_requests(community: Community) -> Select:
    """Requests of the community with a public reply, latest reply first."""
    return (
        db.select(ResidentRequest)
        .where(*_answered(community))
        .order_by(ResidentRequest.replied_at.desc(), ResidentRequest.id.desc())
        .options(selectinload(ResidentRequest.meetings))
    )


def answered_count(community: Community) -> int:
    return db.session.scalar(db.select(func.count(ResidentRequest.id)).where(*_answered(community)))


def published_meetings_of(item: ResidentRequest) -> list[Meeting]:
    return [m for m in item.meetings if m.status == MeetingStatus.MINUTES_PUBLISHED]


def latest_update(community_id: int) -> datetime | None:
    return db.session.scalar(
        db.select(func.max(MinutesVersion.published_at))
        .join(Meeting, Meeting.id == MinutesVersion.meeting_id)
        .where(Meeting.community_id == community_id)
    )


# --- the projects behind requests ---------------------------------------------------------


def projects_of_requests(request_ids: list[int]) -> dict[int, list[Project]]:
    """The projects that take up each of these requests, in one query."""
    found: dict[int, list[Project]] = {request_id: [] for request_id in request_ids}
    if not request_ids:
        return found
    rows = db.session.execute(
        db.select(project_request.c.request_id, Project)
        .join(Project, Project.id == project_request.c.project_id)
        .where(project_request.c.request_id.in_(request_ids))
        .order_by(Project.id)
    ).all()
    for request_id, project in rows:
        found[request_id].append(project)
    return found
