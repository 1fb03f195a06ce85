"""Resolutions, projects, their progress updates and residents' ratings."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    LargeBinary,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from auth.models import Community, User
from meetings.dbtypes import StrEnumType, UTCDateTime, enum_check, utcnow
from meetings.extensions import db
from meetings.meeting.models import AgendaItem, Meeting
from meetings.organisation.models import Unit
from meetings.polls.models import Poll
from meetings.requests.models import ResidentRequest


class Decision(enum.StrEnum):
    """What a resolution records. Following a poll, it is the poll's stored
    outcome and nothing else (``adopted`` for a decided choice)."""

    ADOPTED = "adopted"
    REJECTED = "rejected"

    @property
    def label(self):
        return DECISION_LABELS[self]


DECISION_LABELS = {
    Decision.ADOPTED: _l("Agreed"),
    Decision.REJECTED: _l("Not agreed"),
}


class ResolutionStatus(enum.StrEnum):
    """Where a resolution stands with respect to 公示 (public notice).

    ``recorded``: as the meeting recorded it, never put on notice (it took
    effect then). ``in_notice``: published for a notice period during which
    the community's residents may object once each. ``effective`` /
    ``withdrawn``: the period is over and every objection was answered; an
    objection the secretary upheld withdraws it."""

    RECORDED = "recorded"
    IN_NOTICE = "in_notice"
    EFFECTIVE = "effective"
    WITHDRAWN = "withdrawn"

    @property
    def label(self):
        return RESOLUTION_STATUS_LABELS[self]


RESOLUTION_STATUS_LABELS = {
    ResolutionStatus.RECORDED: _l("Recorded"),
    ResolutionStatus.IN_NOTICE: _l("In public notice"),
    ResolutionStatus.EFFECTIVE: _l("In effect"),
    ResolutionStatus.WITHDRAWN: _l("Withdrawn"),
}


class ProjectStatus(enum.StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    SUSPENDED = "suspended"  # with a reason

    @property
    def label(self):
        return PROJECT_STATUS_LABELS[self]


PROJECT_STATUS_LABELS = {
    ProjectStatus.PLANNED: _l("Planned"),
    ProjectStatus.IN_PROGRESS: _l("In progress"),
    ProjectStatus.COMPLETED: _l("Completed"),
    ProjectStatus.SUSPENDED: _l("Suspended"),
}

PROJECT_TRANSITIONS: dict[ProjectStatus, frozenset[ProjectStatus]] = {
    ProjectStatus.PLANNED: frozenset({ProjectStatus.IN_PROGRESS, ProjectStatus.SUSPENDED}),
    ProjectStatus.IN_PROGRESS: frozenset({ProjectStatus.COMPLETED, ProjectStatus.SUSPENDED}),
    ProjectStatus.SUSPENDED: frozenset({ProjectStatus.PLANNED, ProjectStatus.IN_PROGRESS}),
    ProjectStatus.COMPLETED: frozenset(),
}

# The requests (居民诉求) a project answers.
project_request = Table(
    "project_request",
    db.metadata,
    Column("project_id", ForeignKey("project.id", ondelete="CASCADE"), primary_key=True),
    # a request's projects (the primary key leads with the project)
    Column(
        "request_id",
        ForeignKey("resident_request.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)


class Project(db.Model):
    """A 实事项目, e.g. 活动室改造出新 or 智慧音箱安装项目."""

    __tablename__ = "project"
    __table_args__ = (
        enum_check("status", ProjectStatus),
        CheckConstraint(
            "progress_percent >= 0 AND progress_percent <= 100", name="progress_percent_range"
        ),
        CheckConstraint("budget IS NULL OR budget >= 0", name="budget_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # 物业 / 街道 / 社区 / a department: free text, with those as suggestions
    responsible_unit: Mapped[str] = mapped_column(String(100))
    # who answers for it, when it is a unit or a person with an account: they
    # see it under "my tasks" and post its progress
    responsible_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    responsible_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id"), index=True
    )
    # yuan; money is never a float
    budget: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    due_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[ProjectStatus] = mapped_column(
        StrEnumType(ProjectStatus, 12), default=ProjectStatus.PLANNED
    )
    suspended_reason: Mapped[str | None] = mapped_column(Text)
    progress_percent: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    community: Mapped[Community] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    responsible_unit_record: Mapped[Unit | None] = relationship()
    responsible_user: Mapped[User | None] = relationship(foreign_keys=[responsible_user_id])
    resolutions: Mapped[list[Resolution]] = relationship(
        back_populates="project", order_by=lambda: Resolution.id
    )
    requests: Mapped[list[ResidentRequest]] = relationship(
        secondary=project_request, order_by=lambda: ResidentRequest.id
    )
    updates: Mapped[list[ProjectUpdate]] = relationship(
        back_populates="project",
        order_by=lambda: ProjectUpdate.id.desc(),
        cascade="all, delete-orphan",
    )
    ratings: Mapped[list[ProjectRating]] = relationship(
        back_populates="project", cascade="all, delete-orphan"
    )

    @property
    def is_completed(self) -> bool:
        return self.status == ProjectStatus.COMPLETED

    @property
    def next_statuses(self) -> list[ProjectStatus]:
        """Where a progress update can take it from here, in the enumeration's order."""
        return [status for status in ProjectStatus if status in PROJECT_TRANSITIONS[self.status]]

    @property
    def conditions(self) -> list[str]:
        """The conditions its agreed resolutions carry into it (e.g. 先实地勘查)."""
        return [
            resolution.conditions
            for resolution in self.resolutions
            if resolution.conditions and resolution.decision == Decision.ADOPTED
        ]

    def __repr__(self) -> str:
        return f"<Project {self.id} {self.status} {self.title}>"


class Resolution(db.Model):
    """决议 / 协商成果: what a meeting decided on an agenda item."""

    __tablename__ = "resolution"
    __table_args__ = (enum_check("decision", Decision), enum_check("status", ResolutionStatus))

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meeting.id", ondelete="CASCADE"), index=True
    )
    agenda_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("agenda_item.id", ondelete="SET NULL")
    )
    # the poll whose stored outcome it follows, if any
    poll_id: Mapped[int | None] = mapped_column(ForeignKey("poll.id"))
    decision: Mapped[Decision] = mapped_column(StrEnumType(Decision, 10), default=Decision.ADOPTED)
    text: Mapped[str] = mapped_column(Text)
    # e.g. 先实地调研；音量由专人控制；播放时间8:00–20:00
    conditions: Mapped[str] = mapped_column(Text, default="")
    project_id: Mapped[int | None] = mapped_column(ForeignKey("project.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # 公示: see ResolutionStatus
    status: Mapped[ResolutionStatus] = mapped_column(
        StrEnumType(ResolutionStatus, 10), default=ResolutionStatus.RECORDED
    )
    notice_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notice_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # when it became effective or was withdrawn after its notice
    notice_settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    meeting: Mapped[Meeting] = relationship()
    agenda_item: Mapped[AgendaItem | None] = relationship()
    poll: Mapped[Poll | None] = relationship()
    project: Mapped[Project | None] = relationship(back_populates="resolutions")
    created_by: Mapped[User | None] = relationship()
    condition_tasks: Mapped[list[ResolutionCondition]] = relationship(
        back_populates="resolution",
        cascade="all, delete-orphan",
        order_by=lambda: ResolutionCondition.id,
    )
    objections: Mapped[list[ResolutionObjection]] = relationship(
        back_populates="resolution",
        cascade="all, delete-orphan",
        order_by=lambda: ResolutionObjection.id,
    )


class ResolutionObjection(db.Model):
    """A resident's objection (异议) to a resolution in public notice: once
    each, with a reason; the secretary records how it was handled. An upheld
    objection withdraws the resolution when the notice is settled."""

    __tablename__ = "resolution_objection"
    __table_args__ = (UniqueConstraint("resolution_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resolution_id: Mapped[int] = mapped_column(
        ForeignKey("resolution.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answer: Mapped[str | None] = mapped_column(Text)
    upheld: Mapped[bool] = mapped_column(default=False)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    resolution: Mapped[Resolution] = relationship(back_populates="objections")
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    answered_by: Mapped[User | None] = relationship(foreign_keys=[answered_by_id])

    @property
    def is_answered(self) -> bool:
        return self.answered_at is not None


class ResolutionCondition(db.Model):
    """A condition of a resolution as a task: the named volume keeper, the
    playing hours — with a person or unit answering for it and a due date."""

    __tablename__ = "resolution_condition"
    __table_args__ = (
        CheckConstraint(
            "(assignee_user_id IS NULL) <> (assignee_unit_id IS NULL)", name="one_assignee"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resolution_id: Mapped[int] = mapped_column(
        ForeignKey("resolution.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    assignee_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    assignee_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    due_date: Mapped[date] = mapped_column(Date)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    done_note: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    resolution: Mapped[Resolution] = relationship(back_populates="condition_tasks")
    assignee_user: Mapped[User | None] = relationship(foreign_keys=[assignee_user_id])
    assignee_unit: Mapped[Unit | None] = relationship()
    done_by: Mapped[User | None] = relationship(foreign_keys=[done_by_id])

    @property
    def is_done(self) -> bool:
        return self.done_at is not None


class ProjectUpdate(db.Model):
    """A progress report: date, percent, note and an optional photo."""

    __tablename__ = "project_update"
    __table_args__ = (
        CheckConstraint("percent >= 0 AND percent <= 100", name="percent_range"),
        enum_check("status", ProjectStatus),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), index=True
    )
    on_date: Mapped[date] = mapped_column(Date)
    percent: Mapped[int]
    note: Mapped[str] = mapped_column(Text, default="")
    # the status the project moved to with this update, if it changed
    status: Mapped[ProjectStatus | None] = mapped_column(StrEnumType(ProjectStatus, 12))
    # the photo, as checked and cleaned by meetings.projects.uploads
    photo_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    project: Mapped[Project] = relationship(back_populates="updates")
    author: Mapped[User | None] = relationship()
    photo: Mapped[StoredFile | None] = relationship()


class StoredFile(db.Model):
    """An uploaded file's bytes (a progress update's photo), kept in the
    database: every app host serves it, the request's transaction keeps or
    drops it with the row that names it, and backups carry it. A stored file
    never changes. ``data`` is loaded only when read."""

    __tablename__ = "stored_file"
    __table_args__ = (CheckConstraint("size >= 0", name="size_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int]
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProjectRating(db.Model):
    """A resident's satisfaction with a completed project: once, 1 to 5."""

    __tablename__ = "project_rating"
    __table_args__ = (
        UniqueConstraint("project_id", "user_id"),
        CheckConstraint("score >= 1 AND score <= 5", name="score_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    score: Mapped[int]
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    project: Mapped[Project] = relationship(back_populates="ratings")
    user: Mapped[User] = relationship()
