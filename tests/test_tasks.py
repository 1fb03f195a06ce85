"""Responsible parties act: a project's responsible unit or person reports
progress (with a photo) and the secretary confirms completion; a
resolution's conditions as tasks, marked done by their assignee; "my
tasks". Services and web pages (the API in ``test_tasks_api.py``)."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from conftest import field_errors
from meeting_helpers import audit_actions, fresh, notifications_of
from project_helpers import image_bytes

from meetings.errors import Conflict, NotAllowed, ValidationFailed
from meetings.extensions import db
from meetings.meeting import services as meeting_services
from meetings.meeting.models import MeetingStatus
from meetings.organisation.models import Street, StreetStaff
from meetings.projects import services
from meetings.projects.models import ProjectStatus, ProjectUpdate, ResolutionCondition

pytest_plugins = ["meeting_fixtures", "project_fixtures", "task_fixtures"]


def report(actor, project, percent, note="进展", status=None, **kwargs):
    update = services.add_progress_update(actor, project, percent, note, status, **kwargs)
    db.session.flush()
    return update


# --- naming who answers for a project -----------------------------------------------------


def test_a_resolution_names_a_unit_whose_name_is_the_text(
    unit_project, property_company, property_rep, in_request
):
    assert unit_project.responsible_unit == "优山美地物业"
    assert unit_project.responsible_unit_record == property_company
    assert services.is_responsible(property_rep, unit_project)
    (told,) = notifications_of(property_rep, "project.responsible")
    assert told.link == f"/projects/{unit_project.id}"


def test_a_unit_not_serving_the_community_or_an_outsider_cannot_be_named(
    make_project, make_unit, make_user, other_community, in_request
):
    elsewhere = make_unit("别处物业", serves=[other_community])
    stranger = make_user("stranger")
    with pytest.raises(ValidationFailed) as raised:
        make_project(responsible_unit_id=elsewhere.id, responsible_user_id=stranger.id)
    assert set(raised.value.fields) >= {
        "project.responsible_unit_id",
        "project.responsible_user_id",
    }


def test_without_a_unit_the_text_is_required(make_project, resident, in_request):
    with pytest.raises(ValidationFailed) as raised:
        make_project(responsible_unit="", responsible_user_id=resident.id)
    assert "project.responsible_unit" in raised.value.fields


def test_street_staff_and_unit_members_may_be_named(
    make_project, make_user, community, property_rep, property_company, in_request
):
    street = Street(name="中兴街道办")
    db.session.add(street)
    db.session.flush()
    community.street_id = street.id
    official = make_user("jiedao", display_name="街道李科长")
    db.session.add(StreetStaff(street=street, user=official))
    db.session.flush()
    assert make_project(responsible_user_id=official.id).responsible_user == official
    assert make_project(responsible_user_id=property_rep.id).responsible_user == property_rep


def test_the_secretary_edits_who_answers_for_a_project(
    secretary, project, property_company, property_rep, resident, in_request
):
    services.edit_project(
        secretary,
        project,
        services.ProjectChanges(
            responsible_unit="", responsible_unit_id=property_company.id, responsible_user_id=0
        ),
    )
    assert project.responsible_unit == "优山美地物业"
    assert project.responsible_unit_id == property_company.id
    assert audit_actions(project)[-1] == "project.edited"
    assert notifications_of(property_rep, "project.responsible")
    with pytest.raises(NotAllowed):
        services.edit_project(resident, project, services.ProjectChanges(title="改"))


def test_the_project_edit_page(english, login, secretary, project, property_company, resident):
    login(secretary)
    url = f"/projects/{project.id}/edit"
    assert english.get(url).status_code == 200
    wrong = english.post(url, data={"title": "活动室改造出新", "responsible_person": "nobody"})
    assert wrong.status_code == 422
    assert field_errors(wrong.get_data(as_text=True), "responsible_person")
    response = english.post(
        url,
        data={
            "title": "活动室改造出新",
            "responsible_unit": "",
            "responsible_unit_id": property_company.id,
            "responsible_person": "resident",
            "due_date": "2030-05-31",
            "budget": "90000",
            "description": "",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    project = fresh(project)
    assert project.responsible_unit == "优山美地物业"
    assert project.responsible_user_id == resident.id
    assert str(project.budget) == "90000.00"


def test_the_picker_finds_unit_members_for_the_secretary(
    english, login, secretary, community, property_company, resident
):
    login(secretary)
    found = english.get(f"/communities/{community.id}/responsible-people?q=物业").json
    assert [item["username"] for item in found["items"]] == ["wuye"]


# --- progress by responsible parties -------------------------------------------------------


def test_a_unit_member_reports_progress_and_the_secretaries_hear_of_it(
    unit_project, property_rep, secretary, in_request
):
    update = report(property_rep, unit_project, 40, "地板已拆除")
    assert update.author == property_rep and unit_project.status == ProjectStatus.IN_PROGRESS
    assert audit_actions(unit_project)[-1] == "project.updated"
    (told,) = notifications_of(secretary, "project.reported")
    assert "40%" in told.subject


def test_a_member_of_another_unit_or_a_resident_may_not_report(
    unit_project, police, traffic_police, resident
):
    for person in (police, resident):
        with pytest.raises(NotAllowed):
            report(person, unit_project, 10)


def test_the_responsible_person_reports(make_project, resident):
    project = make_project(responsible_user_id=resident.id)
    assert report(resident, project, 10).author == resident


def test_a_unit_member_cannot_complete_and_the_secretary_confirms(
    unit_project, property_rep, secretary, deliberation, in_request
):
    report(property_rep, unit_project, 50, "施工中")
    with pytest.raises(NotAllowed) as raised:
        report(property_rep, unit_project, 100, "完工", "completed")
    assert "secretary" in raised.value.message
    report(property_rep, unit_project, 100, "完工，请验收")
    assert unit_project.status == ProjectStatus.IN_PROGRESS
    assert services.awaits_confirmation(unit_project)
    assert notifications_of(secretary, "project.completion_proposed")
    update = services.confirm_completion(secretary, unit_project, "")
    assert update.status == ProjectStatus.COMPLETED and unit_project.is_completed
    assert update.note  # the stored default


def test_the_representative_reports_with_a_photo_on_the_web(
    english, login, unit_project, property_rep
):
    login(property_rep)
    page = english.get(f"/projects/{unit_project.id}").get_data(as_text=True)
    assert 'id="report"' in page and 'value="completed"' not in page
    response = english.post(
        f"/projects/{unit_project.id}/updates",
        data={
            "percent": "30",
            "status": "",
            "note": "地板已拆除",
            "on_date": "",
            "photo": (io.BytesIO(image_bytes()), "floor.png"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    update = db.session.scalar(db.select(ProjectUpdate))
    assert update.author_id == property_rep.id and update.photo_id is not None
    refused = english.post(
        f"/projects/{unit_project.id}/updates",
        data={"percent": "100", "status": "completed", "note": "完工"},
    )
    assert refused.status_code == 403


def test_another_units_member_gets_403_on_the_web(
    english, login, unit_project, police, traffic_police
):
    login(police)
    response = english.post(
        f"/projects/{unit_project.id}/updates", data={"percent": "30", "note": "x"}
    )
    assert response.status_code == 403


def test_the_secretary_confirms_completion_on_the_page(
    english, login, unit_project, property_rep, secretary
):
    report(property_rep, unit_project, 100, "完工，请验收")
    db.session.flush()
    login(secretary)
    page = english.get(f"/projects/{unit_project.id}").get_data(as_text=True)
    assert "Confirm completion" in page
    response = english.post(f"/projects/{unit_project.id}/complete", data={"note": "已验收"})
    assert response.status_code == 302
    assert fresh(unit_project).status == ProjectStatus.COMPLETED


def test_a_responsible_party_cannot_confirm_on_the_page(english, login, unit_project, property_rep):
    report(property_rep, unit_project, 100, "完工")
    login(property_rep)
    page = english.get(f"/projects/{unit_project.id}").get_data(as_text=True)
    assert "Confirm completion" not in page and "will confirm the completion" in page
    assert english.post(f"/projects/{unit_project.id}/complete", data={}).status_code == 403


# --- conditions as tasks -------------------------------------------------------------------


def test_the_secretary_adds_a_condition_and_the_assignee_is_told(
    project, add_condition, resident, in_request
):
    resolution = project.resolutions[0]
    condition = add_condition(resolution, user=resident)
    assert condition.assignee_user == resident and not condition.is_done
    assert audit_actions(condition) == ["condition.added"]
    (told,) = notifications_of(resident, "condition.assigned")
    assert told.link == f"/conditions/{condition.id}"


def test_a_condition_needs_text_one_assignee_and_a_date_not_past(
    project, secretary, resident, property_company, in_request
):
    resolution = project.resolutions[0]
    with pytest.raises(ValidationFailed) as raised:
        services.add_condition(
            secretary,
            resolution,
            " ",
            date.today() - timedelta(days=3),
            assignee_user_id=resident.id,
            assignee_unit_id=property_company.id,
        )
    assert set(raised.value.fields) == {"text", "due_date", "assignee"}


def test_only_the_secretary_adds_conditions(project, resident, other_secretary, property_rep):
    for person in (resident, other_secretary, property_rep):
        with pytest.raises(NotAllowed):
            services.add_condition(
                person, project.resolutions[0], "x", date.today(), assignee_user_id=resident.id
            )


def test_a_unit_member_marks_a_condition_done_once_and_the_secretary_hears(
    project, add_condition, property_company, property_rep, secretary, in_request
):
    condition = add_condition(project.resolutions[0], unit=property_company)
    assert notifications_of(property_rep, "condition.assigned")
    services.mark_condition_done(property_rep, condition, "已指定专人")
    assert condition.is_done and condition.done_by == property_rep
    assert condition.done_note == "已指定专人"
    assert notifications_of(secretary, "condition.done")
    with pytest.raises(Conflict):
        services.mark_condition_done(property_rep, condition, "")


def test_the_wrong_people_may_not_mark_a_condition_done(
    project, add_condition, property_company, police, traffic_police, resident, make_member
):
    condition = add_condition(project.resolutions[0], unit=property_company)
    by_person = add_condition(project.resolutions[0], user=make_member("音量管理员"))
    for person in (police, resident):
        with pytest.raises(NotAllowed):
            services.mark_condition_done(person, condition)
        with pytest.raises(NotAllowed):
            services.mark_condition_done(person, by_person)


def test_the_secretary_may_mark_done_on_the_assignees_behalf(
    project, add_condition, resident, secretary
):
    condition = add_condition(project.resolutions[0], user=resident)
    services.mark_condition_done(secretary, condition, "电话告知已完成")
    assert condition.done_by == secretary


def test_a_resolution_not_agreed_takes_no_conditions(secretary, deliberation, resident, in_request):
    resolution = services.record_resolution(
        secretary,
        deliberation.meeting,
        services.ResolutionSpec(text="不同意。", decision="rejected"),
    )
    with pytest.raises(Conflict):
        services.add_condition(
            secretary, resolution, "x", date.today(), assignee_user_id=resident.id
        )


def test_overdue_conditions(project, add_condition, resident):
    condition = add_condition(project.resolutions[0], user=resident)
    assert not services.is_condition_overdue(condition)
    condition.due_date = date.today() - timedelta(days=2)
    assert services.is_condition_overdue(condition)
    condition.done_at = condition.created_at
    assert not services.is_condition_overdue(condition)


def test_the_secretary_assigns_a_condition_on_the_form_and_the_assignee_marks_it_done(
    client, login, secretary, project, property_company, property_rep, resident
):
    resolution = project.resolutions[0]
    login(secretary)
    url = f"/resolutions/{resolution.id}/conditions/new"
    assert client.get(url).status_code == 200
    missing = client.post(url, data={"text": "x", "assignee_kind": "unit", "unit_id": "0"})
    assert missing.status_code == 422
    response = client.post(
        url,
        data={
            "text": "播放时段8:00–20:00",
            "assignee_kind": "unit",
            "unit_id": property_company.id,
            "due_date": (date.today() + timedelta(days=10)).isoformat(),
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    condition = db.session.scalar(db.select(ResolutionCondition))
    assert condition.assignee_unit_id == property_company.id
    assert "播放时段8:00–20:00" in client.get(f"/projects/{project.id}").get_data(as_text=True)

    client.post("/auth/logout")
    login(resident)
    assert client.get(f"/conditions/{condition.id}").status_code == 403
    assert client.post(f"/conditions/{condition.id}/done", data={}).status_code == 403
    client.post("/auth/logout")
    login(property_rep)
    page = client.get(f"/conditions/{condition.id}").get_data(as_text=True)
    assert f'action="/conditions/{condition.id}/done' in page
    done = client.post(f"/conditions/{condition.id}/done", data={"note": "已张贴告示"})
    assert done.status_code == 302
    assert fresh(condition).is_done
    again = client.post(f"/conditions/{condition.id}/done", data={"note": ""})
    assert again.status_code == 409


def test_conditions_show_on_the_meeting_page(
    english, login, secretary, project, add_condition, resident, deliberation
):
    add_condition(project.resolutions[0], user=resident, text="音量由专人控制")
    login(secretary)
    page = english.get(f"/meetings/{deliberation.meeting.id}").get_data(as_text=True)
    assert "音量由专人控制" in page and "Assign a condition to a person or unit" in page


# --- my tasks ------------------------------------------------------------------------------


def test_my_tasks_lists_exactly_mine_and_my_units_open_first(
    make_project,
    add_condition,
    property_company,
    property_rep,
    traffic_police,
    resident,
    secretary,
    in_request,
):
    mine_by_unit = make_project(title="活动室改造", responsible_unit_id=property_company.id)
    make_project(title="道路整治", responsible_unit_id=traffic_police.id)
    personal = make_project(title="音箱安装", responsible_user_id=property_rep.id)
    resolution = mine_by_unit.resolutions[0]
    soon = add_condition(resolution, unit=property_company, text="先做现场勘查", days=2)
    add_condition(resolution, unit=traffic_police, text="交通疏导")
    add_condition(resolution, user=resident, text="音量由专人控制")
    done = add_condition(resolution, user=property_rep, text="张贴告示", days=1)
    services.mark_condition_done(property_rep, done)
    late = add_condition(resolution, unit=property_company, text="清理油污", days=5)
    late.due_date = date.today() - timedelta(days=1)
    db.session.flush()

    tasks = services.my_tasks(property_rep)
    assert tasks.total == 5
    assert [(task.kind, task.id) for task in tasks.items] == [
        ("condition", late.id),
        ("condition", soon.id),
        ("project", personal.id),
        ("project", mine_by_unit.id),
        ("condition", done.id),
    ]
    assert tasks.items[0].is_overdue and not tasks.items[1].is_overdue
    assert tasks.items[-1].done
    assert services.my_tasks(secretary).total == 0
    assert services.open_task_count(property_rep) == 4


def test_the_my_tasks_page(english, login, unit_project, add_condition, property_rep, resident):
    add_condition(unit_project.resolutions[0], user=property_rep, text="先做现场勘查")
    login(property_rep)
    page = english.get("/my/tasks").get_data(as_text=True)
    assert "活动室改造出新" in page and "先做现场勘查" in page
    assert f'href="/projects/{unit_project.id}"' in page
    assert 'href="/conditions/' in page
    english.post("/auth/logout")
    login(resident)
    assert "Nothing is assigned to you" in english.get("/my/tasks").get_data(as_text=True)


def test_a_completed_meeting_still_takes_condition_tasks(
    secretary, project, deliberation, add_condition, resident
):
    meeting_services.transition_meeting(secretary, deliberation.meeting, MeetingStatus.CLOSED)
    assert add_condition(project.resolutions[0], user=resident).id
