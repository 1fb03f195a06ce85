"""Helpers of the order workflow tests (test_orders*.py)."""

from __future__ import annotations

from datetime import date, timedelta

from auth.models import User
from meetings.extensions import db
from meetings.organisation.models import Grid, GridMember, Unit, UnitKind, UnitMember

DUE = date.today() + timedelta(days=7)


def make_grid(community, name: str, workers: list[User]) -> Grid:
    grid = Grid(community=community, name=name, buildings=["1栋", "2栋"])
    db.session.add(grid)
    for n, user in enumerate(workers):
        db.session.add(GridMember(grid=grid, user=user, is_leader=n == 0))
    db.session.flush()
    return grid


def make_unit(name: str, communities, members: list[User]) -> Unit:
    unit = Unit(name=name, kind=UnitKind.PROPERTY_COMPANY, communities=list(communities))
    db.session.add(unit)
    for user in members:
        db.session.add(UnitMember(unit=unit, user=user))
    db.session.flush()
    return unit
