"""Helpers shared by the resident-request tests (test_requests*.py)."""

from __future__ import annotations

from datetime import timedelta

from auth.models import Community, User
from meetings.dbtypes import utcnow
from meetings.extensions import db
from meetings.notifications.models import Notification
from meetings.requests import services
from meetings.requests.models import ResidentRequest

FORM = {
    "title": "活动室地板磨损",
    "category": "public_facilities",
    "description": "182幢一层活动室的地板磨损严重，容易打滑。",
    "location": "优山美地花园182幢一层",
    "contact": "",
}


def draft(**overrides) -> services.RequestDraft:
    values = {key: value for key, value in FORM.items() if key != "contact"} | overrides
    return services.RequestDraft(**values)


def raise_request(
    user: User, community: Community, *, days_ago: float = 0, **overrides
) -> ResidentRequest:
    """A submitted request, raised ``days_ago`` days ago."""
    item = services.raise_request(user, community, draft(**overrides))
    if days_ago:
        item.created_at = item.events[0].at = utcnow() - timedelta(days=days_ago)
    db.session.flush()
    return item


def requests_in(community: Community) -> list[ResidentRequest]:
    return list(
        db.session.scalars(
            db.select(ResidentRequest)
            .where(ResidentRequest.community_id == community.id)
            .order_by(ResidentRequest.id)
        )
    )


def notifications_of(user: User, kind: str | None = None) -> list[Notification]:
    statement = db.select(Notification).where(Notification.user_id == user.id)
    if kind is not None:
        statement = statement.where(Notification.kind == kind)
    return list(db.session.scalars(statement.order_by(Notification.id)))


def fresh(item: ResidentRequest) -> ResidentRequest:
    """The request as the database has it now (after a request through the client)."""
    db.session.expire_all()
    return db.session.get(ResidentRequest, item.id)
