"""The demo resolutions and projects of the seed stories (``flask seed-demo``)."""

from __future__ import annotations

import pytest

from meetings.extensions import db
from meetings.polls.models import Poll
from meetings.projects import services
from meetings.projects.models import Project, ProjectUpdate, Resolution
from meetings.requests.models import RequestStatus, ResidentRequest


@pytest.fixture
def seeded(runner, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "demo-password-1")
    monkeypatch.setenv("ADMIN_PASSWORD", "admin-password-1")
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    return result


def projects_by_title() -> dict[str, Project]:
    return {p.title: p for p in db.session.scalars(db.select(Project))}


def test_the_stories_have_their_resolutions_and_projects(seeded, app):
    assert "Demo resolutions created: 4" in seeded.output
    projects = projects_by_title()

    room = projects["182幢活动室改造出新"]
    assert room.community.name == "东篱社区" and room.responsible_unit == "物业"
    assert room.status == "completed" and room.progress_percent == 100
    assert str(room.budget) == "86000.00"
    (resolution,) = room.resolutions
    assert resolution.decision == "adopted" and resolution.poll.outcome == "decided"
    assert resolution.poll.title == "选择活动室改造方案"
    stats = services.rating_stats([room.id])[room.id]
    assert stats.count == 5 and stats.average == 4.6
    request = db.session.scalar(
        db.select(ResidentRequest).where(ResidentRequest.title == "活动室地板磨损")
    )
    assert (
        request.status == RequestStatus.CLOSED
        and room in services.outcome_of_request(request).projects
    )
    photos = [u.photo for u in room.updates if u.photo]
    assert len(photos) == 3
    assert all(photo.size == len(photo.data) > 0 for photo in photos)

    speakers = projects["智慧音箱安装项目"]
    assert speakers.community.name == "竹韵社区" and speakers.status == "in_progress"
    assert speakers.conditions == [
        "安装前先做现场勘查，音箱远离卧室窗户；音量由物业代表杜明辉专人控制；"
        "播放时段为每天8:00–20:00。"
    ]
    assert speakers.resolutions[0].poll.outcome == "adopted"
    assert not services.is_overdue(speakers)

    boards = projects["电梯轿厢统一公告栏"]
    assert services.is_overdue(boards)
    assert boards.resolutions[0].poll.in_room

    for poll in db.session.scalars(db.select(Poll)):
        if poll.title != "选择中心路整治方案":
            assert poll.status == "closed" and poll.cast_count > 0


def test_seed_demo_twice_adds_no_resolution(seeded, runner):
    counts = (
        db.session.scalar(db.select(db.func.count(Resolution.id))),
        db.session.scalar(db.select(db.func.count(ProjectUpdate.id))),
    )
    again = runner.invoke(args=["seed-demo"])
    assert "Demo resolutions created: 0" in again.output
    assert counts == (
        db.session.scalar(db.select(db.func.count(Resolution.id))),
        db.session.scalar(db.select(db.func.count(ProjectUpdate.id))),
    )


def test_the_demo_boards_and_project_pages_show(seeded, client):
    for project in projects_by_title().values():
        board = client.get(f"/communities/{project.community_id}/projects")
        assert board.status_code == 200
        assert project.title in board.get_data(as_text=True)
        assert client.get(f"/projects/{project.id}").status_code == 200
        for update in project.updates:
            if update.photo:
                photo = client.get(f"/projects/{project.id}/updates/{update.id}/photo")
                assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
                photo.close()


def test_the_demo_publishes_the_minutes_of_the_meetings_that_are_over(seeded, client):
    from meetings.meeting.models import Meeting, MeetingStatus
    from meetings.minutes.models import MinutesVersion

    assert "Demo minutes published: 3" in seeded.output
    published = db.session.scalars(
        db.select(MinutesVersion).where(MinutesVersion.published_at.is_not(None))
    ).all()
    assert len(published) == 3
    for version in published:
        assert version.meeting.status == MeetingStatus.MINUTES_PUBLISHED
    assert (
        db.session.scalar(
            db.select(db.func.count())
            .select_from(Meeting)
            .where(Meeting.status == MeetingStatus.CLOSED)
        )
        == 0
    )
    listing = client.get("/api/v1/public/minutes").json
    assert listing["total"] == 3


def test_the_projects_name_who_answers_for_them_and_conditions_are_tasks(seeded, app):
    projects = projects_by_title()
    room = projects["182幢活动室改造出新"]
    assert room.responsible_unit_record.name == "优山美地物业服务中心"
    speakers = projects["智慧音箱安装项目"]
    assert speakers.responsible_user.username == "zhuxing-01"
    # the street office's official posted progress as the responsible person
    assert speakers.updates[0].author.username == "zhuxing-01"
    (resolution,) = speakers.resolutions
    tasks = {c.text[:4]: c for c in resolution.condition_tasks}
    assert tasks["音量由专"].assignee_user.username == "zhuyun-08"
    assert tasks["音量由专"].is_done and tasks["安装前先"].is_done
    assert tasks["播放时段"].assignee_unit.name == "竹韵物业服务中心"
    assert not tasks["播放时段"].is_done

    # the road: interim steps while the poll is open, the police and the partner unit
    road = projects["飞马转盘中心路高峰疏导"]
    assert road.responsible_unit_record.name == "开发区交警大队"
    assert road.responsible_unit == "开发区交警大队"
    assert road.status == "in_progress"
    assert road.updates[0].author.username == "jiaojing-01"
    (interim,) = road.resolutions
    assert interim.poll is None
    assert {c.assignee_unit.name for c in interim.condition_tasks} == {
        "通达物流党支部",
        "开发区交警大队",
    }
