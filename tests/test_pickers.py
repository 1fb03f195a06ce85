"""The person and topic pickers (issue 14): instead of a drop-down of every
member, a field that asks the server as the secretary types
(``/people?community=&q=``, ``/communities/<id>/topics?q=``), limited to
whom and what the secretary may pick; without the script the typed
username, phone number, name or request number is read when the form is sent."""

from __future__ import annotations

import re

import pytest
from conftest import field_errors
from request_helpers import raise_request

from meetings.main.people import PICK_LIMIT, find_members, match_member
from meetings.meeting.models import Meeting
from meetings.meeting.services.topics import TOPIC_CHOICES
from meetings.requests import services as request_services

pytest_plugins = ["meeting_fixtures"]


def _people(client, community, q: str):
    return client.get("/people", query_string={"community": community.id, "q": q})


def test_the_search_finds_members_by_name_username_or_phone(
    db, client, login, secretary, resident, make_user, community
):
    resident.phone = "139 1234 5678"
    other = make_user("wangjun", community=community, display_name="汪军")
    db.session.flush()
    login(secretary)

    by_name = _people(client, community, "王阿").get_json()
    assert by_name == {
        "items": [
            {
                "id": resident.id,
                "username": "resident",
                "display_name": "王阿姨",
                "phone_hint": "139****5678",
            }
        ],
        "more": False,
    }
    assert [p["id"] for p in _people(client, community, "wangj").get_json()["items"]] == [other.id]
    assert [p["id"] for p in _people(client, community, "1234").get_json()["items"]] == [
        resident.id
    ]


def test_the_search_offers_only_active_members_of_that_community(
    db, client, login, secretary, resident, make_user, community, other_community
):
    make_user("wang-elsewhere", community=other_community, display_name="王阿姨")
    gone = make_user("wang-gone", community=community, display_name="王阿婆", active=False)
    login(secretary)

    found = _people(client, community, "王").get_json()["items"]

    assert [p["username"] for p in found] == ["resident"]
    assert gone.id not in {p["id"] for p in found}


def test_the_search_answers_at_most_a_few_and_says_there_are_more(
    client, login, secretary, make_user, community
):
    for n in range(PICK_LIMIT + 3):
        make_user(f"zhang{n:02}", community=community, display_name=f"张{n:02}")
    login(secretary)

    found = _people(client, community, "张").get_json()

    assert len(found["items"]) == PICK_LIMIT and found["more"] is True
    assert found["items"][0]["display_name"] == "张00"  # by name


def test_an_exact_match_comes_first(db, secretary, make_user, community):
    for n in range(3):
        make_user(f"li{n}x", community=community, display_name=f"李{n}")
    exact = make_user("li", community=community, display_name="李四")
    found, _more = find_members(community.id, "li")
    assert found[0] == exact


@pytest.mark.parametrize("who", ["resident", "other_secretary"])
def test_only_those_who_run_the_community_may_search_its_members(
    client, login, request, community, resident, who
):
    login(request.getfixturevalue(who))
    assert _people(client, community, "王").status_code == 403


def test_an_administrator_may_search_any_community(client, login, admin, resident, community):
    login(admin)
    assert _people(client, community, "王").get_json()["items"][0]["id"] == resident.id


def test_the_search_of_an_unknown_community_is_not_found(client, login, admin):
    login(admin)
    for community in ("0", "2147483648", "abc", ""):
        response = client.get("/people", query_string={"community": community, "q": "王"})
        assert response.status_code == 404


def test_the_search_asks_a_visitor_to_log_in(client, community):
    response = _people(client, community, "王")
    assert response.status_code == 302 and "/auth/login" in response.location


def test_a_typed_text_names_a_member_by_username_phone_or_full_name(
    db, resident, make_user, community
):
    resident.phone = "139-1234-5678"
    namesake = make_user("wang2", community=community, display_name="王阿姨")
    db.session.flush()
    assert match_member(community.id, "RESIDENT").user == resident  # usernames ignore case
    assert match_member(community.id, "13912345678").user == resident
    assert match_member(community.id, "wang2").user == namesake
    several = match_member(community.id, "王阿姨")
    assert several.user is None and set(several.candidates) == {resident, namesake}
    assert match_member(community.id, "王").candidates == []  # a part names nobody


# --- the topic picker ---------------------------------------------------------------------------


def test_the_topic_search_finds_requests_that_may_become_topics(
    english, login, secretary, resident, community, accepted_request
):
    waiting = raise_request(resident, community, title="活动室空调坏了")  # not accepted yet
    login(secretary)

    found = english.get(f"/communities/{community.id}/topics", query_string={"q": "活动室"})

    assert found.get_json() == {
        "items": [
            {
                "id": accepted_request.id,
                "title": "活动室地板磨损",
                "status_label": "Accepted as a topic",
            }
        ],
        "more": False,
    }
    by_number = english.get(
        f"/communities/{community.id}/topics", query_string={"q": f"#{accepted_request.id}"}
    )
    assert [t["id"] for t in by_number.get_json()["items"]] == [accepted_request.id]
    assert waiting.id not in {t["id"] for t in found.get_json()["items"]}


def test_the_topic_search_is_the_secretarys(client, login, other_secretary, community):
    login(other_secretary)
    assert client.get(f"/communities/{community.id}/topics?q=x").status_code == 403


# --- the meeting form without the script -------------------------------------------------------


def _meeting_form(**values) -> dict:
    return {
        "title": "楼道堆物协商会",
        "starts_at": "2030-12-02T19:00",
        "ends_at": "2030-12-02T21:00",
        "location": "社区活动室",
    } | values


def test_the_meeting_form_lists_no_members_but_asks_for_a_name(
    english, login, secretary, resident, community
):
    login(secretary)
    page = english.get(f"/communities/{community.id}/meetings/new").get_data(as_text=True)
    assert re.search(r'<input[^>]* data-picker-url="/people\?community=\d+"[^>]* name="host"', page)
    assert "王阿姨" not in page
    assert '<script src="/static/js/picker.js" defer></script>' in page


def test_host_and_recorder_are_typed_and_named_back_when_unclear(
    db, english, login, secretary, resident, make_user, community
):
    make_user("wang2", community=community, display_name="王阿姨")
    login(secretary)
    url = f"/communities/{community.id}/meetings/new"

    response = english.post(url, data=_meeting_form(host="王阿姨", recorder="nobody-here"))

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert field_errors(page, "host") == [
        "Several people in 东篱社区 match “王阿姨”: 王阿姨 (resident), 王阿姨 (wang2). "
        "Please type the username of the one you mean."
    ]
    assert field_errors(page, "recorder") == [
        "Nobody in 东篱社区 has the username, phone number or name “nobody-here”."
    ]

    response = english.post(url, data=_meeting_form(host="resident", recorder=secretary.username))
    assert response.status_code == 302
    meeting = db.session.scalar(db.select(Meeting).where(Meeting.title == "楼道堆物协商会"))
    assert (meeting.host, meeting.recorder) == (resident, secretary)


def test_the_edit_form_shows_the_host_by_username(db, english, login, secretary, make_meeting):
    meeting = make_meeting(host_id=secretary.id)
    login(secretary)
    page = english.get(f"/meetings/{meeting.id}/edit").get_data(as_text=True)
    assert re.search(r'name="host"[^>]* value="sec"', page)


def test_topics_beyond_the_list_are_added_by_number(
    db, english, login, secretary, resident, community, accepted_request
):
    login(secretary)
    later = raise_request(resident, community, title="路灯不亮")
    request_services.reply_to_request(secretary, later, "accept", "纳入议题")
    url = f"/communities/{community.id}/meetings/new"

    response = english.post(url, data=_meeting_form(more_topics="12 abc"))
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "more_topics") == [
        "Please give request numbers, e.g. 12, 40, or choose the request in the list."
    ]

    response = english.post(
        url,
        data=_meeting_form(request_ids=[accepted_request.id], more_topics=f"#{later.id}，"),
    )
    assert response.status_code == 302
    meeting = db.session.scalar(db.select(Meeting).where(Meeting.title == "楼道堆物协商会"))
    assert meeting.request_ids == [accepted_request.id, later.id]


def test_the_meeting_form_lists_only_the_first_candidate_topics(
    english, login, secretary, resident, community
):
    for n in range(TOPIC_CHOICES + 1):
        item = raise_request(resident, community, title=f"候选议题{n:02}")
        request_services.reply_to_request(secretary, item, "accept", "纳入议题")
    login(secretary)
    page = english.get(f"/communities/{community.id}/meetings/new").get_data(as_text=True)
    shown = re.findall(r"候选议题(\d\d)", page)
    assert shown == [f"{n:02}" for n in range(TOPIC_CHOICES)]  # waiting longest first
    assert "The list shows the requests waiting longest for a meeting." in page
