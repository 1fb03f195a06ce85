"""The minutes through the JSON API (API.md "Resolutions, projects, minutes"):
shapes, and who may do what — the community's secretary, another
community's secretary, an attendee, a resident, anyone without a token."""

from __future__ import annotations

import pytest
from meeting_helpers import fresh, notifications_of

from meetings.extensions import db as _db
from meetings.meeting.models import MeetingStatus
from meetings.minutes import services

pytest_plugins = ["meeting_fixtures", "minutes_fixtures"]

TEXT = "# 纪要\n\n决定铺设**防滑地板**。\n"


@pytest.fixture
def url(held_meeting) -> str:
    return f"/api/v1/meetings/{held_meeting.meeting.id}/minutes"


def test_put_saves_a_new_draft_version(client, bearer, secretary, url, held_meeting):
    sec = bearer(secretary)
    first = client.put(url, json={"body_markdown": TEXT}, headers=sec)
    assert first.status_code == 200, first.json
    assert first.json["version"] == 1 and first.json["status"] == "draft"
    assert first.json["body_markdown"] == TEXT
    assert "<strong>防滑地板</strong>" in first.json["body_html"]
    assert first.json["published_at"] is None
    assert first.json["created_at"].endswith("+08:00")
    second = client.put(url, json={"body_markdown": TEXT + "补充。\n"}, headers=sec)
    assert second.json["version"] == 2


def test_get_gives_the_secretary_the_latest_draft_and_others_the_published_text(
    client, bearer, secretary, resident, url, held_meeting
):
    sec = bearer(secretary)
    generated = client.get(url, headers=sec)
    assert generated.status_code == 200
    assert generated.json["version"] is None and generated.json["generated"] is True
    assert "活动室改造出新协商议事会" in generated.json["body_markdown"]

    assert client.get(url).status_code == 404
    assert client.get(url, headers=bearer(resident)).status_code == 404

    client.put(url, json={"body_markdown": TEXT}, headers=sec)
    published = client.post(f"{url}/publish", headers=sec)
    assert published.status_code == 200, published.json
    client.put(url, json={"body_markdown": TEXT + "更正草稿。\n"}, headers=sec)

    latest = client.get(url, headers=sec).json
    assert (latest["version"], latest["status"], latest["published_at"]) == (2, "draft", None)
    public = client.get(url).json
    assert set(public) >= {"version", "body_markdown", "body_html", "published_at"}
    assert (public["version"], public["status"]) == (1, "published")
    assert public["body_markdown"] == TEXT
    assert public["published_at"].endswith("+08:00")
    assert client.get(url, headers=bearer(resident)).json["version"] == 1
    assert client.get(url, query_string={"version": 2}).status_code == 404


def test_publish_moves_the_meeting_on_and_tells_the_requesters(
    client, bearer, secretary, resident, url, held_meeting
):
    sec = bearer(secretary)
    client.put(url, json={"body_markdown": TEXT}, headers=sec)
    response = client.post(f"{url}/publish", headers=sec)
    assert response.status_code == 200
    assert response.json["status"] == "published" and response.json["published_at"]
    assert fresh(held_meeting.meeting).status == MeetingStatus.MINUTES_PUBLISHED
    meeting = client.get(f"/api/v1/meetings/{held_meeting.meeting.id}", headers=sec).json
    assert meeting["status"] == "minutes_published"
    assert len(notifications_of(resident, "minutes.published")) == 1

    again = client.post(f"{url}/publish", headers=sec)
    assert again.status_code == 409 and again.json["error"]["code"] == "invalid_transition"
    assert len(notifications_of(resident, "minutes.published")) == 1


def test_publishing_a_version_that_is_no_longer_the_latest_is_a_conflict(
    client, bearer, secretary, url
):
    sec = bearer(secretary)
    client.put(url, json={"body_markdown": TEXT}, headers=sec)
    client.put(url, json={"body_markdown": TEXT + "又改了。\n"}, headers=sec)
    stale = client.post(f"{url}/publish", json={"version": 1}, headers=sec)
    assert stale.status_code == 409 and stale.json["error"]["code"] == "conflict"
    nothing = client.post(f"{url}/publish", json={"version": 9}, headers=sec)
    assert nothing.status_code == 404


def test_nothing_to_publish_before_a_save(client, bearer, secretary, url):
    response = client.post(f"{url}/publish", headers=bearer(secretary))
    assert response.status_code == 409 and response.json["error"]["code"] == "invalid_transition"


def test_minutes_wait_for_the_meeting_to_close(client, bearer, secretary, make_meeting, in_request):
    meeting = make_meeting("scheduled")
    response = client.put(
        f"/api/v1/meetings/{meeting.id}/minutes",
        json={"body_markdown": TEXT},
        headers=bearer(secretary),
    )
    assert response.status_code == 409 and response.json["error"]["code"] == "conflict"


def test_bad_bodies_get_field_errors(client, bearer, secretary, url):
    sec = bearer(secretary)
    for body in ({}, {"body_markdown": ""}, {"body_markdown": 5}):
        response = client.put(url, json=body, headers=sec)
        assert response.status_code == 422, body
        assert "body_markdown" in response.json["error"]["fields"]
    blank = client.put(url, json={"body_markdown": "   "}, headers=sec)
    assert blank.status_code == 422 and "body_markdown" in blank.json["error"]["fields"]
    malformed = client.put(url, data="{", headers=sec | {"Content-Type": "application/json"})
    assert malformed.status_code == 400


@pytest.mark.parametrize(
    ("who", "put", "publish"),
    [
        ("secretary", 200, 200),
        ("other_secretary", 403, 403),
        ("attendee", 403, 403),
        ("resident", 403, 403),
        ("anonymous", 401, 401),
    ],
)
def test_who_may_write_and_publish(
    client, bearer, request, held_meeting, secretary, url, who, put, publish
):
    if who == "anonymous":
        headers = {}
    elif who == "attendee":
        headers = bearer(held_meeting.cppcc)
    else:
        headers = bearer(request.getfixturevalue(who))
    if who != "secretary":
        client.put(url, json={"body_markdown": TEXT}, headers=bearer(secretary))
    saved = client.put(url, json={"body_markdown": TEXT + who}, headers=headers)
    assert saved.status_code == put, saved.json
    published = client.post(f"{url}/publish", headers=headers)
    assert published.status_code == publish, published.json
    if put != 200:
        assert saved.json["error"]["code"] in ("forbidden", "unauthorized")


def test_the_public_list_of_minutes(
    client, community, secretary, held_meeting, make_meeting, in_request
):
    services.publish(secretary, services.save_version(secretary, held_meeting.meeting, TEXT))
    later = make_meeting("closed", title="电梯轿厢广告清理协商会")
    services.publish(secretary, services.save_version(secretary, later, "# 电梯广告\n"))
    services.save_version(secretary, make_meeting("closed", title="还没发布"), "# 草稿\n")
    _db.session.commit()
    response = client.get("/api/v1/public/minutes")
    assert response.status_code == 200
    assert response.json["total"] == 2
    items = response.json["items"]
    assert [i["meeting_title"] for i in items] == [
        "电梯轿厢广告清理协商会",
        "活动室改造出新协商议事会",
    ]
    first = items[1]
    assert first["version"] == 1 and first["status"] == "published"
    assert first["community_id"] == community.id and first["community_name"] == "东篱社区"
    assert first["url"].endswith(f"/minutes/{held_meeting.meeting.id}")
    assert "<strong>防滑地板</strong>" in first["body_html"]
    page = client.get("/api/v1/public/minutes", query_string={"per_page": 1, "page": 2}).json
    assert page["total"] == 2 and [i["meeting_title"] for i in page["items"]] == [
        "活动室改造出新协商议事会"
    ]
    other = client.get("/api/v1/public/minutes", query_string={"community_id": 999}).json
    assert other == {"items": [], "total": 0}
    assert client.get("/api/v1/public/minutes", query_string={"per_page": 500}).status_code == 422


def test_a_correction_through_the_api_supersedes_the_first_text(client, bearer, secretary, url):
    sec = bearer(secretary)
    client.put(url, json={"body_markdown": TEXT}, headers=sec)
    client.post(f"{url}/publish", headers=sec)
    client.put(url, json={"body_markdown": TEXT + "更正。\n"}, headers=sec)
    corrected = client.post(f"{url}/publish", headers=sec)
    assert corrected.status_code == 200 and corrected.json["version"] == 2
    versions = client.get(f"{url}/versions").json
    assert [(v["version"], v["status"]) for v in versions["items"]] == [
        (1, "superseded"),
        (2, "published"),
    ]
    diff = client.get(f"{url}/diff", query_string={"from": 1, "to": 2})
    assert diff.status_code == 200 and "+更正。" in diff.json["unified"]
    assert client.get(url).json["version"] == 2


def test_circulating_and_confirming_through_the_api(
    client, bearer, secretary, held_meeting, url, resident
):
    sec = bearer(secretary)
    assert client.post(f"{url}/circulate", headers=sec).status_code == 409
    client.put(url, json={"body_markdown": TEXT}, headers=sec)
    sent = client.post(f"{url}/circulate", headers=sec)
    assert sent.status_code == 200, sent.json
    assert sent.json["total"] == 5 and sent.json["confirmed"] == 0

    attendee = bearer(held_meeting.cppcc)
    draft = client.get(f"{url}?version=1", headers=attendee)
    assert draft.status_code == 200 and draft.json["status"] == "circulated"
    confirmed = client.post(f"{url}/confirmation", json={"confirmed": True}, headers=attendee)
    assert confirmed.status_code == 200 and confirmed.json["confirmed"] is True
    commented = client.post(
        f"{url}/confirmation",
        json={"confirmed": False, "comment": "请补充施工时间"},
        headers=bearer(held_meeting.owners),
    )
    assert commented.status_code == 200
    empty = client.post(
        f"{url}/confirmation", json={"confirmed": False}, headers=bearer(held_meeting.voters[0])
    )
    assert empty.status_code == 422 and "comment" in empty.json["error"]["fields"]
    outsider = client.post(
        f"{url}/confirmation", json={"confirmed": True}, headers=bearer(resident)
    )
    assert outsider.status_code == 404

    status = client.get(f"{url}/confirmations", headers=sec).json
    assert (status["total"], status["confirmed"], status["commented"]) == (5, 1, 1)
    rows = {row["display_name"]: row for row in status["items"]}
    assert rows["孙业委"]["comment"] == "请补充施工时间" and rows["钱政协"]["confirmed"] is True
    assert client.get(f"{url}/confirmations", headers=attendee).status_code == 403
    assert client.get(f"{url}?version=1", headers=bearer(resident)).status_code == 404


def test_the_openapi_document_lists_the_minutes_endpoints(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert {"get", "put"} <= set(paths["/api/v1/meetings/{meeting_id}/minutes"])
    assert "post" in paths["/api/v1/meetings/{meeting_id}/minutes/publish"]
    assert "get" in paths["/api/v1/public/minutes"]
