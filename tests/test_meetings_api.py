"""The Meetings part of the JSON API (API.md): paths, fields, codes and
status codes as the contract has them."""

from __future__ import annotations

import pytest
from meeting_helpers import attendance_of, fresh, notifications_of

from meetings.extensions import db
from meetings.meeting import checkin, services
from meetings.meeting.models import Meeting, MeetingStatus, Presence, Rsvp

pytest_plugins = ["meeting_fixtures"]  # make_meeting, attendee, in_request…

BODY = {
    "title": "飞马转盘中心路通行协商会",
    "starts_at": "2030-12-02T19:00:00+08:00",
    "ends_at": "2030-12-02T21:00:00+08:00",
    "location": "优山美地花园物业会议室",
    "description": "中心路车辆乱停乱放，早晚高峰出行不畅。",
}


def test_secretary_creates_a_meeting(english, bearer, secretary, community, accepted_request):
    response = english.post(
        "/api/v1/meetings",
        json=BODY | {"community_id": community.id, "request_ids": [accepted_request.id]},
        headers=bearer(secretary),
    )
    assert response.status_code == 201, response.json
    body = response.json
    assert body["status"] == "draft"
    assert isinstance(body["id"], int)
    assert body["community_id"] == community.id
    assert body["starts_at"] == "2030-12-02T19:00:00+08:00"
    assert body["ends_at"] == "2030-12-02T21:00:00+08:00"
    assert body["location"] == BODY["location"]
    assert body["request_ids"] == [accepted_request.id]
    assert body["agenda_items"] == [] and body["attendances"] == []
    assert body["next_statuses"] == ["scheduled", "cancelled"]


def test_a_time_without_offset_is_in_the_community_zone(english, bearer, secretary, community):
    response = english.post(
        "/api/v1/meetings",
        json=BODY
        | {
            "community_id": community.id,
            "starts_at": "2030-12-02T19:00:00",
            "ends_at": "2030-12-02T13:00:00Z",
        },
        headers=bearer(secretary),
    )
    assert response.status_code == 201
    assert response.json["starts_at"] == "2030-12-02T19:00:00+08:00"
    assert response.json["ends_at"] == "2030-12-02T21:00:00+08:00"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": ""}, "title"),
        ({"starts_at": "next tuesday"}, "starts_at"),
        ({"ends_at": "2030-12-02T18:00:00+08:00"}, "ends_at"),
        ({"location": "", "online_url": None}, "location"),
        ({"online_url": "javascript:alert(1)"}, "online_url"),
        ({"request_ids": [999999]}, "request_ids"),
        ({"community_id": 2**40}, "community_id"),
        ({"host_id": "someone"}, "host_id"),
    ],
)
def test_bad_meeting_input_is_a_422_with_fields(
    english, bearer, secretary, community, change, field
):
    response = english.post(
        "/api/v1/meetings",
        json=BODY | {"community_id": community.id} | change,
        headers=bearer(secretary),
    )
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_error"
    assert field in response.json["error"]["fields"]


def test_only_the_communitys_secretary_creates_meetings(
    client, bearer, community, other_secretary, resident
):
    for user in (other_secretary, resident):
        response = client.post(
            "/api/v1/meetings", json=BODY | {"community_id": community.id}, headers=bearer(user)
        )
        assert response.status_code == 403
        assert response.json["error"]["code"] == "forbidden"
    response = client.post("/api/v1/meetings", json=BODY | {"community_id": community.id})
    assert response.status_code == 401


def test_list_filters_by_community_and_status(
    client, bearer, make_meeting, secretary, resident, other_secretary, other_community
):
    draft = make_meeting("draft", title="草稿会")
    scheduled = make_meeting("scheduled", title="已排期会")
    elsewhere = make_meeting("scheduled", by=other_secretary, community=other_community)

    mine = client.get("/api/v1/meetings", headers=bearer(secretary)).json
    assert {m["id"] for m in mine["items"]} >= {draft.id, scheduled.id}
    assert mine["total"] == len(mine["items"])

    # a resident sees announced meetings, not drafts
    seen = client.get("/api/v1/meetings", headers=bearer(resident)).json["items"]
    assert {m["id"] for m in seen} == {scheduled.id, elsewhere.id}

    filtered = client.get(
        f"/api/v1/meetings?community_id={scheduled.community_id}&status=scheduled",
        headers=bearer(secretary),
    ).json
    assert [m["id"] for m in filtered["items"]] == [scheduled.id]
    assert "online_url" not in filtered["items"][0]

    assert (
        client.get("/api/v1/meetings?status=nonsense", headers=bearer(secretary)).status_code == 422
    )
    assert client.get("/api/v1/meetings").status_code == 401


def test_get_meeting_with_agenda_and_attendances(
    client, in_request, bearer, make_meeting, secretary, attendee
):
    meeting = make_meeting(
        "scheduled", invite={attendee: "resident_rep"}, online_url="https://meet.example.org/1"
    )
    services.add_agenda_item(secretary, meeting, "议题一", planned_minutes=15)
    db.session.flush()
    body = client.get(f"/api/v1/meetings/{meeting.id}", headers=bearer(attendee)).json
    assert [item["title"] for item in body["agenda_items"]] == ["议题一"]
    assert body["agenda_items"][0]["position"] == 1
    assert body["total_planned_minutes"] == 15
    assert body["online_url"] == "https://meet.example.org/1"
    [attendance] = body["attendances"]
    assert attendance == attendance | {
        "user_id": attendee.id,
        "display_name": attendee.display_name,
        "role": "resident_rep",
        "may_vote": True,
        "rsvp": "invited",
        "presence": None,
    }
    assert body["quorum"]["voting_invited"] == 1


def test_others_see_names_and_roles_only(client, bearer, make_meeting, attendee, resident):
    meeting = make_meeting(
        "scheduled", invite={attendee: "resident_rep"}, online_url="https://meet.example.org/1"
    )
    for headers in ({}, bearer(resident)):
        body = client.get(f"/api/v1/meetings/{meeting.id}", headers=headers).json
        assert body["attendances"] == [
            {
                "display_name": attendee.display_name,
                "role": "resident_rep",
                "role_label": body["attendances"][0]["role_label"],
            }
        ]
        assert "online_url" not in body and "quorum" not in body


def test_a_draft_is_hidden_from_others(client, bearer, make_meeting, resident, other_secretary):
    meeting = make_meeting("draft")
    for headers in ({}, bearer(resident), bearer(other_secretary)):
        response = client.get(f"/api/v1/meetings/{meeting.id}", headers=headers)
        assert response.status_code == 404
        assert response.json["error"]["code"] == "not_found"


def test_patch_changes_given_fields_only(english, bearer, make_meeting, secretary):
    meeting = make_meeting("draft")
    response = english.patch(
        f"/api/v1/meetings/{meeting.id}",
        json={
            "title": "活动室改造出新（第二次）",
            "starts_at": "2030-12-03T19:00:00+08:00",
            "ends_at": "2030-12-03T20:00:00+08:00",
        },
        headers=bearer(secretary),
    )
    assert response.status_code == 200, response.json
    assert response.json["title"] == "活动室改造出新（第二次）"
    assert response.json["location"] == meeting.location
    assert response.json["description"] == meeting.description
    assert response.json["starts_at"] == "2030-12-03T19:00:00+08:00"

    response = english.patch(
        f"/api/v1/meetings/{meeting.id}", json={"community_id": 999}, headers=bearer(secretary)
    )
    assert response.status_code == 422


def test_patch_by_others_is_refused(client, bearer, make_meeting, attendee, other_secretary):
    meeting = make_meeting("scheduled", invite={attendee: "resident_rep"})
    for user in (attendee, other_secretary):
        response = client.patch(
            f"/api/v1/meetings/{meeting.id}", json={"title": "x"}, headers=bearer(user)
        )
        assert response.status_code == 403


def test_agenda_items_through_the_api(client, bearer, make_meeting, secretary, attendee):
    meeting = make_meeting("scheduled", invite={attendee: "resident_rep"})
    headers = bearer(secretary)
    ids = []
    for title in ("情况介绍", "方案讨论", "表决"):
        response = client.post(
            f"/api/v1/meetings/{meeting.id}/agenda-items",
            json={"title": title, "planned_minutes": 10},
            headers=headers,
        )
        assert response.status_code == 201
        assert response.json["position"] == len(ids) + 1
        ids.append(response.json["id"])

    response = client.post(
        f"/api/v1/meetings/{meeting.id}/agenda-items/{ids[2]}/move",
        json={"position": 1},
        headers=headers,
    )
    assert response.status_code == 200
    assert [i["id"] for i in response.json["items"]] == [ids[2], ids[0], ids[1]]

    response = client.patch(
        f"/api/v1/meetings/{meeting.id}/agenda-items/{ids[0]}",
        json={"planned_minutes": 25},
        headers=headers,
    )
    assert response.json["planned_minutes"] == 25 and response.json["title"] == "情况介绍"

    assert (
        client.delete(
            f"/api/v1/meetings/{meeting.id}/agenda-items/{ids[2]}", headers=headers
        ).status_code
        == 204
    )
    body = client.get(f"/api/v1/meetings/{meeting.id}", headers=headers).json
    assert [(i["position"], i["id"]) for i in body["agenda_items"]] == [(1, ids[0]), (2, ids[1])]

    response = client.post(
        f"/api/v1/meetings/{meeting.id}/agenda-items", json={"title": "x"}, headers=bearer(attendee)
    )
    assert response.status_code == 403
    response = client.post(
        f"/api/v1/meetings/{meeting.id}/agenda-items", json={"title": ""}, headers=headers
    )
    assert response.status_code == 422


def test_attendances_through_the_api(client, bearer, make_meeting, make_member, secretary):
    meeting = make_meeting("scheduled")
    member = make_member("陈美玲")
    response = client.post(
        f"/api/v1/meetings/{meeting.id}/attendances",
        json={"user_id": member.id, "role": "observer"},
        headers=bearer(secretary),
    )
    assert response.status_code == 201
    assert response.json["role"] == "observer" and response.json["may_vote"] is False
    assert notifications_of(member, "meeting.invited")

    again = client.post(
        f"/api/v1/meetings/{meeting.id}/attendances",
        json={"user_id": member.id, "role": "expert"},
        headers=bearer(secretary),
    )
    assert again.status_code == 409 and again.json["error"]["code"] == "conflict"

    bad = client.post(
        f"/api/v1/meetings/{meeting.id}/attendances",
        json={"user_id": member.id, "role": "mayor"},
        headers=bearer(secretary),
    )
    assert bad.status_code == 422 and "role" in bad.json["error"]["fields"]


def test_attendee_answers_and_secretary_marks_presence(
    client, bearer, in_request, make_meeting, secretary, attendee, resident
):
    meeting = make_meeting("scheduled", invite={attendee: "resident_rep", resident: "observer"})
    url = f"/api/v1/meetings/{meeting.id}/attendances/{attendee.id}"

    response = client.patch(url, json={"rsvp": "accepted"}, headers=bearer(attendee))
    assert response.status_code == 200 and response.json["rsvp"] == "accepted"
    # the attendee may not mark their own presence, nor answer for another
    assert (
        client.patch(url, json={"presence": "present"}, headers=bearer(attendee)).status_code == 403
    )
    assert client.patch(url, json={"rsvp": "declined"}, headers=bearer(resident)).status_code == 403
    # presence before the meeting begins: refused
    early = client.patch(url, json={"presence": "present"}, headers=bearer(secretary))
    assert early.status_code == 409

    services.transition_meeting(secretary, meeting, "in_progress")
    db.session.flush()
    response = client.patch(url, json={"presence": "present"}, headers=bearer(secretary))
    assert response.status_code == 200
    assert response.json["presence"] == "present" and response.json["checked_in_at"]
    attendance = attendance_of(meeting, attendee)
    assert (attendance.rsvp, attendance.presence) == (Rsvp.ACCEPTED, Presence.PRESENT)

    assert client.patch(url, json={}, headers=bearer(secretary)).status_code == 422
    assert client.patch(url, json={"rsvp": "maybe"}, headers=bearer(attendee)).status_code == 422
    missing = client.patch(
        f"/api/v1/meetings/{meeting.id}/attendances/{secretary.id}",
        json={"presence": "absent"},
        headers=bearer(secretary),
    )
    assert missing.status_code == 404


def test_check_in_with_a_code_through_the_api(client, bearer, make_meeting, attendee, resident):
    meeting = make_meeting("in_progress", invite={attendee: "resident_rep", resident: "observer"})
    token = checkin.make_token(meeting.id, attendee.id)
    response = client.post("/api/v1/checkin", json={"token": token}, headers=bearer(resident))
    assert response.status_code == 403
    response = client.post("/api/v1/checkin", json={"token": token}, headers=bearer(attendee))
    assert response.status_code == 200 and response.json["presence"] == "present"
    response = client.post("/api/v1/checkin", json={"token": "nonsense"}, headers=bearer(attendee))
    assert response.status_code == 404


def test_every_meeting_path_is_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    for path, method in [
        ("/api/v1/meetings", "post"),
        ("/api/v1/meetings", "get"),
        ("/api/v1/meetings/{meeting_id}", "get"),
        ("/api/v1/meetings/{meeting_id}", "patch"),
        ("/api/v1/meetings/{meeting_id}/transitions", "post"),
        ("/api/v1/meetings/{meeting_id}/agenda-items", "post"),
        ("/api/v1/meetings/{meeting_id}/attendances", "post"),
        ("/api/v1/meetings/{meeting_id}/attendances/{user_id}", "patch"),
        ("/api/v1/meetings/{meeting_id}/calendar.ics", "get"),
    ]:
        assert method in paths[path], (path, method)


def test_the_list_is_paged(client, bearer, make_meeting, secretary):
    for _ in range(3):
        make_meeting("draft")
    body = client.get("/api/v1/meetings?per_page=2&page=2", headers=bearer(secretary)).json
    assert body["total"] == 3 and len(body["items"]) == 1
    assert db.session.scalar(db.select(db.func.count(Meeting.id))) == 3
    assert MeetingStatus.DRAFT.value == body["items"][0]["status"]


def test_transition_refreshes_the_view(client, bearer, make_meeting, secretary):
    meeting = make_meeting("scheduled")
    response = client.post(
        f"/api/v1/meetings/{meeting.id}/transitions",
        json={"to": "in_progress", "confirm": True},
        headers=bearer(secretary),
    )
    assert response.json["next_statuses"] == ["closed"]
    assert fresh(meeting).started_at is not None


def test_a_bad_token_is_refused_even_where_none_is_needed(client, make_meeting):
    meeting = make_meeting("scheduled")
    for path in (f"/api/v1/meetings/{meeting.id}", f"/api/v1/meetings/{meeting.id}/calendar.ics"):
        assert client.get(path).status_code == 200
        response = client.get(path, headers={"Authorization": "Bearer not-a-token"})
        assert response.status_code == 401
        assert response.json["error"]["code"] == "unauthorized"
