"""The big screen (投屏): its links (created and revoked by the secretary on
the web and through the API), the page shown without a login, what it shows
— names and roles, turnout but never the choices of an open poll, results
once closed — and the meeting's room settings."""

from __future__ import annotations

import re

import pytest
from conftest import field_errors
from poll_helpers import error_fields, error_of

from meetings.extensions import db
from meetings.meeting import services as meeting_services
from meetings.meeting.models import MeetingStatus, Presence
from meetings.room import services
from meetings.room.models import ScreenLink

pytest_plugins = ["meeting_fixtures", "poll_fixtures"]

LINK = re.compile(r'value="(https?://[^"]+/screen/([^"/]+))"')


def _link(secretary, meeting, label="活动室电视") -> str:
    _link, token = services.create_screen_link(secretary, meeting, label)
    db.session.flush()
    return token


# --- links ----------------------------------------------------------------------------


def test_secretary_creates_a_link_on_the_web_and_it_shows_once(client, login, assembly, secretary):
    login(secretary)
    response = client.post(
        f"/meetings/{assembly.meeting.id}/room/screen-links", data={"label": "活动室电视"}
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    url, token = LINK.search(page).groups()
    link = db.session.scalar(
        db.select(ScreenLink).where(ScreenLink.meeting_id == assembly.meeting.id)
    )
    assert link.label == "活动室电视"
    assert link.token_hash == services.hash_token(token) and token not in link.token_hash
    # shown on the remote without its address afterwards
    again = client.get(f"/meetings/{assembly.meeting.id}/room").get_data(as_text=True)
    assert "活动室电视" in again and token not in again
    # the room's PC needs no login
    client.post("/auth/logout")
    assert client.get(f"/screen/{token}").status_code == 200


def test_revoking_on_the_web_stops_the_page(client, login, assembly, secretary):
    token = _link(secretary, assembly.meeting)
    link = db.session.scalar(db.select(ScreenLink))
    login(secretary)
    response = client.post(
        f"/meetings/{assembly.meeting.id}/room/screen-links/{link.id}/revoke", data={}
    )
    assert response.status_code == 302
    assert client.get(f"/screen/{token}").status_code == 404
    assert client.get(f"/screen/{token}/body").status_code == 404
    assert services.meeting_for_screen_token(token) is None


def test_api_creates_and_revokes_a_link(api, assembly, secretary, client):
    response = api.post(
        f"/meetings/{assembly.meeting.id}/screen-links", secretary, {"label": "投影"}
    )
    assert response.status_code == 201
    body = response.json
    assert body["url"].split("/screen/")[0].startswith("http")
    token = body["url"].rsplit("/", 1)[1]
    assert client.get(f"/screen/{token}").status_code == 200
    listed = api.get(f"/meetings/{assembly.meeting.id}/screen-links", secretary).json
    assert [item["id"] for item in listed["items"]] == [body["id"]]
    assert "url" not in listed["items"][0]
    deleted = api.client.delete(
        f"/api/v1/screen-links/{body['id']}", headers=api.headers(secretary)
    )
    assert deleted.status_code == 204
    assert client.get(f"/screen/{token}").status_code == 404
    assert api.get(f"/meetings/{assembly.meeting.id}/screen-links", secretary).json["total"] == 0


@pytest.mark.parametrize("who", ["voter", "observer", "other_secretary", "resident"])
def test_only_the_secretary_manages_links(api, assembly, secretary, who, other_secretary, resident):
    person = {
        "voter": assembly.voters[0],
        "observer": assembly.observer,
        "other_secretary": other_secretary,
        "resident": resident,
    }[who]
    assert error_of(api.post(f"/meetings/{assembly.meeting.id}/screen-links", person, {})) == (
        403,
        "forbidden",
    )
    link, _token = services.create_screen_link(secretary, assembly.meeting)
    db.session.flush()
    response = api.client.delete(f"/api/v1/screen-links/{link.id}", headers=api.headers(person))
    assert error_of(response) == (403, "forbidden")


def test_a_long_label_is_refused(api, assembly, secretary):
    response = api.post(
        f"/meetings/{assembly.meeting.id}/screen-links", secretary, {"label": "电" * 61}
    )
    assert error_of(response) == (422, "validation_error") and error_fields(response) == {"label"}


def test_unknown_token_and_cancelled_meeting_show_nothing(client, make_meeting, secretary):
    assert client.get("/screen/not-a-token").status_code == 404
    meeting = make_meeting(MeetingStatus.SCHEDULED)
    token = _link(secretary, meeting)
    assert client.get(f"/screen/{token}").status_code == 200
    meeting_services.transition_meeting(secretary, meeting, MeetingStatus.CANCELLED, "台风")
    db.session.flush()
    assert client.get(f"/screen/{token}").status_code == 404


# --- what the screen shows ------------------------------------------------------------


@pytest.mark.parametrize("secret", [True, False])
def test_open_poll_shows_turnout_never_choices_then_results(
    api, client, assembly, secretary, secret
):
    token = _link(secretary, assembly.meeting)
    poll = api.create_poll(secretary, assembly.item, title="是否设置道闸", secret=secret)
    yes, no, _abstain = (option["id"] for option in poll["options"])
    api.open_poll(secretary, poll["id"])
    api.vote(assembly.voters[0], poll["id"], yes)
    api.vote(assembly.voters[1], poll["id"], yes)
    api.vote(assembly.voters[2], poll["id"], no)
    response = client.get(f"/screen/{token}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page[-3000:]
    assert "是否设置道闸" in page
    assert re.search(r"<strong>3</strong> / 6", page)
    assert "screen-results" not in page and "赞成" not in page and "反对" not in page
    body = client.get(f"/screen/{token}/body").get_data(as_text=True)
    assert "赞成" not in body and "screen-results" not in body

    api.close_poll(secretary, poll["id"])
    page = client.get(f"/screen/{token}/body").get_data(as_text=True)
    assert "screen-results" in page and "赞成" in page and "反对" in page
    assert 'class="screen-bar-fill" x="0" y="0" width="66.67"' in page


def test_screen_shows_names_and_roles_never_phones(client, assembly, secretary):
    voter = assembly.voters[0]
    voter.phone = "13912345678"
    token = _link(secretary, assembly.meeting)
    services.add_speaker(secretary, assembly.meeting, voter)
    services.next_speaker(secretary, assembly.meeting)
    services.add_speaker(secretary, assembly.meeting, assembly.voters[1])
    services.next_agenda_item(secretary, assembly.meeting)
    db.session.flush()
    page = client.get(f"/screen/{token}").get_data(as_text=True)
    assert voter.display_name in page and assembly.voters[1].display_name in page
    assert "Resident representative" in page or "居民代表" in page
    assert "13912345678" not in page
    assert assembly.item.title in page
    assert "data-deadline" in page  # the speaker's clock (and the item's, when planned)
    assert "3:00" in page  # the speaking limit


def test_screen_counts_presence_against_quorum(client, assembly, secretary):
    token = _link(secretary, assembly.meeting)
    for voter in assembly.voters[:4]:
        attendance = assembly.meeting.attendance_of(voter)
        meeting_services.mark_presence(secretary, attendance, Presence.PRESENT)
    db.session.flush()
    page = client.get(f"/screen/{token}").get_data(as_text=True)
    assert re.search(r"<strong>4</strong> / 6", page)
    assert "is-met" in page


def test_the_screen_has_no_meta_refresh_and_its_qr(client, assembly, secretary):
    page = client.get(f"/screen/{_link(secretary, assembly.meeting)}").get_data(as_text=True)
    assert 'http-equiv="refresh"' not in page
    assert "data:image/svg+xml;base64," in page
    assert "js/screen.js" in page and "site-nav" not in page


# --- the room settings ----------------------------------------------------------------


def test_settings_through_the_api(api, assembly, secretary):
    path = f"/meetings/{assembly.meeting.id}"
    response = api.client.patch(
        f"/api/v1{path}",
        json={"allow_proxies": True, "max_proxies_per_person": 2, "speaking_limit_seconds": 120},
        headers=api.headers(secretary),
    )
    assert response.status_code == 200, response.json
    assert response.json["allow_proxies"] is True
    assert response.json["max_proxies_per_person"] == 2
    assert response.json["speaking_limit_seconds"] == 120


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"speaking_limit_seconds": 29}, "speaking_limit_seconds"),
        ({"speaking_limit_seconds": 1801}, "speaking_limit_seconds"),
        ({"speaking_limit_seconds": "120"}, "speaking_limit_seconds"),
        ({"max_proxies_per_person": 0}, "max_proxies_per_person"),
        ({"max_proxies_per_person": 11}, "max_proxies_per_person"),
        ({"allow_proxies": "yes"}, "allow_proxies"),
        ({"allow_proxies": 1}, "allow_proxies"),
    ],
)
def test_bad_settings_are_422(api, assembly, secretary, body, field):
    response = api.client.patch(
        f"/api/v1/meetings/{assembly.meeting.id}", json=body, headers=api.headers(secretary)
    )
    assert error_of(response) == (422, "validation_error")
    assert error_fields(response) == {field}


def test_settings_on_the_remote(client, login, assembly, secretary):
    login(secretary)
    path = f"/meetings/{assembly.meeting.id}/room/settings"
    bad = client.post(path, data={"speaking_limit_seconds": "10", "max_proxies_per_person": "1"})
    assert bad.status_code == 422
    assert field_errors(bad.get_data(as_text=True), "speaking_limit_seconds")
    good = client.post(
        path,
        data={"speaking_limit_seconds": "240", "allow_proxies": "y", "max_proxies_per_person": "3"},
    )
    assert good.status_code == 302
    meeting = db.session.get(type(assembly.meeting), assembly.meeting.id)
    db.session.refresh(meeting)
    assert (
        meeting.speaking_limit_seconds,
        meeting.allow_proxies,
        meeting.max_proxies_per_person,
    ) == (
        240,
        True,
        3,
    )


def test_service_refuses_out_of_range_settings(assembly, secretary):
    from meetings.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as refused:
        meeting_services.update_meeting(secretary, assembly.meeting, speaking_limit_seconds=5)
    assert set(refused.value.fields) == {"speaking_limit_seconds"}
