"""履职档案 (issue 17 item 2): a CPPCC member's record over a period — meetings
invited and attended, proposals, comments, speeches, ballots cast (never a
secret ballot's choice), requests raised and handled — on the page, in the
API and in the .xlsx/.csv exports; the street's summary; who may see them;
a fixed number of queries.

The fixture, counted by hand for 区政协委员钱 (a CPPCC member of 东篱社区):

- invited to 3 announced meetings next week: 东篱 ① (in progress, present),
  ② (in progress, present), ③ (scheduled, presence not marked) → invited 3,
  attended 2; also invited to a draft and to a cancelled meeting, which do
  not count;
- tabled 1 proposal in ① (another attendee tabled one more);
- 2 comments in ① and ②, and a third one hidden by the secretary (not counted);
- spoke once in ① (a second request for the floor withdrawn before the turn);
- voted in a secret poll of ① (赞成/反对/弃权, chose 反对) → ballots cast 1;
- raised 1 request (in the period) → requests raised 1;
- was assigned, claimed and handled 1 order → requests handled 1.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from meeting_helpers import next_week
from openpyxl import load_workbook
from poll_helpers import Api
from query_count import queries_of
from request_helpers import raise_request

from auth.models import Community, User
from meetings.dbtypes import utcnow
from meetings.duty import services
from meetings.extensions import db
from meetings.meeting import services as meeting_services
from meetings.meeting.models import Attendance, Meeting, MeetingStatus
from meetings.polls.models import Comment, Proposal
from meetings.requests.models import RequestStatus
from meetings.room.models import SpeakerEntry

pytest_plugins = ["meeting_fixtures", "organisation_fixtures"]

TODAY = date.today()
FROM, TO = (TODAY - timedelta(days=40)).isoformat(), (TODAY + timedelta(days=40)).isoformat()
PERIOD = f"from={FROM}&to={TO}"
LAST_YEAR = f"from={TODAY.year - 1}-01-01&to={TODAY.year - 1}-12-31"

EXPECTED = {
    "meetings_invited": 3,
    "meetings_attended": 2,
    "proposals": 1,
    "comments": 2,
    "speeches": 1,
    "ballots_cast": 1,
    "requests_raised": 1,
    "requests_handled": 1,
}


@dataclass
class Record:
    member: User
    voter: User
    meetings: list[Meeting]
    receipt: str
    community: Community


def _attendance(meeting: Meeting, user: User):
    return next(a for a in meeting.attendances if a.user_id == user.id)


@pytest.fixture
def record(
    make_meeting, make_member, secretary, resident, community, street, client, bearer, in_request
) -> Record:
    member = make_member("区政协委员钱")
    voter = make_member("居民代表孙")
    invite = {member: "cppcc_member", voter: "resident_rep"}
    first = make_meeting(MeetingStatus.SCHEDULED, invite=invite, title="加装电梯协商会")
    second = make_meeting(
        MeetingStatus.SCHEDULED,
        invite=invite,
        title="充电棚选址协商会",
        starts_at=next_week() + timedelta(days=1),
    )
    third = make_meeting(
        MeetingStatus.SCHEDULED,
        invite={member: "cppcc_member"},
        title="垃圾分类协商会",
        starts_at=next_week() + timedelta(days=2),
    )
    make_meeting(MeetingStatus.DRAFT, invite={member: "cppcc_member"}, title="草稿不算")
    make_meeting(MeetingStatus.CANCELLED, invite={member: "cppcc_member"}, title="取消不算")
    item = meeting_services.add_agenda_item(secretary, first, "加装电梯方案")
    other_item = meeting_services.add_agenda_item(secretary, second, "充电棚位置")
    for meeting in (first, second):
        meeting_services.transition_meeting(secretary, meeting, MeetingStatus.IN_PROGRESS)
        meeting_services.mark_presence(secretary, _attendance(meeting, member), "present")
        meeting_services.mark_presence(secretary, _attendance(meeting, voter), "present")
    tabled = Proposal(agenda_item=item, author=member, title="东侧加装")
    others = Proposal(agenda_item=other_item, author=voter, title="北门旁边")
    db.session.add_all([tabled, others])
    db.session.add_all(
        [
            Comment(proposal=tabled, author=member, body="东侧采光不受影响"),
            Comment(proposal=others, author=member, body="北门离住户太近"),
            Comment(proposal=others, author=member, body="不当言论", hidden_at=utcnow()),
            Comment(proposal=others, author=voter, body="同意"),
            SpeakerEntry(meeting=first, user=member, started_at=utcnow(), ended_at=utcnow()),
            SpeakerEntry(meeting=second, user=member, ended_at=utcnow(), withdrawn=True),
        ]
    )
    db.session.flush()

    # a secret poll in which the member chooses 反对, through the API
    api = Api(client, bearer)
    poll = api.create_poll(secretary, item, secret=True)
    api.open_poll(secretary, poll["id"])
    options = {option["label"]: option["id"] for option in poll["options"]}
    receipt = api.vote(member, poll["id"], options["反对"])
    api.vote(voter, poll["id"], options["赞成"])
    api.close_poll(secretary, poll["id"])

    raise_request(member, community, title="楼道灯坏了")
    order = raise_request(resident, community, title="井盖松动")
    order.status = RequestStatus.HANDLED
    order.assignee_user_id = order.claimed_by_id = member.id
    order.dispatched_at = order.claimed_at = order.handled_at = utcnow()
    # an old request of the member: not in the period
    raise_request(member, community, days_ago=800, title="前年的事")
    db.session.flush()
    return Record(member, voter, [first, second, third], receipt, community)


def _rows(sheet) -> list[tuple]:
    """The sheet's non-empty rows, without the empty cells openpyxl pads them with."""
    rows = []
    for row in sheet.iter_rows(values_only=True):
        values = list(row)
        while values and values[-1] is None:
            values.pop()
        if values:
            rows.append(tuple(values))
    return rows


def _get(client, bearer, user, person, query=PERIOD):
    return client.get(f"/api/v1/people/{person.id}/duty-record?{query}", headers=bearer(user))


# --- the figures ----------------------------------------------------------------------


def test_the_record_counts_what_the_member_did(client, bearer, record):
    response = _get(client, bearer, record.member, record.member)
    assert response.status_code == 200, response.json
    body = response.json
    assert {name: body[name] for name in EXPECTED} == EXPECTED
    assert body["person"] == {"id": record.member.id, "display_name": "区政协委员钱"}
    assert (body["from"], body["to"]) == (FROM, TO)
    lines = {line["title"]: line for line in body["meetings"]}
    assert list(lines) == ["加装电梯协商会", "充电棚选址协商会", "垃圾分类协商会"]
    first = lines["加装电梯协商会"]
    assert (first["attended"], first["speeches"], first["proposals"], first["ballots_cast"]) == (
        True,
        1,
        1,
        1,
    )
    assert first["role"] == "cppcc_member"
    third = lines["垃圾分类协商会"]
    assert (third["attended"], third["presence"], third["speeches"]) == (False, None, 0)


def test_the_other_attendee_has_a_record_of_their_own(client, bearer, record, secretary):
    body = _get(client, bearer, secretary, record.voter).json
    assert {name: body[name] for name in EXPECTED} == {
        "meetings_invited": 2,
        "meetings_attended": 2,
        "proposals": 1,
        "comments": 1,
        "speeches": 0,
        "ballots_cast": 1,
        "requests_raised": 0,
        "requests_handled": 0,
    }


def test_an_empty_period_counts_nothing(client, bearer, record):
    body = _get(client, bearer, record.member, record.member, LAST_YEAR).json
    assert {name: body[name] for name in EXPECTED} == dict.fromkeys(EXPECTED, 0)
    assert body["meetings"] == []


def test_the_period_defaults_to_this_year(in_request):
    span = services.period(None, None)
    assert (span.start, span.end) == (
        date(services.local_today().year, 1, 1),
        date(services.local_today().year, 12, 31),
    )


@pytest.mark.parametrize(
    "query, field",
    [("from=2026-13-01", "from"), ("to=tomorrow", "to"), ("from=2026-05-02&to=2026-05-01", "to")],
)
def test_a_bad_period_is_refused(client, bearer, record, query, field):
    response = _get(client, bearer, record.member, record.member, query)
    assert response.status_code == 422
    assert field in response.json["error"]["fields"]


def test_an_unknown_person_is_not_found(client, bearer, admin):
    response = client.get("/api/v1/people/987654/duty-record", headers=bearer(admin))
    assert response.status_code == 404


# --- ballot secrecy -------------------------------------------------------------------


def test_the_choice_of_a_secret_ballot_appears_nowhere(client, bearer, login, record):
    api_text = _get(client, bearer, record.member, record.member).get_data(as_text=True)
    login(record.member)
    page = client.get(f"/people/{record.member.id}/duty-record?{PERIOD}").get_data(as_text=True)
    csv_text = client.get(f"/people/{record.member.id}/duty-record.csv?{PERIOD}").get_data(
        as_text=True
    )
    workbook = load_workbook(
        io.BytesIO(client.get(f"/people/{record.member.id}/duty-record.xlsx?{PERIOD}").data)
    )
    cells = " ".join(
        str(cell)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
        for cell in row
        if cell is not None
    )
    for text in (api_text, page, csv_text, cells):
        assert "反对" not in text and "赞成" not in text
        assert record.receipt not in text
    assert "加装电梯协商会" in page and "加装电梯协商会" in cells


# --- who may see it -------------------------------------------------------------------


@pytest.fixture
def people(record, admin, secretary, resident, street_official, other_secretary, other_official):
    return {
        "the member": (record.member, 200),
        "the secretary": (secretary, 200),
        "the street's official": (street_official, 200),
        "an administrator": (admin, 200),
        "a resident of the community": (resident, 403),
        "another community's secretary": (other_secretary, 403),
        "another street's official": (other_official, 403),
    }


def test_who_may_see_the_record(client, bearer, login, record, people):
    for who, (user, status) in people.items():
        assert _get(client, bearer, user, record.member).status_code == status, who
    anonymous = client.get(f"/api/v1/people/{record.member.id}/duty-record")
    assert anonymous.status_code == 401
    for who, (user, status) in people.items():
        login(user)
        for suffix in ("", ".xlsx", ".csv"):
            url = f"/people/{record.member.id}/duty-record{suffix}?{PERIOD}"
            assert client.get(url).status_code == status, (who, suffix)
        client.post("/auth/logout")


def test_a_secretary_where_the_person_was_invited_may_see_it(
    client, bearer, make_user, make_community, make_meeting, record, in_request
):
    """Invited to a meeting of another community, without being its member:
    that community's secretary sees the record too."""
    elsewhere = make_community("竹韵社区")
    their_secretary = make_user("zhuyun", community=elsewhere, secretary=True)
    assert _get(client, bearer, their_secretary, record.member).status_code == 403
    meeting = make_meeting(MeetingStatus.SCHEDULED, by=their_secretary, community=elsewhere)
    # invited as a member of a unit serving it, say: the attendance is what counts
    db.session.add(Attendance(meeting=meeting, user=record.member, role="cppcc_member"))
    db.session.flush()
    assert _get(client, bearer, their_secretary, record.member).status_code == 200


def test_who_may_see_the_street_summary(client, login, record, street, people):
    expected = {
        "the member": 403,
        "the secretary": 403,
        "the street's official": 200,
        "an administrator": 200,
        "a resident of the community": 403,
        "another community's secretary": 403,
        "another street's official": 403,
    }
    for who, (user, _status) in people.items():
        login(user)
        for suffix in ("", ".xlsx", ".csv"):
            url = f"/streets/{street.id}/duty-records{suffix}?{PERIOD}"
            assert client.get(url).status_code == expected[who], (who, suffix)
        client.post("/auth/logout")
    assert client.get(f"/streets/{street.id}/duty-records").status_code == 302


# --- the pages and exports ------------------------------------------------------------


def test_the_page_shows_the_figures_and_the_meetings(english, login, record):
    login(record.member)
    response = english.get(f"/people/{record.member.id}/duty-record?{PERIOD}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for name, number in EXPECTED.items():
        assert f'<tr id="figure-{name}">' in page
        row = page.split(f'<tr id="figure-{name}">')[1].split("</tr>")[0]
        assert f"<td>{number}</td>" in row, name
    first = page.split(f'<tr id="meeting-{record.meetings[0].id}">')[1].split("</tr>")[0]
    assert "CPPCC member" in first and "Present" in first and "1 time" in first
    assert "in 1 poll" in first
    third = page.split(f'<tr id="meeting-{record.meetings[2].id}">')[1].split("</tr>")[0]
    assert "Not marked" in third
    assert "草稿不算" not in page and "取消不算" not in page
    assert "duty-record.xlsx" in page and "data-print" in page


def test_the_page_says_when_the_period_is_wrong(english, login, record):
    login(record.member)
    response = english.get(f"/people/{record.member.id}/duty-record?from=2026-05-02&to=2026-05-01")
    assert response.status_code == 422
    assert "Choose a date on or after the start." in response.get_data(as_text=True)


def test_the_export_holds_the_figures_and_the_meetings(english, login, record):
    login(record.member)
    response = english.get(f"/people/{record.member.id}/duty-record.xlsx?{PERIOD}")
    assert response.status_code == 200
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.data))
    figures, meetings = workbook.worksheets
    rows = _rows(figures)
    assert rows[0] == ("Duty record of 区政协委员钱",)
    table = dict(rows[rows.index(("Figure", "Number")) + 1 :])
    assert table == {
        "Meetings invited": 3,
        "Meetings attended": 2,
        "Proposals tabled": 1,
        "Comments": 2,
        "Speeches": 1,
        "Ballots cast": 1,
        "Requests raised": 1,
        "Requests handled": 1,
    }
    lines = _rows(meetings)
    header = lines.index(
        (
            "Date",
            "Meeting",
            "Community",
            "Role",
            "Attendance",
            "Speeches",
            "Proposals tabled",
            "Ballots cast",
        )
    )
    body = lines[header + 1 :]
    assert [row[1] for row in body] == ["加装电梯协商会", "充电棚选址协商会", "垃圾分类协商会"]
    assert body[0][2:] == ("东篱社区", "CPPCC member", "Present", 1, 1, 1)
    assert body[2][4:] == ("Not marked", 0, 0, 0)


def test_the_csv_opens_in_excel_in_chinese(english, login, record):
    login(record.member)
    response = english.get(f"/people/{record.member.id}/duty-record.csv?{PERIOD}")
    assert response.status_code == 200
    assert response.data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0] == ["Duty record of 区政协委员钱"]
    table = dict(rows[rows.index(["Figure", "Number"]) + 1 :])
    assert table["Comments"] == "2" and table["Ballots cast"] == "1"
    assert table["Meetings attended"] == "2"


def test_the_street_summary_lists_everyone_invited(english, login, record, street, admin):
    login(admin)
    response = english.get(f"/streets/{street.id}/duty-records.xlsx?{PERIOD}")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).worksheets[0]
    rows = _rows(sheet)
    assert rows[0] == ("Duty records of 中兴街道",)
    rows = rows[2:]
    header = rows[0]
    assert header[:3] == ("Name", "Roles", "Communities")
    by_name = {row[0]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    assert set(by_name) == {"区政协委员钱", "居民代表孙", "Total"}
    member = by_name["区政协委员钱"]
    assert (member["Roles"], member["Communities"]) == ("CPPCC member", "东篱社区")
    assert member["Meetings invited"] == 3 and member["Ballots cast"] == 1
    assert member["Requests raised"] == 1 and member["Requests handled"] == 1
    assert by_name["Total"]["Meetings invited"] == 5
    assert by_name["Total"]["Comments"] == 3
    page = english.get(f"/streets/{street.id}/duty-records?{PERIOD}").get_data(as_text=True)
    assert f'<tr id="person-{record.member.id}">' in page
    assert "反对" not in page
    text = english.get(f"/streets/{street.id}/duty-records.csv?{PERIOD}").data.decode("utf-8-sig")
    assert "区政协委员钱,CPPCC member,东篱社区,3,2,1,2,1,1,1,1" in text
    empty = english.get(f"/streets/{street.id}/duty-records?{LAST_YEAR}").get_data(as_text=True)
    assert "Nobody was invited to a meeting of this street in the period." in empty


def test_another_street_does_not_see_our_people(
    english, login, record, other_street, other_official
):
    login(other_official)
    page = english.get(f"/streets/{other_street.id}/duty-records?{PERIOD}").get_data(as_text=True)
    assert "区政协委员钱" not in page


# --- a fixed number of queries --------------------------------------------------------


def test_the_pages_run_a_fixed_number_of_queries(
    client, bearer, login, record, secretary, street, make_meeting, make_member, admin
):
    headers = bearer(admin)
    login(admin)
    urls = [
        f"/people/{record.member.id}/duty-record?{PERIOD}",
        f"/people/{record.member.id}/duty-record.xlsx?{PERIOD}",
        f"/streets/{street.id}/duty-records?{PERIOD}",
        f"/streets/{street.id}/duty-records.xlsx?{PERIOD}",
    ]
    api_url = f"/api/v1/people/{record.member.id}/duty-record?{PERIOD}"
    before = [queries_of(client, url) for url in urls] + [
        queries_of(client, api_url, headers=headers)
    ]
    # more of everything: a fourth meeting with three more people, speeches and proposals
    newcomers = [make_member(f"居民代表{n}") for n in range(3)]
    fourth = make_meeting(
        MeetingStatus.SCHEDULED,
        invite={record.member: "cppcc_member"} | dict.fromkeys(newcomers, "resident_rep"),
        title="第四次协商会",
        starts_at=next_week() + timedelta(days=3),
    )
    item = meeting_services.add_agenda_item(secretary, fourth, "议题")
    for person in [record.member, *newcomers]:
        db.session.add(SpeakerEntry(meeting=fourth, user=person, started_at=utcnow()))
        db.session.add(Proposal(agenda_item=item, author=person, title="方案"))
    db.session.flush()
    after = [queries_of(client, url) for url in urls] + [
        queries_of(client, api_url, headers=headers)
    ]
    assert after == before
    # the layout (session, user, posts, notifications, tasks) and the record: the
    # figures and the meetings in one statement each (8 for an administrator)
    assert max(before) <= 8, before


def test_the_records_are_linked_where_people_look_for_them(
    english, login, record, street, street_official, secretary
):
    login(record.member)
    account = english.get("/auth/account").get_data(as_text=True)
    assert f'href="/people/{record.member.id}/duty-record"' in account
    english.post("/auth/logout")
    login(street_official)
    page = english.get(f"/streets/{street.id}/duty-records?{PERIOD}").get_data(as_text=True)
    assert f'href="/people/{record.member.id}/duty-record?' in page
    assert f'href="/streets/{street.id}/duty-records"' in english.get(
        f"/streets/{street.id}"
    ).get_data(as_text=True)
    english.post("/auth/logout")
    login(secretary)
    attendees = english.get(f"/meetings/{record.meetings[0].id}/attendees").get_data(as_text=True)
    assert f'href="/people/{record.member.id}/duty-record"' in attendees


def test_the_street_summary_narrows_to_a_role_and_pages(
    english, login, record, street, admin, monkeypatch
):
    from meetings.duty import views

    login(admin)
    url = f"/streets/{street.id}/duty-records?{PERIOD}"
    members = english.get(f"{url}&role=cppcc_member").get_data(as_text=True)
    assert f'<tr id="person-{record.member.id}">' in members
    assert f'<tr id="person-{record.voter.id}">' not in members
    sheet = load_workbook(
        io.BytesIO(
            english.get(f"/streets/{street.id}/duty-records.xlsx?{PERIOD}&role=cppcc_member").data
        )
    ).worksheets[0]
    assert [row[0] for row in _rows(sheet)[3:]] == ["区政协委员钱", "Total"]
    assert english.get(f"{url}&role=mayor").status_code == 422
    # a person a page: the second page holds the other one, the totals stay everyone's
    monkeypatch.setattr(views, "PEOPLE_PER_PAGE", 1)
    first = english.get(url).get_data(as_text=True)
    second = english.get(f"{url}&page=2").get_data(as_text=True)
    shown = [
        f'<tr id="person-{person.id}">' in page
        for page in (first, second)
        for person in (record.member, record.voter)
    ]
    assert shown.count(True) == 2 and shown[:2].count(True) == 1
    assert 'rel="next"' in first and 'rel="prev"' in second
    for page in (first, second):
        totals = page.split('<tr id="totals">')[1].split("</tr>")[0]
        assert '<td data-label="Meetings invited">5</td>' in totals
