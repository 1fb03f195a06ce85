"""Issue 14: every list that grows comes a page at a time, on the web (the
``pagination`` macro: page links, « previous · next ») and in the API
(``{"items": [...], "total": N}``, ``?page=&per_page=``)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from meeting_helpers import fresh, next_week
from request_helpers import raise_request

from meetings.meeting import services as meeting_services
from meetings.meeting.models import MeetingStatus
from meetings.meeting.services.lists import INVITE_PAGE, MY_PAST_PAGE, PAST_PAGE
from meetings.minutes import services as minutes_services
from meetings.projects.services.board import BOARD_PAGE
from meetings.requests import services as request_services
from meetings.requests.services import INBOX_PAGE, MY_REQUESTS_PAGE
from meetings.search.services import PER_PAGE as SEARCH_PAGE

pytest_plugins = ["meeting_fixtures", "project_fixtures"]


def titles(page: str, pattern: str) -> list[str]:
    return re.findall(pattern, page)


def page_links(page: str) -> list[str]:
    """The hrefs of the pagination's links, in order."""
    nav = re.search(r'<nav class="pagination".*?</nav>', page, re.S)
    return re.findall(r'href="([^"]+)"', nav.group(0)) if nav else []


@pytest.fixture
def many_requests(resident, community):
    """INBOX_PAGE + 5 waiting requests, the oldest first (诉求00 … 诉求24)."""
    count = INBOX_PAGE + 5
    return [
        raise_request(resident, community, title=f"诉求{n:02}", days_ago=count - n)
        for n in range(count)
    ]


def test_the_inbox_comes_a_page_at_a_time(english, login, secretary, community, many_requests):
    login(secretary)
    url = f"/communities/{community.id}/requests"

    first = english.get(url).get_data(as_text=True)
    second = english.get(f"{url}?page=2").get_data(as_text=True)

    assert titles(first, r"诉求\d\d") == [f"诉求{n:02}" for n in range(INBOX_PAGE)]
    assert titles(second, r"诉求\d\d") == [f"诉求{n:02}" for n in range(INBOX_PAGE, 25)]
    assert f"{url}?page=2" in page_links(first)
    assert "Page 1 of 2, 25 in all" in first
    assert f"{url}?page=1" in page_links(second) and "Page 2 of 2" in second
    # the counts above the list are of all the requests, not of the page
    assert "25 waiting for a reply" in first


def test_the_inbox_filter_is_kept_in_the_page_links(
    english, login, secretary, community, many_requests
):
    login(secretary)
    url = f"/communities/{community.id}/requests?status=submitted"
    first = english.get(url).get_data(as_text=True)
    assert f"/communities/{community.id}/requests?status=submitted&amp;page=2" in first


def test_a_page_beyond_the_last_is_empty_not_an_error(
    english, login, secretary, community, many_requests
):
    login(secretary)
    for page in ("99", "0", "-1", "abc", "99999999999"):
        response = english.get(f"/communities/{community.id}/requests?page={page}")
        assert response.status_code == 200


def test_the_dashboard_shows_the_first_waiting_requests_and_links_to_the_inbox(
    english, login, secretary, community, many_requests
):
    login(secretary)
    page = english.get(f"/communities/{community.id}/dashboard").get_data(as_text=True)
    assert len(titles(page, r"诉求\d\d")) == 10
    assert f'href="/communities/{community.id}/requests">All 25 waiting' in page


def test_my_requests_come_a_page_at_a_time(english, login, resident, community):
    for n in range(MY_REQUESTS_PAGE + 2):
        raise_request(resident, community, title=f"我的诉求{n:02}", days_ago=30 - n)
    login(resident)
    first = english.get("/requests/mine").get_data(as_text=True)
    second = english.get("/requests/mine?page=2").get_data(as_text=True)
    assert len(titles(first, r"我的诉求\d\d")) == MY_REQUESTS_PAGE
    assert titles(second, r"我的诉求\d\d") == ["我的诉求01", "我的诉求00"]  # the oldest last
    assert "Older" in first and "Newer" in second


@pytest.fixture
def past_meetings(make_meeting, secretary, attendee, in_request):
    """PAST_PAGE + 2 closed meetings the attendee was invited to, a week apart."""
    count = max(PAST_PAGE, MY_PAST_PAGE) + 2
    meetings = []
    for n in range(count):
        starts = next_week() - timedelta(days=7 * (count - n) + 60)
        meeting = make_meeting(
            MeetingStatus.DRAFT,
            title=f"往次会议{n:02}",
            starts_at=starts,
            ends_at=starts + timedelta(hours=2),
            invite={attendee: "resident_rep"},
        )
        for step in (MeetingStatus.SCHEDULED, MeetingStatus.IN_PROGRESS, MeetingStatus.CLOSED):
            meeting_services.transition_meeting(secretary, meeting, step)
        meetings.append(meeting)
    return meetings


def test_the_dashboards_past_meetings_come_a_page_at_a_time(
    english, login, secretary, community, past_meetings
):
    login(secretary)
    url = f"/communities/{community.id}/dashboard"
    first = english.get(url).get_data(as_text=True)
    second = english.get(f"{url}?page=2").get_data(as_text=True)
    past = r'<section aria-labelledby="recent-heading">.*?</section>'
    first_past = titles(re.search(past, first, re.S).group(0), r"往次会议\d\d")
    second_past = titles(re.search(past, second, re.S).group(0), r"往次会议\d\d")
    count = len(past_meetings)
    assert first_past == [f"往次会议{n:02}" for n in range(count - 1, count - 1 - PAST_PAGE, -1)]
    assert second_past == [f"往次会议{n:02}" for n in range(count - 1 - PAST_PAGE, -1, -1)]


def test_my_past_meetings_come_a_page_at_a_time(english, login, attendee, past_meetings):
    login(attendee)
    first = english.get("/my/meetings").get_data(as_text=True)
    second = english.get("/my/meetings?page=2").get_data(as_text=True)
    shown = titles(first, r"往次会议\d\d") + titles(second, r"往次会议\d\d")
    assert len(titles(first, r"往次会议\d\d")) == MY_PAST_PAGE
    assert shown == [m.title for m in reversed(past_meetings)]
    assert "/my/meetings?page=2#past-heading" in page_links(first)


def test_the_invitation_list_is_searched_and_paged(
    english, login, secretary, make_member, make_meeting
):
    members = [make_member(f"成员{n:02}") for n in range(INVITE_PAGE + 3)]
    invited = make_member("成员已邀")
    meeting = make_meeting(MeetingStatus.DRAFT, invite={invited: "observer"})
    login(secretary)
    url = f"/meetings/{meeting.id}/attendees"

    first = english.get(url).get_data(as_text=True)
    second = english.get(f"{url}?page=2").get_data(as_text=True)
    found = english.get(f"{url}?q=成员05").get_data(as_text=True)

    def names(page: str) -> list[str]:
        return titles(page, r'<label for="rows-\d+-selected">(成员\S\S)')

    assert len(names(first)) == INVITE_PAGE
    assert "成员已邀" not in names(first) + names(second)
    assert set(names(first) + names(second)) >= {m.display_name for m in members}
    assert names(found) == ["成员05"]

    # invite someone from the second page
    last = members[-1]
    response = english.post(
        f"{url}?page=2",
        data={"rows-0-user_id": str(last.id), "rows-0-selected": "y", "rows-0-role": "expert"},
    )
    assert response.status_code == 302
    assert last.id in {a.user_id for a in fresh(meeting).attendances}


def test_the_search_comes_a_page_at_a_time(db, english, held_meeting_factory):
    for n in range(SEARCH_PAGE + 2):
        held_meeting_factory(f"加装电梯协商会{n:02}")
    asked = {"q": "加装电梯", "kind": "minutes"}
    first = english.get("/search", query_string=asked).get_data(as_text=True)
    second = english.get("/search", query_string={**asked, "page": 2}).get_data(as_text=True)
    minutes = r'<section aria-labelledby="search-results">.*?</section>'
    first_hits = titles(re.search(minutes, first, re.S).group(0), r"加装电梯协商会\d\d")
    second_hits = titles(re.search(minutes, second, re.S).group(0), r"加装电梯协商会\d\d")
    assert len(first_hits) == SEARCH_PAGE and len(second_hits) == 2
    assert not set(first_hits) & set(second_hits)
    assert f"Page 1 of 2, {SEARCH_PAGE + 2} in all" in first  # counted


@pytest.fixture
def held_meeting_factory(make_meeting, secretary, in_request, db):
    """``make(title)``: a closed meeting with its minutes published."""

    def make(title: str):
        meeting = make_meeting(MeetingStatus.CLOSED, title=title)
        body = f"# {title}\n\n商量加装电梯。\n"
        version = minutes_services.save_version(secretary, meeting, body)
        minutes_services.publish(secretary, version)
        db.session.flush()
        return meeting

    return make


def test_the_project_board_comes_a_page_at_a_time(english, make_project, community):
    for n in range(BOARD_PAGE + 1):
        make_project(title=f"项目{n:02}")
    first = english.get(f"/communities/{community.id}/projects").get_data(as_text=True)
    second = english.get(f"/communities/{community.id}/projects?page=2").get_data(as_text=True)
    assert len(titles(first, r">项目\d\d</a>")) == BOARD_PAGE
    assert len(titles(second, r">项目\d\d</a>")) == 1
    # the figures are of the whole board
    assert f"<strong>{BOARD_PAGE + 1}</strong> projects" in first


# --- the API --------------------------------------------------------------------------------


def test_the_requests_api_pages_with_the_right_total(
    client, bearer, secretary, community, many_requests
):
    headers = bearer(secretary)
    first = client.get("/api/v1/requests?per_page=10", headers=headers).get_json()
    third = client.get("/api/v1/requests?per_page=10&page=3", headers=headers).get_json()
    assert first["total"] == third["total"] == 25
    assert [r["title"] for r in first["items"]] == [f"诉求{n:02}" for n in range(24, 14, -1)]
    assert [r["title"] for r in third["items"]] == [f"诉求{n:02}" for n in range(4, -1, -1)]


def test_the_requests_api_lists_the_meetings_of_each_request(
    client, bearer, secretary, make_meeting, accepted_request
):
    meeting = make_meeting(MeetingStatus.DRAFT, request_ids=[accepted_request.id])
    listed = client.get("/api/v1/requests", headers=bearer(secretary)).get_json()
    assert listed["items"][0]["meeting_ids"] == [meeting.id]


def test_the_public_minutes_api_counts_each_meeting_once(
    client, secretary, held_meeting_factory, in_request
):
    meetings = [held_meeting_factory(f"议事会{n}") for n in range(3)]
    corrected = meetings[0]
    minutes_services.correct(secretary, corrected, "# 议事会0\n\n更正：商量加装电梯。\n")

    listed = client.get("/api/v1/public/minutes?per_page=2").get_json()
    second = client.get("/api/v1/public/minutes?per_page=2&page=2").get_json()

    assert listed["total"] == 3
    items = listed["items"] + second["items"]
    assert [i["meeting_title"] for i in items] == ["议事会2", "议事会1", "议事会0"]
    fixed = items[2]
    assert fixed["version"] == 2 and fixed["status"] == "published"
    first_version = minutes_services.history(corrected).published[0]
    assert fixed["first_published_at"].startswith(
        first_version.published_at.astimezone(meeting_services.zone()).isoformat()[:19]
    )


def test_request_page_sizes_are_bounded(client, bearer, secretary):
    response = client.get("/api/v1/requests?per_page=201", headers=bearer(secretary))
    assert response.status_code == 422


def test_the_answered_requests_count_on_the_portal(english, secretary, resident, community):
    item = raise_request(resident, community)
    request_services.reply_to_request(secretary, item, "answer", "已安排维修。")
    page = english.get(f"/communities/{community.id}").get_data(as_text=True)
    assert "1 request has a public answer." in page
