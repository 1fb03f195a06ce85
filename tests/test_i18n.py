"""Chinese by default, English on request: the language switch, its cookie, and
the choice remembered on the account."""

import re

import pytest
from conftest import PASSWORD, form_errors
from flask_babel import force_locale, gettext

from auth.models import User


@pytest.fixture
def zh(app):
    """The Chinese of a message, as the catalog has it."""

    def translate(message: str) -> str:
        with app.test_request_context(), force_locale("zh_CN"):
            text = gettext(message)
        assert text != message, f"no Chinese for {message!r}"
        return text

    return translate


def _lang(page: str) -> str:
    return re.search(r'<html lang="([^"]+)">', page).group(1)


def _reload(db, user: User) -> User:
    db.session.refresh(user)
    return user


def test_pages_are_in_chinese_by_default(client, zh):
    page = client.get("/auth/login").get_data(as_text=True)
    assert _lang(page) == "zh-CN"
    assert f"<h1>{zh('Log in')}</h1>" in page
    assert "<h1>Log in</h1>" not in page


def test_home_page_explains_shangliang_in_chinese(client, zh):
    response = client.get("/")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert _lang(page) == "zh-CN"
    assert "有事好商量" in page
    assert zh("Talk it over, get it done") in page


def test_form_errors_are_in_chinese_by_default(client, resident, zh):
    response = client.post("/auth/login", data={"username": "resident", "password": "wrong"})
    assert form_errors(response.get_data(as_text=True)) == [zh("Wrong username or password.")]


def test_api_errors_are_in_chinese_by_default(client, zh):
    response = client.get("/api/v1/me")
    assert response.get_json()["error"]["message"] == zh("A valid bearer token is required.")


def test_browser_asking_for_english_gets_english(client):
    page = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(as_text=True)
    assert _lang(page) == "en"


def test_browser_asking_for_chinese_first_gets_chinese(client):
    response = client.get("/", headers={"Accept-Language": "zh-TW,zh;q=0.9,en;q=0.8"})
    assert _lang(response.get_data(as_text=True)) == "zh-CN"


def test_browser_asking_for_a_language_we_lack_gets_chinese(client):
    response = client.get("/", headers={"Accept-Language": "fr-FR,de;q=0.5"})
    assert _lang(response.get_data(as_text=True)) == "zh-CN"


def test_switching_to_english_sets_a_cookie_and_pages_follow(client):
    response = client.post("/language", data={"lang": "en", "next": "/auth/login"})
    assert response.status_code == 302
    assert response.location == "/auth/login"
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("lang="))
    assert cookie.startswith("lang=en;")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Max-Age=31536000" in cookie

    page = client.get("/auth/login").get_data(as_text=True)
    assert _lang(page) == "en"
    assert "<h1>Log in</h1>" in page


def test_switching_back_to_chinese(client, zh):
    client.post("/language", data={"lang": "en", "next": "/"})
    client.post("/language", data={"lang": "zh_CN", "next": "/"})
    page = client.get("/auth/login").get_data(as_text=True)
    assert _lang(page) == "zh-CN"
    assert f"<h1>{zh('Log in')}</h1>" in page


def test_chosen_language_wins_over_the_browsers(client):
    client.post("/language", data={"lang": "zh_CN", "next": "/"})
    response = client.get("/", headers={"Accept-Language": "en"})
    assert _lang(response.get_data(as_text=True)) == "zh-CN"


@pytest.mark.parametrize("lang", ["fr", "", "zh", "en'><script>"])
def test_unknown_language_is_refused(client, lang):
    response = client.post("/language", data={"lang": lang, "next": "/"})
    assert response.status_code == 400
    assert not any(c.startswith("lang=") for c in response.headers.getlist("Set-Cookie"))


def test_language_switch_returns_to_the_page_it_was_made_on(client):
    response = client.post("/language", data={"lang": "en", "next": "/auth/signup?x=1"})
    assert response.location == "/auth/signup?x=1"


@pytest.mark.parametrize("target", ["//evil.com", "https://evil.com", "/\\evil.com", ""])
def test_language_switch_never_redirects_to_another_site(client, target):
    response = client.post("/language", data={"lang": "en", "next": target})
    assert response.location == "/"


def test_every_page_offers_the_switch_pointing_back_to_itself(client):
    page = client.get("/auth/signup").get_data(as_text=True)
    switch = re.search(r'<form class="language-switch".*?</form>', page, re.S).group(0)
    assert 'action="/language"' in switch
    assert 'value="/auth/signup"' in switch
    assert '<option value="en"' in switch
    assert '<option value="zh_CN" selected>' in switch


def test_logged_in_users_choice_is_stored_on_their_account(db, client, login, resident):
    login(resident)
    client.post("/language", data={"lang": "en", "next": "/"})
    assert _reload(db, resident).locale == "en"


def test_stored_choice_follows_the_user_to_another_device(app, db, login, resident):
    resident.locale = "en"
    db.session.flush()
    phone = app.test_client()
    phone.post("/auth/login", data={"username": "resident", "password": PASSWORD})
    assert _lang(phone.get("/").get_data(as_text=True)) == "en"


def test_device_choice_wins_over_the_stored_one(app, db, client, login, resident):
    resident.locale = "en"
    db.session.flush()
    client.post("/language", data={"lang": "zh_CN", "next": "/"})
    login(resident)
    assert _lang(client.get("/").get_data(as_text=True)) == "zh-CN"


def test_anonymous_choice_changes_no_account(db, client, resident):
    client.post("/language", data={"lang": "en", "next": "/"})
    assert _reload(db, resident).locale is None
