"""The accounts part of the JSON API (API.md "Accounts"): tokens, me,
communities, users, and the error shape of the contract."""

import json
import re
from datetime import timedelta

import pytest
from conftest import PASSWORD
from openapi_spec_validator import validate

from auth import services as auth_services
from auth.models import ApiToken, Community, Membership, User
from meetings.dbtypes import utcnow

ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")


def _assert_error(response, status: int, code: str) -> dict:
    """The contract's error shape; returns the error body."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"}
    error = body["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    assert set(error) <= {"code", "message", "fields"}
    return error


def _count(db, model) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def _new_user(community_id=None, **overrides):
    body = {
        "username": "newbie",
        "password": PASSWORD,
        "display_name": "新居民",
        "community_id": community_id,
        "is_secretary": False,
    }
    body.update(overrides)
    return body


# --- tokens ------------------------------------------------------------------------


def test_token_is_issued_for_right_credentials(client, resident):
    response = client.post("/api/v1/tokens", json={"username": "resident", "password": PASSWORD})
    assert response.status_code == 201
    body = response.get_json()
    assert len(body["token"]) >= 40
    assert ISO_WITH_OFFSET.match(body["expires_at"])
    assert body["expires_at"].endswith("+08:00")
    assert body["user"]["id"] == resident.id
    assert body["user"]["username"] == "resident"
    assert "password_hash" not in body["user"]


def test_issued_token_works_as_bearer(client, resident):
    token = client.post(
        "/api/v1/tokens", json={"username": "resident", "password": PASSWORD}
    ).get_json()["token"]
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.get_json()["username"] == "resident"


def test_token_expires_after_the_configured_days(app, client, resident):
    response = client.post("/api/v1/tokens", json={"username": "resident", "password": PASSWORD})
    token = response.get_json()["token"]
    stored = auth_services.token_for(token)
    lifetime = stored.expires_at - stored.created_at
    assert abs(lifetime - timedelta(days=app.config["API_TOKEN_DAYS"])) < timedelta(minutes=1)


def test_only_a_hash_of_the_token_is_stored(db, client, resident):
    token = client.post(
        "/api/v1/tokens", json={"username": "resident", "password": PASSWORD}
    ).get_json()["token"]
    hashes = db.session.scalars(db.select(ApiToken.token_hash)).all()
    assert token not in hashes
    assert len(hashes) == 1


def test_wrong_password_gets_no_token(db, client, resident):
    response = client.post("/api/v1/tokens", json={"username": "resident", "password": "nope"})
    _assert_error(response, 401, "invalid_credentials")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert _count(db, ApiToken) == 0


def test_unknown_user_gets_no_token(client):
    response = client.post("/api/v1/tokens", json={"username": "ghost", "password": PASSWORD})
    _assert_error(response, 401, "invalid_credentials")


def test_deactivated_user_gets_no_token(client, make_user):
    make_user("gone", active=False)
    response = client.post("/api/v1/tokens", json={"username": "gone", "password": PASSWORD})
    _assert_error(response, 401, "invalid_credentials")


def test_token_request_without_fields_lists_them(client):
    error = _assert_error(client.post("/api/v1/tokens", json={}), 422, "validation_error")
    assert set(error["fields"]) == {"username", "password"}


def test_failed_token_requests_are_limited_per_account(app, client, resident, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_FAILURES_PER_ACCOUNT", "3 per 15 minutes")
    wrong = {"username": "resident", "password": "guess"}
    assert [client.post("/api/v1/tokens", json=wrong).status_code for _ in range(3)] == [401] * 3
    response = client.post("/api/v1/tokens", json=wrong)
    _assert_error(response, 429, "rate_limited")
    assert 0 < int(response.headers["Retry-After"]) <= 15 * 60
    right = {"username": "resident", "password": PASSWORD}
    _assert_error(client.post("/api/v1/tokens", json=right), 429, "rate_limited")


def test_api_account_with_a_common_password_is_refused_next_to_it(db, english, admin, bearer):
    response = english.post(
        "/api/v1/users",
        json=_new_user(password="woaini1314", username="newbie"),
        headers=bearer(admin),
    )
    error = _assert_error(response, 422, "validation_error")
    assert error["fields"] == {
        "password": ["This password is one of the most common ones. Please choose another."]
    }
    assert db.session.scalar(db.select(User).where(User.username == "newbie")) is None


def test_token_is_refused_with_the_same_message_for_unknown_user_and_wrong_password(
    client, resident
):
    unknown = client.post("/api/v1/tokens", json={"username": "ghost", "password": PASSWORD})
    wrong = client.post("/api/v1/tokens", json={"username": "resident", "password": "nope"})
    assert unknown.get_json() == wrong.get_json()


def test_revoked_current_token_stops_working(client, resident, bearer):
    headers = bearer(resident)
    response = client.delete("/api/v1/tokens/current", headers=headers)
    assert response.status_code == 204
    assert response.get_data() == b""
    _assert_error(client.get("/api/v1/me", headers=headers), 401, "unauthorized")


def test_revoking_one_token_leaves_the_others_working(client, resident, bearer):
    phone, laptop = bearer(resident), bearer(resident)
    client.delete("/api/v1/tokens/current", headers=phone)
    assert client.get("/api/v1/me", headers=laptop).status_code == 200


def test_revoking_without_a_token_is_unauthorized(client):
    _assert_error(client.delete("/api/v1/tokens/current"), 401, "unauthorized")


def test_expired_token_is_refused(db, client, resident, bearer):
    headers = bearer(resident)
    token = db.session.scalar(db.select(ApiToken).where(ApiToken.user_id == resident.id))
    token.expires_at = utcnow() - timedelta(seconds=1)
    db.session.flush()
    _assert_error(client.get("/api/v1/me", headers=headers), 401, "unauthorized")


def test_token_of_a_deactivated_user_stops_working(db, client, admin, resident, bearer):
    headers = bearer(resident)
    auth_services.set_active(admin, resident, False)
    db.session.flush()
    _assert_error(client.get("/api/v1/me", headers=headers), 401, "unauthorized")


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer not-a-real-token",
        "Bearer ",
        "Basic cmVzaWRlbnQ6cGFzc3dvcmQ=",
        "Bearer " + "x" * 10_000,
        "bearer",
    ],
)
def test_bad_authorization_header_is_unauthorized(client, authorization):
    response = client.get("/api/v1/me", headers={"Authorization": authorization})
    _assert_error(response, 401, "unauthorized")


# --- me ----------------------------------------------------------------------------------


def test_me_lists_communities_with_secretary_flag(
    db, client, make_user, community, other_community, bearer
):
    user = make_user("both", community=community, secretary=True, display_name="两边跑")
    db.session.add(Membership(user=user, community=other_community, is_secretary=False))
    db.session.flush()
    response = client.get("/api/v1/me", headers=bearer(user))
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == user.id
    assert body["username"] == "both"
    assert body["display_name"] == "两边跑"
    assert body["is_admin"] is False
    communities = sorted(body["communities"], key=lambda c: c["name"])
    assert [(c["id"], c["name"], c["is_secretary"]) for c in communities] == sorted(
        [(community.id, "东篱社区", True), (other_community.id, "星怡社区", False)],
        key=lambda c: c[1],
    )


def test_me_of_an_admin_says_so(client, admin, bearer):
    body = client.get("/api/v1/me", headers=bearer(admin)).get_json()
    assert body["is_admin"] is True
    assert body["communities"] == []


def test_me_without_token_is_unauthorized(client):
    response = client.get("/api/v1/me")
    _assert_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_browser_session_does_not_authenticate_the_api(client, login, resident):
    login(resident)
    _assert_error(client.get("/api/v1/me"), 401, "unauthorized")


# --- communities ----------------------------------------------------------------------------


def test_communities_are_listed_for_anyone(client, community, other_community):
    response = client.get("/api/v1/communities")
    assert response.status_code == 200
    body = response.get_json()
    assert body["total"] == 2
    assert {c["name"] for c in body["items"]} == {"东篱社区", "星怡社区"}
    assert set(body["items"][0]) >= {"id", "name", "street"}


def test_communities_list_pages(client, community, other_community):
    body = client.get("/api/v1/communities?per_page=1&page=2").get_json()
    assert body["total"] == 2
    assert len(body["items"]) == 1


@pytest.mark.parametrize("query", ["per_page=201", "per_page=0", "page=0", "page=abc"])
def test_communities_list_refuses_bad_paging(client, query):
    error = _assert_error(client.get(f"/api/v1/communities?{query}"), 422, "validation_error")
    assert set(error["fields"]) <= {"page", "per_page"}


def test_admin_creates_a_community(db, client, admin, bearer):
    response = client.post(
        "/api/v1/communities",
        json={"name": "竹韵社区", "street": "竹行街道"},
        headers=bearer(admin),
    )
    assert response.status_code == 201
    body = response.get_json()
    assert (body["name"], body["street"]) == ("竹韵社区", "竹行街道")
    assert db.session.get(Community, body["id"]).name == "竹韵社区"


def test_secretary_may_not_create_a_community(db, client, secretary, bearer):
    response = client.post(
        "/api/v1/communities", json={"name": "私设社区", "street": "x"}, headers=bearer(secretary)
    )
    _assert_error(response, 403, "forbidden")
    assert db.session.scalar(db.select(Community).where(Community.name == "私设社区")) is None


def test_anonymous_may_not_create_a_community(client):
    response = client.post("/api/v1/communities", json={"name": "匿名社区", "street": "x"})
    _assert_error(response, 401, "unauthorized")


def test_community_with_a_taken_name_is_a_conflict(client, admin, community, bearer):
    response = client.post(
        "/api/v1/communities", json={"name": "东篱社区", "street": "x"}, headers=bearer(admin)
    )
    error = _assert_error(response, 409, "conflict")
    assert "name" in error["fields"]


def test_community_with_blank_name_is_a_validation_error(client, admin, bearer):
    response = client.post(
        "/api/v1/communities", json={"name": "   ", "street": "  "}, headers=bearer(admin)
    )
    error = _assert_error(response, 422, "validation_error")
    assert set(error["fields"]) == {"name", "street"}


# --- users ---------------------------------------------------------------------------------


def test_admin_creates_a_secretary_in_any_community(db, client, admin, other_community, bearer):
    response = client.post(
        "/api/v1/users",
        json=_new_user(other_community.id, is_secretary=True),
        headers=bearer(admin),
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["username"] == "newbie"
    assert "password" not in body and "password_hash" not in body
    user = db.session.get(User, body["id"])
    assert user.check_password(PASSWORD)
    assert user.membership_in(other_community.id).is_secretary


def test_admin_creates_an_account_without_community(db, client, admin, bearer):
    response = client.post("/api/v1/users", json=_new_user(), headers=bearer(admin))
    assert response.status_code == 201
    assert db.session.get(User, response.get_json()["id"]).memberships == []


def test_secretary_creates_a_resident_in_own_community(db, client, secretary, community, bearer):
    response = client.post("/api/v1/users", json=_new_user(community.id), headers=bearer(secretary))
    assert response.status_code == 201
    user = db.session.get(User, response.get_json()["id"])
    membership = user.membership_in(community.id)
    assert membership is not None and not membership.is_secretary


def test_secretary_may_not_create_accounts_in_another_community(
    db, client, secretary, other_community, bearer
):
    response = client.post(
        "/api/v1/users", json=_new_user(other_community.id), headers=bearer(secretary)
    )
    _assert_error(response, 403, "forbidden")
    assert _count(db, User) == 1


def test_secretary_may_not_appoint_a_secretary(db, client, secretary, community, bearer):
    response = client.post(
        "/api/v1/users",
        json=_new_user(community.id, is_secretary=True),
        headers=bearer(secretary),
    )
    _assert_error(response, 403, "forbidden")
    assert _count(db, User) == 1


def test_secretary_may_not_create_an_account_outside_any_community(db, client, secretary, bearer):
    response = client.post("/api/v1/users", json=_new_user(), headers=bearer(secretary))
    _assert_error(response, 403, "forbidden")


def test_resident_may_not_create_accounts(db, client, resident, community, bearer):
    response = client.post("/api/v1/users", json=_new_user(community.id), headers=bearer(resident))
    _assert_error(response, 403, "forbidden")
    assert _count(db, User) == 1


def test_anonymous_may_not_create_accounts(client, community):
    _assert_error(client.post("/api/v1/users", json=_new_user(community.id)), 401, "unauthorized")


def test_taken_username_is_a_conflict(db, client, admin, resident, bearer):
    response = client.post(
        "/api/v1/users", json=_new_user(username="RESIDENT"), headers=bearer(admin)
    )
    error = _assert_error(response, 409, "conflict")
    assert set(error["fields"]) == {"username"}
    assert _count(db, User) == 2


def test_bad_new_user_gets_errors_per_field(db, client, admin, bearer):
    response = client.post(
        "/api/v1/users",
        json=_new_user(username="no spaces please", password="short", display_name=" "),
        headers=bearer(admin),
    )
    error = _assert_error(response, 422, "validation_error")
    assert set(error["fields"]) == {"username", "password", "display_name"}
    assert _count(db, User) == 1


def test_unknown_community_is_a_validation_error_on_community_id(db, client, admin, bearer):
    response = client.post("/api/v1/users", json=_new_user(99999), headers=bearer(admin))
    error = _assert_error(response, 422, "validation_error")
    assert set(error["fields"]) == {"community_id"}
    assert _count(db, User) == 1


# --- the error shape, and never a 500 -----------------------------------------------------------


def test_malformed_json_is_a_bad_request(client, admin, bearer):
    response = client.post(
        "/api/v1/users",
        data='{"username": "abc",',
        headers={**bearer(admin), "Content-Type": "application/json"},
    )
    _assert_error(response, 400, "bad_request")


def test_json_nested_too_deep_is_a_bad_request(client, admin, bearer):
    response = client.post(
        "/api/v1/users",
        data="[" * 100_000 + "]" * 100_000,
        headers={**bearer(admin), "Content-Type": "application/json"},
    )
    _assert_error(response, 400, "bad_request")


def test_unknown_api_path_is_a_json_not_found(client):
    _assert_error(client.get("/api/v1/no-such-thing"), 404, "not_found")


def test_wrong_method_is_a_json_error_listing_the_allowed_ones(client, resident, bearer):
    response = client.put("/api/v1/me", headers=bearer(resident))
    _assert_error(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]


def test_unknown_fields_are_ignored(client, admin, bearer):
    response = client.post(
        "/api/v1/communities",
        json={"name": "竹韵社区", "street": "竹行街道", "mayor": "nobody"},
        headers=bearer(admin),
    )
    assert response.status_code == 201


def _nested(value, depth: int):
    for _ in range(depth):
        value = [value]
    return value


BAD_BODIES = [
    pytest.param([], id="array"),
    pytest.param(None, id="null"),
    pytest.param(123, id="number"),
    pytest.param("text", id="string"),
    pytest.param({"username": 5, "password": True, "display_name": []}, id="wrong-types"),
    pytest.param({"username": {"$ne": ""}, "password": {"a": 1}}, id="objects"),
    pytest.param({"username": "x" * 1_000_000, "password": "y" * 1_000_000}, id="huge-strings"),
    pytest.param({"name": "名" * 100_000, "street": "街" * 100_000}, id="huge-names"),
    pytest.param(_new_user(10**30), id="community-id-too-big"),
    pytest.param(_new_user(2**31), id="community-id-just-too-big"),
    pytest.param(_new_user(-1), id="community-id-negative"),
    pytest.param(_new_user(0), id="community-id-zero"),
    pytest.param(_new_user("abc"), id="community-id-text"),
    pytest.param(_new_user(1.5), id="community-id-fraction"),
    pytest.param(_new_user(is_secretary="maybe"), id="boolean-as-text"),
    pytest.param(_new_user(display_name="王\x00阿姨"), id="nul-in-name"),
    pytest.param(
        {"username": "ro\x00ot", "password": "x", "name": "a\x00", "street": "b"}, id="nul"
    ),
    pytest.param({"a\x00": 1}, id="nul-in-key"),
    pytest.param({"username": _nested("\x00", 500)}, id="nul-deep-inside"),
]


@pytest.mark.parametrize("path", ["/api/v1/tokens", "/api/v1/communities", "/api/v1/users"])
@pytest.mark.parametrize("body", BAD_BODIES)
def test_bad_input_is_never_a_server_error(db, client, admin, community, bearer, path, body):
    users, communities = _count(db, User), _count(db, Community)
    response = client.post(
        path,
        data=json.dumps(body),
        headers={
            **bearer(admin),
            "Content-Type": "application/json",
        },
    )
    assert response.status_code in (400, 401, 409, 422), response.get_data(as_text=True)
    error = _assert_error(response, response.status_code, response.get_json()["error"]["code"])
    if response.status_code == 422:
        assert error["fields"]
    assert (_count(db, User), _count(db, Community)) == (users, communities)


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (b"\xff\xfe\x00", "application/json"),
        (b"username=resident&password=x", "application/x-www-form-urlencoded"),
        (b"<xml/>", "application/xml"),
        (b"", "application/json"),
    ],
)
def test_body_that_is_not_json_is_never_a_server_error(client, data, content_type):
    response = client.post("/api/v1/tokens", data=data, headers={"Content-Type": content_type})
    assert response.status_code in (400, 422)
    _assert_error(response, response.status_code, response.get_json()["error"]["code"])


@pytest.mark.parametrize(
    "query", ["page=99999999999999999999999", "per_page=-5", "page=%00", "page=1e3"]
)
def test_bad_query_string_is_never_a_server_error(client, query):
    response = client.get(f"/api/v1/communities?{query}")
    assert response.status_code in (400, 422)
    _assert_error(response, response.status_code, response.get_json()["error"]["code"])


def test_body_larger_than_the_limit_is_refused(app, client):
    response = client.post(
        "/api/v1/tokens",
        data=b"{" + b" " * (app.config["MAX_CONTENT_LENGTH"] + 1) + b"}",
        headers={"Content-Type": "application/json"},
    )
    _assert_error(response, 413, "payload_too_large")


# --- the OpenAPI document -------------------------------------------------------------------


def test_openapi_document_is_valid_openapi_3(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.")
    validate(document)


def test_openapi_document_lists_every_api_route(app, client):
    """A new endpoint under /api/v1 that the document misses fails here."""
    documented = {
        (path, method.upper())
        for path, operations in client.get("/api/v1/openapi.json").get_json()["paths"].items()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    }
    routes = {
        (re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule.rule), method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and not rule.endpoint.startswith("api-docs.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes - documented == set()


def test_openapi_document_marks_the_endpoints_that_need_a_token(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert paths["/api/v1/me"]["get"]["security"] == [{"bearerAuth": []}]
    assert "security" not in paths["/api/v1/tokens"]["post"]
