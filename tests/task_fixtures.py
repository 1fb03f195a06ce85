"""Fixtures of the tests of responsible parties and tasks, loaded with
``pytest_plugins = ["meeting_fixtures", "project_fixtures", "task_fixtures"]``:
units serving the community with their members (made with the models: the
organisation's pages are another area's), a project the property company
answers for."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest

from auth.models import User
from meetings.organisation.models import Unit, UnitKind, UnitMember
from meetings.projects import services
from meetings.projects.models import Project, ResolutionCondition


@pytest.fixture
def make_unit(db, community) -> Callable[..., Unit]:
    def make(name: str, kind: UnitKind = UnitKind.PROPERTY_COMPANY, serves=None, members=()):
        unit = Unit(name=name, kind=kind, communities=list(serves or [community]))
        db.session.add(unit)
        for user in members:
            db.session.add(UnitMember(unit=unit, user=user))
        db.session.flush()
        return unit

    return make


@pytest.fixture
def property_rep(make_user) -> User:
    """The property company's representative: a member of no community."""
    return make_user("wuye", display_name="物业陈经理")


@pytest.fixture
def property_company(make_unit, property_rep) -> Unit:
    return make_unit("优山美地物业", members=[property_rep])


@pytest.fixture
def police(make_user) -> User:
    """A member of another unit that also serves the community."""
    return make_user("jiaojing", display_name="交警王警官")


@pytest.fixture
def traffic_police(make_unit, police) -> Unit:
    return make_unit("开发区交警大队", UnitKind.DEPARTMENT, members=[police])


@pytest.fixture
def unit_project(make_project, property_company) -> Project:
    """The activity room, the property company answering for it (its name the text)."""
    return make_project(responsible_unit="", responsible_unit_id=property_company.id)


@pytest.fixture
def add_condition(deliberation, secretary, db) -> Callable[..., ResolutionCondition]:
    """``add_condition(resolution, user=…)`` or ``unit=…``: a condition due in a week."""

    def add(resolution, *, user=None, unit=None, text="音量由专人控制", days=7):
        condition = services.add_condition(
            secretary,
            resolution,
            text,
            date.today() + timedelta(days=days),
            assignee_user_id=user.id if user else None,
            assignee_unit_id=unit.id if unit else None,
        )
        db.session.flush()
        return condition

    return add
