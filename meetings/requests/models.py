"""Resident requests (居民诉求) and the history of their states."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from auth.models import Community, User
from meetings.dbtypes import StrEnumType, UTCDateTime, enum_check, utcnow
from meetings.extensions import db

if TYPE_CHECKING:
    from meetings.meeting.models import Meeting


class RequestCategory(enum.StrEnum):
    PROPERTY_SERVICE = "property_service"  # 物业服务
    SANITATION = "sanitation"  # 环境卫生
    TRAFFIC = "traffic"  # 道路交通
    PUBLIC_FACILITIES = "public_facilities"  # 公共设施
    SAFETY_HAZARD = "safety_hazard"  # 安全隐患
    OTHER = "other"  # 其他

    @property
    def label(self):
        return CATEGORY_LABELS[self]


CATEGORY_LABELS = {
    RequestCategory.PROPERTY_SERVICE: _l("Property services"),
    RequestCategory.SANITATION: _l("Environment and sanitation"),
    RequestCategory.TRAFFIC: _l("Roads and traffic"),
    RequestCategory.PUBLIC_FACILITIES: _l("Public facilities"),
    RequestCategory.SAFETY_HAZARD: _l("Safety hazard"),
    RequestCategory.OTHER: _l("Other"),
}


class RequestStatus(enum.StrEnum):
    SUBMITTED = "submitted"  # waiting for the secretary's reply
    ACCEPTED = "accepted"  # taken up as a topic for a consultation meeting
    ANSWERED = "answered"  # replied to directly, no meeting needed
    REJECTED = "rejected"  # not taken up, with the reason
    SCHEDULED = "scheduled"  # on the agenda of a scheduled meeting
    DELIBERATED = "deliberated"  # discussed at the meeting
    RESOLVED = "resolved"  # the meeting resolved what to do
    CLOSED = "closed"  # done; the resident has had their answer

    @property
    def label(self):
        return STATUS_LABELS[self]

    @property
    def explanation(self):
        """What this state means for the resident, and what comes next."""
        return STATUS_EXPLANATIONS[self]


STATUS_LABELS = {
    RequestStatus.SUBMITTED: _l("Waiting for a reply"),
    RequestStatus.ACCEPTED: _l("Accepted as a topic"),
    RequestStatus.ANSWERED: _l("Answered"),
    RequestStatus.REJECTED: _l("Not accepted"),
    RequestStatus.SCHEDULED: _l("On a meeting agenda"),
    RequestStatus.DELIBERATED: _l("Discussed at a meeting"),
    RequestStatus.RESOLVED: _l("Resolved"),
    RequestStatus.CLOSED: _l("Closed"),
}

STATUS_EXPLANATIONS = {
    RequestStatus.SUBMITTED: _l("The community secretary has your request and will reply soon."),
    RequestStatus.ACCEPTED: _l(
        "It will be discussed at a consultation meeting. You will be told when it is scheduled."
    ),
    RequestStatus.ANSWERED: _l("The secretary has answered it directly: see the reply."),
    RequestStatus.REJECTED: _l("It was not taken up: see the reason in the reply."),
    RequestStatus.SCHEDULED: _l("It is on the agenda of a consultation meeting."),
    RequestStatus.DELIBERATED: _l("The meeting has discussed it; the outcome follows."),
    RequestStatus.RESOLVED: _l("The meeting decided what to do about it."),
    RequestStatus.CLOSED: _l("The request is closed."),
}

# The life of a request (DESIGN.md): the secretary replies to a submitted
# request (accept / answer / reject); an accepted one goes through a meeting.
TRANSITIONS: dict[RequestStatus, frozenset[RequestStatus]] = {
    RequestStatus.SUBMITTED: frozenset(
        {RequestStatus.ACCEPTED, RequestStatus.ANSWERED, RequestStatus.REJECTED}
    ),
    RequestStatus.ACCEPTED: frozenset({RequestStatus.SCHEDULED, RequestStatus.CLOSED}),
    # back to accepted when the meeting is cancelled
    RequestStatus.SCHEDULED: frozenset({RequestStatus.DELIBERATED, RequestStatus.ACCEPTED}),
    # scheduled again when a further meeting is needed
    RequestStatus.DELIBERATED: frozenset({RequestStatus.RESOLVED, RequestStatus.SCHEDULED}),
    RequestStatus.RESOLVED: frozenset({RequestStatus.CLOSED}),
    RequestStatus.ANSWERED: frozenset({RequestStatus.CLOSED}),
    RequestStatus.REJECTED: frozenset({RequestStatus.CLOSED}),
    RequestStatus.CLOSED: frozenset(),
}


class ResidentRequest(db.Model):
    """A concern raised by a resident, or by a secretary on a resident's behalf."""

    __tablename__ = "resident_request"
    __table_args__ = (
        enum_check("status", RequestStatus),
        enum_check("category", RequestCategory),
        # the secretary's inbox: a community's requests by state and age
        Index("ix_resident_request_inbox", "community_id", "status", "created_at"),
        # the requests API's list, newest first
        Index("ix_resident_request_created_at", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    # the resident the request is for; they follow it on "my requests"
    requester_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    # who typed it in, when a secretary or grid leader raised it for the resident
    raised_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text)
    category: Mapped[RequestCategory] = mapped_column(StrEnumType(RequestCategory, 30))
    location: Mapped[str] = mapped_column(String(200))
    contact: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[RequestStatus] = mapped_column(
        StrEnumType(RequestStatus, 20), default=RequestStatus.SUBMITTED
    )
    # the public reply (答复): the answer, the reason for a rejection, or a
    # note on acceptance
    reply: Mapped[str | None] = mapped_column(Text)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    replied_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    community: Mapped[Community] = relationship()
    requester: Mapped[User] = relationship(foreign_keys=[requester_id])
    raised_by: Mapped[User | None] = relationship(foreign_keys=[raised_by_id])
    replied_by: Mapped[User | None] = relationship(foreign_keys=[replied_by_id])
    # Named by string: the meeting models build on this module, not the reverse.
    meetings: Mapped[list[Meeting]] = relationship(
        secondary="meeting_topic", viewonly=True, order_by="Meeting.id"
    )
    events: Mapped[list[RequestEvent]] = relationship(
        back_populates="request",
        cascade="all, delete-orphan",
        order_by=lambda: (RequestEvent.at, RequestEvent.id),
    )

    @property
    def meeting_ids(self) -> list[int]:
        """The meetings that take this request as a topic, oldest first."""
        return [meeting.id for meeting in self.meetings]

    def reply_due_at(self, reply_days: int) -> datetime:
        return self.created_at + timedelta(days=reply_days)

    def is_overdue(self, now: datetime, reply_days: int) -> bool:
        """Still waiting for a reply after ``reply_days`` days."""
        return self.status == RequestStatus.SUBMITTED and self.reply_due_at(reply_days) < now

    def __repr__(self) -> str:
        return f"<ResidentRequest {self.id} {self.status} {self.title}>"


class RequestEvent(db.Model):
    """One change of a request's state: the history shown on its page."""

    __tablename__ = "request_event"
    __table_args__ = (
        enum_check("from_status", RequestStatus),
        enum_check("to_status", RequestStatus),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("resident_request.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # None for the event that created the request
    from_status: Mapped[RequestStatus | None] = mapped_column(StrEnumType(RequestStatus, 20))
    to_status: Mapped[RequestStatus] = mapped_column(StrEnumType(RequestStatus, 20))
    message: Mapped[str | None] = mapped_column(Text)

    request: Mapped[ResidentRequest] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()
