"""Helpers shared by the intake tests (test_requests_intake.py,
test_request_photos.py, test_visits.py): grids with their workers, a street
with its staff."""

from __future__ import annotations

import io

from auth.models import Community, User
from meetings.extensions import db
from meetings.organisation.models import Grid, GridMember, Street, StreetStaff
from meetings.requests import services
from meetings.requests.models import ResidentRequest

INTAKE = {
    "has_account": "no",
    "resident_name": "王阿姨",
    "resident_phone": "138 0000 1234",
    "building": "3栋2单元",
    "channel": "wechat_group",
    "title": "卫生间漏水",
    "category": "property_service",
    "description": "王阿姨在微信群里说，楼上卫生间漏水到她家。",
    "location": "3栋2单元402",
}


def make_grid(
    community: Community,
    name: str = "第一网格",
    *,
    leader: User | None = None,
    members: tuple[User, ...] = (),
) -> Grid:
    grid = Grid(community=community, name=name, buildings=["1栋", "2栋", "3栋"])
    db.session.add(grid)
    if leader is not None:
        db.session.add(GridMember(grid=grid, user=leader, is_leader=True))
    for member in members:
        db.session.add(GridMember(grid=grid, user=member, is_leader=False))
    db.session.flush()
    return grid


def make_street(name: str, *communities: Community, staff: tuple[User, ...] = ()) -> Street:
    street = Street(name=name, district="开发区")
    db.session.add(street)
    db.session.flush()
    for community in communities:
        community.street_id = street.id
    for person in staff:
        db.session.add(StreetStaff(street=street, user=person))
    db.session.flush()
    return street


def draft(**overrides) -> services.RequestDraft:
    values = {
        "title": INTAKE["title"],
        "description": INTAKE["description"],
        "category": INTAKE["category"],
        "location": INTAKE["location"],
    } | overrides
    return services.RequestDraft(**values)


def log_for_resident(actor: User, community: Community, **overrides) -> ResidentRequest:
    """A request raised by ``actor`` for 王阿姨, who has no account."""
    return services.raise_for_resident(
        actor,
        community,
        services.ResidentDetails("王阿姨", "138 0000 1234", "3栋2单元"),
        draft(**overrides),
        "wechat_group",
    )


def upload(data: bytes, name: str = "photo.png") -> tuple[io.BytesIO, str]:
    return (io.BytesIO(data), name)
