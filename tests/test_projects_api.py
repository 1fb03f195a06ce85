"""The API of resolutions and projects: shapes, filters, errors, and who may
call what (the community's secretary, another's, an attendee, a resident,
nobody), as API.md says."""

from __future__ import annotations

import io

import pytest
from project_helpers import image_bytes

from meetings.extensions import db
from meetings.meeting import services as meeting_services
from meetings.projects import services, uploads
from meetings.projects.models import ProjectRating, ProjectStatus

pytest_plugins = ["meeting_fixtures", "project_fixtures"]

ROLES = ("anonymous", "resident", "attendee", "secretary", "other_secretary")


@pytest.fixture
def people(resident, secretary, other_secretary, deliberation):
    return {
        "anonymous": None,
        "resident": resident,
        "attendee": deliberation.voters[1],
        "secretary": secretary,
        "other_secretary": other_secretary,
    }


@pytest.fixture
def call(client, bearer, people):
    def do(method: str, path: str, role: str, json: dict | None = None):
        user = people[role]
        headers = bearer(user) if user is not None else {}
        return client.open(f"/api/v1{path}", method=method, json=json, headers=headers)

    return do


@pytest.fixture
def completed(secretary, project):
    services.add_progress_update(secretary, project, 50, "施工中", "in_progress")
    services.add_progress_update(secretary, project, 100, "完工验收", "completed")
    db.session.flush()
    return project


# --- the list and a project -------------------------------------------------------------------


def test_anyone_lists_the_projects_without_a_token(client, project, secretary):
    services.add_progress_update(secretary, project, 35, "开工", "in_progress")
    db.session.flush()
    response = client.get("/api/v1/projects")
    assert response.status_code == 200
    assert response.json["total"] == 1
    (item,) = response.json["items"]
    assert item == {
        "id": project.id,
        "community_id": project.community_id,
        "community_name": "东篱社区",
        "title": "活动室改造出新",
        "responsible_unit": "物业",
        "responsible_unit_id": None,
        "responsible_user_id": None,
        "budget": "86000.00",
        "due_date": project.due_date.isoformat(),
        "status": "in_progress",
        "suspended_reason": None,
        "progress_percent": 35,
        "is_overdue": False,
        "awaits_confirmation": False,
        "completed_at": None,
        "rating_count": 0,
        "rating_average": None,
    }


def test_the_list_filters_by_community_and_status_and_pages(
    client, make_project, secretary, other_community
):
    a = make_project(title="甲")
    b = make_project(title="乙")
    make_project(title="丙")
    services.add_progress_update(secretary, b, 20, "开工", "in_progress")
    db.session.flush()
    mine = client.get(f"/api/v1/projects?community_id={a.community_id}").json
    assert mine["total"] == 3 and mine["items"][0]["title"] == "乙"
    assert client.get(f"/api/v1/projects?community_id={other_community.id}").json["total"] == 0
    planned = client.get("/api/v1/projects?status=planned").json
    assert {i["title"] for i in planned["items"]} == {"甲", "丙"}
    page = client.get("/api/v1/projects?per_page=2&page=2").json
    assert page["total"] == 3 and len(page["items"]) == 1
    bad = client.get("/api/v1/projects?status=done")
    assert bad.status_code == 422 and "status" in bad.json["error"]["fields"]
    for value in ("abc", "0", "99999999999999"):
        wrong = client.get(f"/api/v1/projects?community_id={value}")
        assert wrong.status_code == 422 and "community_id" in wrong.json["error"]["fields"]


def test_a_project_in_detail(client, secretary, project):
    services.add_progress_update(secretary, project, 30, "地板已拆除")
    db.session.flush()
    response = client.get(f"/api/v1/projects/{project.id}")
    assert response.status_code == 200
    body = response.json
    assert body["title"] == "活动室改造出新" and body["progress_percent"] == 30
    assert body["conditions"] == ["施工期间活动改在党群服务中心。"]
    assert body["requests"] == [{"id": project.requests[0].id, "title": "活动室地板磨损"}]
    (resolution,) = body["resolutions"]
    assert resolution["text"] == "对182幢活动室进行改造出新。"
    assert resolution["decision"] == "adopted" and resolution["project_id"] == project.id
    (update,) = body["updates"]
    assert update["progress_percent"] == 30 and update["note"] == "地板已拆除"
    assert update["status"] == "in_progress" and update["photo_url"] is None
    assert update["on_date"] == services.today().isoformat()
    assert client.get("/api/v1/projects/999999").status_code == 404


def test_a_photo_url_in_the_detail(client, secretary, project, in_request):
    photo = uploads.store_photo(io.BytesIO(image_bytes("WEBP")))
    update = services.add_progress_update(secretary, project, 10, "开工", photo=photo)
    db.session.flush()
    (item,) = client.get(f"/api/v1/projects/{project.id}").json["updates"]
    assert item["photo_url"] == f"/projects/{project.id}/updates/{update.id}/photo"
    served = client.get(item["photo_url"])
    assert served.headers["Content-Type"] == "image/webp"
    served.close()
    uploads.discard(photo)


# --- progress updates ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status", "code"),
    [
        ("anonymous", 401, "unauthorized"),
        ("resident", 403, "forbidden"),
        ("attendee", 403, "forbidden"),
        ("other_secretary", 403, "forbidden"),
        ("secretary", 201, None),
    ],
)
def test_without_responsible_parties_only_the_secretary_posts_updates(
    call, project, role, status, code
):
    response = call(
        "POST",
        f"/projects/{project.id}/updates",
        role,
        {"progress_percent": 40, "note": "地板已更换", "status": "in_progress"},
    )
    assert response.status_code == status, response.json
    if code:
        assert response.json["error"]["code"] == code
    else:
        body = response.json
        assert (body["progress_percent"], body["note"], body["status"]) == (
            40,
            "地板已更换",
            "in_progress",
        )
        assert body["project_id"] == project.id and body["photo_url"] is None
        assert body["author_name"] == "林书记"


def test_update_errors(call, project):
    path = f"/projects/{project.id}/updates"
    illegal = call(
        "POST", path, "secretary", {"progress_percent": 100, "note": "完", "status": "completed"}
    )
    assert illegal.status_code == 409 and illegal.json["error"]["code"] == "invalid_transition"
    for body, field in (
        ({"progress_percent": 150, "note": "x"}, "progress_percent"),
        ({"progress_percent": "50", "note": "x"}, "progress_percent"),
        ({"progress_percent": 50}, "note"),
        ({"progress_percent": 50, "note": "x", "status": "done"}, "status"),
        ({"progress_percent": 50, "note": "x", "on_date": "2999-01-01"}, "on_date"),
    ):
        response = call("POST", path, "secretary", body)
        assert response.status_code == 422, (body, response.json)
        assert field in response.json["error"]["fields"], (body, response.json)
    suspend = call(
        "POST", path, "secretary", {"progress_percent": 0, "note": " ", "status": "suspended"}
    )
    assert suspend.status_code == 422 and "note" in suspend.json["error"]["fields"]
    assert (
        call(
            "POST", "/projects/999999/updates", "secretary", {"progress_percent": 1, "note": "x"}
        ).status_code
        == 404
    )


def test_completing_through_the_api_hands_over_the_requests(call, project, secretary, deliberation):
    meeting_services.transition_meeting(secretary, deliberation.meeting, "closed")
    db.session.flush()
    path = f"/projects/{project.id}/updates"
    assert (
        call("POST", path, "secretary", {"progress_percent": 60, "note": "施工"}).status_code == 201
    )
    done = call(
        "POST", path, "secretary", {"progress_percent": 90, "note": "验收", "status": "completed"}
    )
    assert done.status_code == 201 and done.json["progress_percent"] == 100
    listed = call("GET", f"/projects/{project.id}", "anonymous").json
    assert listed["status"] == "completed" and listed["completed_at"] is not None
    db.session.expire_all()
    assert deliberation.request.status == "handled"


def test_the_request_names_its_resolution_and_project(call, project, deliberation):
    answer = call("GET", f"/requests/{deliberation.request.id}", "secretary")
    assert answer.status_code == 200
    assert answer.json["project_ids"] == [project.id]
    assert answer.json["resolution_ids"] == [r.id for r in project.resolutions]
    assert answer.json["meeting_ids"] == [deliberation.meeting.id]


# --- ratings -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status", "code"),
    [
        ("anonymous", 401, "unauthorized"),
        ("other_secretary", 403, "forbidden"),
        ("resident", 201, None),
        ("attendee", 201, None),
        ("secretary", 201, None),
    ],
)
def test_members_of_the_community_rate_a_completed_project(call, completed, role, status, code):
    response = call(
        "POST", f"/projects/{completed.id}/ratings", role, {"score": 5, "comment": "满意"}
    )
    assert response.status_code == status, response.json
    if code:
        assert response.json["error"]["code"] == code
    else:
        assert response.json["score"] == 5 and response.json["comment"] == "满意"
        assert response.json["project_id"] == completed.id


def test_a_second_rating_is_a_conflict(call, completed):
    path = f"/projects/{completed.id}/ratings"
    assert call("POST", path, "resident", {"score": 4}).status_code == 201
    again = call("POST", path, "resident", {"score": 1})
    assert again.status_code == 409 and again.json["error"]["code"] == "conflict"
    assert db.session.scalar(db.select(db.func.count(ProjectRating.id))) == 1
    listed = call("GET", f"/projects?community_id={completed.community_id}", "anonymous").json
    assert (listed["items"][0]["rating_count"], listed["items"][0]["rating_average"]) == (1, 4.0)


def test_a_project_not_completed_is_not_rated(call, project):
    response = call("POST", f"/projects/{project.id}/ratings", "resident", {"score": 5})
    assert response.status_code == 409 and response.json["error"]["code"] == "conflict"


@pytest.mark.parametrize("score", [0, 6, "5", 4.5, None])
def test_a_score_from_1_to_5(call, completed, score):
    response = call("POST", f"/projects/{completed.id}/ratings", "resident", {"score": score})
    assert response.status_code == 422 and "score" in response.json["error"]["fields"]


# --- resolutions: who ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 401),
        ("resident", 403),
        ("attendee", 403),
        ("other_secretary", 403),
        ("secretary", 201),
    ],
)
def test_only_the_secretary_records_resolutions(call, deliberation, role, status):
    response = call(
        "POST",
        f"/meetings/{deliberation.meeting.id}/resolutions",
        role,
        {
            "text": "改造活动室",
            "project": {
                "title": "活动室改造",
                "responsible_unit": "物业",
                "due_date": "2030-01-01",
            },
        },
    )
    assert response.status_code == status, response.json
    if status == 201:
        assert isinstance(response.json["project_id"], int)
        project = services.get_project(response.json["project_id"])
        assert project.status == ProjectStatus.PLANNED


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 401),
        ("resident", 403),
        ("attendee", 200),
        ("other_secretary", 403),
        ("secretary", 200),
    ],
)
def test_who_lists_a_running_meetings_resolutions(call, deliberation, role, status):
    response = call("GET", f"/meetings/{deliberation.meeting.id}/resolutions", role)
    assert response.status_code == status


def test_a_malformed_resolution_body(call, deliberation):
    path = f"/meetings/{deliberation.meeting.id}/resolutions"
    for body, field in (
        ({}, "text"),
        ({"text": ""}, "text"),
        ({"text": "x", "poll_id": 0}, "poll_id"),
        ({"text": "x", "decision": "maybe"}, "decision"),
        (
            {"text": "x", "project": {"title": "t", "responsible_unit": "u", "due_date": "soon"}},
            "project.due_date",
        ),
        (
            {
                "text": "x",
                "project": {
                    "title": "t",
                    "responsible_unit": "u",
                    "due_date": "2030-01-01",
                    "budget": "abc",
                },
            },
            "project.budget",
        ),
    ):
        response = call("POST", path, "secretary", body)
        assert response.status_code == 422, body
        assert field in response.json["error"]["fields"], (body, response.json)


def test_every_new_path_is_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert set(paths["/api/v1/meetings/{meeting_id}/resolutions"]) >= {"get", "post"}
    assert "get" in paths["/api/v1/projects"]
    assert "security" not in paths["/api/v1/projects"]["get"]
    assert "get" in paths["/api/v1/projects/{project_id}"]
    assert paths["/api/v1/projects/{project_id}/updates"]["post"]["security"] == [
        {"bearerAuth": []}
    ]
    assert "post" in paths["/api/v1/projects/{project_id}/ratings"]
