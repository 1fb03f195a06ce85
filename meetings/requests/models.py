"""Resident requests (居民诉求) and the history of their states."""

from __future__ import annotations

import enum
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from auth.models import Community, User
from meetings.dbtypes import StrEnumType, UTCDateTime, enum_check, utcnow
from meetings.extensions import db

if TYPE_CHECKING:
    from meetings.meeting.models import Meeting
    from meetings.organisation.models import Grid, Unit
    from meetings.projects.models import StoredFile


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
    # the order workflow (派单 → 接单 → 办理 → 反馈 → 评价)
    DISPATCHED = "dispatched"  # sent to a grid, a person or a unit, with a due date
    CLAIMED = "claimed"  # the assignee took it on
    HANDED_BACK = "handed_back"  # the assignee gave it back, with a reason
    HANDLED = "handled"  # done, with a reply to the resident; waiting for their rating
    REOPENED = "reopened"  # the resident was not satisfied (rating of 2 or less)
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
    RequestStatus.DISPATCHED: _l("Dispatched"),
    RequestStatus.CLAIMED: _l("Being handled"),
    RequestStatus.HANDED_BACK: _l("Handed back"),
    RequestStatus.HANDLED: _l("Handled, waiting for the resident's rating"),
    RequestStatus.REOPENED: _l("Reopened"),
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
    RequestStatus.DISPATCHED: _l(
        "The secretary has sent it to the people who will handle it, with a due date."
    ),
    RequestStatus.CLAIMED: _l("Someone has taken it on and is handling it."),
    RequestStatus.HANDED_BACK: _l(
        "It was handed back to the secretary, who will send it on or answer it."
    ),
    RequestStatus.HANDLED: _l(
        "It has been handled: see the reply, and please rate how satisfied you are."
    ),
    RequestStatus.REOPENED: _l(
        "It was not handled to your satisfaction: the secretary takes it up again."
    ),
    RequestStatus.CLOSED: _l("The request is closed."),
}


class RequestChannel(enum.StrEnum):
    """How the concern reached the community."""

    APP = "app"  # raised in Shangliang
    WECHAT_GROUP = "wechat_group"  # 微信群
    PHONE = "phone"  # 电话
    HOME_VISIT = "home_visit"  # 入户走访
    WALK_IN = "walk_in"  # 来访
    BUILDING_QR = "building_qr"  # 楼栋二维码

    @property
    def label(self):
        return CHANNEL_LABELS[self]


CHANNEL_LABELS = {
    RequestChannel.APP: _l("Online"),
    RequestChannel.WECHAT_GROUP: _l("WeChat group"),
    RequestChannel.PHONE: _l("Phone call"),
    RequestChannel.HOME_VISIT: _l("Home visit"),
    RequestChannel.WALK_IN: _l("Walk-in"),
    RequestChannel.BUILDING_QR: _l("QR code on the building"),
}

# The life of a request (DESIGN.md): the secretary replies to a submitted
# request (accept / answer / reject) or dispatches it as an order; an accepted
# one goes through a meeting, a dispatched one through the order workflow.
# Whatever answered it, the resident rates it: ``handled``/``answered`` become
# ``closed`` by a rating above 2 (or after the rating period), ``reopened`` by
# one of 2 or less.
_BACK_TO_THE_SECRETARY = frozenset(
    {RequestStatus.DISPATCHED, RequestStatus.ACCEPTED, RequestStatus.ANSWERED}
)
TRANSITIONS: dict[RequestStatus, frozenset[RequestStatus]] = {
    RequestStatus.SUBMITTED: frozenset(
        {
            RequestStatus.ACCEPTED,
            RequestStatus.ANSWERED,
            RequestStatus.REJECTED,
            RequestStatus.DISPATCHED,
        }
    ),
    # handled when the project carrying it out is completed
    RequestStatus.ACCEPTED: frozenset({RequestStatus.SCHEDULED, RequestStatus.HANDLED}),
    # back to accepted when the meeting is cancelled
    RequestStatus.SCHEDULED: frozenset({RequestStatus.DELIBERATED, RequestStatus.ACCEPTED}),
    # scheduled again when a further meeting is needed
    RequestStatus.DELIBERATED: frozenset({RequestStatus.RESOLVED, RequestStatus.SCHEDULED}),
    RequestStatus.RESOLVED: frozenset({RequestStatus.HANDLED}),
    RequestStatus.DISPATCHED: frozenset({RequestStatus.CLAIMED, RequestStatus.HANDED_BACK}),
    RequestStatus.HANDED_BACK: _BACK_TO_THE_SECRETARY,
    RequestStatus.CLAIMED: frozenset({RequestStatus.HANDLED}),
    RequestStatus.HANDLED: frozenset({RequestStatus.CLOSED, RequestStatus.REOPENED}),
    RequestStatus.ANSWERED: frozenset({RequestStatus.CLOSED, RequestStatus.REOPENED}),
    RequestStatus.REOPENED: _BACK_TO_THE_SECRETARY,
    RequestStatus.REJECTED: frozenset({RequestStatus.CLOSED}),
    RequestStatus.CLOSED: frozenset(),
}

# Waiting for the resident's rating (评价).
RATABLE = frozenset({RequestStatus.HANDLED, RequestStatus.ANSWERED})
# Waiting for the secretary: new, handed back by its assignee, or reopened
# by a low rating. The secretary replies (accept, answer) or dispatches.
WAITING_FOR_SECRETARY = frozenset(
    {RequestStatus.SUBMITTED, RequestStatus.HANDED_BACK, RequestStatus.REOPENED}
)


class ResidentRequest(db.Model):
    """A concern raised by a resident, or by a secretary or grid worker on a
    resident's behalf — an account holder (``requester``) or someone without
    an account (``resident_name``, ``resident_phone``, ``building``)."""

    __tablename__ = "resident_request"
    __table_args__ = (
        enum_check("status", RequestStatus),
        enum_check("category", RequestCategory),
        # the secretary's inbox: a community's requests by state and age
        Index("ix_resident_request_inbox", "community_id", "status", "created_at"),
        # the requests API's list, newest first
        Index("ix_resident_request_created_at", "created_at", "id"),
        enum_check("channel", RequestChannel),
        CheckConstraint(
            "requester_id IS NOT NULL OR resident_name IS NOT NULL", name="has_a_resident"
        ),
        # at most one assignee: a person, a grid or a unit
        CheckConstraint(
            "(CASE WHEN assignee_user_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN assignee_grid_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN assignee_unit_id IS NULL THEN 0 ELSE 1 END) <= 1",
            name="one_assignee",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    # the resident the request is for; they follow it on "my requests".
    # None for a resident without an account, named in ``resident_name``.
    requester_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    resident_name: Mapped[str | None] = mapped_column(String(60))
    resident_phone: Mapped[str | None] = mapped_column(String(30))
    building: Mapped[str | None] = mapped_column(String(60))
    channel: Mapped[RequestChannel] = mapped_column(
        StrEnumType(RequestChannel, 20), default=RequestChannel.APP
    )
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
    # The order (派单): who it is dispatched to, by when, who claimed it.
    assignee_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    assignee_grid_id: Mapped[int | None] = mapped_column(ForeignKey("grid.id"), index=True)
    assignee_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    order_due_date: Mapped[date | None] = mapped_column(Date)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # when the secretary was last told the order is unclaimed or overdue
    flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Moments of its history the statistics count (kept by ``services.transition``
    # beside the events, so counting them reads no events): the first reply
    # (the first step out of ``submitted``), the first close, the last reopening.
    first_replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reopened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    community: Mapped[Community] = relationship()
    requester: Mapped[User | None] = relationship(foreign_keys=[requester_id])
    assignee_user: Mapped[User | None] = relationship(foreign_keys=[assignee_user_id])
    assignee_grid: Mapped[Grid | None] = relationship()
    assignee_unit: Mapped[Unit | None] = relationship()
    claimed_by: Mapped[User | None] = relationship(foreign_keys=[claimed_by_id])
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

    steps: Mapped[list[RequestStep]] = relationship(
        back_populates="request",
        cascade="all, delete-orphan",
        order_by=lambda: (RequestStep.at, RequestStep.id),
    )
    photos: Mapped[list[RequestPhoto]] = relationship(
        back_populates="request",
        cascade="all, delete-orphan",
        order_by=lambda: RequestPhoto.id,
    )
    ratings: Mapped[list[RequestRating]] = relationship(
        back_populates="request",
        cascade="all, delete-orphan",
        order_by=lambda: RequestRating.id,
    )

    @property
    def resident_display(self) -> str:
        """Whom the request is for, as the pages name them."""
        return self.requester.display_name if self.requester else (self.resident_name or "")

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


class RequestStep(db.Model):
    """A handling step (办理) recorded by the assignee who claimed the order."""

    __tablename__ = "request_step"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("resident_request.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    note: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    request: Mapped[ResidentRequest] = relationship(back_populates="steps")
    author: Mapped[User | None] = relationship()
    photos: Mapped[list[RequestPhoto]] = relationship(
        back_populates="step", order_by=lambda: RequestPhoto.id
    )


class RequestPhoto(db.Model):
    """A photo of the problem (from the resident or grid worker) or of a
    handling step; the bytes are a ``StoredFile``."""

    __tablename__ = "request_photo"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("resident_request.id", ondelete="CASCADE"), index=True
    )
    step_id: Mapped[int | None] = mapped_column(
        ForeignKey("request_step.id", ondelete="CASCADE"), index=True
    )
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_file.id"), index=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    request: Mapped[ResidentRequest] = relationship(back_populates="photos")
    step: Mapped[RequestStep | None] = relationship(back_populates="photos")
    file: Mapped[StoredFile] = relationship()
    uploaded_by: Mapped[User | None] = relationship()


class RequestRating(db.Model):
    """The resident's satisfaction (评价) with how the request was handled,
    1 to 5. One per handling: a reopened request is rated again once it is
    handled again."""

    __tablename__ = "request_rating"
    __table_args__ = (CheckConstraint("score >= 1 AND score <= 5", name="score_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("resident_request.id", ondelete="CASCADE"), index=True
    )
    # the resident, or the grid worker who took the rating by phone for a
    # resident without an account
    rated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    score: Mapped[int]
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    request: Mapped[ResidentRequest] = relationship(back_populates="ratings")
    rated_by: Mapped[User | None] = relationship()


class Visit(db.Model):
    """A grid worker's visit log entry (走访记录): whom they saw, what they
    heard, the follow-up; it may become a request."""

    __tablename__ = "visit"
    __table_args__ = (
        # a grid's visit log, newest first
        Index("ix_visit_grid_visited_at", "grid_id", "visited_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grid.id", ondelete="CASCADE"), index=True)
    visitor_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    # whom: "3栋 王阿姨" — a resident may have no account
    visited: Mapped[str] = mapped_column(String(120))
    notes: Mapped[str] = mapped_column(Text)
    follow_up: Mapped[str | None] = mapped_column(Text)
    visited_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("resident_request.id"))

    grid: Mapped[Grid] = relationship()
    visitor: Mapped[User] = relationship()
    request: Mapped[ResidentRequest | None] = relationship()


# The order's assignees (``Grid``, ``Unit``) are mapped there; loaded with
# this module so that a script using requests alone can configure its mappers.
from meetings.organisation import models as _organisation_models  # noqa: E402, F401
