"""Sessions that end (issue 14): a copied session cookie or remember-me cookie
stops working after logout, a password change, "sign out everywhere" and
deactivation, and stays dead after reactivation; staff sessions end when idle.

A copy is a second browser: another test client given the first one's cookie."""

from datetime import timedelta

import pytest
from conftest import PASSWORD, flashes

from auth import sessions
from meetings.audit.models import AuditEntry
from meetings.i18n import LANGUAGE_COOKIE

SESSION = "session"
REMEMBER = "remember_token"


def _browser(app):
    browser = app.test_client()
    browser.set_cookie(LANGUAGE_COOKIE, "en")
    return browser


def _log_in(browser, user, remember=False, password=PASSWORD):
    data = {"username": user.username, "password": password}
    if remember:
        data["remember"] = "y"
    response = browser.post("/auth/login", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return browser


def _copy(app, browser, name):
    """A second browser holding only this cookie of the first."""
    cookie = browser.get_cookie(name)
    assert cookie is not None, f"no {name} cookie"
    thief = _browser(app)
    thief.set_cookie(name, cookie.value)
    return thief


def _logged_in(browser) -> bool:
    response = browser.get("/auth/account")
    if response.status_code == 302:
        assert response.location.startswith("/auth/login")
        return False
    assert response.status_code == 200
    return True


# --- logout ---------------------------------------------------------------------------------


def test_a_copied_session_cookie_is_refused_after_logout(app, resident):
    browser = _log_in(_browser(app), resident)
    copy = _copy(app, browser, SESSION)
    assert _logged_in(copy)

    browser.post("/auth/logout")
    assert not _logged_in(browser)
    assert not _logged_in(copy)


def test_a_copied_remember_me_cookie_is_refused_after_logout(app, resident):
    browser = _log_in(_browser(app), resident, remember=True)
    assert _logged_in(_copy(app, browser, REMEMBER))
    remember_copy = _copy(app, browser, REMEMBER)

    browser.post("/auth/logout")
    assert browser.get_cookie(REMEMBER) is None
    assert not _logged_in(remember_copy)


def test_logout_ends_only_that_session(app, resident):
    phone = _log_in(_browser(app), resident)
    laptop = _log_in(_browser(app), resident, remember=True)
    phone.post("/auth/logout")
    assert not _logged_in(phone)
    assert _logged_in(laptop)


def test_the_remember_me_cookie_changes_at_each_login(app, resident):
    first = _log_in(_browser(app), resident, remember=True).get_cookie(REMEMBER).value
    second = _log_in(_browser(app), resident, remember=True).get_cookie(REMEMBER).value
    assert first != second
    assert str(resident.id) not in (first.split("|")[0], second.split("|")[0])


def test_a_cookie_naming_the_user_id_as_before_the_upgrade_is_refused(app, resident):
    browser = _browser(app)
    with browser.session_transaction() as session:
        session["_user_id"] = str(resident.id)
        session["_fresh"] = True
    assert not _logged_in(browser)


# --- password change ------------------------------------------------------------------------


def test_copied_cookies_are_refused_after_a_password_change(app, resident):
    browser = _log_in(_browser(app), resident, remember=True)
    session_copy = _copy(app, browser, SESSION)
    remember_copy = _copy(app, browser, REMEMBER)
    other_device = _log_in(_browser(app), resident)

    response = browser.post(
        "/auth/password",
        data={
            "current_password": PASSWORD,
            "new_password": "a-brand-new-pass",
            "confirm": "a-brand-new-pass",
        },
    )
    assert response.status_code == 302
    # The browser that changed it goes on, in a new session.
    assert _logged_in(browser)
    assert browser.get_cookie(SESSION).value != session_copy.get_cookie(SESSION).value
    assert not _logged_in(session_copy)
    assert not _logged_in(remember_copy)
    assert not _logged_in(other_device)


# --- sign out everywhere --------------------------------------------------------------------


def test_signing_out_on_all_devices_asks_first(app, resident):
    browser = _log_in(_browser(app), resident)
    page = browser.get("/auth/account").get_data(as_text=True)
    assert 'href="/auth/sign-out-everywhere"' in page
    page = browser.get("/auth/sign-out-everywhere").get_data(as_text=True)
    assert "Sign out on all devices?" in page
    assert _logged_in(browser)


def test_signing_out_on_all_devices_ends_every_session_and_token(db, app, resident, bearer):
    headers = bearer(resident)
    phone = _log_in(_browser(app), resident, remember=True)
    remembered_phone = _copy(app, phone, REMEMBER)
    laptop = _log_in(_browser(app), resident)

    response = laptop.post("/auth/sign-out-everywhere", follow_redirects=True)
    assert "You have been signed out on all devices." in flashes(response.get_data(as_text=True))
    assert not _logged_in(laptop)
    assert not _logged_in(phone)
    assert not _logged_in(remembered_phone)
    assert laptop.get("/api/v1/me", headers=headers).status_code == 401
    entry = db.session.scalar(
        db.select(AuditEntry).where(AuditEntry.action == "user.signed_out_everywhere")
    )
    assert (entry.actor_id, entry.object_id) == (resident.id, resident.id)
    # The password still works.
    assert _logged_in(_log_in(_browser(app), resident))


def test_admin_signs_a_user_out_everywhere_after_confirming(app, db, admin, resident):
    victim = _log_in(_browser(app), resident, remember=True)
    remembered = _copy(app, victim, REMEMBER)
    desk = _log_in(_browser(app), admin)

    index = desk.get("/admin/").get_data(as_text=True)
    assert f'href="/admin/users/{resident.id}/sign-out"' in index
    page = desk.get(f"/admin/users/{resident.id}/sign-out").get_data(as_text=True)
    assert "Sign 王阿姨 out everywhere?" in page
    assert _logged_in(victim)

    response = desk.post(f"/admin/users/{resident.id}/sign-out", follow_redirects=True)
    assert "resident is signed out on all devices." in flashes(response.get_data(as_text=True))
    assert not _logged_in(victim)
    assert not _logged_in(remembered)
    assert _logged_in(desk)
    entry = db.session.scalar(
        db.select(AuditEntry).where(AuditEntry.action == "user.signed_out_everywhere")
    )
    assert (entry.actor_id, entry.object_id) == (admin.id, resident.id)


def test_an_administrator_signs_themself_out_from_their_own_page(app, admin):
    desk = _log_in(_browser(app), admin)
    assert f"/admin/users/{admin.id}/sign-out" not in desk.get("/admin/").get_data(as_text=True)
    response = desk.get(f"/admin/users/{admin.id}/sign-out")
    assert response.status_code == 302
    assert response.location == "/auth/sign-out-everywhere"


def test_only_an_administrator_signs_someone_else_out(app, resident, secretary):
    victim = _log_in(_browser(app), resident)
    other = _log_in(_browser(app), secretary)
    assert other.post(f"/admin/users/{resident.id}/sign-out").status_code == 403
    assert _logged_in(victim)


# --- deactivation ---------------------------------------------------------------------------


def test_old_cookies_stay_dead_after_deactivation_and_reactivation(app, db, admin, resident):
    browser = _log_in(_browser(app), resident, remember=True)
    session_copy = _copy(app, browser, SESSION)
    remember_copy = _copy(app, browser, REMEMBER)
    desk = _log_in(_browser(app), admin)

    desk.post(f"/admin/users/{resident.id}/active")  # deactivate
    assert not _logged_in(browser)
    desk.post(f"/admin/users/{resident.id}/active")  # reactivate
    db.session.refresh(resident)
    assert resident.is_active

    assert not _logged_in(browser)
    assert not _logged_in(session_copy)
    assert not _logged_in(remember_copy)
    assert _logged_in(_log_in(_browser(app), resident))


# --- idle timeout ---------------------------------------------------------------------------


@pytest.fixture
def clock(monkeypatch):
    """The sessions' clock, moved by hand: ``clock.advance(minutes=…)``."""

    class Clock:
        def __init__(self):
            self.now = sessions.now()

        def advance(self, **delta):
            self.now += timedelta(**delta)

    fake = Clock()
    monkeypatch.setattr(sessions, "now", lambda: fake.now)
    return fake


def test_a_secretarys_session_ends_after_thirty_idle_minutes(app, clock, secretary):
    browser = _log_in(_browser(app), secretary)
    clock.advance(minutes=29)
    assert _logged_in(browser)  # in use: the idle time starts again
    clock.advance(minutes=29)
    assert _logged_in(browser)
    clock.advance(minutes=31)
    assert not _logged_in(browser)


def test_an_administrators_session_ends_when_idle_even_if_asked_to_stay(app, clock, admin):
    browser = _log_in(_browser(app), admin, remember=True)
    assert browser.get_cookie(REMEMBER) is None
    clock.advance(minutes=31)
    assert not _logged_in(browser)


def test_the_idle_time_is_a_setting(app, clock, secretary, monkeypatch):
    monkeypatch.setitem(app.config, "STAFF_IDLE_MINUTES", 5)
    browser = _log_in(_browser(app), secretary)
    clock.advance(minutes=6)
    assert not _logged_in(browser)


def test_the_login_form_says_staff_are_not_remembered(app):
    page = _browser(app).get("/auth/login").get_data(as_text=True)
    assert "they are logged out after 30 minutes without activity" in page


def test_a_residents_session_is_not_ended_by_the_staff_idle_time(app, clock, resident):
    browser = _log_in(_browser(app), resident)
    clock.advance(hours=3)
    assert _logged_in(browser)


def test_a_residents_remembered_login_lasts_its_days(app, clock, resident):
    browser = _log_in(_browser(app), resident, remember=True)
    remembered = _copy(app, browser, REMEMBER)
    clock.advance(days=29)
    assert _logged_in(remembered)
    clock.advance(days=2)
    assert not _logged_in(_copy(app, browser, REMEMBER))


def test_a_resident_remembered_before_becoming_secretary_is_idle_limited(
    app, db, clock, resident, community
):
    browser = _log_in(_browser(app), resident, remember=True)
    remembered = _copy(app, browser, REMEMBER)
    resident.memberships[0].is_secretary = True
    db.session.flush()
    clock.advance(minutes=31)
    assert not _logged_in(remembered)
