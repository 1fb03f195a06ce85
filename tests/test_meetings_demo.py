"""The demo meetings of the four seed stories (``flask seed-demo``)."""

from __future__ import annotations

import pytest

from meetings.dbtypes import utcnow
from meetings.extensions import db
from meetings.meeting import services
from meetings.meeting.models import Attendance, Meeting, MeetingStatus
from meetings.requests.models import RequestStatus, ResidentRequest


@pytest.fixture
def seeded(runner, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "demo-password-1")
    monkeypatch.setenv("ADMIN_PASSWORD", "admin-password-1")
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    return result


def meetings_by_title() -> dict[str, Meeting]:
    return {m.title: m for m in db.session.scalars(db.select(Meeting))}


def test_seed_demo_makes_the_meetings_of_the_four_stories(seeded):
    assert "Demo meetings created: 6" in seeded.output
    meetings = meetings_by_title()
    statuses = sorted(m.status.value for m in meetings.values())
    # the three that are over have their minutes published (meetings.demo)
    assert statuses == [
        "in_progress",
        "minutes_published",
        "minutes_published",
        "minutes_published",
        "scheduled",
        "scheduled",
    ]

    room = meetings["182幢活动室改造出新协商议事会"]
    assert [t.title for t in room.topics] == ["活动室地板磨损"]
    # resolved, and its project completed since (meetings.projects.demo)
    # handled by the completed project, then rated by its resident
    assert room.topics[0].status == RequestStatus.CLOSED
    assert room.total_planned_minutes == 85
    roles = {a.role.value for a in room.attendances}
    assert {"cppcc_member", "owners_committee_rep", "party_member_rep", "resident_rep"} <= roles
    quorum = services.quorum(room)
    assert 0 < quorum.voting_present < quorum.voting_invited

    speakers = meetings["智慧音箱安装项目协商会"]
    assert speakers.community.name == "竹韵社区"
    # 竹韵's people, and the district CPPCC member who also sits in 东篱's meetings
    assert {a.user.username[:7] for a in speakers.attendances} == {"zhuyun-", "dongli-"}
    (visitor,) = [a for a in speakers.attendances if not a.user.username.startswith("zhuyun-")]
    assert visitor.user.username == "dongli-02" and visitor.role == "cppcc_member"
    adverts = meetings["电梯轿厢广告清理协商会"]
    assert room.closed_at < speakers.started_at < speakers.closed_at < adverts.started_at
    road = meetings["飞马转盘中心路通行协商会"]
    assert road.status == MeetingStatus.IN_PROGRESS and road.started_at < utcnow()

    # what is coming up: the public list of each community shows it
    shed = meetings["电动自行车集中充电棚选址协商会"]
    assert shed.status == MeetingStatus.SCHEDULED and shed.starts_at > utcnow()
    assert [t.title for t in shed.topics] == ["楼道里给电动自行车充电"]
    assert shed.topics[0].status == RequestStatus.SCHEDULED
    canteen = meetings["长者助餐点开办协商会"]
    assert canteen.community.name == "竹韵社区" and canteen.starts_at > shed.starts_at


def test_demo_upcoming_meetings_are_on_the_public_list(seeded, client):
    for title in ("电动自行车集中充电棚选址协商会", "长者助餐点开办协商会"):
        meeting = meetings_by_title()[title]
        page = client.get(f"/communities/{meeting.community_id}/meetings")
        assert page.status_code == 200
        assert title in page.get_data(as_text=True)


def test_seed_demo_twice_adds_no_meeting(seeded, runner):
    counts = (
        db.session.scalar(db.select(db.func.count(Meeting.id))),
        db.session.scalar(db.select(db.func.count(Attendance.id))),
    )
    result = runner.invoke(args=["seed-demo"])
    assert "Demo meetings created: 0" in result.output
    assert counts == (
        db.session.scalar(db.select(db.func.count(Meeting.id))),
        db.session.scalar(db.select(db.func.count(Attendance.id))),
    )


def test_demo_pages_show(seeded, client):
    response = client.post(
        "/auth/login", data={"username": "dongli-sec", "password": "demo-password-1"}
    )
    assert response.status_code == 302
    for meeting in meetings_by_title().values():
        if meeting.community.name != "东篱社区":
            continue
        for path in ("", "/checkin", "/attendees", "/agenda", "/sign-in-sheet"):
            assert client.get(f"/meetings/{meeting.id}{path}").status_code == 200
    road = db.session.scalar(
        db.select(ResidentRequest).where(ResidentRequest.title == "飞马转盘中心路拥堵")
    )
    assert road.status == RequestStatus.SCHEDULED
    assert MeetingStatus.IN_PROGRESS in {m.status for m in meetings_by_title().values()}
