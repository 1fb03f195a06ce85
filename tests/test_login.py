"""Logging in and out, wrong passwords, the limit on failures, where login
leads, and changing the password (more in test_sessions.py and
test_login_limits.py)."""

import pytest
from conftest import PASSWORD, field_errors, flashes, form_errors

from auth import services as auth_services
from meetings.audit.models import AuditEntry


def test_login_page_shows_the_form(english):
    response = english.get("/auth/login")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<h1>Log in</h1>" in page
    assert 'name="username"' in page
    assert 'name="password"' in page


def test_login_with_right_password_greets_the_user_by_name(english, resident):
    response = english.post(
        "/auth/login",
        data={"username": resident.username, "password": PASSWORD},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"Welcome, {resident.display_name}." in flashes(page)
    assert "Log out" in page


def test_home_page_after_login_lists_the_users_communities(
    english, login, secretary, community, other_community
):
    login(secretary)
    page = english.get("/").get_data(as_text=True)
    mine = page.split('id="mine-heading"', 1)[1].split("</section>", 1)[0]
    assert "东篱社区" in mine
    assert "Secretary" in mine
    assert "星怡社区" not in mine


def test_login_ignores_the_case_of_the_username(client, resident):
    response = client.post("/auth/login", data={"username": "RESIDENT", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/auth/password").status_code == 200


def test_wrong_password_is_refused_with_a_message(english, resident):
    response = english.post(
        "/auth/login", data={"username": resident.username, "password": "not-the-password"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 401
    assert form_errors(page) == ["Wrong username or password."]
    # The username stays in the form; the password is never sent back.
    assert 'value="resident"' in page
    assert "not-the-password" not in page
    assert english.get("/auth/password").status_code == 302


def test_unknown_username_gets_the_same_message_as_a_wrong_password(english, resident):
    response = english.post("/auth/login", data={"username": "nobody", "password": PASSWORD})
    assert response.status_code == 401
    assert form_errors(response.get_data(as_text=True)) == ["Wrong username or password."]


def test_login_with_empty_fields_shows_errors_next_to_them(english):
    response = english.post("/auth/login", data={"username": "", "password": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="username-error"' in page
    assert 'id="password-error"' in page


def test_deactivated_user_cannot_log_in(english, make_user):
    make_user("gone", active=False)
    response = english.post("/auth/login", data={"username": "gone", "password": PASSWORD})
    assert response.status_code == 401
    assert form_errors(response.get_data(as_text=True)) == ["Wrong username or password."]
    assert english.get("/auth/password").status_code == 302


def test_deactivating_a_logged_in_user_ends_their_session(db, client, login, admin, resident):
    login(resident)
    assert client.get("/auth/password").status_code == 200
    auth_services.set_active(admin, resident, False)
    db.session.flush()
    response = client.get("/auth/password")
    assert response.status_code == 302
    assert response.location.startswith("/auth/login")


def test_logout_ends_the_session(english, login, resident):
    login(resident)
    response = english.post("/auth/logout", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "You have logged out." in flashes(page)
    assert "Log out" not in page
    response = english.get("/auth/password")
    assert response.status_code == 302
    assert response.location.startswith("/auth/login")


def test_logout_by_get_is_not_allowed(client, login, resident):
    login(resident)
    assert client.get("/auth/logout").status_code == 405
    assert client.get("/auth/password").status_code == 200


def test_login_starts_a_fresh_session(client, login, resident):
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    login(resident)
    with client.session_transaction() as session:
        assert "planted" not in session
        # The cookie names a login session, not the user (see test_sessions.py).
        assert session["_user_id"] != str(resident.id)
    assert client.get("/auth/password").status_code == 200


def test_logged_in_user_visiting_login_page_goes_home(client, login, resident):
    login(resident)
    response = client.get("/auth/login")
    assert response.status_code == 302
    assert response.location == "/"


def test_page_that_needs_login_sends_anonymous_visitor_to_login_and_back(english, resident, admin):
    response = english.get("/auth/password")
    assert response.status_code == 302
    assert response.location == "/auth/login?next=%2Fauth%2Fpassword"
    page = english.get(response.location).get_data(as_text=True)
    assert "Please log in to see this page." in flashes(page)
    assert 'value="/auth/password"' in page

    response = english.post(
        "/auth/login?next=%2Fauth%2Fpassword",
        data={"username": resident.username, "password": PASSWORD, "next": "/auth/password"},
    )
    assert response.status_code == 302
    assert response.location == "/auth/password"


@pytest.mark.parametrize(
    "target",
    [
        "//evil.com",
        "//evil.com/path",
        "https://evil.com",
        "http://evil.com/auth/login",
        "/\\evil.com",
        "\\\\evil.com",
        "javascript:alert(1)",
        "evil.com",
        "///evil.com",
    ],
)
def test_login_never_redirects_to_another_site(client, resident, target):
    response = client.post(
        "/auth/login",
        data={"username": resident.username, "password": PASSWORD, "next": target},
    )
    assert response.status_code == 302
    assert response.location == "/welcome"  # where people land, on this site
    assert client.get("/welcome").location == "/"  # no vote waits for this resident


def test_login_redirect_keeps_the_query_of_a_page_on_this_site(client, resident):
    response = client.post(
        "/auth/login",
        data={"username": resident.username, "password": PASSWORD, "next": "/?page=2"},
    )
    assert response.location == "/?page=2"


def test_stay_logged_in_sets_a_remember_cookie_that_scripts_cannot_read(client, resident):
    response = client.post(
        "/auth/login",
        data={"username": resident.username, "password": PASSWORD, "remember": "y"},
    )
    cookie = next(
        c for c in response.headers.getlist("Set-Cookie") if c.startswith("remember_token=")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_login_without_stay_logged_in_sets_no_remember_cookie(client, resident):
    response = client.post(
        "/auth/login", data={"username": resident.username, "password": PASSWORD}
    )
    assert not any(c.startswith("remember_token=") for c in response.headers.getlist("Set-Cookie"))


def test_a_flood_of_wrong_passwords_is_stopped_for_a_while(app, english, resident, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_FAILURES_PER_ACCOUNT", "3 per 15 minutes")
    wrong = {"username": resident.username, "password": "guess"}
    statuses = [english.post("/auth/login", data=wrong).status_code for _ in range(3)]
    assert statuses == [401, 401, 401]

    response = english.post("/auth/login", data=wrong)
    assert response.status_code == 429
    assert form_errors(response.get_data(as_text=True)) == [
        "Too many failed logins for this account. Try again in 15 minutes."
    ]
    # Even the right password waits until the limit resets.
    response = english.post(
        "/auth/login", data={"username": resident.username, "password": PASSWORD}
    )
    assert response.status_code == 429


def test_the_limit_counts_only_failed_logins_not_visits(app, client, resident, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_FAILURES_PER_ACCOUNT", "3 per 15 minutes")
    monkeypatch.setitem(app.config, "LOGIN_FAILURES_PER_ADDRESS", "3 per 15 minutes")
    for _ in range(5):
        assert client.get("/auth/login").status_code == 200
    wrong = {"username": resident.username, "password": "guess"}
    assert [client.post("/auth/login", data=wrong).status_code for _ in range(2)] == [401, 401]
    response = client.post(
        "/auth/login", data={"username": resident.username, "password": PASSWORD}
    )
    assert response.status_code == 302


# --- changing the password ------------------------------------------------------------------


def _change_password(client, current=PASSWORD, new="a-brand-new-pass", confirm=None):
    return client.post(
        "/auth/password",
        data={"current_password": current, "new_password": new, "confirm": confirm or new},
    )


def test_password_change_with_wrong_current_password_shows_error_next_to_field(
    db, english, login, resident
):
    login(resident)
    response = _change_password(english, current="not-my-password")
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "current_password") == [
        "This is not your current password."
    ]
    db.session.refresh(resident)
    assert resident.check_password(PASSWORD)


def test_password_change_with_a_short_new_password_shows_error_next_to_field(
    db, english, login, resident
):
    login(resident)
    response = _change_password(english, new="short")
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "new_password")
    db.session.refresh(resident)
    assert resident.check_password(PASSWORD)


def test_password_change_with_differing_repetition_shows_error_next_to_field(
    english, login, resident
):
    login(resident)
    response = _change_password(english, confirm="something-else")
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "confirm") == ["The passwords differ."]


def test_password_change_takes_effect_at_the_next_login(app, db, english, login, resident):
    login(resident)
    response = _change_password(english)
    assert response.status_code == 302
    assert "Your password has been changed." in flashes(
        english.get(response.location).get_data(as_text=True)
    )
    other = app.test_client()
    old = other.post("/auth/login", data={"username": "resident", "password": PASSWORD})
    assert old.status_code == 401
    new = other.post("/auth/login", data={"username": "resident", "password": "a-brand-new-pass"})
    assert new.status_code == 302


def test_password_change_revokes_the_users_api_tokens(client, login, resident, bearer):
    headers = bearer(resident)
    login(resident)
    _change_password(client)
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_password_change_is_recorded_in_the_audit_log(db, client, login, resident):
    login(resident)
    _change_password(client)
    entry = db.session.scalar(
        db.select(AuditEntry).where(AuditEntry.action == "user.password_changed")
    )
    assert (entry.actor_id, entry.object_type, entry.object_id) == (
        resident.id,
        "user_account",
        resident.id,
    )


@pytest.mark.parametrize(
    ("new", "message"),
    [
        ("5201314520", "This password is one of the most common ones. Please choose another."),
        ("resident-2025", "The password must not contain the username."),
    ],
)
def test_password_change_follows_the_rules_for_new_passwords(
    db, english, login, resident, new, message
):
    login(resident)
    response = _change_password(english, new=new)
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "new_password") == [message]
    db.session.refresh(resident)
    assert resident.check_password(PASSWORD)
