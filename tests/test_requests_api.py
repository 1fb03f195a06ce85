"""The JSON API of resident requests (API.md "Requests")."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate
from request_helpers import FORM, fresh, notifications_of, raise_request, requests_in

from meetings.requests import services


@pytest.fixture
def neighbour(make_user, community):
    """Another resident of the same community."""
    return make_user("neighbour", community=community, display_name="李大爷")


def body(community, **overrides) -> dict:
    return (
        {key: value for key, value in FORM.items() if key != "contact"}
        | {"community_id": community.id}
        | overrides
    )


# --- raising ---------------------------------------------------------------------


def test_resident_raises_a_request(client, bearer, resident, secretary, community):
    response = client.post(
        "/api/v1/requests",
        json=body(community, contact="138 0000 0000"),
        headers=bearer(resident),
    )

    assert response.status_code == 201
    data = response.get_json()
    [item] = requests_in(community)
    assert data["id"] == item.id
    assert data["status"] == "submitted"
    assert data["community_id"] == community.id
    assert data["category"] == "public_facilities"
    assert (data["title"], data["location"], data["contact"]) == (
        "活动室地板磨损",
        "优山美地花园182幢一层",
        "138 0000 0000",
    )
    assert data["reply"] is None
    assert data["replied_at"] is None
    assert data["meeting_ids"] == []
    assert data["resolution_ids"] == data["project_ids"] == []
    assert data["requester"] == {"id": resident.id, "display_name": "王阿姨"}
    assert data["raised_by"] is None
    assert data["is_overdue"] is False
    assert data["created_at"].endswith("+08:00")
    assert data["reply_due_at"].endswith("+08:00")
    assert [(e["from_status"], e["to_status"]) for e in data["history"]] == [(None, "submitted")]
    assert notifications_of(secretary, "request.submitted")


def test_bad_request_is_refused_with_the_fields_and_saves_nothing(
    client, bearer, resident, community
):
    response = client.post(
        "/api/v1/requests",
        json={"community_id": community.id, "title": "", "category": "weather", "location": "1幢"},
        headers=bearer(resident),
    )

    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_error"
    assert set(error["fields"]) == {"title", "category", "description"}
    assert requests_in(community) == []


def test_blank_text_is_refused_next_to_its_field(client, bearer, resident, community):
    response = client.post(
        "/api/v1/requests",
        json=body(community, title="   ", location=" "),
        headers=bearer(resident),
    )

    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_error"
    assert set(error["fields"]) == {"title", "location"}
    assert requests_in(community) == []


def test_unknown_community_is_refused(client, bearer, resident, community):
    response = client.post(
        "/api/v1/requests", json=body(community, community_id=987654), headers=bearer(resident)
    )

    assert response.status_code == 422
    assert list(response.get_json()["error"]["fields"]) == ["community_id"]


def test_raising_in_another_community_is_forbidden(
    client, bearer, resident, community, other_community
):
    response = client.post("/api/v1/requests", json=body(other_community), headers=bearer(resident))

    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"
    assert requests_in(other_community) == []


@pytest.mark.parametrize("payload", [{}, {"title": "x"}])
def test_raising_needs_a_token(client, community, payload):
    response = client.post("/api/v1/requests", json=payload)

    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_secretary_raises_a_request_for_a_resident(client, bearer, secretary, resident, community):
    response = client.post(
        "/api/v1/requests",
        json=body(community, requester_id=resident.id),
        headers=bearer(secretary),
    )

    assert response.status_code == 201
    data = response.get_json()
    assert data["requester"]["id"] == resident.id
    assert data["raised_by"] == {"id": secretary.id, "display_name": "林书记"}
    assert notifications_of(resident, "request.raised_for_you")


def test_resident_cannot_raise_for_a_neighbour(client, bearer, resident, neighbour, community):
    response = client.post(
        "/api/v1/requests",
        json=body(community, requester_id=neighbour.id),
        headers=bearer(resident),
    )

    assert response.status_code == 403
    assert requests_in(community) == []


def test_secretary_cannot_raise_for_someone_outside_the_community(
    client, bearer, secretary, other_secretary, community
):
    response = client.post(
        "/api/v1/requests",
        json=body(community, requester_id=other_secretary.id),
        headers=bearer(secretary),
    )

    assert response.status_code == 422
    assert list(response.get_json()["error"]["fields"]) == ["requester_id"]


# --- reading ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("resident", 200),
        ("secretary", 200),
        ("admin", 200),
        ("other_secretary", 403),
        ("neighbour", 403),
    ],
)
def test_request_is_for_the_requester_and_the_secretary(
    request, client, bearer, resident, community, who, status
):
    item = raise_request(resident, community)
    response = client.get(
        f"/api/v1/requests/{item.id}", headers=bearer(request.getfixturevalue(who))
    )

    assert response.status_code == status
    if status == 403:
        assert response.get_json()["error"]["code"] == "forbidden"
    else:
        assert response.get_json()["id"] == item.id


def test_reading_needs_a_token(client, resident, community):
    item = raise_request(resident, community)
    response = client.get(f"/api/v1/requests/{item.id}")

    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_missing_request_is_not_found(client, bearer, resident):
    response = client.get("/api/v1/requests/999999", headers=bearer(resident))

    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_request_shows_reply_and_overdue(client, bearer, secretary, resident, community):
    waiting = raise_request(resident, community, title="地下车库跳蚤", days_ago=4)
    answered = raise_request(resident, community, title="电梯轿厢广告", days_ago=4)
    services.reply_to_request(secretary, answered, "answer", "广告已清理。")

    data = client.get(f"/api/v1/requests/{waiting.id}", headers=bearer(resident)).get_json()
    assert (data["status"], data["is_overdue"]) == ("submitted", True)

    data = client.get(f"/api/v1/requests/{answered.id}", headers=bearer(resident)).get_json()
    assert (data["status"], data["is_overdue"]) == ("answered", False)
    assert data["reply"] == "广告已清理。"
    assert data["replied_by"] == {"id": secretary.id, "display_name": "林书记"}
    assert data["replied_at"].endswith("+08:00")
    assert [(e["from_status"], e["to_status"], e["message"]) for e in data["history"]] == [
        (None, "submitted", None),
        ("submitted", "answered", "广告已清理。"),
    ]
    assert data["history"][1]["actor"]["id"] == secretary.id


# --- listing ---------------------------------------------------------------------


def titles(response) -> list[str]:
    assert response.status_code == 200, response.get_json()
    data = response.get_json()
    assert data["total"] == len(data["items"])
    return [item["title"] for item in data["items"]]


def test_resident_lists_their_own_requests(client, bearer, resident, neighbour, community):
    raise_request(resident, community, title="楼道灯不亮", days_ago=2)
    raise_request(resident, community, title="垃圾桶满了", days_ago=1)
    raise_request(neighbour, community, title="邻居的诉求")

    response = client.get("/api/v1/requests", headers=bearer(resident))
    assert titles(response) == ["垃圾桶满了", "楼道灯不亮"]

    response = client.get(
        "/api/v1/requests", query_string={"community_id": community.id}, headers=bearer(resident)
    )
    assert titles(response) == ["垃圾桶满了", "楼道灯不亮"]


def test_secretary_lists_the_community_requests_by_status(
    client,
    bearer,
    secretary,
    other_secretary,
    resident,
    neighbour,
    community,
    make_user,
    other_community,
):
    raise_request(resident, community, title="楼道灯不亮", days_ago=2)
    answered = raise_request(neighbour, community, title="电梯轿厢广告", days_ago=1)
    services.reply_to_request(secretary, answered, "answer", "已清理。")
    raise_request(make_user(community=other_community), other_community, title="别处的诉求")

    response = client.get(
        "/api/v1/requests", query_string={"community_id": community.id}, headers=bearer(secretary)
    )
    assert titles(response) == ["电梯轿厢广告", "楼道灯不亮"]

    response = client.get(
        "/api/v1/requests",
        query_string={"community_id": community.id, "status": "submitted"},
        headers=bearer(secretary),
    )
    assert titles(response) == ["楼道灯不亮"]

    # another community's secretary sees none of them
    response = client.get(
        "/api/v1/requests",
        query_string={"community_id": community.id},
        headers=bearer(other_secretary),
    )
    assert titles(response) == []


def test_list_is_paged(client, bearer, resident, community):
    for number in range(3):
        raise_request(resident, community, title=f"诉求{number}", days_ago=3 - number)

    response = client.get(
        "/api/v1/requests", query_string={"per_page": 2, "page": 2}, headers=bearer(resident)
    )

    assert response.status_code == 200
    data = response.get_json()
    assert data["total"] == 3
    assert [item["title"] for item in data["items"]] == ["诉求0"]


@pytest.mark.parametrize(
    "query", [{"status": "pending"}, {"community_id": "abc"}, {"per_page": 500}]
)
def test_bad_list_filters_are_refused(client, bearer, resident, query):
    response = client.get("/api/v1/requests", query_string=query, headers=bearer(resident))

    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "validation_error"


def test_listing_needs_a_token(client):
    assert client.get("/api/v1/requests").status_code == 401


# --- replying ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "message", "status"),
    [
        ("accept", None, "accepted"),
        ("accept", "将召开协商议事会讨论。", "accepted"),
        ("answer", "物业已清理电梯广告。", "answered"),
        ("reject", "属于个人房屋内部问题，请联系物业报修。", "rejected"),
    ],
)
def test_secretary_replies(client, bearer, secretary, resident, community, action, message, status):
    item = raise_request(resident, community)
    payload = {"action": action} | ({"message": message} if message else {})
    response = client.post(
        f"/api/v1/requests/{item.id}/reply", json=payload, headers=bearer(secretary)
    )

    assert response.status_code == 200
    data = response.get_json()
    assert (data["id"], data["status"], data["reply"]) == (item.id, status, message)
    assert data["replied_by"]["id"] == secretary.id
    assert data["meeting_ids"] == []
    assert [e["to_status"] for e in data["history"]] == ["submitted", status]
    assert fresh(item).status == status
    [note] = notifications_of(resident, f"request.{status}")
    assert note.link == f"/requests/{item.id}"


@pytest.mark.parametrize(
    "payload",
    [
        {"action": "answer"},
        {"action": "answer", "message": "  "},
        {"action": "reject", "message": ""},
    ],
)
def test_answer_and_rejection_need_a_message(
    client, bearer, secretary, resident, community, payload
):
    item = raise_request(resident, community)
    response = client.post(
        f"/api/v1/requests/{item.id}/reply", json=payload, headers=bearer(secretary)
    )

    assert response.status_code == 422
    error = response.get_json()["error"]
    assert (error["code"], list(error["fields"])) == ("validation_error", ["message"])
    assert fresh(item).status == "submitted"
    assert notifications_of(resident) == []


@pytest.mark.parametrize("payload", [{}, {"action": "close"}, {"action": "Accept"}])
def test_reply_needs_a_known_action(client, bearer, secretary, resident, community, payload):
    item = raise_request(resident, community)
    response = client.post(
        f"/api/v1/requests/{item.id}/reply", json=payload, headers=bearer(secretary)
    )

    assert response.status_code == 422
    assert list(response.get_json()["error"]["fields"]) == ["action"]


@pytest.mark.parametrize("first", ["accept", "answer", "reject"])
@pytest.mark.parametrize("second", ["accept", "answer", "reject"])
def test_second_reply_is_an_invalid_transition(
    client, bearer, secretary, resident, community, first, second
):
    item = raise_request(resident, community)
    headers = bearer(secretary)
    first_response = client.post(
        f"/api/v1/requests/{item.id}/reply",
        json={"action": first, "message": "第一次答复"},
        headers=headers,
    )
    assert first_response.status_code == 200

    response = client.post(
        f"/api/v1/requests/{item.id}/reply",
        json={"action": second, "message": "第二次答复"},
        headers=headers,
    )

    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "invalid_transition"
    assert fresh(item).reply == "第一次答复"
    assert len(fresh(item).events) == 2


@pytest.mark.parametrize(
    ("who", "status"),
    [("resident", 403), ("neighbour", 403), ("other_secretary", 403), ("admin", 200)],
)
def test_only_the_secretary_may_reply(request, client, bearer, resident, community, who, status):
    item = raise_request(resident, community)
    response = client.post(
        f"/api/v1/requests/{item.id}/reply",
        json={"action": "answer", "message": "我来答复"},
        headers=bearer(request.getfixturevalue(who)),
    )

    assert response.status_code == status
    assert fresh(item).status == ("answered" if status == 200 else "submitted")


def test_replying_needs_a_token(client, resident, community):
    item = raise_request(resident, community)
    response = client.post(f"/api/v1/requests/{item.id}/reply", json={"action": "accept"})

    assert response.status_code == 401
    assert fresh(item).status == "submitted"


# --- the contract ------------------------------------------------------------------


def test_openapi_document_describes_the_request_endpoints(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    validate(spec)

    paths = spec["paths"]
    assert set(paths["/api/v1/requests"]) >= {"get", "post"}
    assert "get" in paths["/api/v1/requests/{request_id}"]
    assert "post" in paths["/api/v1/requests/{request_id}/reply"]
    schemas = spec["components"]["schemas"]
    create = schemas["RequestCreate"]
    assert set(create["required"]) == {
        "community_id",
        "title",
        "description",
        "category",
        "location",
    }
    assert create["properties"]["category"]["enum"] == [
        "property_service",
        "sanitation",
        "traffic",
        "public_facilities",
        "safety_hazard",
        "other",
    ]
    assert schemas["RequestReply"]["properties"]["action"]["enum"] == ["accept", "answer", "reject"]
