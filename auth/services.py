"""Verbs over accounts and communities. They check permissions, flush and
audit; the caller commits."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import bindparam, func

from auth import limits, permissions, sessions
from auth.models import ApiToken, Community, Membership, User
from meetings.audit.services import record
from meetings.dbtypes import utcnow
from meetings.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from meetings.extensions import db
from meetings.organisation.models import Street

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{3,40}$")
# Deliberately simple: an ASCII address any mail server takes (internationalised
# addresses would need SMTPUTF8); the real check is the mail that arrives.
EMAIL_PATTERN = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
EMAIL_MAX_LENGTH = 254
MIN_PASSWORD_LENGTH = 8
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common-passwords.txt")


# --- lookups -----------------------------------------------------------------


def get_user_by_username(username: str) -> User | None:
    return db.session.scalar(
        db.select(User).where(func.lower(User.username) == username.strip().lower())
    )


def get_community(community_id: int) -> Community:
    community = db.session.get(Community, community_id)
    if community is None:
        raise NotFound(_("No such community."))
    return community


def list_communities() -> list[Community]:
    return list(db.session.scalars(db.select(Community).order_by(Community.street, Community.name)))


def managed_communities(user: User) -> list[Community]:
    """Communities whose business this user may run: all for an admin."""
    if permissions.is_admin(user):
        return list_communities()
    return sorted(user.secretary_of, key=lambda c: c.name)


def members_of(community: Community, page: int | None = None, per_page: int = 50):
    """The community's members, secretaries first: all of them, or one page
    (a Flask-SQLAlchemy pagination) when ``page`` is given."""
    statement = (
        db.select(Membership)
        .where(Membership.community_id == community.id)
        .join(Membership.user)
        .order_by(Membership.is_secretary.desc(), User.display_name, User.id)
        .options(db.contains_eager(Membership.user))
    )
    if page is None:
        return list(db.session.scalars(statement))
    return db.paginate(statement, page=page, per_page=per_page, error_out=False)


@dataclass(frozen=True)
class CommunityRow:
    community: Community
    members: int
    secretaries: list[str]


def community_overview() -> list[CommunityRow]:
    """Every community with its number of members and its secretaries'
    names, in a fixed number of queries however many people there are."""
    communities = list_communities()
    counts = dict(
        db.session.execute(
            db.select(Membership.community_id, func.count()).group_by(Membership.community_id)
        ).all()
    )
    secretaries: dict[int, list[str]] = {}
    for community_id, name in db.session.execute(
        db.select(Membership.community_id, User.display_name)
        .join(Membership.user)
        .where(Membership.is_secretary.is_(True))
        .order_by(User.display_name)
    ):
        secretaries.setdefault(community_id, []).append(name)
    return [
        CommunityRow(community, counts.get(community.id, 0), secretaries.get(community.id, []))
        for community in communities
    ]


def find_users(query: str = "", page: int = 1, per_page: int = 50):
    """Accounts by username, one page (a Flask-SQLAlchemy pagination); with
    ``query``, those whose username, name or phone contains it."""
    statement = db.select(User).order_by(User.username)
    query = query.strip()
    if query:
        pattern = f"%{query}%"
        statement = statement.where(
            User.username.ilike(pattern)
            | User.display_name.ilike(pattern)
            | User.phone.ilike(pattern)
        )
    statement = statement.options(
        db.selectinload(User.memberships).joinedload(Membership.community)
    )
    return db.paginate(statement, page=page, per_page=per_page, error_out=False)


# --- validation ----------------------------------------------------------------


def username_problems(username: str) -> list[str]:
    """Format problems only; whether it is taken is a conflict, see ``_create_user``."""
    if not USERNAME_PATTERN.match(username.strip()):
        return [_("3 to 40 letters, digits, dots, dashes or underscores.")]
    return []


@cache
def common_passwords() -> frozenset[str]:
    """The bundled list of the most common passwords (its source is in the file)."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def password_problems(password: str, username: str | None = None) -> list[str]:
    """Why a new password will not do: for sign-up, a password change, an
    account an administrator or secretary creates, and the CLI."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return [_("At least %(n)d characters.", n=MIN_PASSWORD_LENGTH)]
    if password.strip().lower() in common_passwords():
        return [_("This password is one of the most common ones. Please choose another.")]
    name = (username or "").strip().lower()
    if len(name) >= 3 and name in password.lower():
        return [_("The password must not contain the username.")]
    return []


# --- accounts ------------------------------------------------------------------


def attempt_login(username: str, password: str, address: str) -> User | None:
    """A login by form or API from a client ``address``: the active user
    with these credentials, or None. Raises ``limits.TooManyAttempts`` when
    the account or the address has used up its failed attempts; a failure
    is counted, a success is not (``auth.limits``)."""
    limits.check_login(username, address)
    user = authenticate(username, password)
    if user is None:
        limits.count_login_failure(username, address)
    return user


def authenticate(username: str, password: str) -> User | None:
    """The active user with these credentials, or None."""
    user = get_user_by_username(username)
    if user is None:
        # Spend the same time as a real check so usernames can't be probed by timing.
        User(password_hash="").set_password(password)
        return None
    if not user.check_password(password) or not user.is_active:
        return None
    return user


@dataclass
class NewAccount:
    username: str
    display_name: str
    password: str
    phone: str | None = None


def _create_user(account: NewAccount) -> User:
    fields: dict[str, list[str]] = {}
    if problems := username_problems(account.username):
        fields["username"] = problems
    if problems := password_problems(account.password, account.username):
        fields["password"] = problems
    if not account.display_name.strip():
        fields["display_name"] = [_("Please enter a name.")]
    if fields:
        raise ValidationFailed(_("Please correct the marked fields."), fields)
    if get_user_by_username(account.username) is not None:
        message = _("This username is taken.")
        raise Conflict(message, {"username": [message]})
    user = User(
        username=account.username.strip(),
        display_name=account.display_name.strip(),
        phone=(account.phone or "").strip() or None,
    )
    user.set_password(account.password)
    db.session.add(user)
    return user


def register_resident(account: NewAccount, community: Community) -> User:
    """Self sign-up: a resident account in the chosen community."""
    user = _create_user(account)
    db.session.add(Membership(user=user, community=community, is_secretary=False))
    db.session.flush()
    record(user, "user.registered", user, community_id=community.id)
    return user


def create_account(
    actor: User, account: NewAccount, community: Community | None, is_secretary: bool = False
) -> User:
    """An admin creates any account; a secretary creates residents of their community."""
    if community is None:
        if not permissions.is_admin(actor):
            raise NotAllowed(_("Only an administrator may create this account."))
    elif not permissions.can_create_account_in(actor, community):
        raise NotAllowed(_("You may not create accounts in this community."))
    if is_secretary and not permissions.can_appoint_secretaries(actor):
        raise NotAllowed(_("Only an administrator may appoint secretaries."))
    if is_secretary and community is None:
        raise ValidationFailed(
            _("A secretary needs a community."),
            {"community_id": [_("A secretary needs a community.")]},
        )
    user = _create_user(account)
    if community is not None:
        db.session.add(Membership(user=user, community=community, is_secretary=is_secretary))
    db.session.flush()
    record(
        actor,
        "user.created",
        user,
        community_id=community.id if community else None,
        is_secretary=is_secretary,
    )
    return user


def change_password(user: User, current_password: str, new_password: str) -> None:
    if not user.check_password(current_password):
        raise ValidationFailed(
            _("Please correct the marked fields."),
            {"current_password": [_("This is not your current password.")]},
        )
    if problems := password_problems(new_password, user.username):
        raise ValidationFailed(_("Please correct the marked fields."), {"new_password": problems})
    user.set_password(new_password)
    # Sessions and bearer tokens begun under the old password stop working
    # (the view opens a new session for the browser that changed it).
    sessions.end_all_sessions(user)
    revoke_all_tokens(user)
    db.session.flush()
    record(user, "user.password_changed", user)


def update_profile(user: User, display_name: str, phone: str | None, email: str | None) -> None:
    """A user's own name and contact details; an empty phone or e-mail clears it."""
    display_name = display_name.strip()
    phone = (phone or "").strip() or None
    email = (email or "").strip() or None
    fields: dict[str, list[str]] = {}
    if not display_name:
        fields["display_name"] = [_("Please enter a name.")]
    elif len(display_name) > 60:
        fields["display_name"] = [_("At most %(n)d characters.", n=60)]
    if phone is not None and len(phone) > 30:
        fields["phone"] = [_("At most %(n)d characters.", n=30)]
    if email is not None and (len(email) > EMAIL_MAX_LENGTH or not EMAIL_PATTERN.match(email)):
        fields["email"] = [_("Please enter an e-mail address such as name@example.com.")]
    if fields:
        raise ValidationFailed(_("Please correct the marked fields."), fields)
    changed = [
        name
        for name, value in (("display_name", display_name), ("phone", phone), ("email", email))
        if getattr(user, name) != value
    ]
    if not changed:
        return
    user.display_name, user.phone, user.email = display_name, phone, email
    db.session.flush()
    # Which fields, not their values: the audit log is no copy of the address book.
    record(user, "user.profile_updated", user, fields=changed)


def set_admin_password(username: str, password: str) -> tuple[User, bool]:
    """For the CLI: create the admin or reset their password. Returns (user, created)."""
    user = get_user_by_username(username)
    created = user is None
    if created:
        if problems := username_problems(username):
            raise ValidationFailed(problems[0], {"username": problems})
        user = User(username=username, display_name=username)
        db.session.add(user)
    # Length and the common list only: the console's operator may keep a
    # password that names the account (tests and demos use "admin-password-1").
    if problems := password_problems(password):
        raise ValidationFailed(problems[0], {"password": problems})
    user.set_password(password)
    if not created:
        # A reset password ends the sessions and tokens begun under the old one.
        sessions.end_all_sessions(user)
        revoke_all_tokens(user)
    user.is_admin = True
    user.is_active = True
    db.session.flush()
    record(None, "user.admin_set", user, created=created)
    return user, created


def set_locale(user: User, locale: str) -> None:
    user.locale = locale


# --- communities and secretaries ---------------------------------------------


def create_community(
    actor: User,
    name: str,
    street: str | None,
    district: str = "",
    street_id: int | None = None,
) -> Community:
    """A new community under a street office. ``street_id`` names the
    street's record (its name becomes the ``street`` text); a ``street``
    given as text only is linked to the record of that name, created when
    there is none yet, so that every community belongs to a street record."""
    if not permissions.can_manage_communities(actor):
        raise NotAllowed(_("Only an administrator may create communities."))
    name, street = name.strip(), (street or "").strip()
    district = (district or "").strip()
    fields: dict[str, list[str]] = {}
    record_of_street = None
    if not name:
        fields["name"] = [_("Please enter a name.")]
    if street_id is not None:
        record_of_street = db.session.get(Street, street_id)
        if record_of_street is None:
            fields["street_id"] = [_("No such street.")]
    elif not street:
        fields["street"] = [_("Please enter the street (街道).")]
    if fields:
        raise ValidationFailed(_("Please correct the marked fields."), fields)
    if db.session.scalar(db.select(Community.id).where(Community.name == name)) is not None:
        message = _("A community with this name exists.")
        raise Conflict(message, {"name": [message]})
    if record_of_street is None:
        record_of_street = db.session.scalar(db.select(Street).where(Street.name == street))
    if record_of_street is None:
        record_of_street = Street(name=street, district=district)
        db.session.add(record_of_street)
        db.session.flush()
        record(actor, "street.created", record_of_street, name=street, district=district)
    community = Community(
        name=name, street=record_of_street.name, district=district, street_record=record_of_street
    )
    db.session.add(community)
    db.session.flush()
    record(actor, "community.created", community, name=name, street_id=record_of_street.id)
    return community


def set_secretary(actor: User, user: User, community: Community, is_secretary: bool) -> Membership:
    """Appoint (or stand down) a secretary; joins them to the community if needed."""
    if not permissions.can_appoint_secretaries(actor):
        raise NotAllowed(_("Only an administrator may appoint secretaries."))
    membership = user.membership_in(community.id)
    if membership is None:
        membership = Membership(user=user, community=community)
        db.session.add(membership)
    membership.is_secretary = is_secretary
    db.session.flush()
    record(
        actor,
        "secretary.appointed" if is_secretary else "secretary.stood_down",
        user,
        community_id=community.id,
    )
    return membership


def set_active(actor: User, user: User, active: bool) -> None:
    if not permissions.is_admin(actor):
        raise NotAllowed(_("Only an administrator may do this."))
    if user.id == actor.id and not active:
        raise Conflict(_("You cannot deactivate your own account."))
    user.is_active = active
    if not active:
        # For good: reactivating opens no session again.
        sessions.end_all_sessions(user)
        revoke_all_tokens(user)
    db.session.flush()
    record(actor, "user.activated" if active else "user.deactivated", user)


def sign_out_everywhere(actor: User, user: User) -> None:
    """End all the user's sessions, remembered logins and API tokens, on
    every device: the user themself, or an administrator."""
    if not (permissions.is_admin(actor) or actor.id == user.id):
        raise NotAllowed(_("Only an administrator may do this."))
    sessions.end_all_sessions(user)
    revoke_all_tokens(user)
    db.session.flush()
    record(actor, "user.signed_out_everywhere", user)


# --- API tokens ----------------------------------------------------------------


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User) -> tuple[str, ApiToken]:
    """A new bearer token; the plain text is returned once and never stored."""
    plain = secrets.token_urlsafe(32)
    days = current_app.config["API_TOKEN_DAYS"]
    token = ApiToken(
        user=user, token_hash=_hash_token(plain), expires_at=utcnow() + timedelta(days=days)
    )
    db.session.add(token)
    db.session.flush()
    return plain, token


@dataclass(frozen=True)
class LiveToken:
    """A bearer token that works, with its (active) user, loaded together:
    every API request looks one up."""

    id: int
    user: User
    created_at: datetime
    expires_at: datetime

    @property
    def user_id(self) -> int:
        return self.user.id


def token_for(plain: str) -> LiveToken | None:
    """The live token with this text, if any: not revoked, not expired, its
    user active."""
    row = db.session.execute(
        _LIVE_TOKEN, {"token_hash": _hash_token(plain), "now": utcnow()}
    ).first()
    return LiveToken(*row) if row is not None else None


# Built once: every API request runs it.
_LIVE_TOKEN = (
    db.select(ApiToken.id, User, ApiToken.created_at, ApiToken.expires_at)
    .join(User, User.id == ApiToken.user_id)
    .where(
        ApiToken.token_hash == bindparam("token_hash"),
        ApiToken.revoked_at.is_(None),
        ApiToken.expires_at > bindparam("now"),
        User.is_active.is_(True),
    )
)


def revoke_token(token: ApiToken | LiveToken) -> None:
    db.session.execute(
        db.update(ApiToken)
        .where(ApiToken.id == token.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def revoke_all_tokens(user: User) -> None:
    now = utcnow()
    db.session.execute(
        db.update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
