"""The order workflow through the API (API.md "Intake and orders on a
request"): the steps with their codes, illegal transitions (409), the wrong
person (403), bad bodies (422), and my orders."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from order_helpers import DUE
from request_helpers import fresh, raise_request

from meetings.requests.models import RequestStatus

pytest_plugins = ["meeting_fixtures", "order_fixtures"]


def post(client, headers, path, body=None):
    return client.post(path, json=body if body is not None else {}, headers=headers)


def error_code(response) -> str:
    return response.get_json()["error"]["code"]


def test_the_whole_workflow(
    client, bearer, secretary, resident, community, property_unit, property_staff
):
    item = raise_request(resident, community)
    base = f"/api/v1/requests/{item.id}"

    response = post(
        client,
        bearer(secretary),
        f"{base}/dispatch",
        {"assignee": {"unit_id": property_unit.id}, "due_date": DUE.isoformat(), "note": "请处理"},
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "dispatched"
    assert body["assignee"] == {"kind": "unit", "id": property_unit.id, "name": "幸福物业"}
    assert body["order_due_date"] == DUE.isoformat()
    assert body["claimed_by"] is None and body["rating"] is None

    staff = bearer(property_staff)
    response = post(client, staff, f"{base}/claim")
    assert response.status_code == 200
    assert response.get_json()["status"] == "claimed"
    assert response.get_json()["claimed_by"]["id"] == property_staff.id

    response = post(client, staff, f"{base}/steps", {"note": "已到现场查看"})
    assert response.status_code == 201
    step = response.get_json()
    assert step["note"] == "已到现场查看" and step["request_id"] == item.id
    assert step["author"]["id"] == property_staff.id and step["photo_ids"] == []

    response = post(client, staff, f"{base}/handled", {"reply": "已清理。"})
    assert response.status_code == 200
    body = response.get_json()
    assert (body["status"], body["reply"]) == ("handled", "已清理。")
    assert body["handled_at"] and [s["note"] for s in body["steps"]] == ["已到现场查看"]

    response = post(client, bearer(resident), f"{base}/rating", {"score": 5, "comment": "好"})
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "closed"
    assert body["rating"]["score"] == 5 and body["rating"]["comment"] == "好"

    response = post(client, bearer(resident), f"{base}/rating", {"score": 4})
    assert response.status_code == 409 and error_code(response) == "conflict"

    # the resident's own view of the request carries the order
    detail = client.get(base, headers=bearer(resident)).get_json()
    assert detail["assignee"]["kind"] == "unit" and detail["rating"]["score"] == 5


def test_a_low_rating_reopens_and_the_secretary_dispatches_again(
    client, bearer, make_order, resident, secretary, grid_one
):
    item = make_order("handled")
    response = post(
        client,
        bearer(resident),
        f"/api/v1/requests/{item.id}/rating",
        {"score": 2, "comment": "没修好"},
    )
    assert response.status_code == 201
    assert response.get_json()["status"] == "reopened"

    response = post(
        client,
        bearer(secretary),
        f"/api/v1/requests/{item.id}/dispatch",
        {"assignee": {"grid_id": grid_one.id}, "due_date": DUE.isoformat()},
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "dispatched" and body["claimed_by"] is None
    assert body["assignee"]["kind"] == "grid"


def test_hand_back(client, bearer, make_order, property_staff):
    item = make_order("dispatched")
    path = f"/api/v1/requests/{item.id}/hand-back"
    response = post(client, bearer(property_staff), path, {"reason": ""})
    assert response.status_code == 422
    assert "reason" in response.get_json()["error"]["fields"]

    response = post(client, bearer(property_staff), path, {"reason": "不在物业范围"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "handed_back" and body["assignee"] is None


@pytest.mark.parametrize(
    ("state", "verb", "person", "body"),
    [
        ("claimed", "claim", "property_staff", None),
        ("claimed", "hand-back", "property_staff", {"reason": "太忙"}),
        ("handled", "steps", "property_staff", {"note": "补充"}),
        ("handled", "handled", "property_staff", {"reply": "再次"}),
        ("closed", "dispatch", "secretary", "dispatch"),
        ("claimed", "dispatch", "secretary", "dispatch"),
        ("dispatched", "rating", "resident", {"score": 5}),
        ("submitted", "rating", "resident", {"score": 5}),
    ],
)
def test_illegal_transitions_are_409(
    client, bearer, make_order, request, property_unit, state, verb, person, body
):
    item = make_order(state)
    if body == "dispatch":
        body = {"assignee": {"unit_id": property_unit.id}, "due_date": DUE.isoformat()}
    user = request.getfixturevalue(person)
    response = post(client, bearer(user), f"/api/v1/requests/{item.id}/{verb}", body)
    assert response.status_code == 409, response.get_json()
    assert error_code(response) == "invalid_transition"
    assert fresh(item).status == RequestStatus(state)


@pytest.mark.parametrize(
    ("state", "verb", "person"),
    [
        ("submitted", "dispatch", "other_secretary"),
        ("submitted", "dispatch", "resident"),
        ("submitted", "dispatch", "grid_one_worker"),
        ("dispatched", "claim", "partner_staff"),
        ("dispatched", "claim", "grid_two_worker"),
        ("dispatched", "claim", "secretary"),
        ("dispatched", "hand-back", "partner_staff"),
        ("claimed", "steps", "partner_staff"),
        ("claimed", "steps", "secretary"),
        ("claimed", "handled", "grid_one_worker"),
        ("handled", "rating", "bystander"),
        ("handled", "rating", "secretary"),
        ("handled", "rating", "property_staff"),
    ],
)
def test_the_wrong_person_gets_403_before_the_body_is_read(
    client, bearer, make_order, request, grid_one, grid_two, partner_unit, state, verb, person
):
    item = make_order(state)
    user = request.getfixturevalue(person)
    response = post(client, bearer(user), f"/api/v1/requests/{item.id}/{verb}", {})
    assert response.status_code == 403, response.get_json()
    assert error_code(response) == "forbidden"


def test_anonymous_gets_401_and_an_unknown_request_404(client, bearer, secretary):
    assert client.post("/api/v1/requests/1/claim").status_code == 401
    assert client.get("/api/v1/my/orders").status_code == 401
    response = post(client, bearer(secretary), "/api/v1/requests/999999/claim")
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"assignee": {}, "due_date": DUE.isoformat()}, "assignee"),
        ({"assignee": {"grid_id": 1, "unit_id": 1}, "due_date": DUE.isoformat()}, "assignee"),
        ({"assignee": {"user_id": 999999}, "due_date": DUE.isoformat()}, "assignee"),
        ({"assignee": {"unit_id": "{unit}"}}, "due_date"),
        ({"assignee": {"unit_id": "{unit}"}, "due_date": "tomorrow"}, "due_date"),
        (
            {
                "assignee": {"unit_id": "{unit}"},
                "due_date": (date.today() - timedelta(days=3)).isoformat(),
            },
            "due_date",
        ),
    ],
)
def test_a_bad_dispatch_is_422_next_to_the_field(
    client, bearer, make_order, secretary, property_unit, body, field
):
    item = make_order("submitted")
    if body["assignee"].get("unit_id") == "{unit}":
        body = body | {"assignee": {"unit_id": property_unit.id}}
    response = post(client, bearer(secretary), f"/api/v1/requests/{item.id}/dispatch", body)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["fields"]
    assert fresh(item).status == RequestStatus.SUBMITTED


@pytest.mark.parametrize("score", [0, 6, "5", None, 2.5])
def test_a_score_outside_one_to_five_is_422(client, bearer, make_order, resident, score):
    item = make_order("handled")
    response = post(
        client, bearer(resident), f"/api/v1/requests/{item.id}/rating", {"score": score}
    )
    assert response.status_code == 422
    assert "score" in response.get_json()["error"]["fields"]


def test_my_orders(client, bearer, make_order, property_staff, grid_one_worker):
    make_order("claimed", title="第一单")
    second = make_order("dispatched", title="第二单")
    make_order("closed", title="已结")

    response = client.get("/api/v1/my/orders?per_page=2", headers=bearer(property_staff))

    assert response.status_code == 200
    body = response.get_json()
    assert body["total"] == 3
    # open ones first, soonest due first, then the one dispatched last first
    assert [o["title"] for o in body["items"]] == ["第二单", "第一单"]
    entry = body["items"][0]
    assert entry["id"] == second.id and entry["status"] == "dispatched"
    assert entry["assignee"]["name"] == "幸福物业"
    assert entry["is_unclaimed"] is False and entry["is_order_overdue"] is False
    page_two = client.get("/api/v1/my/orders?per_page=2&page=2", headers=bearer(property_staff))
    assert [o["title"] for o in page_two.get_json()["items"]] == ["已结"]

    none = client.get("/api/v1/my/orders", headers=bearer(grid_one_worker)).get_json()
    assert none == {"items": [], "total": 0}
