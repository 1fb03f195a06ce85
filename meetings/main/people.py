"""Finding a community's members by what a secretary types: part of a name,
a username or a phone number — the search behind the person pickers (a
resident to raise a request for, a meeting's host and recorder), instead of
a drop-down of every member.

``find_members`` answers the picker's search as the secretary types (at most
``PICK_LIMIT`` people); ``match_member`` reads what was typed into the field
when the form is sent, with or without the picker's script: a username, a
phone number or a full name naming exactly one active member.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import Select, case, func, or_

from auth.models import Membership, User
from meetings.extensions import db

PICK_LIMIT = 20
QUERY_MAX = 60
# How many of several people matching a typed text are named in the message.
NAMED_MAX = 5


def clean_text(text: str | None) -> str:
    return " ".join((text or "").split())[:QUERY_MAX]


def _digits(column):
    """The column without the spaces and dashes people put in phone numbers."""
    return func.replace(func.replace(column, " ", ""), "-", "")


def _phone_text(text: str) -> str:
    return text.replace(" ", "").replace("-", "")


def like_pattern(text: str) -> str:
    """``%text%`` with the LIKE wildcards in the text taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _members(community_id: int):
    return (
        db.select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.community_id == community_id, User.is_active.is_(True))
    )


def members_matching(community_id: int, query: str | None, exclude=None) -> Select:
    """Active members of the community whose name, username or phone number
    contains the query (all of them, when it is empty), exact matches first,
    then by name. ``exclude``: user ids (a list, or a subquery) left out."""
    text = clean_text(query)
    statement = _members(community_id)
    if exclude is not None:
        statement = statement.where(User.id.not_in(exclude))
    order = [User.display_name, User.id]
    if text:
        lowered = text.lower()
        phone = _phone_text(text)
        pattern = like_pattern(lowered)
        conditions = [
            func.lower(User.display_name).like(pattern, escape="\\"),
            func.lower(User.username).like(pattern, escape="\\"),
        ]
        if phone:
            conditions.append(_digits(User.phone).like(like_pattern(phone), escape="\\"))
        statement = statement.where(or_(*conditions))
        exact = or_(
            func.lower(User.username) == lowered,
            User.display_name == text,
            _digits(User.phone) == phone,
        )
        order.insert(0, case((exact, 0), else_=1))
    return statement.order_by(*order)


def find_members(
    community_id: int, query: str | None, limit: int = PICK_LIMIT
) -> tuple[list[User], bool]:
    """``members_matching``: at most ``limit``, and whether there were more."""
    found = list(db.session.scalars(members_matching(community_id, query).limit(limit + 1)))
    return found[:limit], len(found) > limit


@dataclass
class Match:
    """What a typed text named: ``user`` when exactly one member, else the
    ``candidates`` (none, or several)."""

    text: str
    candidates: list[User]

    @property
    def user(self) -> User | None:
        return self.candidates[0] if len(self.candidates) == 1 else None

    def named(self) -> str:
        """The first few candidates, "王芳 (wangfang1), 王芳 (wangfang2)"."""
        return ", ".join(f"{u.display_name} ({u.username})" for u in self.candidates[:NAMED_MAX])


def match_member(community_id: int, text: str | None) -> Match:
    """The active member of the community named by a typed username, phone
    number or full name. A username is unique and wins; a phone number or a
    name may be shared (a family's phone, two 王芳), which ``Match`` tells."""
    text = clean_text(text)
    if not text:
        return Match(text, [])
    members = _members(community_id)
    by_username = db.session.scalar(members.where(func.lower(User.username) == text.lower()))
    if by_username is not None:
        return Match(text, [by_username])
    named = User.display_name == text
    phone = _phone_text(text)
    if phone:
        named = or_(named, _digits(User.phone) == phone)
    statement = members.where(named).order_by(User.display_name, User.id).limit(NAMED_MAX + 1)
    return Match(text, list(db.session.scalars(statement)))


def person_problem(match: Match, community_name: str) -> str:
    """What to tell the secretary when a typed text names nobody, or several."""
    if not match.candidates:
        return _(
            "Nobody in %(community)s has the username, phone number or name “%(text)s”.",
            community=community_name,
            text=match.text,
        )
    return _(
        "Several people in %(community)s match “%(text)s”: %(names)s. "
        "Please type the username of the one you mean.",
        community=community_name,
        text=match.text,
        names=match.named(),
    )


def phone_hint(phone: str | None) -> str | None:
    """A phone number shown in the picker with its middle hidden: 138****5678."""
    digits = _phone_text(phone or "")
    if len(digits) < 7:
        return None
    return f"{digits[:3]}****{digits[-4:]}"
