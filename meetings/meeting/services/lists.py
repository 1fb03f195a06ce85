"""The lists the pages and the API show: meetings someone may see, a
community's upcoming and past meetings, a participant's invitations."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, or_
from sqlalchemy.orm import contains_eager, selectinload

from auth import permissions
from auth.models import Community, User
from meetings.dbtypes import utcnow
from meetings.extensions import db
from meetings.main.people import invitable_matching
from meetings.meeting.models import PUBLIC_STATUSES, Attendance, Meeting, MeetingStatus
from meetings.meeting.services.topics import LIVE_STATUSES


def visible_meetings(
    user: User | None,
    community_id: int | None = None,
    status: MeetingStatus | str | None = None,
) -> Select:
    """A query of the meetings this user may see, soonest first: all of the
    communities they run, those they attend, and announced ones."""
    statement = db.select(Meeting)
    if not permissions.is_admin(user):
        public = or_(
            Meeting.status.in_([s.value for s in PUBLIC_STATUSES]),
            (Meeting.status == MeetingStatus.CANCELLED) & Meeting.scheduled_at.is_not(None),
        )
        conditions = [public]
        if permissions.is_authenticated(user):
            managed = [c.id for c in user.secretary_of]
            conditions += [
                Meeting.community_id.in_(managed),
                Meeting.id.in_(
                    db.select(Attendance.meeting_id).where(Attendance.user_id == user.id)
                ),
                Meeting.host_id == user.id,
                Meeting.recorder_id == user.id,
            ]
        statement = statement.where(or_(*conditions))
    if community_id is not None:
        statement = statement.where(Meeting.community_id == community_id)
    if status is not None:
        statement = statement.where(Meeting.status == MeetingStatus(status))
    return statement.order_by(Meeting.starts_at.desc(), Meeting.id.desc()).options(
        selectinload(Meeting.community), selectinload(Meeting.topics)
    )


def upcoming_public(community: Community, now: datetime | None = None) -> list[Meeting]:
    """Announced meetings of the community that have not ended, soonest first."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            db.select(Meeting)
            .where(
                Meeting.community_id == community.id,
                Meeting.status.in_([s.value for s in LIVE_STATUSES]),
                Meeting.ends_at >= now,
            )
            .order_by(Meeting.starts_at, Meeting.id)
            .options(selectinload(Meeting.host), selectinload(Meeting.recorder))
        )
    )


# How many meetings a dashboard panel shows (upcoming, minutes due): a
# meeting leaves these lists as it moves on, so they stay short; the rest are
# on the pages of past meetings.
PANEL_SIZE = 20
PAST_PAGE = 10
MY_PAST_PAGE = 10


def community_meetings(
    community: Community, statuses: Iterable[MeetingStatus], limit: int = PANEL_SIZE
) -> tuple[list[Meeting], bool]:
    """The community's meetings in these states, soonest first (with their
    attendances, for the quorum): at most ``limit``, and whether there are more."""
    found = list(
        db.session.scalars(
            db.select(Meeting)
            .where(
                Meeting.community_id == community.id,
                Meeting.status.in_([s.value for s in statuses]),
            )
            .order_by(Meeting.starts_at, Meeting.id)
            .limit(limit + 1)
            .options(selectinload(Meeting.attendances))
        )
    )
    return found[:limit], len(found) > limit


PAST_STATUSES = (
    MeetingStatus.CLOSED,
    MeetingStatus.MINUTES_PUBLISHED,
    MeetingStatus.CANCELLED,
)


def recent_meetings(community: Community, page: int = 1, per_page: int = PAST_PAGE) -> Pagination:
    """A page of the community's past meetings (closed, published, cancelled), newest first."""
    statement = (
        db.select(Meeting)
        .where(
            Meeting.community_id == community.id,
            Meeting.status.in_([status.value for status in PAST_STATUSES]),
        )
        .order_by(Meeting.starts_at.desc(), Meeting.id.desc())
    )
    return db.paginate(statement, page=page, per_page=per_page, error_out=False)


def _live(now: datetime):
    return (Meeting.ends_at >= now) & Meeting.status.in_([s.value for s in LIVE_STATUSES])


def my_upcoming(user: User, now: datetime | None = None) -> list[Attendance]:
    """A participant's invitations to meetings still to come or under way,
    soonest first (a handful: they end)."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            db.select(Attendance)
            .join(Attendance.meeting)
            .where(Attendance.user_id == user.id, _live(now))
            .order_by(Meeting.starts_at, Meeting.id)
            .options(contains_eager(Attendance.meeting).joinedload(Meeting.community))
        )
    )


def my_past(
    user: User, page: int = 1, per_page: int = MY_PAST_PAGE, now: datetime | None = None
) -> Pagination:
    """A page of a participant's other invitations to announced meetings
    (held, cancelled, or past their end), newest first."""
    now = now or utcnow()
    statement = (
        db.select(Attendance)
        .join(Attendance.meeting)
        .where(
            Attendance.user_id == user.id,
            Meeting.status != MeetingStatus.DRAFT,
            ~_live(now),
        )
        .order_by(Meeting.starts_at.desc(), Meeting.id.desc())
        .options(contains_eager(Attendance.meeting).joinedload(Meeting.community))
    )
    return db.paginate(statement, page=page, per_page=per_page, error_out=False)


INVITE_PAGE = 20


def invitable_members(
    meeting: Meeting, query: str | None = None, page: int = 1, per_page: int = INVITE_PAGE
) -> Pagination:
    """A page of those who may be invited and are not yet (the community's
    active members, its street office's staff, the members of the units
    serving it) whose name, username or phone contains ``query``, for the
    invitation list."""
    invited = db.select(Attendance.user_id).where(Attendance.meeting_id == meeting.id)
    statement = invitable_matching(meeting.community, query, exclude=invited).options(
        selectinload(User.memberships)
    )
    return db.paginate(statement, page=page, per_page=per_page, error_out=False)


def users_by_ids(ids: list[int]) -> list[User]:
    """These users (with their memberships), in one query; unknown ids left out."""
    if not ids:
        return []
    return list(
        db.session.scalars(
            db.select(User).where(User.id.in_(ids)).options(selectinload(User.memberships))
        )
    )
