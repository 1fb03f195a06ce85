"""Who an order is for: the person it was dispatched to, or any member of
the grid or unit it was dispatched to. Read by the order workflow's checks,
by who may see a request and who may add photos to it."""

from __future__ import annotations

from auth import permissions
from auth.models import User
from meetings.organisation import roles
from meetings.requests.models import ResidentRequest


def is_assignee(user: User | None, item: ResidentRequest) -> bool:
    """Named by the current order: its person, a member of its grid or unit."""
    if not permissions.is_authenticated(user):
        return False
    if item.assignee_user_id is not None:
        return item.assignee_user_id == user.id
    if item.assignee_grid_id is not None:
        return item.assignee_grid_id in roles.grid_ids_of(user)
    if item.assignee_unit_id is not None:
        return item.assignee_unit_id in roles.unit_ids_of(user)
    return False


def is_handler(user: User | None, item: ResidentRequest) -> bool:
    """The assignee who claimed the order (and still holds it)."""
    return (
        permissions.is_authenticated(user)
        and item.claimed_by_id == user.id
        and is_assignee(user, item)
    )
