"""Notifications: the outbox written with the change, the in-app inbox, the API,
and the account page where a user gives the address e-mails go to."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from conftest import csrf_token_from, field_errors, flashes
from flask_babel import lazy_gettext as _l

from auth import services as auth_services
from auth.models import User
from meetings.dbtypes import utcnow
from meetings.errors import ValidationFailed
from meetings.notifications.models import EmailStatus, Notification
from meetings.notifications.services import notify, notify_all


def notifications_of(db, user: User) -> list[Notification]:
    return list(
        db.session.scalars(
            db.select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
        )
    )


@pytest.fixture
def inbox_of(db):
    """Give a user notifications, oldest first, a minute apart."""

    def make(user: User, *subjects: str, link: str | None = None) -> list[Notification]:
        start = utcnow() - timedelta(hours=1)
        made = []
        for number, subject in enumerate(subjects):
            notification = notify(user, "test.event", subject, f"{subject}的详情", link)
            notification.created_at = start + timedelta(minutes=number)
            made.append(notification)
        db.session.flush()
        return made

    return make


def unread_badge(html: str) -> str | None:
    match = re.search(r'<span class="badge nav-badge">(\d+)<', html)
    return match.group(1) if match else None


# --- the outbox ------------------------------------------------------------------


def test_notification_is_committed_or_rolled_back_with_its_change(db, resident):
    db.session.commit()

    auth_services.set_locale(resident, "en")
    notify(resident, "test.event", "会议改期")
    db.session.rollback()
    assert resident.locale is None
    assert notifications_of(db, resident) == []

    auth_services.set_locale(resident, "en")
    notify(resident, "test.event", "会议改期")
    db.session.commit()
    assert resident.locale == "en"
    assert [n.subject for n in notifications_of(db, resident)] == ["会议改期"]


def test_notify_writes_in_the_recipients_language(db, make_user):
    chinese_reader = make_user(display_name="王阿姨")
    english_reader = make_user(display_name="Mr Li")
    english_reader.locale = "en"

    subject = _l("Welcome, %(name)s.", name="林书记")
    notify_all([chinese_reader, english_reader], "test.event", subject, _l("Shangliang"))

    chinese, english = (
        notifications_of(db, chinese_reader)[0],
        notifications_of(db, english_reader)[0],
    )
    assert (chinese.subject, chinese.body) == ("林书记，欢迎您。", "有事好商量")
    assert (english.subject, english.body) == ("Welcome, 林书记.", "Shangliang")


def test_notify_all_writes_once_per_person(db, resident, secretary):
    notify_all([resident, secretary, resident], "test.event", "议事会通知")
    assert len(notifications_of(db, resident)) == 1
    assert len(notifications_of(db, secretary)) == 1


def test_email_is_queued_only_for_an_address_with_a_mail_server(app, db, make_user, monkeypatch):
    with_address = make_user()
    with_address.email = "wang@example.com"
    without_address = make_user()

    assert notify(with_address, "test.event", "a").email_status == EmailStatus.SKIPPED
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    assert notify(with_address, "test.event", "b").email_status == EmailStatus.PENDING
    assert notify(without_address, "test.event", "c").email_status == EmailStatus.SKIPPED


def test_notification_links_stay_on_the_site(db, resident):
    with pytest.raises(ValueError):
        notify(resident, "test.event", "钓鱼", link="https://evil.example/")
    for link in ("//evil.example/", "/\\evil.example/", "javascript:alert(1)"):
        with pytest.raises(ValueError):
            notify(resident, "test.event", "钓鱼", link=link)


# --- the inbox -------------------------------------------------------------------


def test_inbox_shows_own_notifications_newest_first(english, login, inbox_of, resident, secretary):
    inbox_of(resident, "活动室地板磨损", "议事会改期")
    inbox_of(secretary, "书记的私信")
    login(resident)

    html = english.get("/notifications").get_data(as_text=True)

    assert html.index("议事会改期") < html.index("活动室地板磨损")
    assert "议事会改期的详情" in html
    assert "书记的私信" not in html


def test_inbox_needs_login(english):
    response = english.get("/notifications")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


def test_nav_shows_the_unread_count(english, login, inbox_of, resident):
    inbox_of(resident, "一", "二", "三")
    login(resident)

    assert unread_badge(english.get("/").get_data(as_text=True)) == "3"


def test_nav_shows_no_badge_when_all_is_read_or_for_visitors(english, login, resident):
    assert unread_badge(english.get("/").get_data(as_text=True)) is None
    login(resident)
    html = english.get("/").get_data(as_text=True)
    assert 'href="/notifications"' in html
    assert unread_badge(html) is None


def test_unread_notifications_are_emphasised_and_linked(english, login, inbox_of, resident):
    inbox_of(resident, "会议改期", link="/meetings/5")
    login(resident)

    html = english.get("/notifications").get_data(as_text=True)

    assert 'class="notification notification-unread"' in html
    assert '<a href="/meetings/5">会议改期</a>' in html


def test_opening_a_notification_marks_it_read_and_follows_its_link(
    db, english, login, inbox_of, resident
):
    (notification,) = inbox_of(resident, "会议改期", link="/meetings/5")
    login(resident)
    token = csrf_token_from(english.get("/notifications").get_data(as_text=True))

    response = english.post(
        f"/notifications/{notification.id}/read", data={"csrf_token": token, "open": "y"}
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/meetings/5"
    db.session.refresh(notification)
    assert notification.read_at is not None
    assert unread_badge(english.get("/").get_data(as_text=True)) is None


def test_marking_read_returns_to_the_inbox(db, english, login, inbox_of, resident):
    first, second = inbox_of(resident, "一", "二")
    login(resident)

    response = english.post(f"/notifications/{first.id}/read", data={"mark": "y"})

    assert response.status_code == 302
    assert response.headers["Location"] == "/notifications"
    html = english.get("/notifications").get_data(as_text=True)
    assert html.count("notification-unread") == 1
    assert unread_badge(html) == "1"


def test_someone_elses_notification_is_not_found(db, english, login, inbox_of, resident, secretary):
    (theirs,) = inbox_of(secretary, "书记的私信")
    login(resident)

    response = english.post(f"/notifications/{theirs.id}/read", data={"mark": "y"})

    assert response.status_code == 404
    db.session.refresh(theirs)
    assert theirs.read_at is None
    assert english.post("/notifications/999999/read", data={"mark": "y"}).status_code == 404


def test_mark_all_read(db, english, login, inbox_of, resident, secretary):
    inbox_of(resident, "一", "二")
    (theirs,) = inbox_of(secretary, "书记的私信")
    login(resident)

    response = english.post("/notifications/read-all", follow_redirects=True)

    html = response.get_data(as_text=True)
    assert "All your notifications are marked as read." in flashes(html)
    assert "notification-unread" not in html
    assert all(n.read_at is not None for n in notifications_of(db, resident))
    db.session.refresh(theirs)
    assert theirs.read_at is None


def test_read_forms_need_a_csrf_token(app, english, login, inbox_of, resident, monkeypatch):
    (notification,) = inbox_of(resident, "一")
    login(resident)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)

    assert english.post(f"/notifications/{notification.id}/read").status_code == 400
    assert english.post("/notifications/read-all").status_code == 400


def test_inbox_pages(english, login, inbox_of, resident):
    inbox_of(resident, *[f"通知{number:02d}" for number in range(25)])
    login(resident)

    first = english.get("/notifications").get_data(as_text=True)
    second = english.get("/notifications?page=2").get_data(as_text=True)

    assert "通知24" in first and "通知05" in first and "通知04" not in first
    assert "通知04" in second and "通知00" in second and "通知05" not in second
    assert 'href="/notifications?page=2"' in first


# --- the API ---------------------------------------------------------------------


def test_api_lists_own_notifications_newest_first(client, bearer, inbox_of, resident, secretary):
    older, newer = inbox_of(resident, "活动室地板磨损", "议事会改期", link="/meetings/5")
    inbox_of(secretary, "书记的私信")

    response = client.get("/api/v1/notifications", headers=bearer(resident))

    assert response.status_code == 200
    body = response.get_json()
    assert body["total"] == 2
    assert [item["id"] for item in body["items"]] == [newer.id, older.id]
    item = body["items"][0]
    assert set(item) == {"id", "kind", "subject", "body", "link", "created_at", "read_at", "read"}
    assert item["subject"] == "议事会改期"
    assert item["link"] == "/meetings/5"
    assert item["read"] is False and item["read_at"] is None
    assert item["created_at"].endswith("+08:00")


def test_api_pages_and_filters_unread(client, bearer, inbox_of, resident):
    made = inbox_of(resident, *[f"通知{number}" for number in range(5)])
    made[0].read_at = utcnow()
    headers = bearer(resident)

    page = client.get("/api/v1/notifications?page=2&per_page=2", headers=headers).get_json()
    unread = client.get("/api/v1/notifications?unread=true&per_page=1", headers=headers).get_json()

    assert page["total"] == 5
    assert [item["subject"] for item in page["items"]] == ["通知2", "通知1"]
    assert unread["total"] == 4
    too_many = client.get("/api/v1/notifications?per_page=201", headers=headers)
    assert too_many.status_code == 422
    assert too_many.get_json()["error"]["code"] == "validation_error"


def test_api_needs_a_token(client):
    response = client.get("/api/v1/notifications?per_page=0")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_api_marks_read_only_own_notifications(client, bearer, inbox_of, resident, secretary):
    (mine,) = inbox_of(resident, "我的")
    (theirs,) = inbox_of(secretary, "书记的私信")

    response = client.post(f"/api/v1/notifications/{mine.id}/read", headers=bearer(resident))
    assert response.status_code == 200
    assert response.get_json()["read"] is True
    assert response.get_json()["read_at"] is not None

    refused = client.post(f"/api/v1/notifications/{theirs.id}/read", headers=bearer(resident))
    assert refused.status_code == 404
    assert refused.get_json()["error"]["code"] == "not_found"


def test_api_marks_all_read(client, bearer, inbox_of, resident):
    inbox_of(resident, "一", "二")
    headers = bearer(resident)

    response = client.post("/api/v1/notifications/read-all", headers=headers)

    assert response.get_json() == {"marked": 2}
    listing = client.get("/api/v1/notifications?unread=true", headers=headers).get_json()
    assert listing["total"] == 0


def test_openapi_documents_the_notification_endpoints(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "get" in paths["/api/v1/notifications"]
    assert "post" in paths["/api/v1/notifications/{notification_id}/read"]


# --- my account ------------------------------------------------------------------


def test_account_page_saves_name_phone_and_email(db, english, login, resident):
    login(resident)
    assert 'href="/auth/account"' in english.get("/").get_data(as_text=True)

    response = english.post(
        "/auth/account",
        data={"display_name": " 王秀英 ", "phone": "13800000000", "email": " wang@example.com "},
        follow_redirects=True,
    )

    assert "Your details have been saved." in flashes(response.get_data(as_text=True))
    db.session.refresh(resident)
    assert (resident.display_name, resident.phone, resident.email) == (
        "王秀英",
        "13800000000",
        "wang@example.com",
    )


def test_account_page_clears_the_email(db, english, login, resident):
    resident.email = "wang@example.com"
    login(resident)

    english.post("/auth/account", data={"display_name": "王阿姨", "phone": "", "email": ""})

    db.session.refresh(resident)
    assert resident.email is None


def test_account_page_refuses_a_bad_email(db, english, login, resident):
    login(resident)

    response = english.post(
        "/auth/account", data={"display_name": "王阿姨", "email": "wang at example"}
    )

    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "email") == [
        "Please enter an e-mail address such as name@example.com."
    ]
    db.session.refresh(resident)
    assert resident.email is None


def test_update_profile_checks_what_the_form_would(app, db, resident):
    with app.test_request_context(), pytest.raises(ValidationFailed) as raised:
        auth_services.update_profile(resident, "  ", None, "a@b")
    assert set(raised.value.fields) == {"display_name", "email"}
