"""The grid workers' visit log (走访记录): logging a visit, who sees which
visits, a visit becoming a request (web and API)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import field_errors, flashes
from intake_helpers import make_grid
from request_helpers import requests_in

from meetings.dbtypes import utcnow
from meetings.errors import Conflict, NotAllowed, ValidationFailed
from meetings.extensions import db
from meetings.requests import services, visits
from meetings.requests.models import RequestChannel, Visit


@pytest.fixture
def grid_leader(make_user, community):
    return make_user("shijie", community=community, display_name="邹文静")


@pytest.fixture
def grid_member(make_user, community):
    return make_user("gridmember", community=community, display_name="网格员小李")


@pytest.fixture
def other_member(make_user, community):
    """A member of the same grid: sees only their own visits."""
    return make_user("othermember", community=community, display_name="网格员小赵")


@pytest.fixture
def grid(community, grid_leader, grid_member, other_member):
    return make_grid(community, leader=grid_leader, members=(grid_member, other_member))


@pytest.fixture
def second_grid_leader(make_user, community):
    """The leader of another grid of the same community."""
    leader = make_user("secondleader", community=community, display_name="第二网格长")
    make_grid(community, "第二网格", leader=leader)
    return leader


@pytest.fixture
def other_grid(make_user, other_community):
    leader = make_user("otherleader", community=other_community, display_name="周网格长")
    return make_grid(other_community, "星怡一网格", leader=leader)


def log(user, grid, visited="3栋 王阿姨", notes="卫生间漏水到楼下，已经两周。", **kwargs):
    return visits.log_visit(user, grid, visited, notes, **kwargs)


# --- logging -----------------------------------------------------------------------------


def test_grid_member_logs_a_visit_on_the_web(english, login, grid, grid_member):
    login(grid_member)
    page = english.get("/visits/new")
    assert page.status_code == 200
    response = english.post(
        "/visits/new",
        data={
            "grid_id": grid.id,
            "visited": "3栋 王阿姨",
            "notes": "卫生间漏水到楼下。",
            "follow_up": "联系物业",
        },
    )
    assert response.status_code == 302
    [visit] = db.session.scalars(db.select(Visit)).all()
    assert (visit.visitor, visit.grid, visit.visited, visit.follow_up) == (
        grid_member,
        grid,
        "3栋 王阿姨",
        "联系物业",
    )
    page = english.get(response.location).get_data(as_text=True)
    assert "Visit to 3栋 王阿姨 logged." in flashes(page)
    assert "卫生间漏水到楼下。" in page


def test_visit_form_shows_errors_next_to_the_fields(english, login, grid, grid_member):
    login(grid_member)
    response = english.post("/visits/new", data={"grid_id": grid.id, "visited": "", "notes": ""})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert field_errors(page, "visited") == ["Please say whom you visited, e.g. “3栋 王阿姨”."]
    assert field_errors(page, "notes") == ["Please write down what you heard."]


def test_a_grid_worker_logs_only_in_their_own_grids(
    english, login, grid, other_grid, second_grid_leader
):
    login(second_grid_leader)
    response = english.post(
        "/visits/new", data={"grid_id": grid.id, "visited": "王阿姨", "notes": "漏水"}
    )
    assert response.status_code == 422  # not among the grids to choose
    assert field_errors(response.get_data(as_text=True), "grid_id") == ["Please choose the grid."]
    with pytest.raises(NotAllowed):
        log(second_grid_leader, grid)
    with pytest.raises(NotAllowed):
        log(second_grid_leader, other_grid)


@pytest.mark.parametrize("who", ["resident", "secretary"])
def test_the_visit_form_is_for_grid_workers(request, client, login, grid, who):
    login(request.getfixturevalue(who))
    assert client.get("/visits/new").status_code == 403


def test_a_visit_is_not_in_the_future(db, grid, grid_member):
    with pytest.raises(ValidationFailed) as refused:
        log(grid_member, grid, visited_at=utcnow() + timedelta(days=1))
    assert set(refused.value.fields) == {"visited_at"}


# --- who sees which visits -----------------------------------------------------------------


def test_who_sees_which_visits(
    english, login, grid, grid_leader, grid_member, other_member, secretary, second_grid_leader
):
    mine = log(grid_member, grid, visited="3栋 王阿姨")
    theirs = log(other_member, grid, visited="5栋 李大爷")

    def seen(user):
        return {v.visited for v in db.session.scalars(visits.visits_query(user))}

    assert seen(grid_member) == {mine.visited}
    assert seen(other_member) == {theirs.visited}
    assert seen(grid_leader) == {mine.visited, theirs.visited}
    assert seen(secretary) == {mine.visited, theirs.visited}
    assert seen(second_grid_leader) == set()

    login(grid_leader)
    page = english.get(f"/visits?grid={grid.id}").get_data(as_text=True)
    assert "3栋 王阿姨" in page and "5栋 李大爷" in page


def test_visit_log_is_paginated_newest_first(english, login, grid, grid_member):
    now = utcnow()
    for number in range(visits.VISITS_PAGE + 3):
        log(
            grid_member, grid, visited=f"住户{number:02d}", visited_at=now - timedelta(hours=number)
        )
    login(grid_member)
    page = english.get("/visits").get_data(as_text=True)
    assert "住户00" in page and "住户19" in page and "住户20" not in page
    second = english.get("/visits?page=2").get_data(as_text=True)
    assert "住户20" in second and "住户22" in second and "住户00" not in second


@pytest.mark.parametrize("who", ["resident"])
def test_the_visit_log_is_not_for_residents(request, client, login, who):
    login(request.getfixturevalue(who))
    assert client.get("/visits").status_code == 403


def test_anonymous_is_asked_to_log_in(client):
    assert client.get("/visits").status_code == 302


# --- a visit becomes a request --------------------------------------------------------------


def test_turning_a_visit_into_a_request_on_the_web(
    english, login, grid, grid_member, secretary, community
):
    visit = log(grid_member, grid, follow_up="请物业上门")
    login(grid_member)
    page = english.get(f"/visits/{visit.id}/request").get_data(as_text=True)
    # pre-filled: the resident (without an account), the channel, the notes
    assert 'value="3栋 王阿姨"' in page
    assert '<option selected value="home_visit">' in page
    assert "请物业上门" in page

    response = english.post(
        f"/visits/{visit.id}/request",
        data={
            "community_id": community.id,
            "has_account": "no",
            "resident_name": "王阿姨",
            "building": "3栋",
            "channel": "home_visit",
            "title": "卫生间漏水",
            "category": "property_service",
            "description": "卫生间漏水到楼下，已经两周。",
            "location": "3栋402",
        },
    )
    assert response.status_code == 302
    [item] = requests_in(community)
    assert item.requester is None and item.resident_name == "王阿姨"
    assert item.channel == RequestChannel.HOME_VISIT
    assert item.raised_by == grid_member
    db.session.refresh(visit)
    assert visit.request == item
    # once only
    assert english.get(f"/visits/{visit.id}/request").status_code == 409


def test_the_visits_leader_and_secretary_may_turn_it_into_a_request(
    db, grid, grid_member, grid_leader, secretary, other_member
):
    draft = services.RequestDraft("漏水", "卫生间漏水", "property_service", "3栋")
    with pytest.raises(NotAllowed):
        visits.raise_from_visit(other_member, log(grid_member, grid), draft)
    item = visits.raise_from_visit(grid_leader, log(grid_member, grid), draft)
    assert item.resident_name == "3栋 王阿姨"
    assert visits.raise_from_visit(secretary, log(grid_member, grid), draft).raised_by == secretary


def test_a_second_request_from_the_same_visit_is_a_conflict(db, grid, grid_member):
    visit = log(grid_member, grid)
    draft = services.RequestDraft("漏水", "卫生间漏水", "property_service", "3栋")
    visits.raise_from_visit(grid_member, visit, draft)
    with pytest.raises(Conflict):
        visits.raise_from_visit(grid_member, visit, draft)


# --- the API ----------------------------------------------------------------------------------


def test_api_logs_and_lists_visits(client, bearer, grid, grid_member, grid_leader):
    response = client.post(
        "/api/v1/visits",
        json={"grid_id": grid.id, "visited": "3栋 王阿姨", "notes": "漏水", "follow_up": "找物业"},
        headers=bearer(grid_member),
    )
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    assert (data["grid_id"], data["visited"], data["request_id"]) == (grid.id, "3栋 王阿姨", None)
    assert data["visitor"]["id"] == grid_member.id
    assert data["visited_at"].endswith("+08:00")

    listed = client.get(f"/api/v1/visits?grid_id={grid.id}", headers=bearer(grid_leader))
    assert listed.status_code == 200
    assert listed.get_json()["total"] == 1


def test_api_visit_is_refused_outside_ones_grids(
    client, bearer, grid, other_grid, second_grid_leader, resident
):
    body = {"grid_id": grid.id, "visited": "王阿姨", "notes": "漏水"}
    assert (
        client.post("/api/v1/visits", json=body, headers=bearer(second_grid_leader)).status_code
        == 403
    )
    assert client.post("/api/v1/visits", json=body, headers=bearer(resident)).status_code == 403
    assert client.post("/api/v1/visits", json=body).status_code == 401


def test_api_visit_fields_are_checked(client, bearer, grid, grid_member):
    response = client.post(
        "/api/v1/visits",
        json={"grid_id": grid.id, "visited": "", "notes": ""},
        headers=bearer(grid_member),
    )
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"visited", "notes"}
    response = client.post(
        "/api/v1/visits",
        json={"grid_id": grid.id, "visited": "王阿姨", "notes": "   "},
        headers=bearer(grid_member),
    )
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"notes"}
    response = client.post(
        "/api/v1/visits",
        json={"grid_id": 999999, "visited": "x", "notes": "y"},
        headers=bearer(grid_member),
    )
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"grid_id"}


def test_api_visit_becomes_a_request_once(
    client, bearer, grid, grid_member, other_member, community
):
    visit = log(grid_member, grid, follow_up="联系物业")
    body = {"category": "property_service", "location": "3栋402"}

    assert (
        client.post(
            f"/api/v1/visits/{visit.id}/request", json=body, headers=bearer(other_member)
        ).status_code
        == 403
    )
    response = client.post(
        f"/api/v1/visits/{visit.id}/request", json=body, headers=bearer(grid_member)
    )
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    assert data["channel"] == "home_visit"
    assert data["requester"] is None
    assert data["resident"]["name"] == "3栋 王阿姨"
    assert "联系物业" in data["description"]
    [item] = requests_in(community)
    assert data["id"] == item.id

    again = client.post(
        f"/api/v1/visits/{visit.id}/request", json=body, headers=bearer(grid_member)
    )
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "conflict"


def test_api_visit_request_needs_category_and_location(client, bearer, grid, grid_member):
    visit = log(grid_member, grid)
    response = client.post(
        f"/api/v1/visits/{visit.id}/request", json={}, headers=bearer(grid_member)
    )
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"category", "location"}
