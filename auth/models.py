"""Accounts, communities (社区) and who belongs to which."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from meetings.dbtypes import UTCDateTime, utcnow
from meetings.extensions import db

if TYPE_CHECKING:
    from meetings.organisation.models import Street


class Community(db.Model):
    """A 社区 under a street office (街道)."""

    __tablename__ = "community"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    # the street's name as typed; ``street_id`` names the record once there is one
    street: Mapped[str] = mapped_column(String(100))
    district: Mapped[str] = mapped_column(String(100), default="")
    street_id: Mapped[int | None] = mapped_column(ForeignKey("street.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # Named by string: the organisation's models build on this module.
    street_record: Mapped[Street | None] = relationship(back_populates="communities")
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="community", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Community {self.id} {self.name}>"


class User(UserMixin, db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[str] = mapped_column(String(60))
    phone: Mapped[str | None] = mapped_column(String(30))
    # Optional: notifications are also e-mailed when it is set.
    email: Mapped[str | None] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(default=True)
    is_admin: Mapped[bool] = mapped_column(default=False)
    locale: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    # The token of the login session this object was loaded for (see
    # ``auth.sessions``): not a column, set by ``open_session`` and ``user_for``.
    session_token = None

    def get_id(self) -> str:
        """Flask-Login's alternative token: the session's, never the user id,
        so that the cookies die with the session (``auth.sessions``)."""
        if self.session_token is None:
            raise RuntimeError("no login session: call auth.sessions.open_session first")
        return self.session_token

    # Flask-Login's mixin compares users by ``get_id()``; one person is one user.
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, User):
            return NotImplemented
        return self is other or (self.id is not None and self.id == other.id)

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = object.__hash__

    def set_password(self, password: str) -> None:
        # scrypt in production; tests may configure a cheaper method for speed.
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def membership_in(self, community_id: int) -> Membership | None:
        return next((m for m in self.memberships if m.community_id == community_id), None)

    @property
    def secretary_of(self) -> list[Community]:
        return [m.community for m in self.memberships if m.is_secretary]

    def __repr__(self) -> str:
        return f"<User {self.id} {self.username}>"


class Membership(db.Model):
    """A user belongs to a community, as a resident or as its secretary; a
    person may belong to several. ``standing_role`` is their usual part in
    that community's meetings (an attendee role code: ``cppcc_member``,
    ``street_official``, ``property_rep``, ``grid_leader`` …; None for a
    resident): invitations pre-fill it."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("user_id", "community_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    # a community's members and secretaries (the unique key leads with the user)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("community.id", ondelete="CASCADE"), index=True
    )
    is_secretary: Mapped[bool] = mapped_column(default=False)
    standing_role: Mapped[str | None] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="memberships")
    community: Mapped[Community] = relationship(back_populates="memberships")


class ApiToken(db.Model):
    """A bearer token for the JSON API. Only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class UserSession(db.Model):
    """One login: the browser's cookies carry a token whose SHA-256 is kept
    here. It ends at logout, and all of a user's end at a password change,
    deactivation or "sign out everywhere" (``auth.sessions``)."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # "Stay logged in on this device" was ticked: a remember-me cookie carries the token.
    remember: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Moved forward at most once a minute, see ``auth.sessions.TOUCH_EVERY``.
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
