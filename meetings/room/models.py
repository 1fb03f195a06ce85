"""Screen links, the speakers' queue and proxies of a meeting."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from auth.models import User
from meetings.dbtypes import StrEnumType, UTCDateTime, enum_check, utcnow
from meetings.extensions import db
from meetings.meeting.models import AgendaItem, Meeting


class ScreenLink(db.Model):
    """A signed, revocable link that shows the meeting's big screen on the
    room's PC without a login. Only the SHA-256 of its token is kept."""

    __tablename__ = "screen_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meeting.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # where it is shown, as the secretary names it: "活动室电视"
    label: Mapped[str] = mapped_column(String(60), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    meeting: Mapped[Meeting] = relationship()
    created_by: Mapped[User | None] = relationship()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class SpeakerEntry(db.Model):
    """A place in the speakers' queue (发言): asked for from a phone or added
    by the secretary; started, then ended, by the secretary's "next"."""

    __tablename__ = "speaker_entry"
    __table_args__ = (
        # the queue of a meeting: who waits, who speaks
        Index("ix_speaker_entry_queue", "meeting_id", "ended_at", "requested_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    agenda_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("agenda_item.id", ondelete="SET NULL")
    )
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # when they finished, or withdrew before their turn
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn: Mapped[bool] = mapped_column(default=False)

    meeting: Mapped[Meeting] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    agenda_item: Mapped[AgendaItem | None] = relationship()


class ProxyStatus(enum.StrEnum):
    REQUESTED = "requested"  # named by the principal, waiting for the secretary
    CONFIRMED = "confirmed"  # the proxy may vote for the principal
    REVOKED = "revoked"  # by the principal (or refused by the secretary)

    @property
    def label(self):
        return PROXY_STATUS_LABELS[self]


PROXY_STATUS_LABELS = {
    ProxyStatus.REQUESTED: _l("Waiting for the secretary"),
    ProxyStatus.CONFIRMED: _l("Confirmed"),
    ProxyStatus.REVOKED: _l("Revoked"),
}


class Proxy(db.Model):
    """委托投票: an attendee with a vote (the principal) names another attendee
    to vote for them in the meeting's polls; the secretary confirms it. One
    standing proxy per principal and meeting."""

    __tablename__ = "proxy"
    __table_args__ = (
        enum_check("status", ProxyStatus),
        # at most one proxy of a principal that is not revoked, per meeting
        Index(
            "uq_proxy_standing",
            "meeting_id",
            "principal_id",
            unique=True,
            postgresql_where=text("status <> 'revoked'"),
            sqlite_where=text("status <> 'revoked'"),
        ),
        Index("ix_proxy_holder", "meeting_id", "proxy_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    principal_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    proxy_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    status: Mapped[ProxyStatus] = mapped_column(
        StrEnumType(ProxyStatus, 10), default=ProxyStatus.REQUESTED
    )
    # the written authorisation (委托书), a photo or scan, when there is one
    document_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    meeting: Mapped[Meeting] = relationship()
    principal: Mapped[User] = relationship(foreign_keys=[principal_id])
    proxy: Mapped[User] = relationship(foreign_keys=[proxy_id])
    confirmed_by: Mapped[User | None] = relationship(foreign_keys=[confirmed_by_id])
