"""What residents read without an account: the published minutes of a
community, the answered requests (without anything personal about the
requester), and a search over the published text and the projects.

Search: Chinese has no spaces between words, so a word is found as a
substring — ``LIKE``/``ILIKE`` with the user's ``%`` and ``_`` escaped, the
same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, or_
from sqlalchemy.orm import joinedload, selectinload

from auth.models import Community
from meetings.extensions import db
from meetings.meeting.models import Meeting, MeetingStatus
from meetings.minutes.models import MinutesVersion
from meetings.minutes.render import plain_text
from meetings.projects.models import Project, project_request
from meetings.requests.models import RequestStatus, ResidentRequest

QUERY_MAX = 100
SEARCH_LIMIT = 50
SNIPPET_RADIUS = 40  # characters shown on each side of a match
# Requests with a public answer: replied directly, or resolved / closed.
ANSWERED_STATUSES = (RequestStatus.ANSWERED, RequestStatus.RESOLVED, RequestStatus.CLOSED)


def _current_versions():
    """Per meeting: the number of its current published version and when its
    minutes were first published."""
    return (
        db.select(
            MinutesVersion.meeting_id.label("meeting_id"),
            func.max(MinutesVersion.number).label("number"),
            func.min(MinutesVersion.published_at).label("first_published_at"),
        )
        .where(MinutesVersion.published_at.is_not(None))
        .group_by(MinutesVersion.meeting_id)
        .subquery()
    )


def published_minutes(community_id: int | None = None, order: str = "first") -> Select:
    """The current published version of each meeting's minutes, newest first:
    by first publication (a correction does not move a meeting up), or with
    ``order="updated"`` by the latest publication (for the feed)."""
    current = _current_versions()
    statement = (
        db.select(MinutesVersion)
        .join(
            current,
            (MinutesVersion.meeting_id == current.c.meeting_id)
            & (MinutesVersion.number == current.c.number),
        )
        .join(Meeting, Meeting.id == MinutesVersion.meeting_id)
        .where(Meeting.status == MeetingStatus.MINUTES_PUBLISHED)
        .options(joinedload(MinutesVersion.meeting).joinedload(Meeting.community))
    )
    if community_id is not None:
        statement = statement.where(Meeting.community_id == community_id)
    if order == "updated":
        return statement.order_by(MinutesVersion.published_at.desc(), MinutesVersion.id.desc())
    return statement.order_by(current.c.first_published_at.desc(), Meeting.id.desc())


def answered_requests(community: Community) -> Select:
    """Requests of the community with a public reply, latest reply first."""
    return (
        db.select(ResidentRequest)
        .where(
            ResidentRequest.community_id == community.id,
            ResidentRequest.status.in_([s.value for s in ANSWERED_STATUSES]),
            ResidentRequest.reply.is_not(None),
        )
        .order_by(ResidentRequest.replied_at.desc(), ResidentRequest.id.desc())
        .options(selectinload(ResidentRequest.meetings))
    )


def published_meetings_of(item: ResidentRequest) -> list[Meeting]:
    return [m for m in item.meetings if m.status == MeetingStatus.MINUTES_PUBLISHED]


# --- search -------------------------------------------------------------------------------


def like_pattern(query: str) -> str:
    """``%query%`` with the LIKE wildcards in the query taken literally."""
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass
class MinutesHit:
    version: MinutesVersion
    snippet_before: str
    snippet_match: str
    snippet_after: str

    @property
    def meeting(self) -> Meeting:
        return self.version.meeting


@dataclass
class SearchResult:
    query: str
    minutes: list[MinutesHit]
    projects: list[Project]

    @property
    def total(self) -> int:
        return len(self.minutes) + len(self.projects)


def _snippet(text: str, query: str) -> tuple[str, str, str]:
    at = text.lower().find(query.lower())
    if at < 0:
        return (text[: 2 * SNIPPET_RADIUS], "", "")
    start = max(0, at - SNIPPET_RADIUS)
    end = at + len(query)
    before = ("…" if start > 0 else "") + text[start:at]
    after = text[end : end + SNIPPET_RADIUS] + ("…" if end + SNIPPET_RADIUS < len(text) else "")
    return before, text[at:end], after


def clean_query(query: str | None) -> str:
    return " ".join((query or "").split())[:QUERY_MAX]


def search(query: str | None, community_id: int | None = None) -> SearchResult:
    """Published minutes (the current text, or the meeting's title) and
    projects (title or description) containing the query."""
    query = clean_query(query)
    if not query:
        return SearchResult(query, [], [])
    pattern = like_pattern(query)
    statement = published_minutes(community_id).where(
        or_(
            MinutesVersion.body_markdown.ilike(pattern, escape="\\"),
            Meeting.title.ilike(pattern, escape="\\"),
        )
    )
    hits = []
    for version in db.session.scalars(statement.limit(SEARCH_LIMIT)):
        text = plain_text(version.body_markdown)
        hits.append(MinutesHit(version, *_snippet(text, query)))
    projects = db.select(Project).where(
        or_(
            Project.title.ilike(pattern, escape="\\"),
            Project.description.ilike(pattern, escape="\\"),
        )
    )
    if community_id is not None:
        projects = projects.where(Project.community_id == community_id)
    found_projects = list(
        db.session.scalars(
            projects.order_by(Project.created_at.desc(), Project.id.desc())
            .limit(SEARCH_LIMIT)
            .options(joinedload(Project.community))
        )
    )
    return SearchResult(query, hits, found_projects)


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
