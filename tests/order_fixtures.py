"""Fixtures of the order workflow tests (test_orders*.py), loaded with
``pytest_plugins = ["order_fixtures"]``: a grid and a unit of the community
with their people, the same kinds of people elsewhere, and ``make_order`` to
bring a request to any state of the workflow through the verbs."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from order_helpers import DUE, make_grid, make_unit
from request_helpers import raise_request

from auth.models import User
from meetings.organisation.models import Grid, Unit
from meetings.requests import orders, services
from meetings.requests.models import RequestStatus, ResidentRequest


@pytest.fixture
def grid_one_worker(make_user, community) -> User:
    """The leader of the community's grid (网格长)."""
    return make_user("gridleader", community=community, display_name="邹文静")


@pytest.fixture
def grid_one(community, grid_one_worker) -> Grid:
    return make_grid(community, "第一网格", [grid_one_worker])


@pytest.fixture
def grid_two_worker(make_user, community) -> User:
    """A grid worker of ANOTHER grid of the same community."""
    return make_user("gridtwo", community=community, display_name="赵网格")


@pytest.fixture
def grid_two(community, grid_two_worker) -> Grid:
    return make_grid(community, "第二网格", [grid_two_worker])


@pytest.fixture
def property_staff(make_user) -> User:
    """Property staff, not a member of the community."""
    return make_user("property", display_name="物业小陈")


@pytest.fixture
def property_unit(community, property_staff) -> Unit:
    return make_unit("幸福物业", [community], [property_staff])


@pytest.fixture
def partner_staff(make_user) -> User:
    """A member of another unit, serving the same community."""
    return make_user("outsider", display_name="共建单位老李")


@pytest.fixture
def partner_unit(community, partner_staff) -> Unit:
    return make_unit("共建单位", [community], [partner_staff])


@pytest.fixture
def bystander(make_user, community) -> User:
    """A resident of the community who did not raise the request."""
    return make_user("bystander", community=community, display_name="李大爷")


@pytest.fixture
def make_order(
    resident, community, secretary, property_unit, property_staff
) -> Callable[..., ResidentRequest]:
    """``make_order("claimed")``: a request of the resident brought to that
    state through the verbs — dispatched to the unit, claimed and handled by
    its member. ``rated`` 4 closes it, 2 reopens it."""

    def make(state: str = "dispatched", **overrides) -> ResidentRequest:
        item = raise_request(resident, community, **overrides)
        if state == "submitted":
            return item
        if state in {"answered", "rejected", "accepted"}:
            action = {"answered": "answer", "rejected": "reject", "accepted": "accept"}[state]
            return services.reply_to_request(secretary, item, action, "物业已处理。")
        orders.dispatch(
            secretary, item, orders.AssigneeChoice("unit", property_unit.id), DUE, "请尽快"
        )
        if state == "dispatched":
            return item
        if state == "handed_back":
            return orders.hand_back(property_staff, item, "不归我们管")
        orders.claim(property_staff, item)
        if state == "claimed":
            return item
        orders.mark_handled(property_staff, item, "已清理完毕。")
        if state == "handled":
            return item
        orders.rate(resident, item, 2 if state == "reopened" else 4, "")
        assert item.status == RequestStatus(state)
        return item

    return make
