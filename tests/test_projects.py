"""Projects (实事项目): states, progress updates, who hears of them, the
requests a completed project closes, overdue marking, ratings, and the board
(挂图作战) and project pages."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from conftest import field_errors, form_errors
from meeting_helpers import audit_actions, fresh, notifications_of
from project_helpers import Deliberation
from sqlalchemy.exc import IntegrityError

from meetings.errors import Conflict, InvalidTransition, NotAllowed, ValidationFailed
from meetings.extensions import db
from meetings.meeting import services as meeting_services
from meetings.meeting.models import MeetingStatus
from meetings.polls import services as poll_services
from meetings.projects import services
from meetings.projects.models import Project, ProjectRating, ProjectStatus, ProjectUpdate
from meetings.requests import services as request_services
from meetings.requests.models import RequestStatus

pytest_plugins = ["meeting_fixtures", "project_fixtures"]


def update(secretary, project, percent, note="按计划推进", status=None, **kwargs):
    result = services.add_progress_update(secretary, project, percent, note, status, **kwargs)
    db.session.flush()
    return result


def complete(secretary, project):
    return update(secretary, project, 100, "改造完成，已验收。", "completed")


# --- states -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "to"),
    [
        ([], "in_progress"),
        ([], "suspended"),
        (["in_progress"], "completed"),
        (["in_progress"], "suspended"),
        (["suspended"], "planned"),
        (["suspended"], "in_progress"),
        (["in_progress", "suspended"], "in_progress"),
    ],
)
def test_legal_transitions(secretary, project, path, to):
    for step in [*path, to]:
        update(
            secretary, project, 10, "原因：等待街道审批" if step == "suspended" else "进展", step
        )
    assert project.status == to


@pytest.mark.parametrize(
    ("path", "to"),
    [
        ([], "completed"),
        (["in_progress"], "planned"),
        (["suspended"], "completed"),
    ],
)
def test_illegal_transitions_are_refused(secretary, project, path, to):
    for step in path:
        update(secretary, project, 10, "原因" if step == "suspended" else "进展", step)
    before = project.status
    with pytest.raises(InvalidTransition):
        update(secretary, project, 20, "进展", to)
    assert fresh(project).status == before


def test_a_completed_project_takes_no_more_updates(secretary, project, in_request):
    update(secretary, project, 50, "进展", "in_progress")
    complete(secretary, project)
    with pytest.raises(InvalidTransition):
        update(secretary, project, 100, "补充说明")


def test_suspending_needs_a_reason_and_keeps_it(secretary, project):
    with pytest.raises(ValidationFailed) as raised:
        update(secretary, project, 0, "  ", "suspended")
    assert "note" in raised.value.fields
    update(secretary, project, 0, "等待业委会确认预算", "suspended")
    assert project.suspended_reason == "等待业委会确认预算"
    update(secretary, project, 10, "预算已确认，开工", "in_progress")
    assert project.suspended_reason is None


# --- progress updates ---------------------------------------------------------------------


def test_a_progress_update_records_percent_note_and_date(secretary, project):
    first = update(secretary, project, 30, "地板已拆除", on_date=date.today() - timedelta(days=2))
    # progress on a planned project means the work has begun
    assert project.status == ProjectStatus.IN_PROGRESS and first.status == "in_progress"
    second = update(secretary, project, 60, "防滑地胶铺设过半")
    assert project.progress_percent == 60 and second.status is None
    assert second.author == secretary and second.on_date == services.today()
    assert [u.percent for u in services.updates_of(project)] == [60, 30]
    assert audit_actions(project)[-2:] == ["project.updated", "project.updated"]


def test_completing_sets_100_percent_and_the_completion_time(secretary, project):
    update(secretary, project, 80, "进展", "in_progress")
    done = update(secretary, project, 90, "完工验收", "completed")
    assert done.percent == 100 and project.progress_percent == 100
    assert project.completed_at is not None


@pytest.mark.parametrize("percent", [-1, 101, None])
def test_a_percent_outside_0_to_100_is_refused(secretary, project, percent):
    with pytest.raises(ValidationFailed) as raised:
        update(secretary, project, percent, "进展")
    assert "progress_percent" in raised.value.fields


def test_a_date_in_the_future_is_refused(secretary, project):
    with pytest.raises(ValidationFailed) as raised:
        update(secretary, project, 10, "进展", on_date=services.today() + timedelta(days=1))
    assert "on_date" in raised.value.fields


def test_only_the_communitys_secretary_reports_progress(
    project, other_secretary, resident, admin, deliberation
):
    for user in (other_secretary, resident, deliberation.voters[0]):
        with pytest.raises(NotAllowed):
            services.add_progress_update(user, project, 10, "进展")
    services.add_progress_update(admin, project, 10, "进展")


# --- who hears of it --------------------------------------------------------------------


def test_requesters_and_proposal_authors_hear_of_every_update(
    secretary, resident, deliberation: Deliberation, closed_poll, in_request
):
    poll = closed_poll(["yes", "yes", "no"])
    resolution = services.record_resolution(
        secretary,
        deliberation.meeting,
        services.ResolutionSpec(
            text="改造活动室",
            poll_id=poll.id,
            project=services.ProjectSpec("活动室改造出新", "物业", date(2030, 1, 1)),
        ),
    )
    project = resolution.project
    author = deliberation.proposal.author
    assert set(services.followers_of(project)) == {resident, author}
    update(secretary, project, 10, "开工", "in_progress")
    update(secretary, project, 40, "地板已更换")
    update(secretary, project, 40, "等待材料", "suspended")
    update(secretary, project, 60, "恢复施工", "in_progress")
    complete(secretary, project)
    for user in (resident, author):
        kinds = [n.kind for n in notifications_of(user) if n.kind.startswith("project.")]
        assert kinds == [
            "project.in_progress",
            "project.update",
            "project.suspended",
            "project.in_progress",
            "project.completed",
        ]
    first = next(n for n in notifications_of(resident) if n.kind == "project.update")
    assert "活动室改造出新" in first.subject and "40%" in first.subject
    assert first.body == "地板已更换"
    assert first.link == f"/projects/{project.id}"
    assert not [n for n in notifications_of(secretary) if n.kind.startswith("project.")]
    others = deliberation.voters[1:]
    assert not [n for u in others for n in notifications_of(u) if n.kind.startswith("project.")]


def test_without_a_poll_the_active_proposals_of_the_item_are_behind_the_project(
    project, deliberation
):
    withdrawn = poll_services.table_proposal(deliberation.voters[1], deliberation.item, "只换地板")
    poll_services.withdraw_proposal(deliberation.voters[1], withdrawn)
    assert services.proposals_behind(project) == [deliberation.proposal]


# --- requests closed when the project completes ------------------------------------------


def test_the_requests_are_handled_when_the_project_completes(
    secretary, resident, project, deliberation
):
    meeting_services.transition_meeting(secretary, deliberation.meeting, MeetingStatus.CLOSED)
    item = deliberation.request
    assert item.status == RequestStatus.DELIBERATED
    update(secretary, project, 50, "施工中", "in_progress")
    assert item.status == RequestStatus.DELIBERATED
    complete(secretary, project)
    # handled, not closed: the resident's rating closes it (or reopens it)
    assert item.status == RequestStatus.HANDLED
    assert [e.to_status for e in item.events][-2:] == ["resolved", "handled"]
    assert item.reply.startswith("实事项目“活动室改造出新”（责任单位：物业）已于")
    assert item.replied_by == secretary


def test_a_request_still_on_a_meetings_agenda_is_left_open(secretary, project, deliberation):
    # the meeting is still in progress: its topic is "scheduled"
    update(secretary, project, 50, "施工中", "in_progress")
    complete(secretary, project)
    assert deliberation.request.status == RequestStatus.SCHEDULED


def test_hand_over_requests_of_is_a_hook_for_resolved_requests(secretary, project, deliberation):
    meeting_services.transition_meeting(secretary, deliberation.meeting, MeetingStatus.CLOSED)
    request_services.transition(deliberation.request, RequestStatus.RESOLVED, secretary, "决议")
    project.status = ProjectStatus.COMPLETED
    handled = services.hand_over_requests_of(secretary, project)
    assert handled == [deliberation.request]
    # handled, not closed: the resident's rating closes it (or reopens it)
    assert deliberation.request.status == RequestStatus.HANDLED


# --- overdue ------------------------------------------------------------------------------


def test_a_project_past_its_due_date_and_not_completed_is_overdue(secretary, make_project):
    today = services.today()
    late = make_project(title="逾期项目", due_date=today - timedelta(days=1))
    due_today = make_project(title="今天到期", due_date=today)
    done = make_project(title="已完成", due_date=today - timedelta(days=30))
    update(secretary, done, 10, "进展", "in_progress")
    complete(secretary, done)
    assert services.is_overdue(late) and not services.is_overdue(due_today)
    assert not services.is_overdue(done)
    summary = services.board_summary(late.community)
    assert summary.overdue == 1
    assert {c.project.title: c.is_overdue for c in summary.cards} == {
        "逾期项目": True,
        "今天到期": False,
        "已完成": False,
    }


def test_overdue_follows_the_communitys_time_zone(project, monkeypatch):
    """At 00:30 in Shanghai it is still yesterday in UTC: "today" is Shanghai's."""
    shanghai = datetime(2030, 3, 2, 0, 30, tzinfo=ZoneInfo("Asia/Shanghai"))

    # the moment every "today" of the app reads (meetings.main.periods)
    monkeypatch.setattr("meetings.main.periods.utcnow", lambda: shanghai.astimezone(UTC))
    assert services.today() == date(2030, 3, 2)
    project.due_date = date(2030, 3, 1)
    assert services.is_overdue(project)


# --- ratings ------------------------------------------------------------------------------


@pytest.fixture
def completed(secretary, project):
    update(secretary, project, 50, "施工中", "in_progress")
    complete(secretary, project)
    return project


def test_residents_rate_a_completed_project_once(resident, completed, make_member, in_request):
    rating = services.rate_project(resident, completed, 5, "地板防滑，老人放心")
    assert (rating.score, rating.comment) == (5, "地板防滑，老人放心")
    with pytest.raises(Conflict):
        services.rate_project(resident, completed, 1)
    neighbour = make_member("李阿姨")
    services.rate_project(neighbour, completed, 4)
    db.session.flush()
    stats = services.rating_stats([completed.id])[completed.id]
    assert (stats.count, stats.average) == (2, 4.5)
    assert services.board_summary(completed.community).rating.average == 4.5
    assert audit_actions(completed)[-1] == "project.rated"


def test_a_project_is_rated_only_once_completed(resident, project):
    with pytest.raises(Conflict):
        services.rate_project(resident, project, 5)


def test_only_members_of_the_community_rate(completed, other_secretary, admin):
    for user in (other_secretary, admin):
        with pytest.raises(NotAllowed):
            services.rate_project(user, completed, 5)


@pytest.mark.parametrize("score", [0, 6, True, "5"])
def test_a_score_is_a_whole_number_from_1_to_5(resident, completed, score):
    with pytest.raises(ValidationFailed) as raised:
        services.rate_project(resident, completed, score)
    assert "score" in raised.value.fields


def test_the_database_keeps_one_rating_per_resident(resident, completed):
    db.session.add(ProjectRating(project=completed, user=resident, score=4))
    db.session.flush()
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.add(ProjectRating(project=completed, user=resident, score=3))
        db.session.flush()


# --- the pages ----------------------------------------------------------------------------


def test_the_board_shows_every_project_with_its_progress_and_filters(
    english, secretary, make_project
):
    today = services.today()
    running = make_project(title="智慧音箱安装", due_date=today - timedelta(days=3))
    update(secretary, running, 45, "已完成现场勘查", "in_progress")
    planned = make_project(title="中心路隔离栏")
    done = make_project(title="活动室改造出新")
    update(secretary, done, 50, "施工中", "in_progress")
    complete(secretary, done)
    page = english.get(f"/communities/{running.community_id}/projects")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for project in (running, planned, done):
        assert f'href="/projects/{project.id}"' in html
    assert html.index("智慧音箱安装") < html.index("中心路隔离栏") < html.index("活动室改造出新")
    assert 'aria-valuenow="45"' in html and "progress-bar progress-45" in html
    assert 'class="project-card project-card-in_progress is-overdue"' in html
    assert html.count("badge badge-overdue") == 1
    only = english.get(f"/communities/{running.community_id}/projects?status=completed")
    text = only.get_data(as_text=True)
    assert "活动室改造出新" in text and "智慧音箱安装" not in text
    unknown = english.get(f"/communities/{running.community_id}/projects?status=bogus")
    assert unknown.status_code == 200 and "中心路隔离栏" in unknown.get_data(as_text=True)


def test_the_board_shows_the_average_rating(english, completed, resident, make_member):
    services.rate_project(resident, completed, 5)
    services.rate_project(make_member("李阿姨"), completed, 4)
    db.session.flush()
    html = english.get(f"/communities/{completed.community_id}/projects").get_data(as_text=True)
    assert "<strong>4.5</strong>" in html and "2 ratings" in html


def test_the_progress_bar_steps_by_five_percent(english, secretary, project):
    update(secretary, project, 37, "进展")
    html = english.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "progress-bar progress-35" in html and 'aria-valuenow="37"' in html
    assert "style=" not in html


def test_the_project_page_shows_resolutions_requests_and_updates(
    english, login, secretary, resident, project
):
    update(secretary, project, 30, "地板已拆除")
    page = english.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "活动室改造出新" in page and "物业" in page
    assert "对182幢活动室进行改造出新。" in page
    assert "施工期间活动改在党群服务中心。" in page
    assert "地板已拆除" in page
    assert "活动室地板磨损" in page
    assert "/requests/" not in page  # only the requester and secretary may open the request
    assert "Report progress" not in page
    login(resident)
    page = english.get(f"/projects/{project.id}").get_data(as_text=True)
    assert f'href="/requests/{project.requests[0].id}"' in page


def test_the_secretary_reports_progress_on_the_page(english, login, secretary, project):
    login(secretary)
    page = english.get(f"/projects/{project.id}").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page and "Report progress" in page
    response = english.post(
        f"/projects/{project.id}/updates",
        data={"percent": "25", "status": "in_progress", "note": "已开工", "on_date": ""},
    )
    assert response.status_code == 302
    assert response.location.endswith(f"/projects/{project.id}#updates")
    assert fresh(project).status == ProjectStatus.IN_PROGRESS
    assert fresh(project).progress_percent == 25


def test_the_progress_form_shows_errors_and_refused_transitions(english, login, secretary, project):
    login(secretary)
    bad = english.post(
        f"/projects/{project.id}/updates", data={"percent": "120", "status": "", "note": ""}
    )
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert field_errors(html, "percent") == ["A percentage from 0 to 100."]
    empty = english.post(
        f"/projects/{project.id}/updates", data={"percent": "10", "status": "", "note": ""}
    )
    assert field_errors(empty.get_data(as_text=True), "note") == ["Please say what has been done."]
    illegal = english.post(
        f"/projects/{project.id}/updates",
        data={"percent": "100", "status": "completed", "note": "完成"},
    )
    assert illegal.status_code == 409
    assert form_errors(illegal.get_data(as_text=True))[0].startswith(
        "This project is “Planned”: it cannot become “Completed”."
    )
    assert db.session.scalar(db.select(db.func.count(ProjectUpdate.id))) == 0


def test_residents_rate_on_the_page_once(english, login, resident, completed):
    login(resident)
    page = english.get(f"/projects/{completed.id}").get_data(as_text=True)
    assert "How satisfied are you with the result?" in page
    missing = english.post(f"/projects/{completed.id}/ratings", data={"comment": "好"})
    assert missing.status_code == 422
    assert field_errors(missing.get_data(as_text=True), "score") == [
        "Please choose a score from 1 to 5."
    ]
    first = english.post(f"/projects/{completed.id}/ratings", data={"score": "4", "comment": "好"})
    assert first.status_code == 302 and first.location.endswith("#ratings")
    page = english.get(f"/projects/{completed.id}").get_data(as_text=True)
    assert "You have rated this project." in page
    assert "How satisfied are you" not in page
    second = english.post(f"/projects/{completed.id}/ratings", data={"score": "1"})
    assert second.status_code == 409
    assert form_errors(second.get_data(as_text=True)) == ["You have already rated this project."]
    assert db.session.scalar(db.select(db.func.count(ProjectRating.id))) == 1


def test_a_project_not_completed_is_not_rated_on_the_page(english, login, resident, project):
    login(resident)
    assert "How satisfied" not in english.get(f"/projects/{project.id}").get_data(as_text=True)
    response = english.post(f"/projects/{project.id}/ratings", data={"score": "5"})
    assert response.status_code == 409
    assert "A project can be rated once it is completed." in response.get_data(as_text=True)


def test_anonymous_visitors_are_invited_to_log_in_to_rate(english, completed):
    page = english.get(f"/projects/{completed.id}").get_data(as_text=True)
    assert "Log in to rate this project" in page


def test_unknown_projects_are_not_found(client, community):
    assert client.get("/projects/999999").status_code == 404
    assert client.get("/communities/999999/projects").status_code == 404


def test_a_project_is_listed_for_its_own_community_only(english, project, other_community):
    html = english.get(f"/communities/{other_community.id}/projects").get_data(as_text=True)
    assert "活动室改造出新" not in html and "No project yet." in html


def test_board_summary_and_projects_of_for_the_minutes_and_portal(secretary, make_project):
    a = make_project(title="甲")
    b = make_project(title="乙")
    update(secretary, b, 20, "开工", "in_progress")
    assert services.projects_of(a.community) == [b, a]
    assert services.projects_of(a.community, ProjectStatus.PLANNED) == [a]
    summary = services.board_summary(a.community)
    assert summary.total == 2 and summary.counts[ProjectStatus.IN_PROGRESS] == 1
    assert [card.project for card in summary.cards] == [b, a]
    assert isinstance(services.resolutions_of(a.resolutions[0].meeting), list)
    assert db.session.get(Project, a.id) is a


def test_a_suspended_project_shows_its_reason_on_the_board_and_page(english, secretary, project):
    update(secretary, project, 0, "等待业委会确认预算", "suspended")
    board = english.get(f"/communities/{project.community_id}/projects").get_data(as_text=True)
    assert "Suspended: 等待业委会确认预算" in board
    assert "bar-suspended" in board
    page = english.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "Suspended. Reason: 等待业委会确认预算" in page
