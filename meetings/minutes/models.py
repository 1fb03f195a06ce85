"""Versions of a meeting's minutes and the attendees' confirmations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship

from auth.models import User
from meetings.dbtypes import UTCDateTime, utcnow
from meetings.extensions import db
from meetings.meeting.models import Meeting


class MinutesVersion(db.Model):
    """One saved text of the minutes. Versions are never edited: each save is a
    new one. A published version is frozen; a correction is a later published
    version, and the earlier one stays readable as superseded."""

    __tablename__ = "minutes_version"
    __table_args__ = (UniqueConstraint("meeting_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    number: Mapped[int]  # 1, 2, 3… within the meeting
    body_markdown: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # set when this version was sent to the attendees to confirm (纪要确认)
    circulated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    # When the meeting's minutes were first published: not a column, filled
    # in by the public lists' query (``meetings.minutes.public``).
    first_published_at: Mapped[datetime | None] = query_expression()

    meeting: Mapped[Meeting] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    published_by: Mapped[User | None] = relationship(foreign_keys=[published_by_id])
    confirmations: Mapped[list[MinutesConfirmation]] = relationship(
        back_populates="version", cascade="all, delete-orphan"
    )


class MinutesConfirmation(db.Model):
    """An attendee's answer to a circulated draft: confirmed, or a comment."""

    __tablename__ = "minutes_confirmation"
    __table_args__ = (UniqueConstraint("version_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("minutes_version.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    comment: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    version: Mapped[MinutesVersion] = relationship(back_populates="confirmations")
    user: Mapped[User] = relationship()
