"""Resolutions (决议): the poll-outcome rule, the meeting's state, the project
they open or add to, through the API, the secretary's form and the pages."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import field_errors
from meeting_helpers import audit_actions, fresh
from project_helpers import resolution_count

from meetings.extensions import db
from meetings.meeting import services as meeting_services
from meetings.meeting.models import MeetingStatus
from meetings.organisation.models import Unit, UnitKind, UnitMember
from meetings.polls import services as poll_services
from meetings.projects import services
from meetings.projects.models import Decision, Project, ProjectStatus, Resolution
from meetings.requests import services as request_services

pytest_plugins = ["meeting_fixtures", "project_fixtures"]


def post(client, bearer, user, meeting, **body):
    return client.post(
        f"/api/v1/meetings/{meeting.id}/resolutions",
        json={"text": "对182幢活动室进行改造出新。"} | body,
        headers=bearer(user),
    )


# --- the poll's result decides ---------------------------------------------------------


def test_an_adopted_poll_makes_an_agreed_resolution(
    client, bearer, secretary, deliberation, closed_poll
):
    poll = closed_poll(["yes", "yes", "no"])
    response = post(client, bearer, secretary, deliberation.meeting, poll_id=poll.id)
    assert response.status_code == 201, response.json
    body = response.json
    assert (body["decision"], body["poll_id"], body["poll_outcome"]) == (
        "adopted",
        poll.id,
        "adopted",
    )
    assert body["agenda_item_id"] == deliberation.item.id  # the poll's item
    assert body["project_id"] is None


def test_a_rejected_poll_cannot_yield_an_agreed_resolution(
    client, bearer, secretary, deliberation, closed_poll
):
    poll = closed_poll(["no", "no", "yes"])
    response = post(
        client, bearer, secretary, deliberation.meeting, poll_id=poll.id, decision="adopted"
    )
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_error"
    assert "decision" in response.json["error"]["fields"]
    assert resolution_count() == 0


def test_a_resolution_on_a_rejected_poll_says_it_was_not_agreed(
    client, bearer, secretary, deliberation, closed_poll
):
    poll = closed_poll(["no", "no", "abstain"])
    response = post(
        client, bearer, secretary, deliberation.meeting, poll_id=poll.id, text="暂不改造。"
    )
    assert response.status_code == 201, response.json
    assert response.json["decision"] == "rejected"
    also = post(
        client,
        bearer,
        secretary,
        deliberation.meeting,
        poll_id=poll.id,
        decision="rejected",
        text="暂不改造，明年再议。",
    )
    assert also.status_code == 201 and also.json["decision"] == "rejected"


def test_a_rejected_poll_opens_no_project(client, bearer, secretary, deliberation, closed_poll):
    poll = closed_poll(["no", "no", "no"])
    response = post(
        client,
        bearer,
        secretary,
        deliberation.meeting,
        poll_id=poll.id,
        project={"title": "活动室改造", "responsible_unit": "物业", "due_date": "2030-01-31"},
    )
    assert response.status_code == 422
    assert "project" in response.json["error"]["fields"]
    assert db.session.scalar(db.select(db.func.count(Project.id))) == 0


def test_a_poll_without_quorum_counts_as_not_agreed(secretary, deliberation, db):
    poll = poll_services.create_poll(
        secretary,
        deliberation.item,
        poll_services.PollSpec(title="是否改造", kind="yes_no_abstain", quorum_percent=100),
    )
    poll_services.open_poll(secretary, poll)
    poll_services.cast_ballot(deliberation.voters[0], poll, [poll.options[0].id])
    poll_services.close_poll(secretary, poll)
    assert poll.outcome == "no_quorum"
    resolution = services.record_resolution(
        secretary,
        deliberation.meeting,
        services.ResolutionSpec(text="未达法定人数。", poll_id=poll.id),
    )
    assert resolution.decision == Decision.REJECTED


def test_a_decided_choice_makes_an_agreed_resolution(
    client, bearer, secretary, deliberation, closed_poll
):
    poll = closed_poll(
        ["全面改造", "全面改造", "只换地板"], kind="single", options=["全面改造", "只换地板"]
    )
    assert poll.outcome == "decided"
    response = post(
        client, bearer, secretary, deliberation.meeting, poll_id=poll.id, decision="adopted"
    )
    assert response.status_code == 201, response.json
    assert response.json["decision"] == "adopted"
    refused = post(
        client, bearer, secretary, deliberation.meeting, poll_id=poll.id, decision="rejected"
    )
    assert refused.status_code == 422 and "decision" in refused.json["error"]["fields"]


def test_without_a_poll_the_secretary_says_what_was_decided(
    client, bearer, secretary, deliberation
):
    agreed = post(client, bearer, secretary, deliberation.meeting)
    assert agreed.status_code == 201 and agreed.json["decision"] == "adopted"
    assert agreed.json["poll_id"] is None and agreed.json["agenda_item_id"] is None
    declined = post(client, bearer, secretary, deliberation.meeting, decision="rejected")
    assert declined.status_code == 201 and declined.json["decision"] == "rejected"


def test_a_poll_of_another_meeting_is_refused(
    client, bearer, secretary, deliberation, closed_poll, make_meeting
):
    poll = closed_poll(["yes", "yes", "yes"])
    other = make_meeting(MeetingStatus.IN_PROGRESS, title="另一次协商会")
    response = post(client, bearer, secretary, other, poll_id=poll.id)
    assert response.status_code == 422
    assert "poll_id" in response.json["error"]["fields"]


def test_an_open_poll_is_refused(client, bearer, secretary, deliberation):
    poll = poll_services.create_poll(
        secretary,
        deliberation.item,
        poll_services.PollSpec(title="是否改造", kind="yes_no_abstain"),
    )
    poll_services.open_poll(secretary, poll)
    db.session.flush()
    response = post(client, bearer, secretary, deliberation.meeting, poll_id=poll.id)
    assert response.status_code == 422
    assert "poll_id" in response.json["error"]["fields"]


def test_an_agenda_item_of_another_meeting_or_poll_is_refused(
    client, bearer, secretary, deliberation, closed_poll, make_meeting
):
    poll = closed_poll()
    other_item = deliberation.meeting.agenda_items[1]
    mismatch = post(
        client,
        bearer,
        secretary,
        deliberation.meeting,
        poll_id=poll.id,
        agenda_item_id=other_item.id,
    )
    assert mismatch.status_code == 422 and "agenda_item_id" in mismatch.json["error"]["fields"]
    other = make_meeting(MeetingStatus.IN_PROGRESS, title="另一次协商会")
    foreign = post(client, bearer, secretary, other, agenda_item_id=deliberation.item.id)
    assert foreign.status_code == 422 and "agenda_item_id" in foreign.json["error"]["fields"]


# --- the meeting's state ---------------------------------------------------------------


@pytest.mark.parametrize("status", ["draft", "scheduled", "cancelled"])
def test_only_a_meeting_under_way_or_closed_takes_resolutions(
    client, bearer, secretary, make_meeting, status
):
    meeting = make_meeting(status)
    response = post(client, bearer, secretary, meeting)
    assert response.status_code == 409
    assert response.json["error"]["code"] == "conflict"


def test_a_closed_meeting_takes_resolutions_until_its_minutes_are_out(
    client, bearer, secretary, deliberation
):
    meeting = deliberation.meeting
    meeting_services.transition_meeting(secretary, meeting, MeetingStatus.CLOSED)
    db.session.flush()
    assert post(client, bearer, secretary, meeting).status_code == 201
    meeting_services.mark_minutes_published(secretary, fresh(meeting))
    db.session.flush()
    late = post(client, bearer, secretary, meeting)
    assert late.status_code == 409


# --- projects opened or added to --------------------------------------------------------


def test_a_resolution_opens_a_project_with_the_requests_and_conditions(
    client, bearer, secretary, deliberation, closed_poll
):
    poll = closed_poll(["yes", "yes", "no"])
    response = post(
        client,
        bearer,
        secretary,
        deliberation.meeting,
        poll_id=poll.id,
        conditions="先做现场勘查；音量由专人控制；播放时段8:00–20:00",
        project={
            "title": "活动室改造出新",
            "responsible_unit": "优山美地物业",
            "due_date": "2030-06-30",
            "budget": "86000.50",
        },
    )
    assert response.status_code == 201, response.json
    project = db.session.get(Project, response.json["project_id"])
    assert project.title == "活动室改造出新"
    assert project.responsible_unit == "优山美地物业"
    assert str(project.budget) == "86000.50"
    assert project.due_date.isoformat() == "2030-06-30"
    assert project.status == ProjectStatus.PLANNED and project.progress_percent == 0
    assert project.community_id == deliberation.meeting.community_id
    assert [r.id for r in project.requests] == [deliberation.request.id]
    assert project.conditions == ["先做现场勘查；音量由专人控制；播放时段8:00–20:00"]
    assert audit_actions(project) == ["project.created"]
    resolution = db.session.get(Resolution, response.json["id"])
    assert audit_actions(resolution) == ["resolution.recorded"]


@pytest.mark.parametrize(
    ("project", "field"),
    [
        ({"responsible_unit": "物业", "due_date": "2030-01-01"}, "project.title"),
        ({"title": "改造", "due_date": "2030-01-01"}, "project.responsible_unit"),
        ({"title": "改造", "responsible_unit": "物业"}, "project.due_date"),
        (
            {"title": "改造", "responsible_unit": "物业", "due_date": "2030-01-01", "budget": -1},
            "project.budget",
        ),
        (
            {
                "title": "改造",
                "responsible_unit": "物业",
                "due_date": "2030-01-01",
                "budget": "12.345",
            },
            "project.budget",
        ),
        (
            {
                "title": "改造",
                "responsible_unit": "物业",
                "due_date": "2030-01-01",
                "budget": "NaN",
            },
            "project.budget",
        ),
        (
            {
                "title": "改造",
                "responsible_unit": "物业",
                "due_date": "2030-01-01",
                "budget": "1e20",
            },
            "project.budget",
        ),
    ],
)
def test_a_new_project_needs_sound_details(client, bearer, secretary, deliberation, project, field):
    response = post(client, bearer, secretary, deliberation.meeting, project=project)
    assert response.status_code == 422, response.json
    assert field in response.json["error"]["fields"]
    assert resolution_count() == 0


def test_a_later_resolution_adds_to_an_existing_project(
    client, bearer, secretary, deliberation, project
):
    response = post(
        client,
        bearer,
        secretary,
        deliberation.meeting,
        text="增加卫生间改造。",
        conditions="预算不超过十万元",
        project_id=project.id,
    )
    assert response.status_code == 201, response.json
    assert response.json["project_id"] == project.id
    assert len(fresh(project).resolutions) == 2
    assert fresh(project).conditions == ["施工期间活动改在党群服务中心。", "预算不超过十万元"]


def test_a_project_of_another_community_or_completed_cannot_be_added_to(
    client, bearer, secretary, deliberation, project, make_project, other_community, db
):
    both = post(
        client,
        bearer,
        secretary,
        deliberation.meeting,
        project_id=project.id,
        project={"title": "x", "responsible_unit": "物业", "due_date": "2030-01-01"},
    )
    assert both.status_code == 422 and "project" in both.json["error"]["fields"]
    foreign = Project(
        community=other_community, title="别处的项目", responsible_unit="物业", created_by=None
    )
    db.session.add(foreign)
    db.session.flush()
    response = post(client, bearer, secretary, deliberation.meeting, project_id=foreign.id)
    assert response.status_code == 422 and "project_id" in response.json["error"]["fields"]
    done = make_project(title="已完成的项目")
    done.status = ProjectStatus.COMPLETED
    db.session.flush()
    response = post(client, bearer, secretary, deliberation.meeting, project_id=done.id)
    assert response.status_code == 422 and "project_id" in response.json["error"]["fields"]


# --- who may ----------------------------------------------------------------------------


def test_only_the_communitys_secretary_records_resolutions(
    client, bearer, deliberation, other_secretary, resident, admin
):
    meeting = deliberation.meeting
    attendee = deliberation.voters[0]
    for user, status in ((attendee, 403), (resident, 403), (other_secretary, 403), (admin, 201)):
        assert post(client, bearer, user, meeting).status_code == status, user.username
    anonymous = client.post(f"/api/v1/meetings/{meeting.id}/resolutions", json={"text": "x"})
    assert anonymous.status_code == 401


def test_the_list_of_resolutions_is_for_insiders_until_the_meeting_closes(
    client, bearer, secretary, deliberation, resident
):
    meeting = deliberation.meeting
    assert post(client, bearer, secretary, meeting).status_code == 201
    url = f"/api/v1/meetings/{meeting.id}/resolutions"
    attendee = client.get(url, headers=bearer(deliberation.voters[1]))
    assert attendee.status_code == 200 and attendee.json["total"] == 1
    assert client.get(url, headers=bearer(resident)).status_code == 403
    assert client.get(url).status_code == 401  # a token might show them
    meeting_services.transition_meeting(secretary, meeting, MeetingStatus.CLOSED)
    db.session.flush()
    public = client.get(url)
    assert public.status_code == 200
    assert [r["text"] for r in public.json["items"]] == ["对182幢活动室进行改造出新。"]


def test_a_draft_meetings_resolutions_are_not_found_by_outsiders(
    client, bearer, make_meeting, resident
):
    meeting = make_meeting("draft")
    assert client.get(f"/api/v1/meetings/{meeting.id}/resolutions").status_code == 404
    assert post(client, bearer, resident, meeting).status_code == 404


# --- the secretary's form and the pages -------------------------------------------------


def test_the_secretary_records_a_resolution_with_a_new_project_on_the_form(
    english, login, secretary, deliberation, closed_poll
):
    poll = closed_poll(["yes", "yes", "no"])
    login(secretary)
    url = f"/meetings/{deliberation.meeting.id}/resolutions/new"
    page = english.get(f"{url}?poll_id={poll.id}")
    assert page.status_code == 200
    assert f'<option selected value="{poll.id}">' in page.get_data(as_text=True)
    response = english.post(
        url,
        data={
            "agenda_item_id": 0,
            "poll_id": poll.id,
            "decision": "",
            "text": "对活动室进行改造出新。",
            "conditions": "先做现场勘查",
            "project_mode": "new",
            "project_title": "活动室改造出新",
            "responsible_unit": "物业",
            "due_date": "2030-05-31",
            "budget": "86000",
            "project_description": "",
            "project_id": 0,
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.location.endswith(f"/meetings/{deliberation.meeting.id}#resolutions")
    project = db.session.scalar(db.select(Project))
    assert project.title == "活动室改造出新" and str(project.budget) == "86000.00"
    page = english.get(f"/meetings/{deliberation.meeting.id}").get_data(as_text=True)
    assert "对活动室进行改造出新。" in page
    assert "Agreed" in page and "先做现场勘查" in page
    assert f'href="/projects/{project.id}"' in page


def test_the_form_shows_the_services_errors_next_to_the_fields(
    english, login, secretary, deliberation, closed_poll
):
    poll = closed_poll(["no", "no", "yes"])
    login(secretary)
    response = english.post(
        f"/meetings/{deliberation.meeting.id}/resolutions/new",
        data={
            "poll_id": poll.id,
            "agenda_item_id": 0,
            "decision": "adopted",
            "text": "改造活动室。",
            "project_mode": "none",
            "project_id": 0,
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert field_errors(html, "decision")[0].startswith("The poll “是否改造活动室” ended")
    budget = english.post(
        f"/meetings/{deliberation.meeting.id}/resolutions/new",
        data={
            "poll_id": 0,
            "agenda_item_id": 0,
            "decision": "",
            "text": "改造活动室。",
            "project_mode": "new",
            "project_title": "",
            "responsible_unit": "物业",
            "due_date": "2030-05-31",
            "budget": "八万",
            "project_id": 0,
        },
    )
    assert budget.status_code == 422
    html = budget.get_data(as_text=True)
    assert field_errors(html, "budget") == ["An amount in yuan, e.g. 86000 or 12500.50."]
    assert field_errors(html, "project_title") == ["Please fill this in."]
    existing = english.post(
        f"/meetings/{deliberation.meeting.id}/resolutions/new",
        data={"text": "改造", "project_mode": "existing", "project_id": 0, "poll_id": 0},
    )
    assert existing.status_code == 422
    assert field_errors(existing.get_data(as_text=True), "project_id") == [
        "Please choose the project."
    ]
    assert resolution_count() == 0


def test_the_form_says_when_the_meeting_takes_no_resolutions(
    english, login, secretary, make_meeting
):
    meeting = make_meeting("scheduled")
    login(secretary)
    page = english.get(f"/meetings/{meeting.id}/resolutions/new")
    assert page.status_code == 200
    assert "Resolutions are recorded while the meeting is in progress" in page.get_data(
        as_text=True
    )
    refused = english.post(
        f"/meetings/{meeting.id}/resolutions/new",
        data={"text": "x", "project_mode": "none", "poll_id": 0, "agenda_item_id": 0},
    )
    assert refused.status_code == 409
    assert resolution_count() == 0


def test_resolutions_show_to_insiders_while_the_meeting_runs_and_to_all_once_closed(
    client, login, secretary, deliberation
):
    services.record_resolution(
        secretary, deliberation.meeting, services.ResolutionSpec(text="对活动室进行改造出新。")
    )
    db.session.flush()
    url = f"/meetings/{deliberation.meeting.id}"
    assert "对活动室进行改造出新。" not in client.get(url).get_data(as_text=True)
    login(deliberation.voters[2])
    assert "对活动室进行改造出新。" in client.get(url).get_data(as_text=True)
    meeting_services.transition_meeting(secretary, deliberation.meeting, MeetingStatus.CLOSED)
    db.session.flush()
    client.post("/auth/logout")
    assert "对活动室进行改造出新。" in client.get(url).get_data(as_text=True)


def test_the_request_page_shows_the_resolution_and_the_project(
    english, login, resident, deliberation, project
):
    login(resident)
    page = english.get(f"/requests/{deliberation.request.id}").get_data(as_text=True)
    assert "What was decided" in page
    assert "对182幢活动室进行改造出新。" in page
    assert f'href="/projects/{project.id}"' in page
    assert "施工期间活动改在党群服务中心。" in page


def test_a_resolution_on_an_item_naming_no_request_takes_the_meetings_only_topic(
    secretary, deliberation
):
    other_item = deliberation.meeting.agenda_items[1]  # names no request
    resolution = services.record_resolution(
        secretary,
        deliberation.meeting,
        services.ResolutionSpec(
            text="改造活动室",
            agenda_item_id=other_item.id,
            project=services.ProjectSpec("活动室改造", "物业", date(2030, 1, 1)),
        ),
    )
    assert resolution.project.requests == [deliberation.request]


def test_with_several_topics_an_unnamed_item_takes_only_the_unnamed_ones(
    secretary, deliberation, resident, community, make_meeting
):
    second = request_services.raise_request(
        resident,
        community,
        request_services.RequestDraft(
            "楼道灯不亮", "3单元楼道灯坏了", "public_facilities", "3单元"
        ),
    )
    request_services.reply_to_request(secretary, second, "accept", "列入议题")
    meeting = make_meeting(
        "draft", title="两个议题的会", request_ids=[deliberation.request.id, second.id]
    )
    named = meeting_services.add_agenda_item(
        secretary, meeting, "活动室", request_ids=[deliberation.request.id]
    )
    other = meeting_services.add_agenda_item(secretary, meeting, "其他")
    meeting_services.transition_meeting(secretary, meeting, MeetingStatus.SCHEDULED)
    meeting_services.transition_meeting(secretary, meeting, MeetingStatus.IN_PROGRESS)
    assert services.requests_behind(meeting, named) == [deliberation.request]
    assert services.requests_behind(meeting, other) == [second]
    assert services.requests_behind(meeting, None) == [second]


# --- correcting the wording ---------------------------------------------------------------


def test_the_secretary_corrects_a_resolutions_wording_on_the_form(
    english, login, secretary, deliberation, project
):
    resolution = project.resolutions[0]
    login(secretary)
    meeting_page = english.get(f"/meetings/{deliberation.meeting.id}").get_data(as_text=True)
    assert f"/resolutions/{resolution.id}/edit" in meeting_page

    form = english.get(f"/resolutions/{resolution.id}/edit")
    assert form.status_code == 200 and "对182幢活动室进行改造出新。" in form.get_data(as_text=True)
    empty = english.post(f"/resolutions/{resolution.id}/edit", data={"text": "  "})
    assert empty.status_code == 422
    assert field_errors(empty.get_data(as_text=True), "text")

    saved = english.post(
        f"/resolutions/{resolution.id}/edit",
        data={
            "text": "对182幢一层活动室进行改造出新。",
            "conditions": "施工期间活动改在党群服务中心；周末不施工。",
        },
    )
    assert saved.status_code == 302
    resolution = fresh(resolution)
    assert resolution.text == "对182幢一层活动室进行改造出新。"
    assert resolution.decision == Decision.ADOPTED and resolution.project_id == project.id
    # the project reads its conditions from its resolutions
    assert fresh(project).conditions == ["施工期间活动改在党群服务中心；周末不施工。"]
    assert audit_actions(resolution) == ["resolution.recorded", "resolution.corrected"]


def test_a_resolution_is_corrected_through_the_api_until_the_minutes_are_out(
    client, bearer, secretary, resident, deliberation, project
):
    resolution = project.resolutions[0]
    path = f"/api/v1/resolutions/{resolution.id}"
    assert client.patch(path, json={"text": "x"}, headers=bearer(resident)).status_code == 403
    assert client.patch(path, json={"text": ""}, headers=bearer(secretary)).status_code == 422
    answer = client.patch(path, json={"conditions": "周末不施工。"}, headers=bearer(secretary))
    assert answer.status_code == 200
    assert answer.json["conditions"] == "周末不施工。"
    assert answer.json["text"] == "对182幢活动室进行改造出新。"  # left as it was

    meeting_services.transition_meeting(secretary, deliberation.meeting, MeetingStatus.CLOSED)
    meeting_services.mark_minutes_published(secretary, fresh(deliberation.meeting))
    db.session.flush()
    late = client.patch(path, json={"text": "改了"}, headers=bearer(secretary))
    assert late.status_code == 409
    assert fresh(resolution).text == "对182幢活动室进行改造出新。"
    assert (
        client.patch("/api/v1/resolutions/999999", json={}, headers=bearer(secretary)).status_code
        == 404
    )


def test_the_form_names_a_unit_serving_the_community_and_a_person(
    english, login, secretary, deliberation, make_user
):
    rep = make_user("wuye", display_name="物业陈经理")
    unit = Unit(
        name="优山美地物业",
        kind=UnitKind.PROPERTY_COMPANY,
        communities=[deliberation.meeting.community],
    )
    db.session.add_all([unit, UnitMember(unit=unit, user=rep)])
    db.session.flush()
    login(secretary)
    url = f"/meetings/{deliberation.meeting.id}/resolutions/new"
    page = english.get(url).get_data(as_text=True)
    assert f'<option value="{unit.id}">优山美地物业</option>' in page
    data = {
        "agenda_item_id": 0,
        "poll_id": 0,
        "decision": "",
        "text": "对活动室进行改造出新。",
        "project_mode": "new",
        "project_title": "活动室改造出新",
        "responsible_unit": "",
        "responsible_unit_id": unit.id,
        "responsible_person": "nobody-here",
        "due_date": "2030-05-31",
        "project_id": 0,
    }
    wrong = english.post(url, data=data)
    assert wrong.status_code == 422
    assert field_errors(wrong.get_data(as_text=True), "responsible_person")
    response = english.post(url, data=data | {"responsible_person": "wuye"})
    assert response.status_code == 302, response.get_data(as_text=True)
    project = db.session.scalar(db.select(Project))
    assert project.responsible_unit == "优山美地物业"
    assert (project.responsible_unit_id, project.responsible_user_id) == (unit.id, rep.id)
