"""Who holds which place in the organisation: the questions every area's
permission checks ask (is this person a grid worker here, on the staff of
this community's street, a member of this unit?). Plain reads, no rules:
the rules stay with the verbs that use them."""

from __future__ import annotations

from auth import permissions
from auth.models import Community, User
from meetings.extensions import db
from meetings.organisation.models import (
    Grid,
    GridMember,
    StreetStaff,
    Unit,
    UnitMember,
    unit_community,
)


def grid_ids_of(user: User | None, community_id: int | None = None) -> set[int]:
    """The grids this person works in (leader or member), in one community or all."""
    if not permissions.is_authenticated(user):
        return set()
    statement = db.select(GridMember.grid_id).where(GridMember.user_id == user.id)
    if community_id is not None:
        statement = statement.join(Grid, Grid.id == GridMember.grid_id).where(
            Grid.community_id == community_id
        )
    return set(db.session.scalars(statement))


def led_grid_ids(user: User | None) -> set[int]:
    """The grids this person leads (网格长)."""
    if not permissions.is_authenticated(user):
        return set()
    return set(
        db.session.scalars(
            db.select(GridMember.grid_id).where(
                GridMember.user_id == user.id, GridMember.is_leader.is_(True)
            )
        )
    )


def is_grid_worker(user: User | None, community: Community) -> bool:
    """A leader or member of one of the community's grids."""
    return bool(grid_ids_of(user, community.id))


def unit_ids_of(user: User | None) -> set[int]:
    if not permissions.is_authenticated(user):
        return set()
    return set(
        db.session.scalars(db.select(UnitMember.unit_id).where(UnitMember.user_id == user.id))
    )


def is_unit_member(user: User | None, unit: Unit | int | None) -> bool:
    if unit is None:
        return False
    unit_id = unit if isinstance(unit, int) else unit.id
    return unit_id in unit_ids_of(user)


def unit_serves(unit: Unit | int, community: Community | int) -> bool:
    unit_id = unit if isinstance(unit, int) else unit.id
    community_id = community if isinstance(community, int) else community.id
    return (
        db.session.scalar(
            db.select(unit_community.c.unit_id).where(
                unit_community.c.unit_id == unit_id, unit_community.c.community_id == community_id
            )
        )
        is not None
    )


def street_ids_of(user: User | None) -> set[int]:
    """The streets on whose office's staff this person is."""
    if not permissions.is_authenticated(user):
        return set()
    return set(
        db.session.scalars(db.select(StreetStaff.street_id).where(StreetStaff.user_id == user.id))
    )


def is_street_staff_of(user: User | None, community: Community) -> bool:
    """On the staff of the street the community belongs to."""
    return community.street_id is not None and community.street_id in street_ids_of(user)


def community_ids_of_streets(street_ids: set[int]) -> set[int]:
    if not street_ids:
        return set()
    return set(
        db.session.scalars(db.select(Community.id).where(Community.street_id.in_(street_ids)))
    )
