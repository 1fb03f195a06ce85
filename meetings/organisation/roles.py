"""Who holds which place in the organisation: the questions every area's
permission checks ask (is this person a grid worker here, on the staff of
this community's street, a member of this unit?). Plain reads, no rules:
the rules stay with the verbs that use them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import g, has_request_context
from sqlalchemy import event, union
from sqlalchemy.orm import Session

from auth import permissions
from auth.models import Community, Membership, User
from meetings.extensions import db
from meetings.organisation.models import (
    Grid,
    GridMember,
    StreetStaff,
    Unit,
    UnitKind,
    UnitMember,
    unit_community,
)


def grid_ids_of(user: User | None, community_id: int | None = None) -> set[int]:
    """The grids this person works in (leader or member), in one community or all."""
    grids = posts_of(user).grid_communities
    return {grid for grid, community in grids.items() if community_id in (None, community)}


def led_grid_ids(user: User | None) -> set[int]:
    """The grids this person leads (网格长)."""
    return set(posts_of(user).led_grid_ids)


def is_grid_worker(user: User | None, community: Community) -> bool:
    """A leader or member of one of the community's grids."""
    return community.id in posts_of(user).grid_communities.values()


def unit_ids_of(user: User | None) -> set[int]:
    return set(posts_of(user).unit_ids)


def is_unit_member(user: User | None, unit: Unit | int | None) -> bool:
    if unit is None:
        return False
    unit_id = unit if isinstance(unit, int) else unit.id
    return unit_id in posts_of(user).unit_ids


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
    return set(posts_of(user).street_ids)


def is_street_staff_of(user: User | None, community: Community) -> bool:
    """On the staff of the street the community belongs to."""
    return community.street_id is not None and community.street_id in posts_of(user).street_ids


def community_ids_of_streets(street_ids: set[int]) -> set[int]:
    if not street_ids:
        return set()
    return set(
        db.session.scalars(db.select(Community.id).where(Community.street_id.in_(street_ids)))
    )


def is_street_staff(user: User | None, street_id: int) -> bool:
    return street_id in posts_of(user).street_ids


def served_community_ids(unit: Unit | int) -> set[int]:
    unit_id = unit if isinstance(unit, int) else unit.id
    return set(
        db.session.scalars(
            db.select(unit_community.c.community_id).where(unit_community.c.unit_id == unit_id)
        )
    )


def invitable_user_ids(community: Community):
    """A subquery of the ids of those who may be invited to the community's
    meetings: its members, the staff of its street's office and the members
    of the units serving it (active or not: the caller filters)."""
    parts = [
        db.select(Membership.user_id).where(Membership.community_id == community.id),
        db.select(UnitMember.user_id)
        .join(unit_community, unit_community.c.unit_id == UnitMember.unit_id)
        .where(unit_community.c.community_id == community.id),
    ]
    if community.street_id is not None:
        parts.append(
            db.select(StreetStaff.user_id).where(StreetStaff.street_id == community.street_id)
        )
    return union(*parts)


def places_in(community: Community, user_ids: Iterable[int]) -> dict[int, Places]:
    """For each of these people, their places around the community (in three
    queries, however many people): standing role in it, street staff of its
    street, kinds of the units serving it they belong to."""
    ids = set(user_ids)
    places = {user_id: Places() for user_id in ids}
    if not ids:
        return places
    for user_id, standing_role in db.session.execute(
        db.select(Membership.user_id, Membership.standing_role).where(
            Membership.community_id == community.id, Membership.user_id.in_(ids)
        )
    ):
        places[user_id].member = True
        places[user_id].standing_role = standing_role
    if community.street_id is not None:
        for user_id in db.session.scalars(
            db.select(StreetStaff.user_id).where(
                StreetStaff.street_id == community.street_id, StreetStaff.user_id.in_(ids)
            )
        ):
            places[user_id].street_staff = True
    for user_id, kind in db.session.execute(
        db.select(UnitMember.user_id, Unit.kind)
        .join(Unit, Unit.id == UnitMember.unit_id)
        .join(unit_community, unit_community.c.unit_id == Unit.id)
        .where(unit_community.c.community_id == community.id, UnitMember.user_id.in_(ids))
    ):
        places[user_id].unit_kinds.add(kind)
    return places


@dataclass
class Places:
    """Where one person sits around one community (``places_in``)."""

    member: bool = False
    standing_role: str | None = None
    street_staff: bool = False
    unit_kinds: set[UnitKind] = field(default_factory=set)

    @property
    def invitable(self) -> bool:
        return self.member or self.street_staff or bool(self.unit_kinds)


@dataclass(frozen=True)
class Posts:
    """Every post a person holds outside their memberships, read at once
    (the menu and each permission check of a page ask: ``posts_of``)."""

    grid_ids: frozenset[int] = frozenset()
    led_grid_ids: frozenset[int] = frozenset()
    unit_ids: frozenset[int] = frozenset()
    street_ids: frozenset[int] = frozenset()
    # open orders dispatched to the person by name (a party member, say)
    has_personal_orders: bool = False
    # each of their grids → its community
    grid_communities: Mapping[int, int] = field(default_factory=dict)

    @property
    def works_in_a_grid(self) -> bool:
        return bool(self.grid_ids)

    @property
    def takes_orders(self) -> bool:
        """Orders come to them: through a grid, a unit or by name."""
        return bool(self.grid_ids or self.unit_ids or self.has_personal_orders)


# Where a web request keeps the posts it read (``flask.g``: one per request).
_POSTS_READ = "organisation_posts"


def posts_of(user: User | None) -> Posts:
    """The person's posts. Within a web request they are read once and kept
    while the session writes nothing: a change waiting to be written, or
    written (a verb adding a grid member, say), makes the next call read them
    again. A request with an order asked for them 9 times, a statement each
    (bench/README.md, issue 15: "request with an order (unit)" 28 → 14
    statements at scale 1.0, with the eager loads of
    ``requests.services.get_request_in_full``). Outside a request (the CLI,
    the jobs) every call reads them."""
    if not permissions.is_authenticated(user):
        return Posts()
    session = db.session
    if not has_request_context() or session.new or session.dirty or session.deleted:
        return _read_posts(user.id)
    kept = g.setdefault(_POSTS_READ, {})
    if user.id not in kept:
        kept[user.id] = _read_posts(user.id)
    return kept[user.id]


@event.listens_for(Session, "after_flush")
def _forget_posts(session, flush_context) -> None:
    """A write may change someone's posts: the request reads them again."""
    if has_request_context():
        g.pop(_POSTS_READ, None)


def _read_posts(user_id: int) -> Posts:
    """One query: the grids (with their community), units, streets and open
    personal orders of the person."""
    # Named by string: the requests' models build on this module's.
    from meetings.requests.models import RequestStatus, ResidentRequest

    none = sa.null().cast(sa.Integer)
    rows = db.session.execute(
        sa.union_all(
            db.select(
                sa.literal("grid"), GridMember.grid_id, GridMember.is_leader, Grid.community_id
            )
            .join(Grid, Grid.id == GridMember.grid_id)
            .where(GridMember.user_id == user_id),
            db.select(sa.literal("unit"), UnitMember.unit_id, sa.false(), none).where(
                UnitMember.user_id == user_id
            ),
            db.select(sa.literal("street"), StreetStaff.street_id, sa.false(), none).where(
                StreetStaff.user_id == user_id
            ),
            db.select(sa.literal("order"), ResidentRequest.id, sa.false(), none).where(
                ResidentRequest.assignee_user_id == user_id,
                ResidentRequest.status.in_([RequestStatus.DISPATCHED, RequestStatus.CLAIMED]),
            ),
        )
    ).all()
    found: dict[str, set[int]] = {"grid": set(), "led": set(), "unit": set(), "street": set()}
    grid_communities: dict[int, int] = {}
    has_personal_orders = False
    for post, post_id, leads, community_id in rows:
        if post == "order":
            has_personal_orders = True
            continue
        found[post].add(post_id)
        if post == "grid":
            grid_communities[post_id] = community_id
            if leads:
                found["led"].add(post_id)
    return Posts(
        frozenset(found["grid"]),
        frozenset(found["led"]),
        frozenset(found["unit"]),
        frozenset(found["street"]),
        has_personal_orders,
        grid_communities,
    )
