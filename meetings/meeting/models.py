"""Meetings (协商议事会), their agenda items (议程) and attendances (参会)."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from auth.models import Community, User
from meetings.dbtypes import StrEnumType, UTCDateTime, enum_check, utcnow
from meetings.extensions import db
from meetings.requests.models import ResidentRequest

# --- enumerations ---------------------------------------------------------------------


class MeetingStatus(enum.StrEnum):
    DRAFT = "draft"  # being prepared; seen by the secretary only
    SCHEDULED = "scheduled"  # announced: invitees are told, residents can see it
    IN_PROGRESS = "in_progress"  # under way: check-in is open
    CLOSED = "closed"  # over; the minutes are due
    MINUTES_PUBLISHED = "minutes_published"  # reached by publishing the minutes
    CANCELLED = "cancelled"  # called off, with a reason sent to the invitees

    @property
    def label(self):
        return STATUS_LABELS[self]


STATUS_LABELS = {
    MeetingStatus.DRAFT: _l("Draft"),
    MeetingStatus.SCHEDULED: _l("Scheduled"),
    MeetingStatus.IN_PROGRESS: _l("In progress"),
    MeetingStatus.CLOSED: _l("Closed"),
    MeetingStatus.MINUTES_PUBLISHED: _l("Minutes published"),
    MeetingStatus.CANCELLED: _l("Cancelled"),
}

# The life of a meeting (DESIGN.md). ``minutes_published`` is reached by
# publishing the minutes, never through the transition endpoint.
TRANSITIONS: dict[MeetingStatus, frozenset[MeetingStatus]] = {
    MeetingStatus.DRAFT: frozenset({MeetingStatus.SCHEDULED, MeetingStatus.CANCELLED}),
    MeetingStatus.SCHEDULED: frozenset({MeetingStatus.IN_PROGRESS, MeetingStatus.CANCELLED}),
    MeetingStatus.IN_PROGRESS: frozenset({MeetingStatus.CLOSED}),
    MeetingStatus.CLOSED: frozenset({MeetingStatus.MINUTES_PUBLISHED}),
    MeetingStatus.MINUTES_PUBLISHED: frozenset(),
    MeetingStatus.CANCELLED: frozenset(),
}

# States in which the public (residents, anonymous visitors) may see a meeting.
PUBLIC_STATUSES = frozenset(
    {
        MeetingStatus.SCHEDULED,
        MeetingStatus.IN_PROGRESS,
        MeetingStatus.CLOSED,
        MeetingStatus.MINUTES_PUBLISHED,
    }
)
# States in which the agenda and the topics may still change.
PLANNING_STATUSES = frozenset({MeetingStatus.DRAFT, MeetingStatus.SCHEDULED})


class AttendeeRole(enum.StrEnum):
    """参会身份: a label on an attendance, not an account type."""

    CPPCC_MEMBER = "cppcc_member"  # 政协委员
    NPC_DEPUTY = "npc_deputy"  # 人大代表
    STREET_OFFICIAL = "street_official"  # 街道代表
    COMMUNITY_COMMITTEE = "community_committee"  # 社区两委委员
    PARTY_MEMBER_REP = "party_member_rep"  # 党员代表
    INSERVICE_PARTY_MEMBER = "inservice_party_member"  # 在职党员代表
    RESIDENT_REP = "resident_rep"  # 居民代表
    OWNERS_COMMITTEE_REP = "owners_committee_rep"  # 业委会代表
    PROPERTY_REP = "property_rep"  # 物业代表
    GRID_LEADER = "grid_leader"  # 网格长
    EXPERT = "expert"  # 专家
    OBSERVER = "observer"  # 列席

    @property
    def label(self):
        return ROLE_LABELS[self]

    @property
    def chinese(self) -> str:
        """The Chinese term, e.g. for the printed sign-in sheet (签到表)."""
        return ROLE_CHINESE[self]

    @property
    def votes_by_default(self) -> bool:
        return self is not AttendeeRole.OBSERVER


ROLE_LABELS = {
    AttendeeRole.CPPCC_MEMBER: _l("CPPCC member"),
    AttendeeRole.NPC_DEPUTY: _l("NPC deputy"),
    AttendeeRole.STREET_OFFICIAL: _l("Street office official"),
    AttendeeRole.COMMUNITY_COMMITTEE: _l("Community committee member"),
    AttendeeRole.PARTY_MEMBER_REP: _l("Party-member representative"),
    AttendeeRole.INSERVICE_PARTY_MEMBER: _l("In-service party member"),
    AttendeeRole.RESIDENT_REP: _l("Resident representative"),
    AttendeeRole.OWNERS_COMMITTEE_REP: _l("Owners'-committee representative"),
    AttendeeRole.PROPERTY_REP: _l("Property-management representative"),
    AttendeeRole.GRID_LEADER: _l("Grid leader"),
    AttendeeRole.EXPERT: _l("Expert"),
    AttendeeRole.OBSERVER: _l("Observer"),
}

ROLE_CHINESE = {
    AttendeeRole.CPPCC_MEMBER: "政协委员",
    AttendeeRole.NPC_DEPUTY: "人大代表",
    AttendeeRole.STREET_OFFICIAL: "街道代表",
    AttendeeRole.COMMUNITY_COMMITTEE: "社区两委委员",
    AttendeeRole.PARTY_MEMBER_REP: "党员代表",
    AttendeeRole.INSERVICE_PARTY_MEMBER: "在职党员代表",
    AttendeeRole.RESIDENT_REP: "居民代表",
    AttendeeRole.OWNERS_COMMITTEE_REP: "业委会代表",
    AttendeeRole.PROPERTY_REP: "物业代表",
    AttendeeRole.GRID_LEADER: "网格长",
    AttendeeRole.EXPERT: "专家",
    AttendeeRole.OBSERVER: "列席",
}


class Rsvp(enum.StrEnum):
    INVITED = "invited"  # no answer yet
    ACCEPTED = "accepted"
    DECLINED = "declined"

    @property
    def label(self):
        return RSVP_LABELS[self]


RSVP_LABELS = {
    Rsvp.INVITED: _l("No answer yet"),
    Rsvp.ACCEPTED: _l("Coming"),
    Rsvp.DECLINED: _l("Not coming"),
}


class Presence(enum.StrEnum):
    PRESENT = "present"
    ABSENT = "absent"
    EXCUSED = "excused"  # 请假

    @property
    def label(self):
        return PRESENCE_LABELS[self]


PRESENCE_LABELS = {
    Presence.PRESENT: _l("Present"),
    Presence.ABSENT: _l("Absent"),
    Presence.EXCUSED: _l("Excused"),
}


# --- tables ---------------------------------------------------------------------------

# The requests (居民诉求) a meeting deliberates: its topics.
meeting_topic = Table(
    "meeting_topic",
    db.metadata,
    Column("meeting_id", ForeignKey("meeting.id", ondelete="CASCADE"), primary_key=True),
    Column("request_id", ForeignKey("resident_request.id", ondelete="CASCADE"), primary_key=True),
    # a request's meetings (the requests API, a request's page)
    Index("ix_meeting_topic_request_id", "request_id"),
)

# The requests an agenda item deals with (always among the meeting's topics).
agenda_item_request = Table(
    "agenda_item_request",
    db.metadata,
    Column("agenda_item_id", ForeignKey("agenda_item.id", ondelete="CASCADE"), primary_key=True),
    Column("request_id", ForeignKey("resident_request.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_agenda_item_request_request_id", "request_id"),
)


class Meeting(db.Model):
    """A consultation meeting of one community."""

    __tablename__ = "meeting"
    __table_args__ = (
        enum_check("status", MeetingStatus),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_meeting_community_starts", "community_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # the place (e.g. 182幢一层活动室) and/or a link for those who join online
    location: Mapped[str] = mapped_column(String(200), default="")
    online_url: Mapped[str | None] = mapped_column(String(500))
    host_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))  # 主持人
    recorder_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))  # 记录人
    status: Mapped[MeetingStatus] = mapped_column(
        StrEnumType(MeetingStatus, 20), default=MeetingStatus.DRAFT
    )
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    # iCalendar SEQUENCE: goes up whenever the time or place changes
    sequence: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # when it first became scheduled (public), started, closed, was cancelled
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The room (issue 16): proxies allowed (委托投票, off by default), how many
    # principals one proxy may hold, the speaking limit shown on the screen.
    allow_proxies: Mapped[bool] = mapped_column(default=False)
    max_proxies_per_person: Mapped[int] = mapped_column(default=1)
    speaking_limit_seconds: Mapped[int] = mapped_column(default=180)
    # the agenda item under way, as the big screen shows it, and since when
    current_agenda_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("agenda_item.id", ondelete="SET NULL", use_alter=True)
    )
    current_item_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    community: Mapped[Community] = relationship()
    host: Mapped[User | None] = relationship(foreign_keys=[host_id])
    recorder: Mapped[User | None] = relationship(foreign_keys=[recorder_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    topics: Mapped[list[ResidentRequest]] = relationship(
        secondary=meeting_topic, order_by=lambda: ResidentRequest.id
    )
    current_agenda_item: Mapped[AgendaItem | None] = relationship(
        foreign_keys=[current_agenda_item_id], post_update=True
    )
    agenda_items: Mapped[list[AgendaItem]] = relationship(
        back_populates="meeting",
        foreign_keys="AgendaItem.meeting_id",
        cascade="all, delete-orphan",
        order_by=lambda: AgendaItem.position,
    )
    attendances: Mapped[list[Attendance]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan", order_by=lambda: Attendance.id
    )

    @property
    def is_public(self) -> bool:
        """Residents and visitors may see it: it has been announced."""
        return self.status in PUBLIC_STATUSES or (
            self.status == MeetingStatus.CANCELLED and self.scheduled_at is not None
        )

    @property
    def agenda_open(self) -> bool:
        return self.status in PLANNING_STATUSES

    @property
    def total_planned_minutes(self) -> int:
        return sum(item.planned_minutes or 0 for item in self.agenda_items)

    @property
    def request_ids(self) -> list[int]:
        return [request.id for request in self.topics]

    @property
    def next_statuses(self) -> list[MeetingStatus]:
        """Where the transition endpoint can take it from here."""
        return [
            status
            for status in MeetingStatus
            if status in TRANSITIONS[self.status] and status != MeetingStatus.MINUTES_PUBLISHED
        ]

    def attendance_of(self, user: User | None) -> Attendance | None:
        if user is None or not getattr(user, "is_authenticated", False):
            return None
        return next((a for a in self.attendances if a.user_id == user.id), None)

    def __repr__(self) -> str:
        return f"<Meeting {self.id} {self.status} {self.title}>"


class AgendaItem(db.Model):
    """One item of a meeting's agenda, in order."""

    __tablename__ = "agenda_item"
    __table_args__ = (
        UniqueConstraint("meeting_id", "position"),
        CheckConstraint("position > 0", name="position_positive"),
        CheckConstraint(
            "planned_minutes IS NULL OR (planned_minutes > 0 AND planned_minutes <= 1440)",
            name="planned_minutes_range",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    position: Mapped[int]  # 1, 2, 3… within the meeting
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    planned_minutes: Mapped[int | None]

    meeting: Mapped[Meeting] = relationship(
        back_populates="agenda_items", foreign_keys=[meeting_id]
    )
    requests: Mapped[list[ResidentRequest]] = relationship(
        secondary=agenda_item_request, order_by=lambda: ResidentRequest.id
    )

    @property
    def request_ids(self) -> list[int]:
        return [request.id for request in self.requests]

    def __repr__(self) -> str:
        return f"<AgendaItem {self.id} #{self.position} {self.title}>"


class Attendance(db.Model):
    """A person invited to a meeting, with their role, RSVP and check-in."""

    __tablename__ = "attendance"
    __table_args__ = (
        UniqueConstraint("meeting_id", "user_id"),
        enum_check("role", AttendeeRole),
        enum_check("rsvp", Rsvp),
        enum_check("presence", Presence),
        Index("ix_attendance_user_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    role: Mapped[AttendeeRole] = mapped_column(StrEnumType(AttendeeRole, 30))
    may_vote: Mapped[bool] = mapped_column(default=True)
    rsvp: Mapped[Rsvp] = mapped_column(StrEnumType(Rsvp, 10), default=Rsvp.INVITED)
    rsvp_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # None until the secretary marks it or the attendee checks in
    presence: Mapped[Presence | None] = mapped_column(StrEnumType(Presence, 10))
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # the attendee themself (QR code) or the secretary who marked them
    checked_in_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # when the invitation was sent: invitations to a draft go out when it is scheduled
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    meeting: Mapped[Meeting] = relationship(back_populates="attendances")
    user: Mapped[User] = relationship(foreign_keys=[user_id])

    @property
    def checked_in_self(self) -> bool:
        return self.checked_in_at is not None and self.checked_in_by_id == self.user_id

    def __repr__(self) -> str:
        return f"<Attendance meeting={self.meeting_id} user={self.user_id} {self.role}>"
