"""The street's view (街道): its communities side by side — open requests by
status and age, overdue orders, meetings coming, active projects and their
progress — for the street office's staff and administrators, in a fixed
number of queries however many communities and requests."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from query_count import queries_of
from request_helpers import raise_request

from meetings.dbtypes import utcnow
from meetings.extensions import db
from meetings.organisation import services
from meetings.projects.models import Project, ProjectStatus
from meetings.requests.models import RequestStatus

pytest_plugins = ["meeting_fixtures", "organisation_fixtures"]


def order(resident, community, status, *, due_in_days=3, dispatched_hours_ago=1.0, **extra):
    """A request of the resident brought to an order state by hand (the order
    workflow's verbs are tested with the requests)."""
    item = raise_request(resident, community, **extra)
    item.status = status
    item.order_due_date = date.today() + timedelta(days=due_in_days)
    item.dispatched_at = utcnow() - timedelta(hours=dispatched_hours_ago)
    db.session.flush()
    return item


def project(community, status, percent, title="活动室改造出新"):
    item = Project(
        community=community,
        title=title,
        responsible_unit="物业",
        status=status,
        progress_percent=percent,
        due_date=date.today() + timedelta(days=30),
    )
    db.session.add(item)
    db.session.flush()
    return item


@pytest.fixture
def busy_street(street, community, make_community, admin, resident, make_meeting, in_request):
    """Two communities of the street with requests, orders, meetings and
    projects, and one of another street that must not show."""
    second = make_community("竹韵社区")
    services.assign_community(admin, street, second)
    raise_request(resident, community, days_ago=10, title="电梯噪音")
    raise_request(resident, community, days_ago=2, title="路灯不亮")
    answered = raise_request(resident, community, days_ago=30, title="早已答复")
    answered.status = RequestStatus.ANSWERED
    # overdue: past its due date (claimed), and dispatched but unclaimed for 2 days
    order(resident, community, RequestStatus.CLAIMED, due_in_days=-1, title="漏水")
    order(resident, community, RequestStatus.DISPATCHED, dispatched_hours_ago=48, title="跳蚤")
    # not overdue: due later, claimed recently
    order(resident, community, RequestStatus.CLAIMED, due_in_days=2, title="油污")
    make_meeting("scheduled", title="加装电梯协商会")
    make_meeting("draft", title="草稿不算")
    project(community, ProjectStatus.IN_PROGRESS, 40)
    project(community, ProjectStatus.PLANNED, 0, title="智慧音箱")
    project(community, ProjectStatus.COMPLETED, 100, title="已完成")
    db.session.flush()
    return street, community, second


def test_the_street_sees_its_communities_side_by_side(
    client, bearer, busy_street, street_official, other_community
):
    street, community, second = busy_street
    response = client.get(f"/api/v1/streets/{street.id}/overview", headers=bearer(street_official))
    assert response.status_code == 200
    body = response.get_json()
    assert body["street"]["name"] == "中兴街道"
    lines = {line["name"]: line for line in body["communities"]}
    assert set(lines) == {community.name, second.name}  # not 星怡社区 of the other street
    line = lines[community.name]
    # submitted ×2 and the three orders are open; the answered one is not
    # (the open requests alone are counted: five years of closed ones are not read)
    assert line["requests_open"] == 5
    assert line["requests_by_status"] == {"submitted": 2, "claimed": 2, "dispatched": 1}
    assert line["oldest_open_at"] is not None
    assert line["orders_overdue"] == 2
    assert line["meetings_upcoming"] == 1
    assert line["next_meeting_at"] is not None
    assert (line["projects_active"], line["projects_progress"]) == (2, 20)
    empty = lines[second.name]
    assert (empty["requests_open"], empty["orders_overdue"], empty["projects_active"]) == (0, 0, 0)
    assert empty["projects_progress"] is None


def test_the_claim_window_comes_from_the_config(
    app, client, bearer, busy_street, street_official, monkeypatch
):
    street, community, _second = busy_street
    url = f"/api/v1/streets/{street.id}/overview"
    # set back afterwards: the other tests read the default
    monkeypatch.setitem(app.config, "ORDER_CLAIM_HOURS", 72)
    lines = client.get(url, headers=bearer(street_official)).get_json()["communities"]
    assert next(line for line in lines if line["id"] == community.id)["orders_overdue"] == 1


def test_the_street_page_shows_figures_and_lists(english, login, busy_street, street_official):
    street, community, _second = busy_street
    login(street_official)
    response = english.get(f"/streets/{street.id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    row = re.search(rf'<tr id="community-{community.id}">(.*?)</tr>', page, re.S).group(1)
    cells = [
        re.sub(r"<[^>]+>", "", cell).strip()
        for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)
    ]
    assert cells[0] == community.name
    assert cells[1] == "5"
    assert cells[2] == "10 days"
    assert cells[3] == "2"
    assert cells[4] == "1"
    assert cells[5].startswith("2")
    assert "漏水" in page and "跳蚤" in page and "油污" not in page
    assert "加装电梯协商会" in page and "草稿不算" not in page
    assert "智慧音箱" in page and "已完成" not in page


def test_staff_with_one_street_go_straight_to_it(english, login, street, street_official):
    login(street_official)
    response = english.get("/streets")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/streets/{street.id}")


@pytest.mark.parametrize("who", ["other_official", "secretary", "resident", "our_grid_leader"])
def test_others_may_not_see_the_street(client, bearer, login, request, street, who):
    user = request.getfixturevalue(who)
    assert (
        client.get(f"/api/v1/streets/{street.id}/overview", headers=bearer(user)).status_code == 403
    )
    login(user)
    assert client.get(f"/streets/{street.id}").status_code == 403


def test_an_admin_sees_every_street(client, login, admin, street, other_street):
    login(admin)
    assert client.get(f"/streets/{street.id}").status_code == 200
    page = client.get("/streets").get_data(as_text=True)
    assert "中兴街道" in page and "竹行街道" in page


def test_anonymous_visitors_sign_in_first(client, street):
    assert client.get(f"/api/v1/streets/{street.id}/overview").status_code == 401
    response = client.get(f"/streets/{street.id}")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


def test_the_street_page_runs_the_same_queries_for_more_communities(
    client, login, street, admin, make_community, make_user, make_meeting, in_request
):
    def fill(n: int) -> None:
        for _ in range(n):
            community = make_community()
            services.assign_community(admin, street, community)
            person = make_user(community=community)
            raise_request(person, community)
            order(person, community, RequestStatus.DISPATCHED, dispatched_hours_ago=50)
            make_meeting("scheduled", community=community, by=admin)
            project(community, ProjectStatus.IN_PROGRESS, 30)

    login(admin)
    fill(1)
    few = queries_of(client, f"/streets/{street.id}")
    fill(4)
    many = queries_of(client, f"/streets/{street.id}")
    assert many == few
    assert few <= 20
