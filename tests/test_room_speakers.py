"""The speakers' queue (发言) and the agenda item under way: who may ask,
add, withdraw and call the next speaker, once in the queue at a time, only
while the meeting is in progress; the web buttons and the API."""

from __future__ import annotations

import pytest
from poll_helpers import error_fields, error_of

from meetings.extensions import db
from meetings.meeting import services as meeting_services
from meetings.meeting.models import MeetingStatus
from meetings.room import services
from meetings.room.live import PENDING_KEY

pytest_plugins = ["meeting_fixtures", "poll_fixtures"]


def _speakers(meeting) -> str:
    return f"/meetings/{meeting.id}/speakers"


def test_attendee_asks_once_and_gets_a_place(api, assembly):
    first, second = assembly.voters[:2]
    response = api.post(_speakers(assembly.meeting), first)
    assert response.status_code == 201
    assert response.json["place"] == 1 and response.json["status"] == "waiting"
    assert response.json["display_name"] == first.display_name
    assert api.post(_speakers(assembly.meeting), assembly.observer).json["place"] == 2
    assert error_of(api.post(_speakers(assembly.meeting), first)) == (409, "conflict")
    assert api.post(_speakers(assembly.meeting), second).json["place"] == 3
    queue = api.get(_speakers(assembly.meeting), first).json
    assert [w["user_id"] for w in queue["waiting"]] == [first.id, assembly.observer.id, second.id]
    assert queue["current"] is None and queue["speaking_limit_seconds"] == 180


def test_each_change_is_published_for_the_room(assembly):
    db.session.info.pop(PENDING_KEY, None)
    services.ask_for_the_floor(assembly.voters[0], assembly.meeting)
    events = db.session.info[PENDING_KEY]
    assert events[-1][:2] == (assembly.meeting.id, "speaker")


@pytest.mark.parametrize("who", ["resident", "other_secretary", "stranger_attendee"])
def test_outsiders_may_not_ask(
    api, assembly, resident, other_secretary, make_meeting, make_member, who
):
    if who == "stranger_attendee":
        person = make_member("别的会议的代表")
        make_meeting(MeetingStatus.IN_PROGRESS, invite={person: "resident_rep"}, title="另一个会")
    else:
        person = {"resident": resident, "other_secretary": other_secretary}[who]
    assert error_of(api.post(_speakers(assembly.meeting), person)) == (403, "forbidden")
    assert error_of(api.get(_speakers(assembly.meeting), person))[0] == 403


def test_anonymous_is_asked_to_sign_in(api, client, assembly):
    assert api.post(_speakers(assembly.meeting), None).status_code == 401
    response = client.post(f"/meetings/{assembly.meeting.id}/speakers", data={})
    assert response.status_code == 302 and "/auth/login" in response.location


def test_secretary_adds_an_attendee_not_an_outsider(api, assembly, secretary, resident):
    added = api.post(_speakers(assembly.meeting), secretary, {"user_id": assembly.voters[3].id})
    assert added.status_code == 201 and added.json["user_id"] == assembly.voters[3].id
    refused = api.post(_speakers(assembly.meeting), secretary, {"user_id": resident.id})
    assert error_of(refused) == (422, "validation_error") and error_fields(refused) == {"user_id"}
    # the secretary is not an attendee: asking for themself is refused
    assert error_of(api.post(_speakers(assembly.meeting), secretary))[0] == 403


def test_attendee_may_not_add_someone_else(api, assembly):
    response = api.post(
        _speakers(assembly.meeting), assembly.voters[0], {"user_id": assembly.voters[1].id}
    )
    assert error_of(response) == (403, "forbidden")


def test_next_speaker_ends_the_current_and_starts_the_first(api, assembly, secretary):
    first, second = assembly.voters[:2]
    api.post(_speakers(assembly.meeting), first)
    api.post(_speakers(assembly.meeting), second)
    path = f"{_speakers(assembly.meeting)}/next"
    queue = api.post(path, secretary).json
    assert queue["current"]["user_id"] == first.id and queue["current"]["status"] == "speaking"
    assert [w["user_id"] for w in queue["waiting"]] == [second.id]
    queue = api.post(path, secretary).json
    assert queue["current"]["user_id"] == second.id and queue["waiting"] == []
    # the last speaker ends; then nobody is left
    assert api.post(path, secretary).json["current"] is None
    assert error_of(api.post(path, secretary)) == (409, "conflict")
    # having spoken, one may ask again
    assert api.post(_speakers(assembly.meeting), first).status_code == 201


def test_only_the_secretary_calls_the_next_speaker(api, assembly):
    api.post(_speakers(assembly.meeting), assembly.voters[0])
    response = api.post(f"{_speakers(assembly.meeting)}/next", assembly.voters[0])
    assert error_of(response) == (403, "forbidden")


def test_withdraw_by_the_speaker_or_the_secretary_only(api, assembly, secretary):
    first, second = assembly.voters[:2]
    mine = api.post(_speakers(assembly.meeting), first).json["id"]
    theirs = api.post(_speakers(assembly.meeting), second).json["id"]
    delete = api.client.delete
    assert error_of(delete(f"/api/v1/speakers/{theirs}", headers=api.headers(first)))[0] == 403
    assert delete(f"/api/v1/speakers/{mine}", headers=api.headers(first)).status_code == 204
    assert delete(f"/api/v1/speakers/{theirs}", headers=api.headers(secretary)).status_code == 204
    assert api.get(_speakers(assembly.meeting), first).json["waiting"] == []
    # withdrawn already: nothing left to withdraw
    assert error_of(delete(f"/api/v1/speakers/{mine}", headers=api.headers(first))) == (
        409,
        "conflict",
    )


def test_the_queue_works_only_in_progress(api, assembly, secretary, make_meeting, make_member):
    person = make_member("未开会代表")
    scheduled = make_meeting(MeetingStatus.SCHEDULED, invite={person: "resident_rep"})
    assert error_of(api.post(_speakers(scheduled), person)) == (409, "conflict")
    assert error_of(api.post(f"/meetings/{scheduled.id}/agenda/next", secretary)) == (
        409,
        "conflict",
    )
    meeting_services.transition_meeting(secretary, assembly.meeting, MeetingStatus.CLOSED)
    db.session.flush()
    assert error_of(api.post(_speakers(assembly.meeting), assembly.voters[0])) == (409, "conflict")


def test_the_speaking_limit_sets_the_clock(assembly, secretary):
    meeting_services.update_meeting(secretary, assembly.meeting, speaking_limit_seconds=60)
    services.ask_for_the_floor(assembly.voters[0], assembly.meeting)
    queue = services.next_speaker(secretary, assembly.meeting)
    deadline = services.speaker_deadline(assembly.meeting, queue.current)
    assert (deadline - queue.current.started_at).total_seconds() == 60


def test_agenda_moves_on_and_stops_at_the_end(api, assembly, secretary):
    path = f"/meetings/{assembly.meeting.id}/agenda"
    first = api.post(f"{path}/next", secretary)
    assert first.status_code == 200 and first.json["current_agenda_item_id"] == assembly.item.id
    assert first.json["current_item_started_at"]
    second = api.post(f"{path}/next", secretary).json
    assert second["current_agenda_item_id"] == assembly.other_item.id
    assert error_of(api.post(f"{path}/next", secretary)) == (409, "conflict")
    back = api.post(f"{path}/current", secretary, {"agenda_item_id": assembly.item.id})
    assert back.json["current_agenda_item_id"] == assembly.item.id
    assert (
        error_of(api.post(f"{path}/current", secretary, {"agenda_item_id": 2147483647}))[0] == 422
    )
    assert error_of(api.post(f"{path}/next", assembly.voters[0])) == (403, "forbidden")


# --- the web --------------------------------------------------------------------------


def test_attendee_asks_from_the_meeting_page(client, login, assembly):
    voter = assembly.voters[0]
    login(voter)
    page = client.get(f"/meetings/{assembly.meeting.id}").get_data(as_text=True)
    assert f"/meetings/{assembly.meeting.id}/speakers" in page
    response = client.post(f"/meetings/{assembly.meeting.id}/speakers", data={})
    assert response.status_code == 302
    page = client.get(f"/meetings/{assembly.meeting.id}").get_data(as_text=True)
    assert "/withdraw" in page  # their place, with its withdraw button
    entry = services.speaker_queue(assembly.meeting).waiting[0]
    response = client.post(f"/meetings/{assembly.meeting.id}/speakers/{entry.id}/withdraw", data={})
    assert response.status_code == 302
    assert services.speaker_queue(assembly.meeting).waiting == []


def test_remote_control_drives_the_room(client, login, assembly, secretary, api):
    login(secretary)
    base = f"/meetings/{assembly.meeting.id}/room"
    assert client.get(base).status_code == 200
    assert client.post(f"{base}/agenda/next", data={}).status_code == 302
    assert (
        client.post(f"{base}/speakers", data={"user_id": assembly.voters[0].id}).status_code == 302
    )
    assert client.post(f"{base}/speakers/next", data={}).status_code == 302
    queue = services.speaker_queue(assembly.meeting)
    assert queue.current.user_id == assembly.voters[0].id
    poll = api.create_poll(secretary, assembly.item)
    assert client.post(f"{base}/polls/{poll['id']}/open", data={}).status_code == 302
    page = client.get(base).get_data(as_text=True)
    assert f"{base}/polls/{poll['id']}/close" in page
    assert client.post(f"{base}/polls/{poll['id']}/close", data={}).status_code == 302
    assert api.get(f"/polls/{poll['id']}", secretary).json["status"] == "closed"
    assert client.post(f"{base}/speakers/end", data={}).status_code == 302
    assert services.speaker_queue(assembly.meeting).current is None


def test_remote_control_is_the_secretarys(client, login, assembly):
    login(assembly.voters[0])
    assert client.get(f"/meetings/{assembly.meeting.id}/room").status_code == 403
    assert client.post(f"/meetings/{assembly.meeting.id}/room/speakers/next").status_code == 403
