"""The meeting's order: starting a meeting far from its planned time asks
first (a page on the web, 409 ``confirmation_needed`` in the API without
``confirm: true``); closing it asks about the attendees nobody marked, marks
them absent, and the minutes then say present or absent of everyone."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
from conftest import PASSWORD

from meetings.audit.models import AuditEntry
from meetings.dbtypes import utcnow
from meetings.errors import ConfirmationNeeded
from meetings.extensions import db
from meetings.i18n import LANGUAGE_COOKIE
from meetings.meeting import services
from meetings.meeting.models import Meeting, MeetingStatus, Presence
from meetings.minutes.draft import generate_draft

pytest_plugins = ["meeting_fixtures"]


@pytest.fixture
def client_as(app):
    def make(user):
        client = app.test_client()
        client.set_cookie(LANGUAGE_COOKIE, "en")
        response = client.post(
            "/auth/login", data={"username": user.username, "password": PASSWORD}
        )
        assert response.status_code == 302
        return client

    return make


def fresh(meeting: Meeting) -> Meeting:
    db.session.expire_all()
    return db.session.get(Meeting, meeting.id)


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def starting_in(minutes: int) -> dict:
    starts = utcnow() + timedelta(minutes=minutes)
    return {"starts_at": starts, "ends_at": starts + timedelta(hours=2)}


# --- the start ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minutes", "asks"),
    [(60 * 24 * 7, True), (61, True), (59, False), (0, False), (-100, False), (-121, True)],
    ids=["next week", "61 min before", "59 min before", "at its time", "late", "after its end"],
)
def test_a_start_far_from_the_planned_time_needs_confirming(
    make_meeting, secretary, in_request, minutes, asks
):
    meeting = make_meeting("scheduled", **starting_in(minutes))
    assert services.off_schedule(meeting) is asks
    if asks:
        with pytest.raises(ConfirmationNeeded) as refused:
            services.transition_meeting(secretary, meeting, "in_progress", confirmed=False)
        assert refused.value.code == "confirmation_needed"
        assert meeting.status == MeetingStatus.SCHEDULED
    # asked: started once confirmed; not asked: started without confirming
    services.transition_meeting(secretary, meeting, "in_progress", confirmed=asks)
    assert meeting.status == MeetingStatus.IN_PROGRESS


def test_the_window_is_a_setting(app, make_meeting, secretary, in_request):
    meeting = make_meeting("scheduled", **starting_in(90))
    assert services.off_schedule(meeting)
    app.config["MEETING_START_WINDOW_MINUTES"] = 120
    try:
        assert not services.off_schedule(meeting)
    finally:
        app.config["MEETING_START_WINDOW_MINUTES"] = 60


def test_the_web_asks_with_the_times_then_starts(client_as, make_meeting, secretary):
    meeting = make_meeting("scheduled")  # next week
    client = client_as(secretary)
    asked = client.post(f"/meetings/{meeting.id}/transition", data={"to": "in_progress"})
    assert asked.status_code == 200
    page = text(asked)
    assert "Start “活动室改造出新协商议事会” now?" in page
    assert "Planned" in page and "Now" in page
    assert f'<time datetime="{meeting.starts_at.isoformat()}">' in page
    assert 'name="confirm" value="1"' in page
    assert fresh(meeting).status == MeetingStatus.SCHEDULED

    started = client.post(
        f"/meetings/{meeting.id}/transition", data={"to": "in_progress", "confirm": "1"}
    )
    assert started.status_code == 302
    assert fresh(meeting).status == MeetingStatus.IN_PROGRESS


def test_a_start_on_time_is_not_asked(client_as, make_meeting, secretary):
    meeting = make_meeting("scheduled", **starting_in(30))
    response = client_as(secretary).post(
        f"/meetings/{meeting.id}/transition", data={"to": "in_progress"}
    )
    assert response.status_code == 302
    assert fresh(meeting).status == MeetingStatus.IN_PROGRESS


def test_the_api_answers_409_until_confirmed(client, bearer, make_meeting, secretary, attendee):
    meeting = make_meeting("scheduled", invite={attendee: "resident_rep"})
    url = f"/api/v1/meetings/{meeting.id}/transitions"
    refused = client.post(url, json={"to": "in_progress"}, headers=bearer(secretary))
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "confirmation_needed"
    assert fresh(meeting).status == MeetingStatus.SCHEDULED
    # an attendee is refused as before, confirmed or not
    confirmed = {"to": "in_progress", "confirm": True}
    assert client.post(url, json=confirmed, headers=bearer(attendee)).status_code == 403
    started = client.post(url, json=confirmed, headers=bearer(secretary))
    assert started.status_code == 200
    assert started.get_json()["status"] == "in_progress"


def test_confirm_does_not_make_an_illegal_start_legal(client, bearer, make_meeting, secretary):
    meeting = make_meeting("draft")
    response = client.post(
        f"/api/v1/meetings/{meeting.id}/transitions",
        json={"to": "in_progress", "confirm": True},
        headers=bearer(secretary),
    )
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "invalid_transition"


# --- the close ---------------------------------------------------------------------------


@pytest.fixture
def running(make_meeting, make_member, secretary, in_request):
    """A meeting under way: 王桂兰 present, 刘建国 excused, 陈志强 and 赵淑芬 not marked."""
    people = {name: make_member(name) for name in ("王桂兰", "刘建国", "陈志强", "赵淑芬")}
    meeting = make_meeting(
        "scheduled",
        invite=dict.fromkeys(people.values(), "resident_rep"),
        **starting_in(10),
    )
    services.transition_meeting(secretary, meeting, "in_progress")
    services.mark_presence(secretary, meeting.attendance_of(people["王桂兰"]), "present")
    services.mark_presence(secretary, meeting.attendance_of(people["刘建国"]), "excused")
    db.session.flush()
    return meeting


def test_the_web_lists_the_unmarked_before_closing(client_as, running, secretary):
    client = client_as(secretary)
    asked = client.post(f"/meetings/{running.id}/transition", data={"to": "closed"})
    assert asked.status_code == 200
    page = text(asked)
    listed = page.split('class="list unmarked-list"', 1)[1].split("</ul>", 1)[0]
    assert "陈志强" in listed and "赵淑芬" in listed
    assert "王桂兰" not in listed and "刘建国" not in listed
    assert "Mark them absent and close the meeting" in page
    assert f'href="/meetings/{running.id}/checkin"' in page  # go back and mark them
    assert fresh(running).status == MeetingStatus.IN_PROGRESS

    closed = client.post(
        f"/meetings/{running.id}/transition", data={"to": "closed", "confirm": "1"}
    )
    assert closed.status_code == 302
    meeting = fresh(running)
    assert meeting.status == MeetingStatus.CLOSED
    presence = {a.user.display_name: a.presence for a in meeting.attendances}
    assert presence == {
        "王桂兰": Presence.PRESENT,
        "刘建国": Presence.EXCUSED,
        "陈志强": Presence.ABSENT,
        "赵淑芬": Presence.ABSENT,
    }
    entry = db.session.scalar(
        db.select(AuditEntry).where(AuditEntry.action == "meeting.unmarked_absent")
    )
    assert entry.actor_id == secretary.id and len(entry.data["user_ids"]) == 2


def test_a_close_with_everyone_marked_is_not_asked(client_as, running, secretary):
    for attendance in running.attendances:
        if attendance.presence is None:
            services.mark_presence(secretary, attendance, "present")
    db.session.flush()
    response = client_as(secretary).post(
        f"/meetings/{running.id}/transition", data={"to": "closed"}
    )
    assert response.status_code == 302
    assert fresh(running).status == MeetingStatus.CLOSED


def test_the_api_close_marks_the_unmarked_absent(client, bearer, running, secretary, attendee):
    url = f"/api/v1/meetings/{running.id}/transitions"
    assert client.post(url, json={"to": "closed"}, headers=bearer(attendee)).status_code == 403
    bad = client.post(url, json={"to": "closed", "unmarked": "present"}, headers=bearer(secretary))
    assert bad.status_code == 422
    response = client.post(
        url, json={"to": "closed", "unmarked": "absent"}, headers=bearer(secretary)
    )
    assert response.status_code == 200
    marks = {a["presence"] for a in response.get_json()["attendances"]}
    assert None not in marks
    assert all(a.presence is not None for a in fresh(running).attendances)


def test_the_api_close_marks_absent_by_default(client, bearer, running, secretary):
    response = client.post(
        f"/api/v1/meetings/{running.id}/transitions",
        json={"to": "closed"},
        headers=bearer(secretary),
    )
    assert response.status_code == 200
    absent = [a for a in fresh(running).attendances if a.presence == Presence.ABSENT]
    assert sorted(a.user.display_name for a in absent) == ["赵淑芬", "陈志强"]


def test_the_minutes_say_present_or_absent_of_everyone(running, secretary, in_request):
    services.transition_meeting(secretary, running, "closed")
    db.session.flush()
    draft = generate_draft(fresh(running))
    assert "presence not recorded" not in draft
    assert "陈志强（Absent）" in draft or "陈志强 (Absent)" in draft
    assert "王桂兰（Present）" in draft or "王桂兰 (Present)" in draft


def test_a_meeting_closed_before_the_rule_reads_absent_too(running, secretary, in_request):
    services.transition_meeting(secretary, running, "closed")
    for attendance in running.attendances:  # as a meeting closed before this rule was
        if attendance.presence == Presence.ABSENT:
            attendance.presence = None
    db.session.flush()
    draft = generate_draft(fresh(running))
    assert "presence not recorded" not in draft
    assert "陈志强（Absent）" in draft or "陈志强 (Absent)" in draft
