"""The meeting pages and endpoints: who may see and do what (secretary of
this community, secretary of another, attendee, resident, anonymous), the
dashboard, public list, "my meetings", the .ics file, and a meeting page's
number of SQL queries, which does not grow with its size."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager

import icalendar
import pytest
from conftest import PASSWORD
from flask import Flask
from flask.testing import FlaskClient
from meeting_helpers import fresh, next_week
from sqlalchemy import event

from auth.models import Membership, User
from meetings.extensions import db
from meetings.meeting import checkin, services
from meetings.meeting.models import AgendaItem, Attendance, AttendeeRole, Meeting, MeetingStatus

pytest_plugins = ["meeting_fixtures"]  # make_meeting, attendee, in_request…

ACTORS = ["secretary", "other_secretary", "attendee", "resident", "anonymous"]


@pytest.fixture
def client_of(app: Flask, secretary, other_secretary, attendee, resident) -> Callable:
    """``client_of("attendee")``: a client of its own, logged in as that person."""
    people = {
        "secretary": secretary,
        "other_secretary": other_secretary,
        "attendee": attendee,
        "resident": resident,
        "anonymous": None,
    }

    def make(actor: str) -> FlaskClient:
        client = app.test_client()
        if people[actor] is not None:
            response = client.post(
                "/auth/login", data={"username": people[actor].username, "password": PASSWORD}
            )
            assert response.status_code == 302
        return client

    return make


@pytest.fixture
def token_of(bearer, secretary, other_secretary, attendee, resident) -> Callable:
    people = {
        "secretary": secretary,
        "other_secretary": other_secretary,
        "attendee": attendee,
        "resident": resident,
    }
    return lambda actor: bearer(people[actor]) if actor in people else {}


def manager_only(ok: int = 200) -> dict[str, int]:
    return {
        "secretary": ok,
        "other_secretary": 403,
        "attendee": 403,
        "resident": 403,
        "anonymous": 302,  # to the login page
    }


EVERYONE = dict.fromkeys(ACTORS, 200)

# GET pages of a scheduled meeting (in progress where marked), and who gets what.
PAGES = [
    ("/meetings/{m}", "scheduled", EVERYONE),
    ("/meetings/{m}/calendar.ics", "scheduled", EVERYONE),
    ("/meetings/{m}/edit", "scheduled", manager_only()),
    ("/meetings/{m}/agenda", "scheduled", manager_only()),
    ("/meetings/{m}/agenda/{item}/edit", "scheduled", manager_only()),
    ("/meetings/{m}/attendees", "scheduled", manager_only()),
    ("/meetings/{m}/cancel", "scheduled", manager_only()),
    ("/meetings/{m}/checkin", "in_progress", manager_only()),
    ("/meetings/{m}/checkin/codes", "in_progress", manager_only()),
    ("/meetings/{m}/checkin/{a}/qr", "in_progress", manager_only()),
    ("/meetings/{m}/checkin/{a}/qr.svg", "in_progress", manager_only()),
    ("/meetings/{m}/sign-in-sheet", "scheduled", manager_only()),
    ("/communities/{c}/dashboard", "scheduled", manager_only()),
    ("/communities/{c}/meetings/new", "scheduled", manager_only()),
    ("/communities/{c}/meetings", "scheduled", EVERYONE),
    ("/my/meetings", "scheduled", EVERYONE | {"anonymous": 302}),
    (
        "/dashboard",
        "scheduled",
        {
            "secretary": 302,
            "other_secretary": 302,
            "attendee": 403,
            "resident": 403,
            "anonymous": 302,
        },
    ),
]


@pytest.fixture
def scene(in_request, make_meeting, secretary, attendee):
    def build(status: str) -> dict:
        meeting = make_meeting(status, invite={attendee: "resident_rep"})
        if meeting.status in (MeetingStatus.DRAFT, MeetingStatus.SCHEDULED):
            item = services.add_agenda_item(secretary, meeting, "议题一")
        else:
            item = AgendaItem(meeting=meeting, position=1, title="议题一")
            db.session.add(item)
        db.session.flush()
        return {"m": meeting.id, "item": item.id, "a": attendee.id, "c": meeting.community_id}

    return build


@pytest.mark.parametrize(("path", "status", "expected"), PAGES, ids=[p[0] for p in PAGES])
def test_who_may_see_each_page(client_of, scene, path, status, expected):
    url = path.format(**scene(status))
    for actor in ACTORS:
        response = client_of(actor).get(url)
        assert response.status_code == expected[actor], (actor, url)
        if expected[actor] == 302 and actor == "anonymous":
            assert response.headers["Location"].startswith("/auth/login")


def test_a_draft_is_seen_by_the_secretary_and_the_invited_only(client_of, scene):
    ids = scene("draft")
    for actor, status in [
        ("secretary", 200),
        ("attendee", 200),
        ("other_secretary", 404),
        ("resident", 404),
        ("anonymous", 404),
    ]:
        assert client_of(actor).get(f"/meetings/{ids['m']}").status_code == status, actor
        assert client_of(actor).get(f"/meetings/{ids['m']}/calendar.ics").status_code == status
    # nor do those who may not see it learn of it from the editor pages
    assert client_of("other_secretary").get(f"/meetings/{ids['m']}/edit").status_code == 404


# POST actions: (path, meeting status, form data, the secretary's status code)
ACTIONS = [
    ("/meetings/{m}/transition", "scheduled", {"to": "in_progress", "confirm": "1"}, 302),
    ("/meetings/{m}/cancel", "scheduled", {"reason": "改期"}, 302),
    ("/meetings/{m}/edit", "draft", {"title": "x"}, 422),
    ("/meetings/{m}/agenda", "draft", {"title": "新议题"}, 302),
    ("/meetings/{m}/agenda/{item}/edit", "draft", {"title": "改名"}, 302),
    ("/meetings/{m}/agenda/{item}/move", "draft", {"direction": "down"}, 302),
    ("/meetings/{m}/agenda/{item}/remove", "draft", {}, 302),
    ("/meetings/{m}/attendees", "draft", {"role_for_all": "expert"}, 422),
    ("/meetings/{m}/attendees/{a}", "draft", {"role": "expert", "may_vote": "y"}, 302),
    ("/meetings/{m}/attendees/{a}/remove", "draft", {}, 302),
    ("/meetings/{m}/checkin/{a}", "in_progress", {"presence": "present"}, 302),
    ("/communities/{c}/meetings/new", "draft", {"title": ""}, 422),
]


@pytest.mark.parametrize(
    ("path", "status", "data", "for_secretary"), ACTIONS, ids=[a[0] for a in ACTIONS]
)
def test_who_may_do_each_action(client_of, scene, path, status, data, for_secretary):
    for actor in ["other_secretary", "attendee", "resident", "anonymous", "secretary"]:
        ids = scene(status)
        url = path.format(**ids)
        response = client_of(actor).post(url, data=data)
        expected = {
            "secretary": for_secretary,
            "anonymous": 302,
            # a draft is hidden from those who may not see it
            "other_secretary": 404 if status == "draft" and url.startswith("/meetings/") else 403,
            "resident": 404 if status == "draft" and url.startswith("/meetings/") else 403,
            "attendee": 403,
        }[actor]
        assert response.status_code == expected, (actor, url, response.status_code)
        if actor == "anonymous":
            assert response.headers["Location"].startswith("/auth/login")
        if actor != "secretary":
            meeting = fresh(db.session.get(Meeting, ids["m"]))
            assert meeting.status == status and meeting.title == "活动室改造出新协商议事会"


def test_only_the_invited_answer_an_invitation(client_of, scene):
    ids = scene("scheduled")
    assert (
        client_of("attendee")
        .post(f"/meetings/{ids['m']}/rsvp", data={"rsvp": "accepted"})
        .status_code
        == 302
    )
    for actor in ("secretary", "other_secretary", "resident"):
        response = client_of(actor).post(f"/meetings/{ids['m']}/rsvp", data={"rsvp": "accepted"})
        assert response.status_code == 403, actor
    assert client_of("anonymous").post(f"/meetings/{ids['m']}/rsvp").status_code == 302


# API endpoints: (method, path, meeting status, body, the secretary's status code, attendee's)
API = [
    ("get", "/api/v1/meetings", "scheduled", None, 200, 200),
    ("get", "/api/v1/meetings/{m}", "scheduled", None, 200, 200),
    ("get", "/api/v1/meetings/{m}/calendar.ics", "scheduled", None, 200, 200),
    ("patch", "/api/v1/meetings/{m}", "scheduled", {"title": "新标题"}, 200, 403),
    (
        "post",
        "/api/v1/meetings/{m}/transitions",
        "scheduled",
        {"to": "in_progress", "confirm": True},
        200,
        403,
    ),
    ("post", "/api/v1/meetings/{m}/agenda-items", "scheduled", {"title": "议题"}, 201, 403),
    (
        "patch",
        "/api/v1/meetings/{m}/agenda-items/{item}",
        "scheduled",
        {"title": "议题"},
        200,
        403,
    ),
    (
        "post",
        "/api/v1/meetings/{m}/agenda-items/{item}/move",
        "scheduled",
        {"position": 1},
        200,
        403,
    ),
    ("delete", "/api/v1/meetings/{m}/agenda-items/{item}", "scheduled", None, 204, 403),
    (
        "post",
        "/api/v1/meetings/{m}/attendances",
        "scheduled",
        {"user_id": "{sec}", "role": "community_committee"},
        201,
        403,
    ),
    (
        "patch",
        "/api/v1/meetings/{m}/attendances/{a}",
        "scheduled",
        {"rsvp": "accepted"},
        200,
        200,
    ),
    (
        "patch",
        "/api/v1/meetings/{m}/attendances/{a}",
        "in_progress",
        {"presence": "present"},
        200,
        403,
    ),
    ("delete", "/api/v1/meetings/{m}/attendances/{a}", "scheduled", None, 204, 403),
]


@pytest.mark.parametrize(
    ("method", "path", "status", "body", "for_secretary", "for_attendee"),
    API,
    ids=[f"{a[0]} {a[1]} {a[2]}" for a in API],
)
def test_who_may_use_each_endpoint(
    client, token_of, scene, secretary, method, path, status, body, for_secretary, for_attendee
):
    public_read = method == "get"
    for actor in ["other_secretary", "resident", "anonymous", "attendee", "secretary"]:
        ids = scene(status)
        url = path.format(**ids)
        json = body and {
            key: (secretary.id if value == "{sec}" else value) for key, value in body.items()
        }
        response = getattr(client, method)(url, json=json, headers=token_of(actor))
        expected = {
            "secretary": for_secretary,
            "attendee": for_attendee,
            "other_secretary": 200 if public_read else 403,
            "resident": 200 if public_read else 403,
            "anonymous": 401 if not public_read or url == "/api/v1/meetings" else 200,
        }[actor]
        assert response.status_code == expected, (actor, url, response.get_data(as_text=True))


# --- what the pages show --------------------------------------------------------------


def test_the_public_sees_names_and_roles_but_no_personal_data(
    client, in_request, make_meeting, secretary, attendee, community
):
    attendee.phone = "13800000000"
    meeting = make_meeting(
        "scheduled",
        invite={attendee: "owners_committee_rep"},
        online_url="https://meet.example.org/9",
    )
    services.set_rsvp(attendee, meeting.attendances[0], "declined")
    db.session.flush()
    listing = client.get(f"/communities/{community.id}/meetings").get_data(as_text=True)
    assert meeting.title in listing
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert attendee.display_name in page and "业委会代表" in page
    assert "13800000000" not in page
    assert "https://meet.example.org/9" not in page
    assert "不参加" not in page and "Not coming" not in page
    assert attendee.username not in page


def test_drafts_and_past_meetings_are_not_on_the_public_list(
    client, in_request, make_meeting, community
):
    draft = make_meeting("draft", title="草稿会议")
    closed = make_meeting("closed", title="已结束会议")
    page = client.get(f"/communities/{community.id}/meetings").get_data(as_text=True)
    assert draft.title not in page and closed.title not in page


def test_the_dashboard_shows_waiting_requests_upcoming_meetings_and_minutes_due(
    english, login, in_request, make_meeting, secretary, resident, community
):
    from request_helpers import raise_request

    raise_request(resident, community, title="楼道灯坏了")
    make_meeting("scheduled", title="飞马转盘中心路协商会")
    make_meeting("closed", title="电梯轿厢广告协商会")
    login(secretary)
    page = english.get(f"/communities/{community.id}/dashboard").get_data(as_text=True)
    waiting = page.index("Requests waiting for a reply")
    upcoming = page.index("Upcoming meetings")
    minutes = page.index("Minutes due")
    assert waiting < page.index("楼道灯坏了") < upcoming
    assert upcoming < page.index("飞马转盘中心路协商会") < minutes
    assert minutes < page.index("电梯轿厢广告协商会")


def test_ics_file_parses_back(client, in_request, make_meeting, secretary):
    starts = next_week()
    meeting = make_meeting("scheduled", starts_at=starts, online_url="https://meet.example.org/7")
    services.add_agenda_item(secretary, meeting, "地板改造方案", planned_minutes=30)
    db.session.flush()
    for url in (
        f"/meetings/{meeting.id}/calendar.ics",
        f"/api/v1/meetings/{meeting.id}/calendar.ics",
    ):
        response = client.get(url)
        assert response.status_code == 200
        assert response.mimetype == "text/calendar"
        calendar = icalendar.Calendar.from_ical(response.data)
        [event] = calendar.walk("VEVENT")
        assert str(event["SUMMARY"]) == meeting.title
        assert event.decoded("DTSTART") == starts
        assert event.decoded("DTEND") == meeting.ends_at
        assert str(event["LOCATION"]) == meeting.location  # no online link for outsiders
        assert str(event["UID"]) == f"meeting-{meeting.id}@shangliang"
        assert str(event["STATUS"]) == "CONFIRMED"
        assert "1. 地板改造方案" in str(event["DESCRIPTION"])
        assert str(event["URL"]).endswith(f"/meetings/{meeting.id}")


def test_ics_of_a_rescheduled_and_cancelled_meeting(client, in_request, make_meeting, secretary):
    meeting = make_meeting("scheduled")
    services.update_meeting(secretary, meeting, location="社区党群服务中心")
    services.transition_meeting(secretary, meeting, "cancelled", "台风")
    db.session.flush()
    [event] = icalendar.Calendar.from_ical(
        client.get(f"/meetings/{meeting.id}/calendar.ics").data
    ).walk("VEVENT")
    assert str(event["STATUS"]) == "CANCELLED"
    assert int(event["SEQUENCE"]) == 1
    assert "台风" in str(event["DESCRIPTION"])


def test_my_meetings_lists_upcoming_first(english, login, in_request, make_meeting, attendee):
    past = make_meeting("closed", title="上次会议", invite={attendee: "resident_rep"})
    soon = make_meeting("scheduled", title="下次会议", invite={attendee: "resident_rep"})
    login(attendee)
    page = english.get("/my/meetings").get_data(as_text=True)
    assert page.index(soon.title) < page.index(past.title)


# --- the number of queries ------------------------------------------------------------


@contextmanager
def counted_queries():
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    target = db.engine
    event.listen(target, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(target, "before_cursor_execute", count)


def big_meeting(make_meeting, secretary, community, attendees: int, items: int) -> Meeting:
    meeting = make_meeting("in_progress")
    roles = list(AttendeeRole)
    users = [
        User(username=f"bulk{meeting.id}-{n}", display_name=f"参会人{n}", password_hash="-")
        for n in range(attendees)
    ]
    db.session.add_all(users)
    db.session.flush()
    db.session.add_all(Membership(user_id=u.id, community_id=community.id) for u in users)
    db.session.add_all(
        Attendance(
            meeting_id=meeting.id,
            user_id=u.id,
            role=roles[n % len(roles)],
            may_vote=n % 5 != 0,
            presence="present" if n % 2 else None,
        )
        for n, u in enumerate(users)
    )
    db.session.add_all(
        AgendaItem(meeting_id=meeting.id, position=n + 1, title=f"议题{n + 1}", planned_minutes=5)
        for n in range(items)
    )
    db.session.flush()
    return meeting


@pytest.mark.parametrize(
    ("path", "viewer"),
    [
        ("/meetings/{m}", "secretary"),
        ("/meetings/{m}", "anonymous"),
        ("/api/v1/meetings/{m}", "secretary"),
        ("/api/v1/meetings/{m}", "anonymous"),
        ("/meetings/{m}/checkin", "secretary"),
        ("/meetings/{m}/sign-in-sheet", "secretary"),
    ],
)
def test_a_meetings_queries_do_not_grow_with_its_size(
    client_of, in_request, make_meeting, secretary, community, viewer, path
):
    """300 attendees and 30 agenda items take as many queries as 3 and 3."""
    small = big_meeting(make_meeting, secretary, community, attendees=3, items=3)
    large = big_meeting(make_meeting, secretary, community, attendees=300, items=30)
    client = client_of(viewer)
    headers = {}
    if path.startswith("/api") and viewer == "secretary":
        from auth import services as auth_services

        headers = {"Authorization": f"Bearer {auth_services.issue_token(secretary)[0]}"}

    counts = []
    for meeting in (small, large):
        client.get(path.format(m=meeting.id), headers=headers)  # warm up (sessions, caches)
        with counted_queries() as statements:
            response = client.get(path.format(m=meeting.id), headers=headers)
        assert response.status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
    assert counts[1] <= 20, counts
    # and the large one did show everyone
    response = client.get(path.format(m=large.id), headers=headers)
    shown = str(response.json) if path.startswith("/api") else response.get_data(as_text=True)
    assert "参会人299" in shown
    if path in ("/meetings/{m}", "/api/v1/meetings/{m}"):
        assert "议题30" in shown


def test_checkin_token_carries_meeting_and_user(app, in_request):
    claim = checkin.read_token(checkin.make_token(12, 34))
    assert (claim.meeting_id, claim.user_id) == (12, 34)
