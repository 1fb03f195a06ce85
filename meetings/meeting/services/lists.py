"""The lists the pages and the API show: meetings someone may see, a
community's upcoming and past meetings, a participant's invitations."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Select, or_
from sqlalchemy.orm import selectinload

from auth import permissions
from auth.models import Community, Membership, User
from meetings.dbtypes import utcnow
from meetings.extensions import db
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


def community_meetings(community: Community, statuses: Iterable[MeetingStatus]) -> list[Meeting]:
    return list(
        db.session.scalars(
            db.select(Meeting)
            .where(
                Meeting.community_id == community.id,
                Meeting.status.in_([s.value for s in statuses]),
            )
            .order_by(Meeting.starts_at, Meeting.id)
            .options(selectinload(Meeting.attendances))
        )
    )


def recent_meetings(community: Community, limit: int = 20) -> list[Meeting]:
    """The community's past meetings (closed, published, cancelled), newest first."""
    return list(
        db.session.scalars(
            db.select(Meeting)
            .where(
                Meeting.community_id == community.id,
                Meeting.status.in_(
                    [
                        MeetingStatus.CLOSED.value,
                        MeetingStatus.MINUTES_PUBLISHED.value,
                        MeetingStatus.CANCELLED.value,
                    ]
                ),
            )
            .order_by(Meeting.starts_at.desc(), Meeting.id.desc())
            .limit(limit)
        )
    )


def my_attendances(user: User) -> list[Attendance]:
    """A participant's invitations to announced meetings: upcoming first
    (soonest first), then past ones (newest first)."""
    attendances = list(
        db.session.scalars(
            db.select(Attendance)
            .join(Attendance.meeting)
            .where(Attendance.user_id == user.id, Meeting.status != MeetingStatus.DRAFT)
            .options(
                selectinload(Attendance.meeting).selectinload(Meeting.community),
            )
        )
    )
    now = utcnow()
    upcoming = sorted(
        (a for a in attendances if a.meeting.ends_at >= now and a.meeting.status in LIVE_STATUSES),
        key=lambda a: a.meeting.starts_at,
    )
    past = sorted(
        (a for a in attendances if a not in upcoming),
        key=lambda a: a.meeting.starts_at,
        reverse=True,
    )
    return upcoming + past


def members_for_choice(community: Community) -> list[Membership]:
    """The community's members, for the host/recorder and invitation lists."""
    return list(
        db.session.scalars(
            db.select(Membership)
            .where(Membership.community_id == community.id)
            .join(Membership.user)
            .where(User.is_active.is_(True))
            .order_by(User.display_name, User.id)
            .options(db.joinedload(Membership.user))
        )
    )
