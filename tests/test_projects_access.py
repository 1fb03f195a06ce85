"""Who may open which page of resolutions and projects: one table over every
route of the ``projects`` and ``api_projects`` blueprints, for an anonymous
visitor, a resident (the requester), an attendee of the meeting, the
community's secretary and another community's secretary."""

from __future__ import annotations

import io

import pytest
from project_helpers import image_bytes

from meetings.extensions import db
from meetings.projects import services, uploads

pytest_plugins = ["meeting_fixtures", "project_fixtures"]

ROLES = ("anonymous", "resident", "attendee", "secretary", "other_secretary")
LOGIN = "login"


def expect(anonymous, resident, attendee, secretary, other_secretary) -> dict:
    return dict(
        zip(ROLES, (anonymous, resident, attendee, secretary, other_secretary), strict=True)
    )


def everyone(status) -> dict:
    return expect(status, status, status, status, status)


RESOLUTION_FORM = {"text": "改造活动室", "project_mode": "none", "poll_id": 0, "agenda_item_id": 0}

# (method, path, form data or JSON body, expected status per role)
PAGES = [
    ("GET", "/communities/{community}/projects", None, everyone(200)),
    ("GET", "/communities/{community}/projects?status=completed", None, everyone(200)),
    ("GET", "/projects/{project}", None, everyone(200)),
    ("GET", "/projects/{completed}", None, everyone(200)),
    ("GET", "/projects/{project}/updates/{update}/photo", None, everyone(200)),
    (
        "POST",
        "/projects/{project}/updates",
        {"percent": "10", "status": "", "note": "开工"},
        expect(LOGIN, 403, 403, 302, 403),
    ),
    ("POST", "/projects/{completed}/ratings", {"score": "5"}, expect(LOGIN, 302, 302, 302, 403)),
    ("GET", "/meetings/{meeting}/resolutions/new", None, expect(LOGIN, 403, 403, 200, 403)),
    (
        "POST",
        "/meetings/{meeting}/resolutions/new",
        RESOLUTION_FORM,
        expect(LOGIN, 403, 403, 302, 403),
    ),
    ("GET", "/meetings/{meeting}", None, everyone(200)),
    ("GET", "/requests/{request}", None, expect(LOGIN, 200, 403, 200, 403)),
]

ENDPOINTS = [
    ("GET", "/api/v1/projects", None, everyone(200)),
    ("GET", "/api/v1/projects/{project}", None, everyone(200)),
    (
        "POST",
        "/api/v1/projects/{project}/updates",
        {"progress_percent": 10, "note": "开工"},
        expect(401, 403, 403, 201, 403),
    ),
    (
        "POST",
        "/api/v1/projects/{completed}/ratings",
        {"score": 4},
        expect(401, 201, 201, 201, 403),
    ),
    (
        "POST",
        "/api/v1/meetings/{meeting}/resolutions",
        {"text": "改造活动室"},
        expect(401, 403, 403, 201, 403),
    ),
    ("GET", "/api/v1/meetings/{meeting}/resolutions", None, expect(403, 403, 200, 200, 403)),
]


@pytest.fixture
def world(secretary, resident, other_secretary, deliberation, make_project, in_request):
    project = make_project()
    photo = uploads.store_photo(io.BytesIO(image_bytes("PNG")))
    update = services.add_progress_update(secretary, project, 5, "现场勘查", photo=photo)
    completed = make_project(title="楼道灯更换")
    services.add_progress_update(secretary, completed, 50, "施工", "in_progress")
    services.add_progress_update(secretary, completed, 100, "完工", "completed")
    db.session.flush()
    ids = {
        "community": project.community_id,
        "project": project.id,
        "update": update.id,
        "completed": completed.id,
        "meeting": deliberation.meeting.id,
        "request": deliberation.request.id,
    }
    people = {
        "anonymous": None,
        "resident": resident,
        "attendee": deliberation.voters[1],
        "secretary": secretary,
        "other_secretary": other_secretary,
    }
    yield ids, people
    uploads.discard(photo)


def _cases(table):
    return [
        pytest.param(method, path, body, role, expected[role], id=f"{method} {path} {role}")
        for method, path, body, expected in table
        for role in ROLES
    ]


@pytest.mark.parametrize(("method", "path", "data", "role", "status"), _cases(PAGES))
def test_page_access(client, login, world, method, path, data, role, status):
    ids, people = world
    if people[role] is not None:
        login(people[role])
    response = client.open(path.format(**ids), method=method, data=data)
    response.close()
    if status == LOGIN:
        assert response.status_code == 302
        assert response.location.startswith("/auth/login?next=")
    else:
        assert response.status_code == status, response.get_data(as_text=True)[:500]


@pytest.mark.parametrize(("method", "path", "body", "role", "status"), _cases(ENDPOINTS))
def test_endpoint_access(client, bearer, world, method, path, body, role, status):
    ids, people = world
    headers = bearer(people[role]) if people[role] is not None else {}
    response = client.open(path.format(**ids), method=method, json=body, headers=headers)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    if status >= 400:
        expected = {401: "unauthorized", 403: "forbidden"}[status]
        assert response.get_json()["error"]["code"] == expected


def test_every_route_of_the_projects_is_in_the_access_tables(app):
    """A new page or endpoint of these blueprints needs its row above."""
    adapter = app.url_map.bind("localhost")
    covered = set()
    for method, path, _body, _expected in PAGES + ENDPOINTS:
        filled = path.split("?")[0].format(
            community=1, project=1, update=1, completed=1, meeting=1, request=1
        )
        endpoint, _args = adapter.match(filled, method=method)
        covered.add((endpoint, method))
    routes = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.partition(".")[0] in {"projects", "api_projects"}
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes - covered == set()
