"""Headers, cookies, CSRF, stored secrets, and failures that lose nothing."""

import pytest
from conftest import PASSWORD, csrf_token_from
from flask import session

from auth import services as auth_services
from auth.models import Community, User
from meetings import create_app


@pytest.fixture
def csrf_on(app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)


def _user(db, username):
    return db.session.scalar(db.select(User).where(User.username == username))


SIGNUP = {
    "display_name": "王桂兰",
    "username": "wangguilan",
    "password": PASSWORD,
    "confirm": PASSWORD,
}


# --- headers and cookies ---------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/auth/login", "/no/such/page", "/api/v1/communities"])
def test_every_response_carries_the_security_headers(client, path):
    response = client.get(path)
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "object-src 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_a_response_varies_by_cookie_once_beside_a_views_own_vary(app_config):
    app = create_app(app_config)

    @app.get("/varies-by-language")
    def varies_by_language():
        session.get("seen")  # read, not changed: the answer depends on the cookie
        return "ok", 200, {"Vary": "Accept-Language"}

    client = app.test_client()
    assert client.get("/varies-by-language").headers.getlist("Vary") == ["Accept-Language, Cookie"]
    assert client.get("/api/v1/communities").headers.getlist("Vary") == ["Cookie"]


def test_session_cookie_is_http_only_and_same_site_lax(client, resident):
    response = client.post("/auth/login", data={"username": "resident", "password": PASSWORD})
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_pages_hold_no_inline_scripts_or_styles(client):
    page = client.get("/").get_data(as_text=True)
    assert "<script>" not in page
    assert "<style" not in page
    assert " style=" not in page


# --- CSRF --------------------------------------------------------------------------------------


def test_form_post_without_csrf_token_is_refused_and_saves_nothing(db, english, csrf_on, community):
    response = english.post("/auth/signup", data={**SIGNUP, "community_id": str(community.id)})
    assert response.status_code == 400
    assert "The request could not be understood" in response.get_data(as_text=True)
    assert _user(db, "wangguilan") is None


def test_form_post_with_the_token_from_the_page_works(db, client, csrf_on, community):
    token = csrf_token_from(client.get("/auth/signup").get_data(as_text=True))
    response = client.post(
        "/auth/signup",
        data={**SIGNUP, "community_id": str(community.id), "csrf_token": token},
    )
    assert response.status_code == 302
    assert _user(db, "wangguilan") is not None


def test_csrf_token_of_another_visitor_is_refused(app, db, client, csrf_on, community):
    stranger = app.test_client()
    token = csrf_token_from(stranger.get("/auth/signup").get_data(as_text=True))
    client.get("/auth/signup")
    response = client.post(
        "/auth/signup",
        data={**SIGNUP, "community_id": str(community.id), "csrf_token": token},
    )
    assert response.status_code == 400
    assert _user(db, "wangguilan") is None


def test_login_without_csrf_token_is_refused(client, csrf_on, resident):
    response = client.post("/auth/login", data={"username": "resident", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/auth/password").status_code == 302


def test_login_with_csrf_token_works(client, csrf_on, resident):
    token = csrf_token_from(client.get("/auth/login").get_data(as_text=True))
    response = client.post(
        "/auth/login",
        data={"username": "resident", "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    assert client.get("/auth/password").status_code == 200


def test_logout_without_csrf_token_keeps_the_user_logged_in(client, csrf_on, resident):
    token = csrf_token_from(client.get("/auth/login").get_data(as_text=True))
    client.post(
        "/auth/login",
        data={"username": "resident", "password": PASSWORD, "csrf_token": token},
    )
    assert client.post("/auth/logout").status_code == 400
    assert client.get("/auth/password").status_code == 200


def test_admin_action_without_csrf_token_is_refused(db, client, csrf_on, admin):
    token = csrf_token_from(client.get("/auth/login").get_data(as_text=True))
    client.post("/auth/login", data={"username": "root", "password": PASSWORD, "csrf_token": token})
    response = client.post("/admin/communities/new", data={"name": "伪造社区", "street": "x"})
    assert response.status_code == 400
    assert db.session.scalar(db.select(Community).where(Community.name == "伪造社区")) is None


def test_language_switch_without_csrf_token_is_refused(client, csrf_on):
    response = client.post("/language", data={"lang": "en"})
    assert response.status_code == 400
    assert "lang=" not in response.headers.get("Set-Cookie", "")


def test_api_with_a_bearer_token_needs_no_csrf_token(db, client, csrf_on, admin, bearer):
    response = client.post(
        "/api/v1/communities", json={"name": "接口社区", "street": "x"}, headers=bearer(admin)
    )
    assert response.status_code == 201


# --- what is stored ------------------------------------------------------------------------


def test_passwords_are_stored_only_as_hashes(db, client, community):
    client.post("/auth/signup", data={**SIGNUP, "community_id": str(community.id)})
    user = _user(db, "wangguilan")
    assert PASSWORD not in user.password_hash
    assert user.check_password(PASSWORD)
    assert not user.check_password(PASSWORD.upper())


# --- bad input and failures --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/auth/login", {"username": "resi\x00dent", "password": PASSWORD}),
        ("/auth/signup", {**SIGNUP, "display_name": "王\x00"}),
        ("/auth/signup", {**SIGNUP, "user\x00name": "x"}),
    ],
)
def test_text_with_nul_characters_is_a_bad_request(db, client, resident, path, data):
    users = db.session.scalar(db.select(db.func.count()).select_from(User))
    response = client.post(path, data=data)
    assert response.status_code == 400
    assert db.session.scalar(db.select(db.func.count()).select_from(User)) == users


def test_nul_character_in_a_query_string_is_a_bad_request(client):
    assert client.get("/?next=%00").status_code == 400


def test_a_form_is_recognised_whatever_the_case_and_parameters_of_its_type(db, client, resident):
    response = client.post(
        "/auth/login",
        data=f"username=resi%00dent&password={PASSWORD}",
        headers={"Content-Type": "Application/X-WWW-Form-Urlencoded; charset=UTF-8"},
    )
    assert response.status_code == 400


def test_a_json_body_is_left_to_the_apis_own_check(client):
    # The API's parser refuses NUL characters field by field: 422, naming the field.
    response = client.post("/api/v1/tokens", json={"username": "a\x00", "password": "x"})
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"username"}


def test_unexpected_failure_shows_an_apology_and_saves_nothing(db, english, community, monkeypatch):
    def broken_audit(*args, **kwargs):
        raise RuntimeError("the audit log is down")

    monkeypatch.setattr(auth_services, "record", broken_audit)
    response = english.post("/auth/signup", data={**SIGNUP, "community_id": str(community.id)})
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong" in page
    assert "the audit log is down" not in page
    assert "Traceback" not in page
    assert _user(db, "wangguilan") is None


def test_unexpected_api_failure_is_a_json_server_error_that_saves_nothing(
    db, client, admin, bearer, monkeypatch
):
    def broken_audit(*args, **kwargs):
        raise RuntimeError("the audit log is down")

    monkeypatch.setattr(auth_services, "record", broken_audit)
    response = client.post(
        "/api/v1/communities", json={"name": "半途社区", "street": "x"}, headers=bearer(admin)
    )
    assert response.status_code == 500
    assert response.get_json()["error"]["code"] == "server_error"
    assert "audit" not in response.get_data(as_text=True)
    assert db.session.scalar(db.select(Community).where(Community.name == "半途社区")) is None


def test_a_limited_view_sends_its_rate_limit_headers(client):
    limited = client.get("/minutes/999999.pdf")
    limit = int(limited.headers["X-RateLimit-Limit"])
    assert int(limited.headers["X-RateLimit-Remaining"]) < limit
