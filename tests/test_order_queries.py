"""The SQL statements of issue 15's pages (issue 14's rule: a page's number
of statements does not grow with the data), the person's posts read once
per web request, and the API's list of requests answering ``can_view``."""

from __future__ import annotations

import io

import pytest
from intake_helpers import log_for_resident
from order_helpers import DUE, make_grid, make_unit
from project_helpers import image_bytes
from query_count import counting_queries, queries_of
from request_helpers import raise_request

from auth.models import Membership
from meetings.extensions import db
from meetings.organisation import roles
from meetings.organisation import services as organisation
from meetings.organisation.models import GridMember, Street, StreetStaff
from meetings.requests import orders, services
from meetings.requests.photos import add_request_photo

pytest_plugins = ["meeting_fixtures", "order_fixtures"]


def photo() -> io.BytesIO:
    return io.BytesIO(image_bytes())


# --- a request's page and answer --------------------------------------------------------


@pytest.mark.parametrize("who", ["property_staff", "secretary", "resident"])
@pytest.mark.parametrize("path", ["/requests/{id}", "/api/v1/requests/{id}"])
def test_a_request_with_an_order_takes_the_same_statements_however_many_steps_and_photos(
    client, login, bearer, request, make_order, property_staff, resident, in_request, who, path
):
    user = request.getfixturevalue(who)
    item = make_order("claimed")
    orders.add_step(property_staff, item, "上门查看")
    url = path.format(id=item.id)
    headers = bearer(user) if url.startswith("/api/") else {}
    if not headers:
        login(user)
    few = queries_of(client, url, headers=headers)

    for n in range(3):
        orders.add_step(property_staff, item, f"第{n + 2}次处理", [photo(), photo()])
    add_request_photo(resident, item, photo())
    add_request_photo(property_staff, item, photo())
    many = queries_of(client, url, headers=headers)

    assert many == few
    # issue 14's target is 20; the page was 25–31 before its posts were kept
    assert few <= 16, few


def test_the_request_page_reads_the_posts_once(client, login, make_order, property_staff):
    item = make_order("claimed")
    login(property_staff)
    with counting_queries() as statements:
        assert client.get(f"/requests/{item.id}").status_code == 200
    asked = [s for s in statements if "FROM unit_member" in s or "FROM grid_member" in s]
    assert len(asked) == 1, asked


# --- the person's posts within a request -----------------------------------------------------


def test_the_posts_kept_in_a_request_follow_a_change_of_them(
    app, community, make_user, grid_one, grid_two
):
    user = make_user(community=community)
    with app.test_request_context():
        assert roles.grid_ids_of(user) == set()
        db.session.add(GridMember(grid=grid_one, user=user))
        # waiting to be written: read again, not kept
        assert roles.grid_ids_of(user) == {grid_one.id}
        assert roles.is_grid_worker(user, community)
        member = GridMember(grid=grid_two, user=user, is_leader=True)
        db.session.add(member)
        db.session.flush()
        assert roles.grid_ids_of(user) == {grid_one.id, grid_two.id}
        assert roles.led_grid_ids(user) == {grid_two.id}
        db.session.delete(member)
        assert roles.grid_ids_of(user) == {grid_one.id}
        assert roles.led_grid_ids(user) == set()


def test_the_posts_are_kept_for_one_request_only(client, login, bearer, make_order, secretary):
    """Each request reads the posts again: a unit member removed between two
    requests no longer sees the order."""
    item = make_order("dispatched")
    staff = item.assignee_unit.members[0].user
    headers = bearer(staff)
    assert client.get(f"/api/v1/requests/{item.id}", headers=headers).status_code == 200
    organisation.remove_unit_member(secretary, item.assignee_unit, staff)
    db.session.flush()
    assert client.get(f"/api/v1/requests/{item.id}", headers=headers).status_code == 403


# --- the units --------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin", "secretary"])
def test_the_units_list_takes_the_same_statements_however_many_units_and_members(
    client, bearer, request, make_user, community, other_community, who
):
    user = request.getfixturevalue(who)

    def units(first: int, last: int) -> None:
        for n in range(first, last):
            members = [make_user() for _ in range(n % 3 + 1)]
            make_unit(f"单位{n}", [community, other_community], members)

    units(0, 2)
    few = queries_of(client, "/api/v1/units", headers=bearer(user))
    units(2, 8)
    response = client.get("/api/v1/units", headers=bearer(user))
    assert len(response.get_json()["items"]) == 8
    assert queries_of(client, "/api/v1/units", headers=bearer(user)) == few
    assert few <= 10, few


# --- who sees which request: the list and can_view -------------------------------------------


def test_the_requests_list_shows_exactly_the_requests_each_person_may_see(
    client,
    bearer,
    admin,
    community,
    other_community,
    make_user,
    secretary,
    other_secretary,
    resident,
    in_request,
):
    """``visible_requests`` and ``can_view`` are one rule: for each kind of
    person, the API's list is the requests ``can_view`` lets them see."""
    street = Street(name="中兴街道", district="开发区")
    db.session.add(street)
    community.street_record = street
    street_staff = make_user(display_name="街道干部")
    db.session.add(StreetStaff(street=street, user=street_staff))
    worker = make_user(community=community, display_name="网格员")
    grid = make_grid(community, "第一网格", [worker])
    staff = make_user(display_name="物业")
    unit = make_unit("物业公司", [community, other_community], [staff])
    person = make_user(community=community, display_name="党员")
    claimer = make_user(community=community, display_name="接单人")
    member_elsewhere = make_user(community=other_community, display_name="别的社区居民")
    stranger = make_user(display_name="路人")
    db.session.flush()

    own = raise_request(resident, community, title="自己的")
    raised = log_for_resident(worker, community, title="网格员代记的")
    to_grid = raise_request(resident, community, title="派给网格")
    orders.dispatch(secretary, to_grid, orders.AssigneeChoice("grid", grid.id), DUE)
    to_unit = raise_request(member_elsewhere, other_community, title="派给物业")
    orders.dispatch(other_secretary, to_unit, orders.AssigneeChoice("unit", unit.id), DUE)
    to_person = raise_request(resident, community, title="派给党员")
    orders.dispatch(secretary, to_person, orders.AssigneeChoice("user", person.id), DUE)
    claimed = raise_request(resident, community, title="已接单后改派")
    orders.dispatch(secretary, claimed, orders.AssigneeChoice("user", claimer.id), DUE)
    orders.claim(claimer, claimed)
    elsewhere = raise_request(member_elsewhere, other_community, title="别的社区的")
    every = [own, raised, to_grid, to_unit, to_person, claimed, elsewhere]
    db.session.flush()

    people = [
        admin,
        secretary,
        other_secretary,
        resident,
        street_staff,
        worker,
        staff,
        person,
        claimer,
        member_elsewhere,
        stranger,
    ]
    for user in people:
        response = client.get("/api/v1/requests?per_page=200", headers=bearer(user))
        assert response.status_code == 200
        listed = {entry["id"] for entry in response.get_json()["items"]}
        expected = {item.id for item in every if services.can_view(user, item)}
        assert listed == expected, user.display_name

    # each way of seeing one is there
    assert {item.id for item in every if services.can_view(stranger, item)} == set()
    assert services.can_view(street_staff, own) and not services.can_view(street_staff, elsewhere)
    assert services.can_view(staff, to_unit) and services.can_view(claimer, claimed)
    assert services.can_view(worker, to_grid) and services.can_view(person, to_person)


def test_a_secretary_of_two_communities_sees_the_requests_of_both(
    client, bearer, secretary, resident, community, other_community, make_user, in_request
):
    db.session.add(Membership(user=secretary, community=other_community, is_secretary=True))
    here = raise_request(resident, community, title="这里的")
    there = raise_request(make_user(community=other_community), other_community, title="那里的")
    db.session.flush()
    response = client.get("/api/v1/requests", headers=bearer(secretary))
    assert {entry["id"] for entry in response.get_json()["items"]} == {here.id, there.id}
