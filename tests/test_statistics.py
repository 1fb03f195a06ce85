"""Statistics of a community, a street and all streets (issue 17, item 1),
checked against a hand-counted month: March 2026 in Asia/Shanghai (UTC+8),
so the period is [2026-02-28 16:00 UTC, 2026-03-31 16:00 UTC).

The street 中兴街道 has one community, 东篱社区: its figures are the
community's. The other street's community (星怡社区) adds one request, one
rating and one meeting to "all streets"."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook
from query_count import counting_queries, queries_of

from meetings.extensions import db as _db
from meetings.meeting.models import (
    AgendaItem,
    Attendance,
    AttendeeRole,
    Meeting,
    MeetingStatus,
    Presence,
)
from meetings.polls.models import Outcome, Poll, PollKind, PollStatus
from meetings.projects.models import (
    Decision,
    Project,
    ProjectRating,
    ProjectStatus,
    Resolution,
)
from meetings.requests.models import (
    RequestCategory,
    RequestChannel,
    RequestEvent,
    RequestRating,
    RequestStatus,
    ResidentRequest,
)
from meetings.statistics import services
from meetings.statistics.services import Period, ScopeKind

pytest_plugins = ["meeting_fixtures", "organisation_fixtures"]

MARCH = {"from": "2026-03-01", "to": "2026-03-31"}
EMPTY = {"from": "2025-01-01", "to": "2025-01-31"}


def cells(html: str) -> str:
    """The page without the cells' labels of the phone's stacked tables."""
    return re.sub(r' data-label="[^"]*"', "", html)


def at(text: str) -> datetime:
    """A UTC instant: "2026-03-02 02:00"."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class World:
    """The month, built row by row so that every time is known."""

    def __init__(self, community, grid, unit, person, people, other_community, residents):
        self.community = community
        self.grid = grid
        self.unit = unit
        self.person = person
        self.people = people
        self.other_community = other_community
        self.residents = residents

    def request(self, community, created, category, channel, **values):
        item = ResidentRequest(
            community_id=community.id,
            resident_name="测试居民",
            title="测试诉求",
            description="描述",
            location="1栋",
            category=category,
            channel=channel,
            status=values.pop("status", RequestStatus.SUBMITTED),
            created_at=at(created),
            **values,
        )
        _db.session.add(item)
        _db.session.flush()
        self.event(item, created, None, RequestStatus.SUBMITTED)
        return item

    def event(self, item, when, from_status, to_status):
        """A step of its history, with the moments ``requests.services.transition``
        keeps on the request beside it."""
        _db.session.add(
            RequestEvent(
                request_id=item.id, at=at(when), from_status=from_status, to_status=to_status
            )
        )
        if from_status == RequestStatus.SUBMITTED and item.first_replied_at is None:
            item.first_replied_at = at(when)
        if to_status == RequestStatus.CLOSED and item.closed_at is None:
            item.closed_at = at(when)
        if to_status == RequestStatus.REOPENED:
            item.reopened_at = at(when)

    def rate(self, item, when, score):
        _db.session.add(RequestRating(request_id=item.id, score=score, created_at=at(when)))

    def build(self):
        c, s = self.community, RequestStatus
        # R1: answered after 24 h (in time), closed after 72 h, rated 5
        r1 = self.request(c, "2026-03-02 02:00", RequestCategory.SANITATION, RequestChannel.APP)
        self.event(r1, "2026-03-03 02:00", s.SUBMITTED, s.ANSWERED)
        self.event(r1, "2026-03-05 02:00", s.ANSWERED, s.CLOSED)
        r1.status = s.CLOSED
        self.rate(r1, "2026-03-04 00:00", 5)
        # R2: dispatched to the grid after 120 h (late), handled 23:00 local on
        # its due date (on time), rated 2 and reopened
        r2 = self.request(
            c,
            "2026-03-10 00:00",
            RequestCategory.TRAFFIC,
            RequestChannel.PHONE,
            status=s.REOPENED,
            assignee_grid_id=self.grid.id,
            order_due_date=date(2026, 3, 20),
            dispatched_at=at("2026-03-15 00:00"),
            handled_at=at("2026-03-20 15:00"),
        )
        self.event(r2, "2026-03-15 00:00", s.SUBMITTED, s.DISPATCHED)
        self.event(r2, "2026-03-21 00:00", s.HANDLED, s.REOPENED)
        self.rate(r2, "2026-03-21 00:00", 2)
        # R3: never answered: overdue
        self.request(c, "2026-03-20 00:00", RequestCategory.SANITATION, RequestChannel.PHONE)
        # R4: 01:00 local on 1 April: not in March; its rating in April neither
        r4 = self.request(c, "2026-03-31 17:00", RequestCategory.SANITATION, RequestChannel.APP)
        self.rate(r4, "2026-04-02 00:00", 1)
        # R5: 00:30 local on 1 March; dispatched to the unit after 8 h, handled
        # 00:30 local the day after its due date (late), closed after 128 h
        r5 = self.request(
            c,
            "2026-02-28 16:30",
            RequestCategory.OTHER,
            RequestChannel.WALK_IN,
            status=s.CLOSED,
            assignee_unit_id=self.unit.id,
            order_due_date=date(2026, 3, 3),
            dispatched_at=at("2026-03-01 00:30"),
            handled_at=at("2026-03-03 16:30"),
        )
        self.event(r5, "2026-03-01 00:30", s.SUBMITTED, s.DISPATCHED)
        self.event(r5, "2026-03-06 00:30", s.HANDLED, s.CLOSED)
        self.rate(r5, "2026-03-05 00:00", 4)
        # R6: dispatched to a person after 1 h, due 14 March, still claimed: late
        r6 = self.request(
            c,
            "2026-03-12 00:00",
            RequestCategory.PROPERTY_SERVICE,
            RequestChannel.APP,
            status=s.CLAIMED,
            assignee_user_id=self.person.id,
            order_due_date=date(2026, 3, 14),
            dispatched_at=at("2026-03-12 01:00"),
        )
        self.event(r6, "2026-03-12 01:00", s.SUBMITTED, s.DISPATCHED)
        # the other street's community: one request, rated 1
        other = self.request(
            self.other_community, "2026-03-05 00:00", RequestCategory.TRAFFIC, RequestChannel.APP
        )
        self.rate(other, "2026-03-06 00:00", 1)

        people = self.people
        m1 = self.meeting(c, "2026-03-08 01:00", MeetingStatus.MINUTES_PUBLISHED)
        self.attend(m1, people[0], AttendeeRole.CPPCC_MEMBER, Presence.PRESENT)
        self.attend(m1, people[1], AttendeeRole.CPPCC_MEMBER, Presence.EXCUSED)
        self.attend(m1, people[2], AttendeeRole.RESIDENT_REP, Presence.PRESENT)
        self.attend(m1, people[3], AttendeeRole.RESIDENT_REP, Presence.PRESENT)
        self.attend(m1, people[4], AttendeeRole.RESIDENT_REP, Presence.ABSENT)
        m2 = self.meeting(c, "2026-03-25 01:00", MeetingStatus.CLOSED)
        self.attend(m2, people[2], AttendeeRole.RESIDENT_REP, Presence.PRESENT)
        m3 = self.meeting(c, "2026-03-28 01:00", MeetingStatus.CANCELLED)
        self.attend(m3, people[2], AttendeeRole.RESIDENT_REP, None)
        m4 = self.meeting(c, "2026-04-05 01:00", MeetingStatus.SCHEDULED)
        self.meeting(self.other_community, "2026-03-09 01:00", MeetingStatus.CLOSED)
        self.poll(m1, PollStatus.CLOSED, 5, 4, Outcome.ADOPTED)
        self.poll(m2, PollStatus.CLOSED, 1, 1, Outcome.REJECTED)
        self.poll(m2, PollStatus.DRAFT, None, None, None)
        self.resolution(m1, Decision.ADOPTED)
        self.resolution(m2, Decision.REJECTED)
        self.resolution(m4, Decision.ADOPTED)

        p1 = self.project(
            ProjectStatus.COMPLETED, "2026-02-01 00:00", date(2026, 3, 10), "2026-03-10 04:00"
        )
        self.project(
            ProjectStatus.COMPLETED, "2026-02-01 00:00", date(2026, 3, 20), "2026-03-20 17:00"
        )
        self.project(ProjectStatus.SUSPENDED, "2026-02-01 00:00", None, None)
        self.project(ProjectStatus.IN_PROGRESS, "2026-02-01 00:00", date(2026, 3, 15), None)
        self.project(ProjectStatus.IN_PROGRESS, "2026-04-10 00:00", date(2026, 3, 15), None)
        for user, when, score in (
            (self.residents[0], "2026-03-12 00:00", 4),
            (self.residents[1], "2026-03-13 00:00", 5),
            (self.residents[2], "2026-04-13 00:00", 1),
        ):
            _db.session.add(
                ProjectRating(project_id=p1.id, user_id=user.id, score=score, created_at=at(when))
            )
        _db.session.flush()

    def meeting(self, community, starts, status):
        start = at(starts)
        meeting = Meeting(
            community_id=community.id,
            title="协商会",
            starts_at=start,
            ends_at=start.replace(hour=start.hour + 2),
            status=status,
        )
        _db.session.add(meeting)
        _db.session.flush()
        return meeting

    def attend(self, meeting, user, role, presence):
        _db.session.add(
            Attendance(meeting_id=meeting.id, user_id=user.id, role=role, presence=presence)
        )

    def poll(self, meeting, status, eligible, cast, outcome):
        item = AgendaItem(
            meeting_id=meeting.id, position=len(meeting.agenda_items) + 1, title="议题"
        )
        meeting.agenda_items.append(item)
        _db.session.flush()
        _db.session.add(
            Poll(
                agenda_item_id=item.id,
                title="表决",
                kind=PollKind.YES_NO_ABSTAIN,
                status=status,
                eligible_count=eligible,
                cast_count=cast,
                outcome=outcome,
            )
        )

    def resolution(self, meeting, decision):
        _db.session.add(Resolution(meeting_id=meeting.id, decision=decision, text="决议"))

    def project(self, status, created, due, completed):
        project = Project(
            community_id=self.community.id,
            title="实事项目",
            responsible_unit="物业",
            status=status,
            created_at=at(created),
            due_date=due,
            completed_at=at(completed) if completed else None,
        )
        _db.session.add(project)
        _db.session.flush()
        return project


@pytest.fixture
def world(community, other_community, street, other_street, our_grid, unit, make_user) -> World:
    people = [make_user(community=community) for _ in range(5)]
    residents = [make_user(community=community) for _ in range(3)]
    person = make_user(community=community, display_name="党员小李")
    built = World(community, our_grid, unit, person, people, other_community, residents)
    built.build()
    return built


def march() -> Period:
    return Period(date(2026, 3, 1), date(2026, 3, 31))


def figures(kind, scope_id=None, period=None):
    return services.statistics_for(services.find_scope(kind, scope_id), period or march())


# --- the figures ----------------------------------------------------------------------


def test_a_community_month_as_counted_by_hand(world, community, in_request):
    stats = figures("community", community.id)
    r = stats.requests
    assert (r.received, r.answered_in_time, r.answered_late, r.overdue, r.waiting) == (
        5,
        3,
        1,
        1,
        0,
    )
    assert (r.closed, r.reopened) == (2, 1)
    # first replies after 24, 120, 8 and 1 hours; closes after 72 and 128
    assert r.median_first_reply_hours == 16.0
    assert r.median_close_hours == 100.0
    assert {c.code: c.count for c in r.by_category} == {
        "property_service": 1,
        "sanitation": 2,
        "traffic": 1,
        "public_facilities": 0,
        "safety_hazard": 0,
        "other": 1,
    }
    channels = {c.code: c.count for c in r.by_channel if c.count}
    assert channels == {"app": 2, "phone": 2, "walk_in": 1}

    s = stats.satisfaction
    assert (s.ratings, s.average, s.satisfied) == (3, 3.67, 2)
    assert s.distribution == {1: 0, 2: 1, 3: 0, 4: 1, 5: 1}

    o = stats.orders
    assert (o.dispatched, o.on_time, o.late, o.other) == (3, 1, 2, 0)
    assert [(x.name, x.count, x.on_time, x.late) for x in o.by_grid] == [("第一网格", 1, 1, 0)]
    assert [(x.name, x.count, x.on_time, x.late) for x in o.by_unit] == [("绿城物业", 1, 0, 1)]
    assert [(x.name, x.count, x.on_time, x.late) for x in o.by_person] == [("党员小李", 1, 0, 1)]

    m = stats.meetings
    assert (m.held, m.with_minutes, m.planned, m.cancelled) == (2, 1, 0, 1)
    assert [
        (a.role, a.invited, a.present, a.excused, a.rate) for a in stats.attendance_by_role
    ] == [
        ("cppcc_member", 2, 1, 1, 50.0),
        ("resident_rep", 4, 3, 0, 75.0),
    ]
    p = stats.polls
    assert (p.polls, p.eligible, p.cast, p.turnout, p.adopted, p.rejected) == (2, 6, 5, 83.3, 1, 1)

    j = stats.projects
    assert (j.resolutions, j.resolutions_agreed, j.resolutions_in_notice) == (2, 1, 0)
    assert (j.completed_on_time, j.completed_late, j.suspended, j.in_progress, j.overdue) == (
        1,
        1,
        1,
        1,
        1,
    )
    assert (j.ratings, j.rating_average) == (2, 4.5)


def test_a_street_with_one_community_has_its_figures(world, community, street, in_request):
    mine = figures("community", community.id)
    theirs = figures("street", street.id)
    for part in (
        "requests",
        "satisfaction",
        "orders",
        "meetings",
        "attendance_by_role",
        "polls",
        "projects",
    ):
        assert getattr(theirs, part) == getattr(mine, part), part
    assert [
        (line.name, line.received, line.ratings, line.meetings_held) for line in theirs.communities
    ] == [("东篱社区", 5, 3, 2)]


def test_all_streets_add_the_other_community(world, community, other_community, in_request):
    stats = figures("all")
    assert stats.requests.received == 6
    assert stats.satisfaction.ratings == 4
    assert stats.satisfaction.distribution[1] == 1
    assert stats.meetings.held == 3
    lines = {
        line.name: (line.received, line.overdue, line.ratings, line.meetings_held)
        for line in stats.communities
    }
    assert lines == {"东篱社区": (5, 1, 3, 2), "星怡社区": (1, 1, 1, 1)}
    assert {line.name: line.received for line in stats.streets} == {"中兴街道": 5, "竹行街道": 1}


def test_an_empty_period_is_all_zeros(world, community, in_request):
    stats = figures("community", community.id, Period(date(2025, 1, 1), date(2025, 1, 31)))
    assert stats.requests.received == 0
    assert stats.requests.in_time_percent is None
    assert stats.requests.median_first_reply_hours is None
    assert stats.satisfaction.average is None and stats.satisfaction.satisfied_percent is None
    assert stats.orders.dispatched == 0 and stats.orders.on_time_percent is None
    assert stats.meetings.held == 0 and stats.attendance_by_role == []
    assert stats.polls.turnout is None
    assert stats.projects.rating_average is None


def test_the_period(in_request):
    today = date(2026, 12, 6)
    assert services.make_period(None, None, today) == Period(date(2026, 12, 1), date(2026, 12, 31))
    assert services.shortcuts(today)["last_month"] == Period(date(2026, 11, 1), date(2026, 11, 30))
    assert services.shortcuts(date(2026, 1, 15))["last_month"] == Period(
        date(2025, 12, 1), date(2025, 12, 31)
    )
    assert services.shortcuts(today)["last_year"] == Period(date(2025, 1, 1), date(2025, 12, 31))
    with pytest.raises(services.ValidationFailed) as error:
        services.make_period(date(2026, 3, 2), date(2026, 3, 1), today)
    assert "to" in error.value.fields
    with pytest.raises(services.ValidationFailed) as error:
        services.make_period(date(2020, 1, 1), date(2026, 3, 1), today)
    assert "from" in error.value.fields


# --- the pages ------------------------------------------------------------------------


def test_the_community_page_shows_the_tables_and_charts(
    world, community, secretary, login, english
):
    login(secretary)
    page = english.get(f"/communities/{community.id}/statistics", query_string=MARCH)
    assert page.status_code == 200
    html = cells(page.get_data(as_text=True))
    assert html.count('<svg class="chart"') >= 5
    assert '<caption><span class="visually-hidden">Requests received</span>' in html
    assert '<th scope="row">Answered within 3 days</th><td>3</td><td>60%</td>' in html
    assert (
        '<th scope="row">Grid</th><th scope="row">第一网格</th><td>1</td><td>1</td><td>0</td>'
        in html
    )
    assert "Communities side by side" not in html
    assert "<script>" not in html


def test_the_street_page(world, street, street_official, login, english):
    login(street_official)
    page = english.get(f"/streets/{street.id}/statistics", query_string=MARCH)
    html = cells(page.get_data(as_text=True))
    assert "Communities side by side" in html and "Streets side by side" not in html
    assert '<th scope="row">东篱社区</th><td>中兴街道</td><td>5</td><td>3</td><td>60%</td>' in html


def test_the_page_of_all_streets(world, admin, login, english):
    login(admin)
    html = cells(english.get("/statistics", query_string=MARCH).get_data(as_text=True))
    assert "Streets side by side" in html
    assert '<th scope="row">竹行街道</th><td>1</td><td>0</td><td>0%</td><td>1</td>' in html


def test_an_empty_period_renders(world, community, secretary, login, english):
    login(secretary)
    page = english.get(f"/communities/{community.id}/statistics", query_string=EMPTY)
    assert page.status_code == 200
    assert "<svg" not in page.get_data(as_text=True)  # nothing to draw


def test_a_bad_period_is_refused_next_to_its_field(world, community, secretary, login, english):
    login(secretary)
    page = english.get(
        f"/communities/{community.id}/statistics",
        query_string={"from": "2026-03-05", "to": "2026-03-01"},
    )
    assert page.status_code == 422
    html = cells(page.get_data(as_text=True))
    assert 'id="to-error"' in html and "must end on or after" in html
    page = english.get(
        f"/communities/{community.id}/statistics", query_string={"from": "03/05/2026"}
    )
    assert page.status_code == 422


def test_the_default_period_is_this_month(community, secretary, login, english):
    login(secretary)
    page = english.get(f"/communities/{community.id}/statistics")
    assert page.status_code == 200
    first = services.local_today().replace(day=1).isoformat()
    assert f"From {first}" in page.get_data(as_text=True)


def test_the_tables_as_xlsx_and_csv(world, community, secretary, login, english):
    login(secretary)
    response = english.get(f"/communities/{community.id}/statistics.xlsx", query_string=MARCH)
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    workbook = load_workbook(io.BytesIO(response.data))
    assert "Requests received" in workbook.sheetnames
    rows = [list(row) for row in workbook["Requests received"].iter_rows(values_only=True)]
    assert ["Received", 5, None] in [row[:3] for row in rows]
    assert rows[1][0] == "东篱社区" and "2026-03-01" in rows[2][0]
    orders = [
        list(row) for row in workbook["Orders (派单) by assignee"].iter_rows(values_only=True)
    ]
    assert ["Unit", "绿城物业", 1, 0, 1, 0, "0%"] in orders

    response = english.get(
        f"/communities/{community.id}/statistics.csv",
        query_string={**MARCH, "table": "satisfaction"},
    )
    assert response.status_code == 200
    assert response.data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert ["5 stars", "1", "33.3%"] in rows
    assert ["Average (1 to 5)", "3.67", ""] in rows
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]

    missing = english.get(
        f"/communities/{community.id}/statistics.csv", query_string={**MARCH, "table": "nope"}
    )
    assert missing.status_code == 404


# --- who may see ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "community_page", "street_page", "all_page"),
    [
        ("admin", 200, 200, 200),
        ("secretary", 200, 403, 403),
        ("street_official", 200, 200, 403),
        ("other_official", 403, 403, 403),
        ("other_secretary", 403, 403, 403),
        ("resident", 403, 403, 403),
    ],
)
def test_who_may_see(
    request, who, community_page, street_page, all_page, community, street, other_official, login
):
    client = login(request.getfixturevalue(who))
    assert client.get(f"/communities/{community.id}/statistics").status_code == community_page
    assert client.get(f"/streets/{street.id}/statistics").status_code == street_page
    assert client.get("/statistics").status_code == all_page
    assert client.get(f"/communities/{community.id}/statistics.xlsx").status_code == community_page


def test_anonymous_visitors_log_in_first(client, community):
    response = client.get(f"/communities/{community.id}/statistics")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_unknown_scopes_are_not_found(secretary, login):
    client = login(secretary)
    assert client.get("/communities/999999/statistics").status_code == 404
    assert client.get("/streets/999999/statistics").status_code == 404


# --- the API --------------------------------------------------------------------------


def test_the_api_gives_the_figures(world, community, secretary, bearer, client):
    response = client.get(
        "/api/v1/statistics",
        query_string={"scope": "community", "id": community.id, **MARCH},
        headers=bearer(secretary),
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert set(body) >= {
        "requests",
        "orders",
        "meetings",
        "attendance_by_role",
        "polls",
        "projects",
        "satisfaction",
    }
    assert body["requests"]["received"] == 5
    assert body["requests"]["answered_in_time"] == 3
    assert body["requests"]["median_first_reply_hours"] == 16.0
    assert body["satisfaction"]["distribution"] == {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1}
    assert body["orders"]["by_unit"][0]["late"] == 1
    assert body["polls"]["turnout"] == 83.3
    assert body["from"] == "2026-03-01" and body["to"] == "2026-03-31"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"scope": "planet"}, "scope"),
        ({"scope": "community"}, "id"),
        ({"scope": "all", "from": "2026-03-05", "to": "2026-03-01"}, "to"),
        ({"scope": "all", "from": "2020-01-01", "to": "2026-03-01"}, "from"),
    ],
)
def test_the_api_refuses_a_bad_question(query, field, admin, bearer, client):
    response = client.get("/api/v1/statistics", query_string=query, headers=bearer(admin))
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]


def test_the_api_asks_who_is_calling(
    world, community, street, resident, street_official, other_official, bearer, client
):
    url = "/api/v1/statistics"
    assert client.get(url, query_string={"scope": "all"}).status_code == 401
    assert (
        client.get(url, query_string={"scope": "all"}, headers=bearer(street_official)).status_code
        == 403
    )
    mine = {"scope": "community", "id": community.id}
    assert client.get(url, query_string=mine, headers=bearer(resident)).status_code == 403
    assert client.get(url, query_string=mine, headers=bearer(street_official)).status_code == 200
    theirs = {"scope": "street", "id": street.id}
    assert client.get(url, query_string=theirs, headers=bearer(other_official)).status_code == 403
    assert (
        client.get(
            url, query_string={"scope": "street", "id": 999999}, headers=bearer(street_official)
        ).status_code
        == 404
    )


# --- a fixed number of statements -------------------------------------------------------


def test_the_number_of_statements_does_not_grow(world, community, street, admin, login, in_request):
    def count(kind, scope_id):
        scope = services.find_scope(kind, scope_id)
        with counting_queries() as statements:
            services.statistics_for(scope, march())
        return len(statements)

    assert count("community", community.id) == services.STATEMENTS
    assert count("street", street.id) == services.STATEMENTS_WITH_COMMUNITIES
    client = login(admin)
    urls = [
        f"/communities/{community.id}/statistics?from=2026-03-01&to=2026-03-31",
        f"/streets/{street.id}/statistics?from=2026-03-01&to=2026-03-31",
        "/statistics?from=2026-03-01&to=2026-03-31",
        "/api/v1/statistics?scope=all&from=2026-03-01&to=2026-03-31",
    ]
    before = [queries_of(client, url) for url in urls[:3]]
    world.build()
    world.build()  # three times the month
    assert figures("community", community.id).requests.received == 15
    assert [queries_of(client, url) for url in urls[:3]] == before


def test_the_scope_kinds_are_the_contracts():
    assert [kind.value for kind in ScopeKind] == ["community", "street", "all"]


def test_a_request_replied_to_and_rated_through_the_api_is_counted(
    client, bearer, secretary, resident, community
):
    """The moments the statistics read are kept by the request's own steps:
    raised, answered and rated low through the API, it is counted as received,
    answered in time and reopened in the month it was raised."""
    from request_helpers import raise_request

    item = raise_request(resident, community)
    answered = client.post(
        f"/api/v1/requests/{item.id}/reply",
        json={"action": "answer", "message": "物业已清理。"},
        headers=bearer(secretary),
    )
    assert answered.status_code == 200
    rated = client.post(
        f"/api/v1/requests/{item.id}/rating", json={"score": 1}, headers=bearer(resident)
    )
    assert rated.status_code in (200, 201), rated.get_json()
    today = services.local_today()
    month = {"from": today.replace(day=1).isoformat(), "to": today.isoformat()}
    body = client.get(
        "/api/v1/statistics",
        query_string={"scope": "community", "id": community.id, **month},
        headers=bearer(secretary),
    ).get_json()
    figures = body["requests"]
    assert (figures["received"], figures["answered_in_time"], figures["reopened"]) == (1, 1, 1)
    assert figures["median_first_reply_hours"] is not None


def test_the_form_shows_the_period_the_figures_are_for(english, login, secretary, community):
    login(secretary)
    html = english.get(f"/communities/{community.id}/statistics").get_data(as_text=True)
    today = services.local_today()
    assert f'value="{today.replace(day=1).isoformat()}"' in html


def test_the_page_lists_the_busiest_assignees_and_the_files_all(
    world, community, secretary, login, english, monkeypatch
):
    """A street's five years have a thousand people with orders: the page
    shows the busiest of each kind, the .csv every one."""
    from meetings.statistics import report

    monkeypatch.setattr(report, "ORDERS_SHOWN", 0)
    login(secretary)
    page = english.get(f"/communities/{community.id}/statistics", query_string=MARCH)
    html = page.get_data(as_text=True)
    table = html.split('id="orders"')[1].split("<table")[1].split("</table>")[0]
    assert "绿城物业" not in table and "All orders" in table
    assert "3 more rows are in the downloads" in html
    response = english.get(
        f"/communities/{community.id}/statistics.csv", query_string={**MARCH, "table": "orders"}
    )
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert ["Unit", "绿城物业", "1", "0", "1", "0", "0%"] in rows
