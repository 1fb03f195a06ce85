"""Login sessions that end: a row per login on the server.

Design (issue 14). Each login adds a ``UserSession`` row that keeps the
SHA-256 of a random token. ``User.get_id()`` gives that token (Flask-Login's
"alternative tokens"), so the signed session cookie and the remember-me
cookie carry it instead of the user id, and ``init_login``'s user loader
finds the user through the row (``user_for``): a cookie whose row has ended
or gone idle loads nobody, wherever it was copied to.

- Logout ends that browser's row: a copy of its cookies dies with it, the
  user's other devices stay logged in.
- A password change, deactivation and "sign out everywhere" (the user's own
  or an administrator's) end all the user's rows, and revoke their API
  tokens. Reactivating an account opens no row: old cookies stay dead.
- The remember-me cookie carries a new token at every login and lives
  ``REMEMBER_COOKIE_DURATION`` from that login; it dies with its row.
- Idle timeout: a secretary's or administrator's row unused for
  ``STAFF_IDLE_MINUTES`` is dead, remember-me or not (they are not given a
  remember-me cookie at login; one set while they were a resident dies with
  the row after that idleness). A resident's row lives as long as the
  session cookie does (``PERMANENT_SESSION_LIFETIME`` since its last use),
  or when remembered ``REMEMBER_COOKIE_DURATION`` from the login.

Why rows and not a per-user token rotated at logout (the simpler scheme
Flask-Login's docs describe): logout on a phone would then end the session
on every other device, and the idle timeout would have to trust the time
kept in the cookie. Why not Flask-Session in Redis: Redis is optional here,
and the user loader reads the database anyway; the row comes in the same
query (one indexed join). The cost is one UPDATE a minute per active session
(``TOUCH_EVERY``), made by the request's own transaction.

These functions never commit (``meetings.unit_of_work`` does); they touch
neither the request nor the cookies (``auth.views`` calls Flask-Login).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, or_

from auth import permissions
from auth.models import User, UserSession
from meetings.dbtypes import utcnow
from meetings.extensions import db

# last_seen_at moves at most this often: the idle timeout is this precise.
TOUCH_EVERY = timedelta(minutes=1)


def now() -> datetime:
    """The clock of sessions (tests move it)."""
    return utcnow()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def is_staff(user: User) -> bool:
    """Secretaries and administrators: their sessions end when idle."""
    return permissions.manages_any_community(user)


def staff_idle() -> timedelta:
    return timedelta(minutes=current_app.config["STAFF_IDLE_MINUTES"])


def _seconds(setting: str) -> timedelta:
    value = current_app.config[setting]
    return value if isinstance(value, timedelta) else timedelta(seconds=value)


def open_session(user: User, remember: bool = False) -> str:
    """A new session for the user; returns its token (also set on the user
    for Flask-Login's ``login_user``). Ask ``may_remember`` first."""
    token = secrets.token_urlsafe(32)
    moment = now()
    _forget_dead_sessions(user, moment)
    db.session.add(
        UserSession(
            user_id=user.id,
            token_hash=_hash(token),
            remember=remember,
            created_at=moment,
            last_seen_at=moment,
        )
    )
    db.session.flush()
    user.session_token = token
    return token


def may_remember(user: User) -> bool:
    """Remember-me is for residents: staff sessions end when idle."""
    return not is_staff(user)


def _forget_dead_sessions(user: User, moment: datetime) -> None:
    """Delete the user's rows that can never load anyone again, so the table
    holds about one row per device."""
    oldest = moment - max(
        _seconds("REMEMBER_COOKIE_DURATION"), _seconds("PERMANENT_SESSION_LIFETIME")
    )
    db.session.execute(
        db.delete(UserSession).where(
            UserSession.user_id == user.id,
            or_(UserSession.ended_at.is_not(None), UserSession.last_seen_at < oldest),
        )
    )


def user_for(token: str) -> User | None:
    """The active user whose live session carries this token, or None; moves
    the session's last use forward."""
    row = db.session.execute(_LIVE_SESSION, {"token_hash": _hash(token)}).first()
    if row is None:
        return None
    session, user = row
    moment = now()
    if not _alive(session, user, moment):
        return None
    if moment - session.last_seen_at >= TOUCH_EVERY:
        session.last_seen_at = moment
    user.session_token = token
    return user


# Built once: every request with a session cookie runs it.
_LIVE_SESSION = (
    db.select(UserSession, User)
    .join(User, User.id == UserSession.user_id)
    .where(
        UserSession.token_hash == bindparam("token_hash"),
        UserSession.ended_at.is_(None),
        User.is_active.is_(True),
    )
)


def _alive(session: UserSession, user: User, moment: datetime) -> bool:
    idle = moment - session.last_seen_at
    if idle < staff_idle():
        return True
    if is_staff(user):
        return False
    if session.remember:
        return moment - session.created_at < _seconds("REMEMBER_COOKIE_DURATION")
    return idle < _seconds("PERMANENT_SESSION_LIFETIME")


def end_session(token: str | None) -> None:
    """Logout: the session with this token ends (a copied cookie with it)."""
    if token is None:
        return
    db.session.execute(
        db.update(UserSession)
        .where(UserSession.token_hash == _hash(token), UserSession.ended_at.is_(None))
        .values(ended_at=now())
    )


def end_all_sessions(user: User) -> None:
    """Every session of the user ends, on every device, remembered or not."""
    db.session.execute(
        db.update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=now())
    )
