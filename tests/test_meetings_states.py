"""The life of a meeting: draft → scheduled → in_progress → closed, or
cancelled with a reason; illegal steps refused (web and API); the topics'
requests following along; notifications and audit entries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import field_errors, flashes
from meeting_helpers import audit_actions, fresh, next_week, notifications_of

from meetings.errors import InvalidTransition, ValidationFailed
from meetings.extensions import db
from meetings.meeting import services
from meetings.meeting.models import TRANSITIONS, Meeting, MeetingStatus
from meetings.requests.models import RequestStatus

pytest_plugins = ["meeting_fixtures"]  # make_meeting, attendee, in_request…

ENDPOINT_TARGETS = [
    MeetingStatus.SCHEDULED,
    MeetingStatus.IN_PROGRESS,
    MeetingStatus.CLOSED,
    MeetingStatus.CANCELLED,
]
FROM_STATES = [
    MeetingStatus.DRAFT,
    MeetingStatus.SCHEDULED,
    MeetingStatus.IN_PROGRESS,
    MeetingStatus.CLOSED,
    MeetingStatus.CANCELLED,
]
LEGAL = [(s, t) for s in FROM_STATES for t in ENDPOINT_TARGETS if t in TRANSITIONS[s]]
ILLEGAL = [(s, t) for s in FROM_STATES for t in ENDPOINT_TARGETS if t not in TRANSITIONS[s]]


def test_the_transition_table_is_the_designed_one():
    assert set(LEGAL) == {
        (MeetingStatus.DRAFT, MeetingStatus.SCHEDULED),
        (MeetingStatus.DRAFT, MeetingStatus.CANCELLED),
        (MeetingStatus.SCHEDULED, MeetingStatus.IN_PROGRESS),
        (MeetingStatus.SCHEDULED, MeetingStatus.CANCELLED),
        (MeetingStatus.IN_PROGRESS, MeetingStatus.CLOSED),
    }
    assert TRANSITIONS[MeetingStatus.CLOSED] == {MeetingStatus.MINUTES_PUBLISHED}


# --- creating -------------------------------------------------------------------------


def test_secretary_creates_a_draft_on_the_web(english, login, secretary, community, db):
    login(secretary)
    response = english.post(
        f"/communities/{community.id}/meetings/new",
        data={
            "title": "电梯轿厢广告协商会",
            "starts_at": "2030-12-02T19:00",
            "ends_at": "2030-12-02T20:30",
            "location": "优山美地花园物业会议室",
            "description": "商量电梯里的广告怎么处理。",
            "host": secretary.username,
            "recorder": "",
        },
    )
    meeting = db.session.scalar(db.select(Meeting).where(Meeting.title == "电梯轿厢广告协商会"))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/meetings/{meeting.id}/agenda"
    assert meeting.status == MeetingStatus.DRAFT
    assert meeting.host == secretary and meeting.recorder is None
    # entered in the community's time zone (Asia/Shanghai, UTC+8), stored in UTC
    assert meeting.starts_at.isoformat() == "2030-12-02T11:00:00+00:00"
    assert audit_actions(meeting) == ["meeting.created"]


def test_meeting_form_shows_its_problems_next_to_the_fields(english, login, secretary, community):
    login(secretary)
    response = english.post(
        f"/communities/{community.id}/meetings/new",
        data={
            "title": "议事会",
            "starts_at": "2030-12-02T19:00",
            "ends_at": "2030-12-02T18:00",
            "location": "",
            "online_url": "",
            "host": "",
            "recorder": "",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field_errors(page, "ends_at") == ["The end must be after the start."]
    assert field_errors(page, "location") == ["Please give the place, or an online link."]


def test_a_request_id_beyond_the_database_is_refused_not_a_500(
    english, login, secretary, community, db
):
    """Found by the form fuzzing: on PostgreSQL the number reached the driver."""
    login(secretary)
    response = english.post(
        f"/communities/{community.id}/meetings/new",
        data={
            "title": "议事会",
            "starts_at": "2030-12-02T19:00",
            "ends_at": "2030-12-02T20:00",
            "location": "社区活动室",
            "request_ids": "2147483648",
        },
    )
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "request_ids")
    assert db.session.scalar(db.select(db.func.count(Meeting.id))) == 0


def test_an_online_meeting_needs_no_place(in_request, secretary, community):
    meeting = services.create_meeting(
        secretary,
        community,
        title="线上议事会",
        starts_at=next_week(),
        ends_at=next_week() + timedelta(hours=1),
        online_url="https://meeting.example.org/room/182",
    )
    assert meeting.location == "" and meeting.online_url.endswith("/182")


def test_host_and_recorder_are_members_of_the_community(
    in_request, secretary, community, other_secretary
):
    with pytest.raises(ValidationFailed) as raised:
        services.create_meeting(
            secretary,
            community,
            title="议事会",
            starts_at=next_week(),
            ends_at=next_week() + timedelta(hours=1),
            location="活动室",
            host_id=other_secretary.id,
        )
    assert set(raised.value.fields) == {"host_id"}


# --- legal steps ----------------------------------------------------------------------


@pytest.mark.parametrize(("current", "to"), LEGAL, ids=lambda s: str(s))
def test_legal_transitions_on_the_web(english, login, make_meeting, secretary, current, to):
    meeting = make_meeting(current)
    login(secretary)
    if to == MeetingStatus.CANCELLED:
        response = english.post(f"/meetings/{meeting.id}/cancel", data={"reason": "场地维修"})
    else:
        data = {"to": to.value, "confirm": "1"}  # a meeting of next week starts today
        response = english.post(f"/meetings/{meeting.id}/transition", data=data)
    assert response.status_code == 302
    meeting = fresh(meeting)
    assert meeting.status == to
    assert audit_actions(meeting)[-1] == f"meeting.{to.value}"
    page = english.get(response.headers["Location"]).get_data(as_text=True)
    assert flashes(page)


@pytest.mark.parametrize(("current", "to"), LEGAL, ids=lambda s: str(s))
def test_legal_transitions_through_the_api(client, bearer, make_meeting, secretary, current, to):
    meeting = make_meeting(current)
    body = {"to": to.value, "confirm": True}
    body |= {"reason": "场地维修"} if to == MeetingStatus.CANCELLED else {}
    response = client.post(
        f"/api/v1/meetings/{meeting.id}/transitions", json=body, headers=bearer(secretary)
    )
    assert response.status_code == 200, response.json
    assert response.json["status"] == to.value
    assert fresh(meeting).status == to


def test_timestamps_record_each_step(in_request, make_meeting, secretary):
    meeting = make_meeting("closed")
    assert meeting.scheduled_at <= meeting.started_at <= meeting.closed_at
    assert audit_actions(meeting) == [
        "meeting.created",
        "meeting.scheduled",
        "meeting.in_progress",
        "meeting.closed",
    ]


# --- illegal steps --------------------------------------------------------------------


@pytest.mark.parametrize(("current", "to"), ILLEGAL, ids=lambda s: str(s))
def test_illegal_transitions_are_refused_through_the_api(
    english, bearer, make_meeting, secretary, current, to
):
    meeting = make_meeting(current)
    response = english.post(
        f"/api/v1/meetings/{meeting.id}/transitions",
        json={"to": to.value, "reason": "场地维修"},
        headers=bearer(secretary),
    )
    assert response.status_code == 409
    assert response.json["error"]["code"] == "invalid_transition"
    message = response.json["error"]["message"]
    assert "cannot become" in message or "already" in message
    assert fresh(meeting).status == current


@pytest.mark.parametrize(("current", "to"), ILLEGAL, ids=lambda s: str(s))
def test_illegal_transitions_are_refused_on_the_web(
    english, login, make_meeting, secretary, current, to
):
    meeting = make_meeting(current)
    login(secretary)
    if to == MeetingStatus.CANCELLED:
        response = english.post(f"/meetings/{meeting.id}/cancel", data={"reason": "场地维修"})
    else:
        data = {"to": to.value, "confirm": "1"}  # confirmed or not, an illegal step is refused
        response = english.post(f"/meetings/{meeting.id}/transition", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "cannot become" in page or "already" in page
    assert fresh(meeting).status == current


def test_a_draft_cannot_start_without_being_scheduled(in_request, make_meeting, secretary):
    meeting = make_meeting("draft")
    with pytest.raises(InvalidTransition) as raised:
        services.transition_meeting(secretary, meeting, "in_progress")
    assert "“Draft”: it cannot become “In progress”" in raised.value.message
    assert "Possible: “Scheduled”, “Cancelled”" in raised.value.message


def test_minutes_are_published_only_by_publishing_minutes(
    client, bearer, in_request, make_meeting, secretary
):
    meeting = make_meeting("closed")
    response = client.post(
        f"/api/v1/meetings/{meeting.id}/transitions",
        json={"to": "minutes_published"},
        headers=bearer(secretary),
    )
    assert response.status_code == 422
    with pytest.raises(InvalidTransition):
        services.transition_meeting(secretary, meeting, "minutes_published")
    services.mark_minutes_published(secretary, meeting)
    assert meeting.status == MeetingStatus.MINUTES_PUBLISHED
    assert audit_actions(meeting)[-1] == "meeting.minutes_published"


def test_cancelling_needs_a_reason(english, login, bearer, make_meeting, secretary):
    meeting = make_meeting("scheduled")
    response = english.post(
        f"/api/v1/meetings/{meeting.id}/transitions",
        json={"to": "cancelled"},
        headers=bearer(secretary),
    )
    assert response.status_code == 422
    assert response.json["error"]["fields"] == {
        "reason": ["Please give the reason; it is sent to everyone invited."]
    }
    login(secretary)
    response = english.post(f"/meetings/{meeting.id}/cancel", data={"reason": "  "})
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "reason")
    assert fresh(meeting).status == MeetingStatus.SCHEDULED


def test_a_cancelled_or_published_meeting_cannot_be_edited(client, bearer, make_meeting, secretary):
    meeting = make_meeting("cancelled")
    response = client.patch(
        f"/api/v1/meetings/{meeting.id}", json={"title": "新标题"}, headers=bearer(secretary)
    )
    assert response.status_code == 409
    assert response.json["error"]["code"] == "conflict"


def test_time_and_place_are_fixed_once_the_meeting_has_begun(
    client, bearer, make_meeting, secretary
):
    meeting = make_meeting("in_progress")
    response = client.patch(
        f"/api/v1/meetings/{meeting.id}", json={"location": "别处"}, headers=bearer(secretary)
    )
    assert response.status_code == 409
    response = client.patch(
        f"/api/v1/meetings/{meeting.id}",
        json={"description": "补充说明"},
        headers=bearer(secretary),
    )
    assert response.status_code == 200
    assert response.json["description"] == "补充说明"


# --- the topics' requests -------------------------------------------------------------


def test_topics_follow_the_meeting(in_request, make_meeting, secretary, accepted_request):
    meeting = make_meeting("draft", request_ids=[accepted_request.id])
    assert accepted_request.status == RequestStatus.ACCEPTED

    services.transition_meeting(secretary, meeting, "scheduled")
    assert accepted_request.status == RequestStatus.SCHEDULED
    [told] = notifications_of(accepted_request.requester, "request.scheduled")
    assert told.link == f"/meetings/{meeting.id}"

    services.transition_meeting(secretary, meeting, "in_progress")
    services.transition_meeting(secretary, meeting, "closed")
    assert accepted_request.status == RequestStatus.DELIBERATED
    history = [event.to_status for event in accepted_request.events]
    assert history[-2:] == [RequestStatus.SCHEDULED, RequestStatus.DELIBERATED]


def test_a_request_knows_its_meetings(in_request, make_meeting, accepted_request):
    first = make_meeting("draft", request_ids=[accepted_request.id])
    second = make_meeting("draft", request_ids=[accepted_request.id])
    assert fresh(accepted_request).meeting_ids == [first.id, second.id]


def test_a_cancelled_meeting_gives_its_topics_back(
    in_request, make_meeting, secretary, accepted_request
):
    meeting = make_meeting("scheduled", request_ids=[accepted_request.id])
    assert accepted_request.status == RequestStatus.SCHEDULED
    services.transition_meeting(secretary, meeting, "cancelled", "改期")
    assert accepted_request.status == RequestStatus.ACCEPTED


def test_a_topic_added_to_a_scheduled_meeting_is_scheduled(
    in_request, make_meeting, secretary, accepted_request
):
    meeting = make_meeting("scheduled")
    services.update_meeting(secretary, meeting, request_ids=[accepted_request.id])
    assert accepted_request.status == RequestStatus.SCHEDULED
    services.update_meeting(secretary, meeting, request_ids=[])
    assert accepted_request.status == RequestStatus.ACCEPTED


def test_only_accepted_requests_become_topics(
    in_request, make_meeting, secretary, resident, community
):
    from request_helpers import raise_request

    submitted = raise_request(resident, community)
    with pytest.raises(ValidationFailed) as raised:
        make_meeting("draft", request_ids=[submitted.id])
    assert "only accepted requests" in raised.value.fields["request_ids"][0]


# --- notifications --------------------------------------------------------------------


def test_invitations_to_a_draft_go_out_when_it_is_scheduled(
    in_request, make_meeting, secretary, attendee
):
    meeting = make_meeting("draft", invite={attendee: "resident_rep"})
    assert notifications_of(attendee) == []
    services.transition_meeting(secretary, meeting, "scheduled")
    [invitation] = notifications_of(attendee, "meeting.invited")
    assert invitation.link == f"/meetings/{meeting.id}"
    assert meeting.title in invitation.subject


def test_invitees_hear_of_a_new_time_or_place(in_request, make_meeting, secretary, attendee):
    meeting = make_meeting("scheduled", invite={attendee: "resident_rep"})
    sequence = meeting.sequence
    services.update_meeting(secretary, meeting, description="补充材料")
    assert notifications_of(attendee, "meeting.rescheduled") == []

    services.update_meeting(
        secretary,
        meeting,
        starts_at=meeting.starts_at + timedelta(days=1),
        ends_at=meeting.ends_at + timedelta(days=1),
    )
    services.update_meeting(secretary, meeting, location="社区党群服务中心二楼")
    told = notifications_of(attendee, "meeting.rescheduled")
    assert len(told) == 2
    assert "社区党群服务中心二楼" in told[-1].body
    assert told[-1].link == f"/meetings/{meeting.id}"
    assert meeting.sequence == sequence + 2
    assert audit_actions(meeting).count("meeting.rescheduled") == 2


def test_a_draft_changes_silently(in_request, make_meeting, secretary, attendee):
    meeting = make_meeting("draft", invite={attendee: "resident_rep"})
    services.update_meeting(secretary, meeting, location="别处")
    assert notifications_of(attendee) == []


def test_invitees_hear_of_a_cancellation_with_the_reason(
    english, login, make_meeting, secretary, attendee
):
    meeting = make_meeting("scheduled", invite={attendee: "resident_rep"})
    login(secretary)
    english.post(f"/meetings/{meeting.id}/cancel", data={"reason": "台风预警，改期举行"})
    [told] = notifications_of(attendee, "meeting.cancelled")
    assert "台风预警，改期举行" in told.body
    assert told.link == f"/meetings/{meeting.id}"
    assert fresh(meeting).cancel_reason == "台风预警，改期举行"


def test_notifications_are_in_the_recipients_language(
    in_request, make_meeting, secretary, attendee, make_member
):
    english_reader = make_member("Li Wei")
    english_reader.locale = "en"
    attendee.locale = "zh_CN"
    db.session.flush()
    make_meeting("scheduled", invite={attendee: "resident_rep", english_reader: "expert"})
    [chinese] = notifications_of(attendee, "meeting.invited")
    [english] = notifications_of(english_reader, "meeting.invited")
    assert english.subject.startswith("Invitation:")
    assert "as Expert" in english.body
    # the date, too, is written the reader's way
    assert "年" in chinese.body and "年" not in english.body


def test_two_secretaries_cannot_both_start_the_meeting(in_request, make_meeting, secretary):
    meeting = make_meeting("scheduled")
    # the other secretary's transaction got there first
    db.session.execute(
        db.update(Meeting)
        .where(Meeting.id == meeting.id)
        .values(status="in_progress")
        .execution_options(synchronize_session=False)
    )
    with pytest.raises(InvalidTransition) as raised:
        services.transition_meeting(secretary, meeting, "in_progress")
    assert "Someone else changed this meeting" in raised.value.message


def test_the_api_lists_the_meetings_of_a_request(
    in_request, client, bearer, make_meeting, accepted_request, resident
):
    meeting = make_meeting("scheduled", request_ids=[accepted_request.id])
    response = client.get(f"/api/v1/requests/{accepted_request.id}", headers=bearer(resident))
    assert response.json["meeting_ids"] == [meeting.id]


def test_the_request_page_links_its_meeting(
    in_request, client, login, make_meeting, accepted_request, resident
):
    meeting = make_meeting("scheduled", request_ids=[accepted_request.id])
    page = login(resident).get(f"/requests/{accepted_request.id}").get_data(as_text=True)
    assert f'href="/meetings/{meeting.id}"' in page
