"""Named permission checks, used by the web views and the API alike.

Each takes the acting user (possibly anonymous) and answers yes or no;
services raise ``NotAllowed`` when the answer is no.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from auth.models import Community, User


def is_authenticated(user: User | None) -> bool:
    return user is not None and bool(getattr(user, "is_authenticated", False))


def is_admin(user: User | None) -> bool:
    return is_authenticated(user) and user.is_admin


def is_member(user: User | None, community: Community) -> bool:
    return is_authenticated(user) and user.membership_in(community.id) is not None


def is_secretary(user: User | None, community: Community) -> bool:
    if not is_authenticated(user):
        return False
    membership = user.membership_in(community.id)
    return membership is not None and membership.is_secretary


def can_manage(user: User | None, community: Community) -> bool:
    """Run the community's business: requests, meetings, accounts of residents."""
    return is_admin(user) or is_secretary(user, community)


def can_create_account_in(user: User | None, community: Community) -> bool:
    return can_manage(user, community)


def manages_any_community(user: User | None) -> bool:
    """An administrator, or the secretary of some community."""
    return is_admin(user) or (is_authenticated(user) and bool(user.secretary_of))


def can_appoint_secretaries(user: User | None) -> bool:
    return is_admin(user)


def can_manage_communities(user: User | None) -> bool:
    return is_admin(user)
