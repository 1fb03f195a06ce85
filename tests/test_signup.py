"""A resident signs up: the happy path, and every kind of bad input, each shown
next to its field with nothing saved; common passwords, passwords with the
username in them, and the limit per address."""

import pytest
from conftest import PASSWORD, field_errors, flashes, form_errors

from auth.models import Membership, User
from meetings.audit.models import AuditEntry
from meetings.config import defaults
from meetings.i18n import LANGUAGE_COOKIE


def _count_users(db) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(User))


def _signup(client, community, **overrides):
    data = {
        "community_id": str(community.id),
        "display_name": "王桂兰",
        "username": "wangguilan",
        "phone": "13800000000",
        "password": PASSWORD,
        "confirm": PASSWORD,
    }
    data.update(overrides)
    return client.post("/auth/signup", data=data)


def test_signup_page_lists_the_communities_to_choose_from(client, community, other_community):
    page = client.get("/auth/signup").get_data(as_text=True)
    assert f'<option value="{community.id}">东篱社区（中兴街道）</option>' in page
    assert f'<option value="{other_community.id}">星怡社区（竹行街道）</option>' in page


def test_signup_creates_a_resident_of_the_chosen_community_and_logs_them_in(db, english, community):
    response = _signup(english, community)
    assert response.status_code == 302
    assert response.location == "/"

    user = db.session.scalar(db.select(User).where(User.username == "wangguilan"))
    assert user.display_name == "王桂兰"
    assert user.phone == "13800000000"
    assert not user.is_admin
    assert user.check_password(PASSWORD)
    assert [(m.community_id, m.is_secretary) for m in user.memberships] == [(community.id, False)]

    page = english.get("/").get_data(as_text=True)
    assert "Your account is ready. Welcome!" in flashes(page)
    assert "王桂兰" in page
    assert "Log out" in page


def test_second_signup_with_taken_username_shows_error_next_to_field(
    db, english, community, resident
):
    before = _count_users(db)
    response = _signup(english, community, username="resident")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field_errors(page, "username") == ["This username is taken."]
    assert _count_users(db) == before


def test_usernames_differing_only_in_case_count_as_taken(db, english, community, resident):
    before = _count_users(db)
    response = _signup(english, community, username="Resident")
    assert field_errors(response.get_data(as_text=True), "username") == ["This username is taken."]
    assert _count_users(db) == before


@pytest.mark.parametrize(
    ("field", "overrides", "message"),
    [
        (
            "username",
            {"username": "ab"},
            "3 to 40 letters, digits, dots, dashes or underscores.",
        ),
        (
            "username",
            {"username": "王阿姨"},
            "3 to 40 letters, digits, dots, dashes or underscores.",
        ),
        (
            "username",
            {"username": "with space"},
            "3 to 40 letters, digits, dots, dashes or underscores.",
        ),
        ("username", {"username": ""}, "This field is required."),
        ("display_name", {"display_name": ""}, "This field is required."),
        (
            "password",
            {"password": "short", "confirm": "short"},
            "Field must be between 8 and 200 characters long.",
        ),
        ("confirm", {"confirm": "something-else"}, "The passwords differ."),
        ("community_id", {"community_id": "0"}, "Please choose your community."),
    ],
)
def test_signup_with_bad_input_shows_error_next_to_field_and_saves_nothing(
    db, english, community, field, overrides, message
):
    before = _count_users(db)
    response = _signup(english, community, **overrides)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in field_errors(page, field)
    assert f'id="{field}" ' in page and 'aria-invalid="true"' in page
    assert _count_users(db) == before
    # Not logged in: the page still offers to log in.
    assert "Log out" not in page


def test_signup_for_a_community_that_does_not_exist_is_refused(db, english, community):
    before = _count_users(db)
    response = _signup(english, community, community_id="99999")
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "community_id")
    assert _count_users(db) == before


@pytest.mark.parametrize("community_id", ["abc", "99999999999999999999", "-1", "1.5", ""])
def test_signup_with_a_nonsense_community_never_fails_with_500(db, client, community, community_id):
    before = _count_users(db)
    response = _signup(client, community, community_id=community_id)
    assert response.status_code == 422
    assert _count_users(db) == before


def test_signup_with_huge_input_shows_errors_and_saves_nothing(db, english, community):
    before = _count_users(db)
    response = _signup(
        english,
        community,
        username="a" * 100_000,
        display_name="名" * 100_000,
        phone="1" * 100_000,
        password="p" * 100_000,
        confirm="p" * 100_000,
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field_errors(page, "username")
    assert field_errors(page, "display_name")
    assert field_errors(page, "phone")
    assert field_errors(page, "password")
    assert _count_users(db) == before


def test_signup_errors_keep_what_was_typed_but_not_the_passwords(english, community):
    response = _signup(english, community, confirm="something-else")
    page = response.get_data(as_text=True)
    assert 'value="wangguilan"' in page
    assert 'value="王桂兰"' in page
    assert f'<option selected value="{community.id}">' in page
    assert PASSWORD not in page


def test_signup_trims_spaces_around_username_and_name(db, client, community):
    response = _signup(client, community, display_name="  王桂兰  ", phone="")
    assert response.status_code == 302
    user = db.session.scalar(db.select(User).where(User.username == "wangguilan"))
    assert user.display_name == "王桂兰"
    assert user.phone is None


def test_signup_records_the_registration_in_the_audit_log(db, client, community):
    _signup(client, community)
    user = db.session.scalar(db.select(User).where(User.username == "wangguilan"))
    entry = db.session.scalar(
        db.select(AuditEntry).where(
            AuditEntry.action == "user.registered", AuditEntry.object_id == user.id
        )
    )
    assert entry.actor_id == user.id
    assert entry.data == {"community_id": community.id}


def test_logged_in_user_visiting_signup_goes_home(client, login, resident):
    login(resident)
    response = client.get("/auth/signup")
    assert response.status_code == 302
    assert response.location == "/"


def test_logged_in_user_cannot_sign_up_a_second_account(db, client, login, resident, community):
    login(resident)
    before = _count_users(db)
    response = _signup(client, community)
    assert response.status_code == 302
    assert _count_users(db) == before
    assert db.session.scalar(db.select(Membership).where(Membership.user_id == resident.id))


# --- passwords that will not do ----------------------------------------------------------------

COMMON = "This password is one of the most common ones. Please choose another."
NAMED = "The password must not contain the username."


@pytest.mark.parametrize(
    "password", ["woaini1314", "88888888", "1qaz2wsx", "qq123456789", "Password1", "ZXCVBNM123"]
)
def test_a_common_password_is_refused_next_to_the_field(db, english, community, password):
    before = _count_users(db)
    response = _signup(english, community, password=password, confirm=password)
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "password") == [COMMON]
    assert _count_users(db) == before


@pytest.mark.parametrize("password", ["wangguilan2024", "my-WangGuilan-pw", "WANGGUILAN"])
def test_a_password_containing_the_username_is_refused_next_to_the_field(
    db, english, community, password
):
    before = _count_users(db)
    response = _signup(english, community, password=password, confirm=password)
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "password") == [NAMED]
    assert _count_users(db) == before


def test_the_password_help_names_the_rules(english):
    page = english.get("/auth/signup").get_data(as_text=True)
    assert "At least 8 characters, not a common password, not containing the username." in page


def test_the_taken_message_is_given_only_next_to_the_username(db, english, community, resident):
    page = _signup(english, community, username="resident").get_data(as_text=True)
    assert field_errors(page, "username") == ["This username is taken."]
    assert field_errors(page, "password") == []
    assert page.count("This username is taken.") == 1


# --- the limit per address ---------------------------------------------------------------------


def _guest(app, address):
    guest = app.test_client()
    guest.environ_base["REMOTE_ADDR"] = address
    guest.set_cookie(LANGUAGE_COOKIE, "en")
    return guest


def test_signups_from_one_address_are_limited(app, db, community, monkeypatch):
    monkeypatch.setitem(
        app.config, "SIGNUP_RATE_LIMIT", defaults(app.instance_path)["SIGNUP_RATE_LIMIT"]
    )
    for number in range(10):
        response = _signup(_guest(app, "198.51.100.7"), community, username=f"neighbour{number}")
        assert response.status_code == 302
    before = _count_users(db)

    response = _signup(_guest(app, "198.51.100.7"), community, username="neighbour10")
    assert response.status_code == 429
    assert form_errors(response.get_data(as_text=True)) == [
        "Too many sign-ups from your network. Try again in 60 minutes."
    ]
    assert 59 * 60 < int(response.headers["Retry-After"]) <= 60 * 60
    assert _count_users(db) == before
    assert _signup(_guest(app, "203.0.113.9"), community, username="faraway").status_code == 302


def test_a_signup_form_sent_back_with_errors_is_not_counted(app, db, community, monkeypatch):
    monkeypatch.setitem(app.config, "SIGNUP_RATE_LIMIT", "2 per hour")
    guest = _guest(app, "198.51.100.7")
    for _ in range(5):
        assert _signup(guest, community, confirm="something-else").status_code == 422
    assert _signup(guest, community).status_code == 302
