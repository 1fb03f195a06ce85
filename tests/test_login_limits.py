"""Limits that stop attackers, not meetings (issue 14): failed logins are
counted per account and, with a higher bound, per address; successes are
not; the login form and the API count together. Run with the shipped
defaults (the suite's configuration is generous for its fuzzers)."""

import pytest
from conftest import PASSWORD, form_errors

from meetings.config import defaults
from meetings.i18n import LANGUAGE_COOKIE

LIMITS = ("LOGIN_FAILURES_PER_ACCOUNT", "LOGIN_FAILURES_PER_ADDRESS", "SIGNUP_RATE_LIMIT")
ROOM = {"REMOTE_ADDR": "198.51.100.7"}  # the meeting room's one public address
ELSEWHERE = {"REMOTE_ADDR": "203.0.113.9"}


@pytest.fixture(autouse=True)
def shipped_limits(app, monkeypatch):
    shipped = defaults(app.instance_path)
    for name in LIMITS:
        monkeypatch.setitem(app.config, name, shipped[name])


def _browser(app, where=ROOM):
    browser = app.test_client()
    browser.environ_base.update(where)
    browser.set_cookie(LANGUAGE_COOKIE, "en")
    return browser


def _form_login(browser, username, password):
    return browser.post("/auth/login", data={"username": username, "password": password})


def _api_login(browser, username, password):
    return browser.post("/api/v1/tokens", json={"username": username, "password": password})


def test_forty_people_behind_one_address_log_in_within_a_minute(app, make_user, community):
    people = [make_user(f"room{n:02d}", community=community) for n in range(40)]
    # A few typos on the way, as in any room.
    for person in people[:4]:
        assert _form_login(_browser(app), person.username, "typo-typo").status_code == 401
    statuses = []
    for number, person in enumerate(people):
        if number % 2:
            statuses.append(_api_login(_browser(app), person.username, PASSWORD).status_code)
        else:
            statuses.append(_form_login(_browser(app), person.username, PASSWORD).status_code)
    assert statuses == [302, 201] * 20


def test_the_sixth_wrong_password_for_one_account_is_refused_with_the_wait(
    app, resident, make_user, community
):
    neighbour = make_user("neighbour", community=community)
    browser = _browser(app)
    assert [_form_login(browser, "resident", "guess").status_code for _ in range(5)] == [401] * 5

    response = _form_login(browser, "resident", "guess")
    assert response.status_code == 429
    assert form_errors(response.get_data(as_text=True)) == [
        "Too many failed logins for this account. Try again in 15 minutes."
    ]
    assert 14 * 60 < int(response.headers["Retry-After"]) <= 15 * 60
    # The account waits, the right password too, from anywhere.
    assert _form_login(_browser(app, ELSEWHERE), "resident", PASSWORD).status_code == 429
    # Everyone else in the room logs in.
    assert _form_login(_browser(app), neighbour.username, PASSWORD).status_code == 302
    assert _api_login(_browser(app), neighbour.username, PASSWORD).status_code == 201


def test_the_form_and_the_api_count_together(app, resident):
    browser = _browser(app)
    for _ in range(3):
        assert _form_login(browser, "resident", "guess").status_code == 401
    for _ in range(2):
        assert _api_login(browser, "resident", "guess").status_code == 401

    response = _api_login(browser, "resident", PASSWORD)
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "rate_limited"
    assert "15 minutes" in response.get_json()["error"]["message"]
    assert 0 < int(response.headers["Retry-After"]) <= 15 * 60
    assert _form_login(browser, "resident", PASSWORD).status_code == 429


def test_an_unknown_username_is_locked_like_a_real_one(app, resident):
    """The lock tells nothing about which names exist."""
    browser = _browser(app)
    for name in ("resident", "nobody-here"):
        for _ in range(5):
            assert _form_login(browser, name, "guess").status_code == 401
        response = _form_login(browser, name, "guess")
        assert response.status_code == 429
        assert form_errors(response.get_data(as_text=True)) == [
            "Too many failed logins for this account. Try again in 15 minutes."
        ]


def test_the_account_is_counted_whatever_the_case_of_its_name(app, resident):
    browser = _browser(app)
    for name in ("resident", "RESIDENT", " Resident ", "resideNT", "RESident"):
        assert _api_login(browser, name, "guess").status_code == 401
    assert _api_login(browser, "resident", PASSWORD).status_code == 429


def test_successful_logins_are_never_counted(app, resident):
    for _ in range(30):
        assert _form_login(_browser(app), "resident", PASSWORD).status_code == 302
    for _ in range(30):
        assert _api_login(_browser(app), "resident", PASSWORD).status_code == 201


def test_one_address_guessing_at_many_accounts_is_stopped_at_its_higher_bound(
    app, make_user, community
):
    victims = [make_user(f"victim{n:02d}", community=community) for n in range(25)]
    browser = _browser(app)
    # 100 failures, at most 4 per account: no account is locked.
    for victim in victims:
        for _ in range(4):
            assert _form_login(browser, victim.username, "guess").status_code == 401

    response = _form_login(browser, victims[0].username, PASSWORD)
    assert response.status_code == 429
    assert form_errors(response.get_data(as_text=True)) == [
        "Too many failed logins from your network. Try again in 15 minutes."
    ]
    _api = _api_login(browser, victims[1].username, PASSWORD)
    assert _api.status_code == 429
    assert _api.get_json()["error"]["code"] == "rate_limited"
    # From another address the accounts are open to their owners.
    assert _form_login(_browser(app, ELSEWHERE), victims[0].username, PASSWORD).status_code == 302


def test_the_bounds_are_settings(app, resident, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_FAILURES_PER_ACCOUNT", "2 per hour")
    browser = _browser(app)
    assert [_form_login(browser, "resident", "x").status_code for _ in range(3)] == [401, 401, 429]
    response = _form_login(browser, "resident", "x")
    assert "Try again in 60 minutes." in form_errors(response.get_data(as_text=True))[0]
