"""The demo organisation, orders and visits of the seed stories (``flask seed-demo``)."""

from __future__ import annotations

import pytest

from auth.models import Community, User
from meetings.extensions import db
from meetings.organisation.models import Grid, Street, Unit
from meetings.requests import orders
from meetings.requests.models import RequestStatus, ResidentRequest, Visit


@pytest.fixture
def seeded(runner, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "demo-password-1")
    monkeypatch.setenv("ADMIN_PASSWORD", "admin-password-1")
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    return result


def requests_by_title() -> dict[str, ResidentRequest]:
    return {r.title: r for r in db.session.scalars(db.select(ResidentRequest))}


def user(username: str) -> User:
    return db.session.scalar(db.select(User).where(User.username == username))


def test_the_streets_grids_and_units(seeded):
    streets = {s.name: s for s in db.session.scalars(db.select(Street))}
    assert {c.name for c in streets["竹行街道"].communities} == {"星怡社区", "竹韵社区"}
    assert {s.user.username for s in streets["竹行街道"].staff} == {"zhuxing-01", "zhuyun-02"}
    grid = db.session.scalar(db.select(Grid).where(Grid.name == "第三网格"))
    assert grid.community.name == "东篱社区" and "182幢" in grid.buildings
    assert [u.username for u in grid.leaders] == ["dongli-09"]
    police = db.session.scalar(db.select(Unit).where(Unit.name == "开发区交警大队"))
    assert police.kind == "department"
    # the district CPPCC member sits in two communities, with the same standing role
    cppcc = user("dongli-02")
    assert {m.community.name: m.standing_role for m in cppcc.memberships} == {
        "东篱社区": "cppcc_member",
        "竹韵社区": "cppcc_member",
    }


def test_the_orders_of_the_stories(seeded):
    assert "Demo orders created: 7" in seeded.output
    found = requests_by_title()
    flea = found["地下车库有跳蚤"]
    assert flea.status == RequestStatus.CLOSED and flea.channel == "wechat_group"
    assert flea.assignee_unit.name == "星怡红色物业服务站"
    assert flea.claimed_by.username == "xingyi-12" and flea.ratings[-1].score == 5

    oil = found["楼道和电梯里泼了食用油"]
    assert oil.requester is None and oil.resident_name == "蒋女士"
    assert oil.raised_by.username == "xingyi-10" and oil.status == RequestStatus.CLOSED

    leak = found["卫生间吊顶渗水"]
    assert leak.requester is None and leak.building == "183幢" and len(leak.photos) == 1
    assert leak.raised_by.username == "dongli-09"
    assert [s.note[:4] for s in leak.steps] == ["上门查看", "重新做了"]
    assert leak.status == RequestStatus.CLOSED

    # 支部吹哨、党员报到: dispatched to a party member by name, who is on it
    clutter = found["楼道堆放杂物"]
    assert clutter.assignee_user.username == "xingyi-04"
    assert clutter.status == RequestStatus.CLAIMED

    # a grid's order nobody claimed, past its due date: flagged to the secretary
    lock = found["单元门禁损坏"]
    assert lock.status == RequestStatus.DISPATCHED and lock.assignee_grid.name == "第五网格"
    assert orders.is_order_overdue(lock)

    lamp = found["小区路灯不亮"]
    assert lamp.status == RequestStatus.REOPENED and lamp.ratings[-1].score == 2

    lift = found["电梯按钮失灵"]
    assert lift.status == RequestStatus.DISPATCHED and lift.claimed_by is None

    # the events are in order and in the past
    for item in found.values():
        times = [e.at for e in item.events]
        assert times == sorted(times), item.title


def test_the_grid_leaders_visit_logs(seeded):
    logged = {v.visited: v for v in db.session.scalars(db.select(Visit))}
    assert logged["190幢 柴大爷"].visitor.username == "dongli-11"
    assert "护理补贴" in logged["190幢 柴大爷"].notes


def test_seeding_twice_adds_no_orders(seeded, runner):
    before = db.session.scalar(db.select(db.func.count()).select_from(ResidentRequest))
    again = runner.invoke(args=["seed-demo"])
    assert "Demo orders created: 0" in again.output
    assert db.session.scalar(db.select(db.func.count()).select_from(ResidentRequest)) == before
    assert db.session.scalar(db.select(db.func.count()).select_from(Community)) == 3
