"""The home page of a signed-in person shows what needs them now: a poll
waiting for their ballot (a large "Vote now"), invitations to answer, their
requests waiting for a rating, completed projects to rate, and the counts of
open orders and tasks of those who take them — each for the right person
only, in a fixed number of queries; visitors keep the introduction."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from conftest import PASSWORD
from query_count import queries_of

from meetings.dbtypes import utcnow
from meetings.extensions import db
from meetings.i18n import LANGUAGE_COOKIE
from meetings.meeting import services as meeting_services
from meetings.polls import services as poll_services
from meetings.projects import services as project_services

pytest_plugins = ["meeting_fixtures", "project_fixtures", "order_fixtures"]


@pytest.fixture
def home_of(app):
    """``home_of(user)``: the home page's text as ``user`` sees it (English)."""

    def home(user) -> str:
        client = app.test_client()
        client.set_cookie(LANGUAGE_COOKIE, "en")
        if user is not None:
            response = client.post(
                "/auth/login", data={"username": user.username, "password": PASSWORD}
            )
            assert response.status_code == 302
        response = client.get("/")
        assert response.status_code == 200
        return html.unescape(response.get_data(as_text=True))

    return home


def needs_section(page: str) -> str:
    """The "what needs you now" panel ('' when there is none)."""
    found = re.search(r'<section class="panel needs".*?</section>', page, re.S)
    return found.group(0) if found else ""


def vote_cards(page: str) -> list[str]:
    return re.findall(r'class="button button-primary button-huge" href="(/polls/\d+/vote)"', page)


def open_poll(deliberation, secretary, title="是否改造活动室"):
    poll = poll_services.create_poll(
        secretary,
        deliberation.item,
        poll_services.PollSpec(title=title, kind="yes_no_abstain"),
    )
    poll_services.open_poll(secretary, poll)
    db.session.flush()
    return poll


def complete(secretary, project):
    project_services.add_progress_update(secretary, project, 50, "开工", "in_progress")
    project_services.add_progress_update(secretary, project, 100, "完工验收", "completed")
    db.session.flush()
    return project


def test_a_visitor_keeps_the_introduction(home_of, community):
    page = home_of(None)
    assert "Talk it over, get it done" in page
    assert "How it works" in page
    assert needs_section(page) == ""


def test_a_voter_gets_a_large_vote_card_straight_to_the_ballot(
    home_of, deliberation, secretary, resident
):
    poll = open_poll(deliberation, secretary)
    voter, other_voter = deliberation.voters[0], deliberation.voters[1]
    page = home_of(voter)
    assert vote_cards(page) == [f"/polls/{poll.id}/vote"]
    assert "Vote now" in page and "是否改造活动室" in page
    assert "Talk it over, get it done" not in page
    # not for a resident outside the meeting, nor once the voter has voted
    assert vote_cards(home_of(resident)) == []
    poll_services.cast_ballot(other_voter, poll, [poll.options[0].id])
    db.session.flush()
    assert vote_cards(home_of(other_voter)) == []
    assert vote_cards(home_of(secretary)) == []


def test_an_unanswered_invitation_is_listed_until_answered(
    home_of, make_meeting, make_member, secretary, in_request
):
    invited, answered = make_member("王桂兰"), make_member("刘建国")
    meeting = make_meeting("scheduled", invite={invited: "resident_rep", answered: "resident_rep"})
    meeting_services.set_rsvp(answered, meeting.attendance_of(answered), "accepted")
    db.session.flush()
    needs = needs_section(home_of(invited))
    assert "Invitations to answer" in needs
    assert f'href="/meetings/{meeting.id}#mine-heading"' in needs
    assert "Invitations to answer" not in needs_section(home_of(answered))
    assert "Invitations to answer" not in needs_section(home_of(secretary))


def test_a_draft_meetings_invitation_is_not_listed(home_of, make_meeting, make_member, in_request):
    invited = make_member("王桂兰")
    make_meeting("draft", invite={invited: "resident_rep"})
    assert "Invitations to answer" not in needs_section(home_of(invited))


def test_a_handled_request_waits_for_its_residents_rating_only(
    home_of, make_order, resident, bystander, property_staff, in_request
):
    item = make_order("handled", title="楼道灯不亮")
    needs = needs_section(home_of(resident))
    assert "Your requests waiting for your rating" in needs
    assert f'href="/requests/{item.id}#rating-heading"' in needs
    assert "楼道灯不亮" not in needs_section(home_of(bystander))
    # once rated it is gone
    from meetings.requests import orders

    orders.rate(resident, item, 5, "")
    db.session.flush()
    assert "楼道灯不亮" not in needs_section(home_of(resident))


def test_a_completed_project_asks_its_communitys_residents_once(
    home_of, make_project, secretary, resident, bystander, make_user, other_community, in_request
):
    project = complete(secretary, make_project(title="活动室改造出新"))
    planned = make_project(title="加装电梯")
    outsider = make_user("elsewhere", community=other_community)
    needs = needs_section(home_of(resident))
    assert "Completed projects to rate" in needs
    assert f'href="/projects/{project.id}#ratings"' in needs
    assert planned.title not in needs
    assert "活动室改造出新" in needs_section(home_of(bystander))
    assert "活动室改造出新" not in needs_section(home_of(outsider))
    project_services.rate_project(resident, project, 5, "")
    db.session.flush()
    assert "活动室改造出新" not in needs_section(home_of(resident))


def test_a_project_completed_long_ago_is_not_asked_for(
    home_of, make_project, secretary, resident, in_request
):
    project = complete(secretary, make_project(title="活动室改造出新"))
    project.completed_at = utcnow() - timedelta(days=200)
    db.session.flush()
    assert "活动室改造出新" not in needs_section(home_of(resident))


def test_those_who_take_orders_see_their_counts(
    home_of, make_order, property_staff, grid_one, grid_one_worker, secretary, resident, in_request
):
    make_order("dispatched")
    make_order("claimed")
    make_order("handled")  # not open any more
    staff = needs_section(home_of(property_staff))
    assert "2 open orders" in staff
    assert 'href="/my/orders"' in staff
    assert "0 open orders" in needs_section(home_of(grid_one_worker))
    assert "open orders" not in needs_section(home_of(resident))
    desk = needs_section(home_of(secretary))
    assert "Orders of" in desk and "2 open" in desk


def test_nothing_waiting_says_so(home_of, make_user, community):
    page = home_of(make_user("quiet", community=community))
    assert "Nothing is waiting for you." in needs_section(page)


def test_the_home_page_runs_a_fixed_number_of_queries(
    app, make_order, make_project, deliberation, secretary, resident, make_meeting, in_request
):
    client = app.test_client()
    client.post("/auth/login", data={"username": resident.username, "password": PASSWORD})

    def add_one_of_each(n: int) -> None:
        make_order("handled", title=f"请求{n}")
        complete(secretary, make_project(title=f"项目{n}"))
        make_meeting("scheduled", invite={resident: "resident_rep"}, title=f"会议{n}")
        db.session.flush()

    add_one_of_each(1)
    once = queries_of(client, "/")
    for n in range(2, 5):
        add_one_of_each(n)
    assert queries_of(client, "/") == once


def test_the_meeting_page_shows_the_same_vote_card_to_its_voters(
    app, deliberation, secretary, resident
):
    poll = open_poll(deliberation, secretary)

    def meeting_page(user) -> str:
        client = app.test_client()
        client.set_cookie(LANGUAGE_COOKIE, "en")
        client.post("/auth/login", data={"username": user.username, "password": PASSWORD})
        return client.get(f"/meetings/{deliberation.meeting.id}").get_data(as_text=True)

    page = meeting_page(deliberation.voters[0])
    region = page.split('<div data-live="polls">', 1)[1].split("</div>", 1)[0]
    assert vote_cards(region) == [f"/polls/{poll.id}/vote"]
    assert vote_cards(meeting_page(secretary)) == []
