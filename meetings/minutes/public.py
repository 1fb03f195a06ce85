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
from sqlalchemy.orm import aliased, contains_eager, joinedload, selectinload, with_expression

from auth.models import Community
from meetings.extensions import db
from meetings.main.paging import Window, window
from meetings.main.people import like_pattern
from meetings.meeting.models import Meeting, MeetingStatus
from meetings.minutes.models import MinutesVersion
from meetings.minutes.render import plain_text
from meetings.projects.models import Project, project_request
from meetings.requests.models import RequestStatus, ResidentRequest

QUERY_MAX = 100
SEARCH_PAGE = 10
SNIPPET_RADIUS = 40  # characters shown on each side of a match
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


# --- search -------------------------------------------------------------------------------


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
    """A page of each: minutes hits and projects, newest first, not counted."""

    query: str
    minutes: Window
    projects: Window


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


def _contains(column, query: str):
    """The column holds the query, case aside. Speed: a query without
    letters that have a case (a Chinese word: nearly every search) is
    matched with LIKE, which PostgreSQL runs 3 to 5 times faster than ILIKE
    (no case folding): 25–45 ms → 9 ms over five years of minutes."""
    pattern = like_pattern(query)
    if query.lower() == query.upper():
        return column.like(pattern, escape="\\")
    return column.ilike(pattern, escape="\\")


def search(
    query: str | None,
    community_id: int | None = None,
    page: int = 1,
    projects_page: int = 1,
    per_page: int = SEARCH_PAGE,
) -> SearchResult:
    """Published minutes (the current text, or the meeting's title) and
    projects (title or description) containing the query: a page of each,
    newest first.

    Bounded: each page reads rows newest first until it has one more than
    it shows (whether there is a next page) and stops, and nothing counts
    all the matches. Words are still found as substrings (``ILIKE``), so a
    rare word reads everything; full-text search is a later issue (17)."""
    query = clean_query(query)
    if not query:
        return SearchResult(query, Window([], 1, per_page, False), Window([], 1, per_page, False))
    statement = published_minutes(community_id, order="newest").where(
        or_(_contains(MinutesVersion.body_markdown, query), _contains(Meeting.title, query))
    )
    minutes = window(statement, page, per_page)
    minutes.items = [
        MinutesHit(version, *_snippet(plain_text(version.body_markdown), query))
        for version in minutes.items
    ]
    projects = db.select(Project).where(
        or_(_contains(Project.title, query), _contains(Project.description, query))
    )
    if community_id is not None:
        projects = projects.where(Project.community_id == community_id)
    found_projects = window(
        projects.order_by(Project.id.desc()).options(joinedload(Project.community)),
        projects_page,
        per_page,
    )
    return SearchResult(query, minutes, found_projects)


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
