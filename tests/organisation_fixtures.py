"""Fixtures of the organisation's tests (``pytest_plugins = ["organisation_fixtures"]``):
the community's street with an official on its staff, another street with
its own, a grid with its leader, a property company with its staff member."""

from __future__ import annotations

import pytest

from auth.models import Community, User
from meetings.organisation import services
from meetings.organisation.models import Grid, Street, Unit


@pytest.fixture
def street(db, admin, community, in_request) -> Street:
    """中兴街道, the street of ``community`` (东篱社区)."""
    street = services.create_street(admin, "中兴街道", "开发区")
    services.assign_community(admin, street, community)
    return street


@pytest.fixture
def other_street(db, admin, other_community, in_request) -> Street:
    """竹行街道, the street of ``other_community`` (星怡社区)."""
    street = services.create_street(admin, "竹行街道", "开发区")
    services.assign_community(admin, street, other_community)
    return street


@pytest.fixture
def street_official(make_user, admin, street) -> User:
    """On the staff of 中兴街道; a member of no community."""
    user = make_user("official", display_name="街道刘主任")
    services.add_street_staff(admin, street, user)
    return user


@pytest.fixture
def other_official(make_user, admin, other_street) -> User:
    """On the staff of 竹行街道."""
    user = make_user("otherofficial", display_name="竹行街道陈科长")
    services.add_street_staff(admin, other_street, user)
    return user


@pytest.fixture
def our_grid_leader(make_user, community) -> User:
    return make_user("gridleader", community=community, display_name="邹文静")


@pytest.fixture
def our_grid(secretary, community, our_grid_leader, in_request) -> Grid:
    our_grid = services.create_grid(secretary, community, "第一网格", ["1栋", "2栋"])
    services.add_grid_member(secretary, our_grid, our_grid_leader, is_leader=True)
    return our_grid


@pytest.fixture
def their_grid_leader(make_user, other_community, other_secretary, in_request) -> User:
    """The leader of a grid of the other community."""
    user = make_user("othergrid", community=other_community, display_name="别网格长")
    other = services.create_grid(other_secretary, other_community, "星怡一网格", ["9栋"])
    services.add_grid_member(other_secretary, other, user, is_leader=True)
    return user


@pytest.fixture
def unit_staff(make_user) -> User:
    """A member of no community: the property company's man on the ground."""
    return make_user("wuye", display_name="物业小王")


@pytest.fixture
def unit(admin, community, unit_staff, in_request) -> Unit:
    unit = services.create_unit(admin, "绿城物业", "property_company", [community])
    services.add_unit_member(admin, unit, unit_staff)
    return unit


@pytest.fixture
def cppcc_member(make_user, other_community) -> User:
    """A district CPPCC member, a member of the other community."""
    return make_user("cppcc", community=other_community, display_name="区政协委员赵")


def membership_of(user: User, community: Community):
    return next(m for m in user.memberships if m.community_id == community.id)
