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

from auth.models import Community, Membership, User
from meetings.extensions import db
from meetings.organisation import roles

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
    return people_matching(_members(community_id), query, exclude)


def _among(user_ids) -> Select:
    """Active accounts among these ids (a subquery), or all active accounts."""
    statement = db.select(User).where(User.is_active.is_(True))
    if user_ids is not None:
        statement = statement.where(User.id.in_(user_ids))
    return statement


def invitable_matching(community: Community, query: str | None, exclude=None) -> Select:
    """``members_matching`` over those who may be invited to the community's
    meetings: its members, its street office's staff, the members of the
    units serving it (``roles.invitable_user_ids``)."""
    return people_matching(_among(roles.invitable_user_ids(community)), query, exclude)


def people_matching(statement: Select, query: str | None, exclude=None) -> Select:
    """The people of ``statement`` (a select of users) whose name, username
    or phone contains the query, exact matches first, then by name."""
    text = clean_text(query)
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
    return _at_most(members_matching(community_id, query), limit)


def find_invitable(
    community: Community, query: str | None, exclude=None, limit: int = PICK_LIMIT
) -> tuple[list[User], bool]:
    """``invitable_matching``: at most ``limit``, and whether there were more."""
    return _at_most(invitable_matching(community, query, exclude), limit)


# Fewer characters find too many strangers: an account search needs this many.
ACCOUNT_QUERY_MIN = 2


def find_accounts(query: str | None, limit: int = PICK_LIMIT) -> tuple[list[User], bool]:
    """Any active account whose name, username or phone contains the query
    (at least ``ACCOUNT_QUERY_MIN`` characters): the picker of a person of
    another community, a unit or the street office."""
    if len(clean_text(query)) < ACCOUNT_QUERY_MIN:
        return [], False
    return _at_most(people_matching(_among(None), query), limit)


def _at_most(statement: Select, limit: int) -> tuple[list[User], bool]:
    found = list(db.session.scalars(statement.limit(limit + 1)))
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
    return _match(_members(community_id), text)


def match_account(text: str | None) -> Match:
    """``match_member`` over every active account."""
    return _match(_among(None), text)


def _match(members: Select, text: str | None) -> Match:
    text = clean_text(text)
    if not text:
        return Match(text, [])
    by_username = db.session.scalar(members.where(func.lower(User.username) == text.lower()))
    if by_username is not None:
        return Match(text, [by_username])
    named = User.display_name == text
    phone = _phone_text(text)
    if phone:
        named = or_(named, _digits(User.phone) == phone)
    statement = members.where(named).order_by(User.display_name, User.id).limit(NAMED_MAX + 1)
    return Match(text, list(db.session.scalars(statement)))


def person_problem(match: Match, community_name: str | None = None) -> str:
    """What to tell the secretary when a typed text names nobody, or several
    (in the community, or among all accounts without one)."""
    if community_name is None:
        if not match.candidates:
            return _("Nobody has the username, phone number or name “%(text)s”.", text=match.text)
        return _(
            "Several people match “%(text)s”: %(names)s. "
            "Please type the username of the one you mean.",
            text=match.text,
            names=match.named(),
        )
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


def picker_item(user: User, **more) -> dict:
    """A person as the pickers' JSON gives them (``static/js/picker.js``)."""
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "phone_hint": phone_hint(user.phone),
    } | more


def phone_hint(phone: str | None) -> str | None:
    """A phone number shown in the picker with its middle hidden: 138****5678."""
    digits = _phone_text(phone or "")
    if len(digits) < 7:
        return None
    return f"{digits[:3]}****{digits[-4:]}"
