"""Input no column can hold, forged host names, and what caches may keep.

- Lone surrogates (``"\\ud800"``) anywhere in a JSON body: 422 naming the
  field by its path, like a NUL character, and nothing stored. Forms cannot
  carry one (Werkzeug leaves bytes that are not UTF-8 percent-encoded or
  replaces them); the form check refuses them all the same (400, as NUL).
- ``Host: evil.example`` reaches no absolute link: the site answers only to
  its trusted hosts (400 otherwise), and links come from ``SITE_URL``.
- ``Cache-Control: no-store`` on every response of every route of the access
  matrix, but static files, published minutes' PDFs and progress photos.
"""

from __future__ import annotations

import pytest
from access_helpers import ROLES
from request_helpers import FORM

# the access matrix: its routes and the fixtures of its world
from test_access import TABLE, people, voter, world  # noqa: F401

from meetings.http import unstorable_fields
from meetings.notifications.deliver import build_message
from meetings.notifications.models import Notification
from meetings.requests.models import ResidentRequest

pytest_plugins = ["meeting_fixtures"]

SITE_URL = "https://shangliang.example.org"


def request_body(community, **overrides) -> dict:
    return {key: value for key, value in FORM.items() if key != "contact"} | {
        "community_id": community.id,
        **overrides,
    }


def stored_requests(db) -> int:
    return db.session.scalar(db.select(db.func.count(ResidentRequest.id)))


# --- lone surrogates ----------------------------------------------------------------------


def test_a_lone_surrogate_in_a_json_field_is_refused_naming_the_field(
    db, english, bearer, resident, community
):
    response = english.post(
        "/api/v1/requests", json=request_body(community, title="\ud800"), headers=bearer(resident)
    )
    assert response.status_code == 422
    error = response.json["error"]
    assert error["code"] == "validation_error"
    assert error["fields"] == {"title": ["Text may not contain lone surrogates (invalid Unicode)."]}
    assert stored_requests(db) == 0


def test_a_surrogate_sent_as_raw_bytes_is_not_json(db, client, bearer, resident, community):
    """Its UTF-8 encoding is no UTF-8: the body is not JSON text (400), nothing stored."""
    raw = client.application.json.dumps(request_body(community, title="TITLE"))
    response = client.post(
        "/api/v1/requests",
        data=raw.encode().replace(b'"TITLE"', b'"\xed\xa0\x80"'),
        content_type="application/json",
        headers=bearer(resident),
    )
    assert response.status_code == 400
    assert response.json["error"]["code"] == "bad_request"
    assert stored_requests(db) == 0


def test_anywhere_in_the_body_the_field_is_named_by_its_path(english, bearer, resident, community):
    body = request_body(community, extra={"tags": ["ok", "\udfff"]}, description="\x00")
    response = english.post("/api/v1/requests", json=body, headers=bearer(resident))
    assert response.status_code == 422
    assert response.json["error"]["fields"] == {
        "extra.tags.1": ["Text may not contain lone surrogates (invalid Unicode)."],
        "description": ["Text may not contain NUL characters."],
    }


def test_a_surrogate_in_a_key_is_refused_for_the_whole_body(client, bearer, resident, community):
    response = client.post(
        "/api/v1/requests", json=request_body(community) | {"\ud800": 1}, headers=bearer(resident)
    )
    assert response.status_code == 422
    assert set(response.json["error"]["fields"]) == {"_schema"}


def test_the_paths_of_text_that_cannot_be_stored():
    assert unstorable_fields({"a": "fine", "b": ["x", {"c": "\ud83d"}], "d": "\x00"}) == {
        "b.1.c": "surrogate",
        "d": "nul",
    }
    assert unstorable_fields("\udc80") == {"": "surrogate"}
    assert unstorable_fields({"ok": "😀 emoji are pairs, not lone halves"}) == {}


def test_a_surrogate_in_a_query_string_is_a_bad_request_as_nul(client):
    # Werkzeug keeps bytes that are not UTF-8 percent-encoded: no surrogate,
    # no error, the text as sent.
    assert client.get("/?next=%ED%A0%80").status_code == 200


def test_a_form_field_with_surrogate_bytes_stores_no_surrogate(db, client, login, resident):
    login(resident)
    response = client.post(
        "/requests/new",
        data=b"title=%ED%A0%80&category=public_facilities&description=x&location=y"
        + f"&community_id={resident.memberships[0].community_id}".encode(),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code in (302, 400, 422)
    for (title,) in db.session.execute(db.select(ResidentRequest.title)):
        title.encode("utf-8")  # never a lone surrogate


# --- the Host header ---------------------------------------------------------------------

EVIL = {"Host": "evil.example"}


@pytest.fixture
def meeting(make_meeting):
    return make_meeting("scheduled")


@pytest.mark.parametrize(
    "path",
    [
        "/meetings/{meeting}/calendar.ics",
        "/api/v1/meetings/{meeting}/calendar.ics",
        "/communities/{community}/minutes.atom",
        "/",
        "/api/v1/communities",
    ],
)
def test_a_forged_host_is_refused_and_reaches_no_link(client, meeting, community, path):
    response = client.get(path.format(meeting=meeting.id, community=community.id), headers=EVIL)
    assert response.status_code == 400
    assert "evil.example" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("path", "link"),
    [
        ("/meetings/{meeting}/calendar.ics", "URL:{site}/meetings/{meeting}"),
        ("/api/v1/meetings/{meeting}/calendar.ics", "URL:{site}/meetings/{meeting}"),
        ("/communities/{community}/minutes.atom", "<id>{site}/communities/{community}/minutes"),
    ],
)
def test_links_come_from_site_url_whatever_trusted_host_was_asked(
    app, client, monkeypatch, meeting, community, path, link
):
    monkeypatch.setitem(app.config, "SITE_URL", SITE_URL)
    monkeypatch.setitem(app.config, "TRUSTED_HOSTS", ["shangliang.example.org", "alias.example"])
    values = {"meeting": meeting.id, "community": community.id, "site": SITE_URL}
    response = client.get(path.format(**values), headers={"Host": "alias.example"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert link.format(**values) in body
    assert "alias.example" not in body


def test_without_site_url_the_links_name_the_trusted_host_asked(client, meeting):
    response = client.get(f"/meetings/{meeting.id}/calendar.ics")
    assert f"URL:http://localhost/meetings/{meeting.id}" in response.get_data(as_text=True)


def test_an_email_links_to_site_url_not_to_the_host_of_the_request(
    app, db, client, monkeypatch, bearer, resident, secretary, community
):
    monkeypatch.setitem(app.config, "SITE_URL", SITE_URL)
    monkeypatch.setitem(app.config, "TRUSTED_HOSTS", ["shangliang.example.org", "alias.example"])
    secretary.email = "lin@example.org"
    headers = bearer(resident)

    refused = client.post("/api/v1/requests", json=request_body(community), headers=headers | EVIL)
    assert refused.status_code == 400
    assert db.session.scalar(db.select(db.func.count(Notification.id))) == 0

    raised = client.post(
        "/api/v1/requests",
        json=request_body(community),
        headers=headers | {"Host": "alias.example"},
    )
    assert raised.status_code == 201
    notification = db.session.scalar(db.select(Notification).where(Notification.user == secretary))
    text = build_message(notification).get_content()
    assert f"{SITE_URL}/requests/{raised.json['id']}" in text
    assert "alias.example" not in text and "evil.example" not in text


def test_the_default_trusted_hosts_are_site_urls_and_the_machines_own(app_config):
    from meetings.security import trusted_hosts

    assert trusted_hosts({"SITE_URL": SITE_URL}) == [
        "shangliang.example.org",
        "localhost",
        "127.0.0.1",
        "::1",
    ]
    assert trusted_hosts({}) == ["localhost", "127.0.0.1", "::1"]
    assert trusted_hosts({"TRUSTED_HOSTS": ["a.example"], "SITE_URL": SITE_URL}) == ["a.example"]


# --- what caches may keep -------------------------------------------------------------------

# Same for everyone and never personal: caches may keep them.
CACHEABLE = {
    "/static/css/app.css": "no-cache",
    "/minutes/{published}.pdf": "public",
    "/projects/{project}/updates/{update}/photo": "public",
}


@pytest.mark.parametrize("role", ["anonymous", "admin"])
def test_only_responses_without_personal_data_may_be_cached(
    app,
    db,
    bearer,
    world,  # noqa: F811 - the fixture imported above
    role,
):
    """Every route of the access matrix, as a visitor and as an administrator."""
    assert role in ROLES
    user = world.people[role]
    client = app.test_client()
    if user is not None:
        client.post("/auth/login", data={"username": user.username, "password": "correct-horse-9"})
    token = bearer(user) if user is not None else {}
    wrong = {}
    for method, path, body, _expected in TABLE:
        api = path.startswith("/api/")
        url = path.format_map(world.ids)
        savepoint = db.session.begin_nested()
        db.session.connection()
        try:
            if api:
                response = client.open(url, method=method, json=body, headers=token)
            else:
                response = client.open(url, method=method, data=body)
            response.close()
        finally:
            savepoint.rollback()
        cache_control = response.headers.get("Cache-Control", "")
        if path in CACHEABLE and response.status_code == 200:
            right = CACHEABLE[path] in cache_control and "no-store" not in cache_control
        else:
            right = cache_control == "no-store"
        if not right:
            wrong[f"{method} {path} ({response.status_code})"] = cache_control
    assert wrong == {}
