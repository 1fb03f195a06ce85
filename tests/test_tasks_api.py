"""The API of responsible parties: naming a project's unit and person,
progress by the property company's representative (403 before this issue),
conditions as tasks and "my tasks", and who may call what."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from meeting_helpers import notifications_of

from meetings.extensions import db
from meetings.projects import services
from meetings.projects.models import ProjectStatus

pytest_plugins = ["meeting_fixtures", "project_fixtures", "task_fixtures"]

SOON = (date.today() + timedelta(days=14)).isoformat()


@pytest.fixture
def people(resident, secretary, other_secretary, property_rep, police, traffic_police):
    return {
        "anonymous": None,
        "resident": resident,
        "secretary": secretary,
        "other_secretary": other_secretary,
        "property_rep": property_rep,
        "police": police,
    }


@pytest.fixture
def call(client, bearer, people):
    def do(method: str, path: str, role: str, json: dict | None = None):
        user = people[role]
        headers = bearer(user) if user is not None else {}
        return client.open(f"/api/v1{path}", method=method, json=json, headers=headers)

    return do


# --- naming who answers ----------------------------------------------------------------------


def test_a_resolution_opens_a_project_with_a_unit_and_a_person(
    call, deliberation, property_company, resident
):
    response = call(
        "POST",
        f"/meetings/{deliberation.meeting.id}/resolutions",
        "secretary",
        {
            "text": "改造活动室。",
            "project": {
                "title": "活动室改造出新",
                "responsible_unit_id": property_company.id,
                "responsible_user_id": resident.id,
                "due_date": SOON,
            },
        },
    )
    assert response.status_code == 201, response.json
    project = call("GET", f"/projects/{response.json['project_id']}", "anonymous").json
    assert project["responsible_unit"] == "优山美地物业"
    assert project["responsible_unit_id"] == property_company.id
    assert project["responsible_user_id"] == resident.id


def test_the_text_alone_keeps_working_and_a_stranger_is_refused(call, deliberation, make_user):
    path = f"/meetings/{deliberation.meeting.id}/resolutions"
    body = {
        "text": "改造。",
        "project": {"title": "改造", "responsible_unit": "物业", "due_date": SOON},
    }
    assert call("POST", path, "secretary", body).status_code == 201
    stranger = make_user("stranger")
    body["project"]["responsible_user_id"] = stranger.id
    refused = call("POST", path, "secretary", body)
    assert refused.status_code == 422
    assert "project.responsible_user_id" in refused.json["error"]["fields"]
    del body["project"]["responsible_unit"], body["project"]["responsible_user_id"]
    missing = call("POST", path, "secretary", body)
    assert "project.responsible_unit" in missing.json["error"]["fields"]


def test_the_secretary_patches_who_answers(call, project, property_company):
    response = call(
        "PATCH",
        f"/projects/{project.id}",
        "secretary",
        {"responsible_unit_id": property_company.id, "responsible_unit": ""},
    )
    assert response.status_code == 200, response.json
    assert response.json["responsible_unit"] == "优山美地物业"
    cleared = call("PATCH", f"/projects/{project.id}", "secretary", {"responsible_unit_id": None})
    assert cleared.status_code == 200  # the text stays
    assert cleared.json["responsible_unit_id"] is None
    assert cleared.json["responsible_unit"] == "优山美地物业"
    emptied = call("PATCH", f"/projects/{project.id}", "secretary", {"responsible_unit": ""})
    assert emptied.status_code == 422  # no unit and no text left
    assert "responsible_unit" in emptied.json["error"]["fields"]
    for role in ("property_rep", "resident", "other_secretary"):
        assert call("PATCH", f"/projects/{project.id}", role, {}).status_code == 403


# --- progress by responsible parties ----------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("property_rep", 201),  # a member of the responsible unit: was 403
        ("police", 403),  # a member of another unit serving the community
        ("resident", 403),
        ("other_secretary", 403),
        ("secretary", 201),
        ("anonymous", 401),
    ],
)
def test_who_posts_progress(call, unit_project, role, status):
    response = call(
        "POST",
        f"/projects/{unit_project.id}/updates",
        role,
        {"progress_percent": 40, "note": "地板已更换"},
    )
    assert response.status_code == status, response.json


def test_a_unit_member_cannot_complete_and_the_secretary_confirms(
    call, unit_project, secretary, in_request
):
    path = f"/projects/{unit_project.id}/updates"
    call("POST", path, "property_rep", {"progress_percent": 60, "note": "施工中"})
    refused = call(
        "POST", path, "property_rep", {"progress_percent": 100, "note": "完", "status": "completed"}
    )
    assert refused.status_code == 403
    assert refused.json["error"]["code"] == "forbidden"
    # the message says who confirms (the API answers in the site's language, Chinese)
    assert "社区书记" in refused.json["error"]["message"]
    done = call("POST", path, "property_rep", {"progress_percent": 100, "note": "完工，请验收"})
    assert done.status_code == 201
    project = call("GET", f"/projects/{unit_project.id}", "anonymous").json
    assert project["awaits_confirmation"] is True and project["status"] == "in_progress"
    assert notifications_of(secretary, "project.completion_proposed")
    confirmed = call(
        "POST",
        path,
        "secretary",
        {"progress_percent": 100, "note": "验收合格", "status": "completed"},
    )
    assert confirmed.status_code == 201
    db.session.expire_all()
    assert unit_project.status == ProjectStatus.COMPLETED


# --- conditions -------------------------------------------------------------------------------


def test_the_secretary_adds_a_condition_for_a_unit_and_its_member_marks_it_done(
    call, project, property_company, secretary
):
    resolution = project.resolutions[0]
    created = call(
        "POST",
        f"/resolutions/{resolution.id}/conditions",
        "secretary",
        {
            "text": "播放时段8:00–20:00",
            "assignee": {"unit_id": property_company.id},
            "due_date": SOON,
        },
    )
    assert created.status_code == 201, created.json
    body = created.json
    assert body["assignee_unit_id"] == property_company.id and body["done"] is False
    assert body["assignee_name"] == "优山美地物业" and body["url"] == f"/conditions/{body['id']}"
    path = f"/conditions/{body['id']}/done"
    for role in ("police", "resident", "other_secretary"):
        assert call("POST", path, role, {}).status_code == 403
    assert call("POST", path, "anonymous", {}).status_code == 401
    done = call("POST", path, "property_rep", {"note": "已张贴告示"})
    assert done.status_code == 200
    assert done.json["done"] is True and done.json["done_note"] == "已张贴告示"
    again = call("POST", path, "property_rep", {})
    assert again.status_code == 409 and again.json["error"]["code"] == "conflict"
    assert notifications_of(secretary, "condition.done")


def test_condition_errors_and_who_adds(call, project, resident, property_company):
    path = f"/resolutions/{project.resolutions[0].id}/conditions"
    both = {"user_id": resident.id, "unit_id": property_company.id}
    for body, field in (
        ({"text": "x", "assignee": both, "due_date": SOON}, "assignee"),
        ({"text": "x", "assignee": {}, "due_date": SOON}, "assignee"),
        ({"text": "x", "assignee": {"user_id": resident.id}, "due_date": "2000-01-01"}, "due_date"),
        ({"text": "x", "assignee": {"unit_id": 999999}, "due_date": SOON}, "assignee.unit_id"),
        ({"assignee": {"user_id": resident.id}, "due_date": SOON}, "text"),
    ):
        response = call("POST", path, "secretary", body)
        assert response.status_code == 422, (body, response.json)
        assert field in response.json["error"]["fields"], (body, response.json)
    body = {"text": "x", "assignee": {"user_id": resident.id}, "due_date": SOON}
    for role in ("resident", "property_rep", "other_secretary"):
        assert call("POST", path, role, body).status_code == 403
    assert call("POST", "/resolutions/999999/conditions", "secretary", body).status_code == 404


def test_a_condition_shows_in_the_resolution(call, project, add_condition, resident, deliberation):
    add_condition(project.resolutions[0], user=resident)
    listed = call("GET", f"/meetings/{deliberation.meeting.id}/resolutions", "secretary").json
    (task,) = listed["items"][0]["condition_tasks"]
    assert task["assignee_user_id"] == resident.id and task["is_overdue"] is False


# --- my tasks ---------------------------------------------------------------------------------


def test_my_tasks_lists_exactly_mine(
    call, make_project, add_condition, property_company, traffic_police, resident, property_rep
):
    mine = make_project(title="活动室改造", responsible_unit_id=property_company.id)
    make_project(title="道路整治", responsible_unit_id=traffic_police.id)
    resolution = mine.resolutions[0]
    condition = add_condition(resolution, unit=property_company, text="先做现场勘查", days=3)
    add_condition(resolution, user=resident, text="音量由专人控制")
    done = add_condition(resolution, user=property_rep, text="张贴告示")
    services.mark_condition_done(property_rep, done)
    db.session.flush()

    response = call("GET", "/my/tasks", "property_rep")
    assert response.status_code == 200
    body = response.json
    assert body["total"] == 3
    assert [(item["kind"], item["id"]) for item in body["items"]] == [
        ("condition", condition.id),
        ("project", mine.id),
        ("condition", done.id),
    ]
    first = body["items"][0]
    assert first["text"] == "先做现场勘查" and first["done"] is False
    assert (
        first["community"]["name"] == "东篱社区" and first["url"] == f"/conditions/{condition.id}"
    )
    assert first["resolution_id"] == resolution.id and first["project_id"] == mine.id
    assert (
        body["items"][1]["status"] == "planned"
        and body["items"][1]["url"] == f"/projects/{mine.id}"
    )
    assert body["items"][2]["done"] is True
    paged = call("GET", "/my/tasks?per_page=2&page=2", "property_rep").json
    assert paged["total"] == 3 and [item["id"] for item in paged["items"]] == [done.id]
    police_tasks = call("GET", "/my/tasks", "police").json
    assert [item["title"] for item in police_tasks["items"]] == ["道路整治"]
    assert call("GET", "/my/tasks", "resident").json["total"] == 1
    assert call("GET", "/my/tasks", "anonymous").status_code == 401


def test_every_new_path_is_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert "patch" in paths["/api/v1/projects/{project_id}"]
    assert "post" in paths["/api/v1/resolutions/{resolution_id}/conditions"]
    assert "post" in paths["/api/v1/conditions/{condition_id}/done"]
    assert paths["/api/v1/my/tasks"]["get"]["security"] == [{"bearerAuth": []}]
