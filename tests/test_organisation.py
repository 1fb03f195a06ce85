"""The organisation's pages: streets (the administrator's), a community's
members with a standing role, grids, units, and the accounts picker; who
may open and post each."""

from __future__ import annotations

import pytest
from conftest import field_errors, flashes

from meetings.extensions import db
from meetings.organisation.models import Grid, Street, Unit

pytest_plugins = ["meeting_fixtures", "organisation_fixtures"]


# --- streets ----------------------------------------------------------------------------


def test_admin_creates_a_street_adds_staff_and_a_community(
    english, login, admin, community, make_user
):
    official = make_user("liuzr", display_name="刘主任")
    login(admin)
    response = english.post("/streets/new", data={"name": "中兴街道", "district": "开发区"})
    assert response.status_code == 302
    street = db.session.scalar(db.select(Street).where(Street.name == "中兴街道"))
    staff = english.post(f"/streets/{street.id}/staff", data={"person": "liuzr"})
    assert staff.status_code == 302
    assigned = english.post(
        f"/streets/{street.id}/communities", data={"community_id": community.id}
    )
    assert assigned.status_code == 302
    page = english.get(f"/streets/{street.id}/manage").get_data(as_text=True)
    assert "刘主任" in page and community.name in page
    db.session.expire_all()
    assert (community.street_id, community.street) == (street.id, "中兴街道")
    assert [s.user_id for s in street.staff] == [official.id]
    removed = english.post(f"/streets/{street.id}/staff/{official.id}/remove")
    assert removed.status_code == 302
    db.session.expire_all()
    assert street.staff == []


def test_a_typed_name_that_names_nobody_is_shown_next_to_the_field(english, login, admin, street):
    login(admin)
    response = english.post(f"/streets/{street.id}/staff", data={"person": "nobody-here"})
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "person")


@pytest.mark.parametrize("who", ["secretary", "street_official", "resident"])
def test_only_an_admin_manages_streets(client, login, request, street, who):
    login(request.getfixturevalue(who))
    assert client.get("/streets/new").status_code == 403
    assert client.get(f"/streets/{street.id}/manage").status_code == 403
    assert client.post(f"/streets/{street.id}/staff", data={"person": "root"}).status_code == 403


def test_a_community_created_with_a_street_name_gets_its_record(english, login, admin, street):
    login(admin)
    response = english.post("/admin/communities/new", data={"name": "新社区", "street": "中兴街道"})
    assert response.status_code == 302
    db.session.expire_all()
    assert "新社区" in {c.name for c in street.communities}


# --- members with a standing role -------------------------------------------------------


def test_secretary_adds_a_person_of_another_community_with_a_standing_role(
    english, login, secretary, community, other_community, cppcc_member
):
    login(secretary)
    response = english.post(
        f"/communities/{community.id}/members",
        data={"person": "cppcc", "standing_role": "cppcc_member"},
    )
    assert response.status_code == 302
    page = english.get(response.headers["Location"]).get_data(as_text=True)
    assert "区政协委员赵 is now a member of 东篱社区." in flashes(page)
    db.session.expire_all()
    memberships = {m.community_id: m.standing_role for m in cppcc_member.memberships}
    assert memberships == {other_community.id: None, community.id: "cppcc_member"}
    # a second time: said next to the field
    again = english.post(f"/communities/{community.id}/members", data={"person": "cppcc"})
    assert again.status_code == 422
    assert "already a member" in " ".join(field_errors(again.get_data(as_text=True), "person"))


def test_secretary_changes_a_members_standing_role(english, login, secretary, community, resident):
    login(secretary)
    response = english.post(
        f"/communities/{community.id}/members/{resident.id}/role",
        data={"standing_role": "owners_committee_rep"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert resident.membership_in(community.id).standing_role == "owners_committee_rep"
    page = english.get(f"/communities/{community.id}/accounts").get_data(as_text=True)
    assert '<option value="owners_committee_rep" selected>' in page


@pytest.mark.parametrize(
    "who", ["other_secretary", "street_official", "our_grid_leader", "resident"]
)
def test_others_do_not_add_members(client, login, request, community, cppcc_member, resident, who):
    login(request.getfixturevalue(who))
    added = client.post(f"/communities/{community.id}/members", data={"person": "cppcc"})
    assert added.status_code == 403
    role = client.post(
        f"/communities/{community.id}/members/{resident.id}/role", data={"standing_role": "expert"}
    )
    assert role.status_code == 403


def test_the_accounts_picker_finds_people_of_other_communities(
    client, login, secretary, cppcc_member, resident
):
    login(secretary)
    found = client.get("/accounts/find?q=政协").get_json()
    assert [item["username"] for item in found["items"]] == ["cppcc"]
    assert client.get("/accounts/find?q=政").get_json()["items"] == []  # too short
    client.post("/auth/logout")
    login(resident)
    assert client.get("/accounts/find?q=政协").status_code == 403


# --- grids ------------------------------------------------------------------------------


def test_secretary_creates_a_grid_with_its_buildings_and_people(
    english, login, secretary, community, our_grid_leader, resident
):
    login(secretary)
    response = english.post(
        f"/communities/{community.id}/grids",
        data={"name": "第三网格", "buildings": "1栋、2栋, 3栋\n4栋，5栋"},
    )
    assert response.status_code == 302
    our_grid = db.session.scalar(db.select(Grid).where(Grid.name == "第三网格"))
    assert our_grid.buildings == ["1栋", "2栋", "3栋", "4栋", "5栋"]
    leader = english.post(
        f"/grids/{our_grid.id}/members", data={"person": "gridleader", "is_leader": "y"}
    )
    assert leader.status_code == 302
    member = english.post(f"/grids/{our_grid.id}/members", data={"person": "resident"})
    assert member.status_code == 302
    page = english.get(f"/grids/{our_grid.id}").get_data(as_text=True)
    assert "邹文静" in page and "王阿姨" in page and "Grid leader" in page
    # removing someone asks first (static/js/confirm.js)
    assert 'data-confirm="Remove 王阿姨 from 第三网格?"' in page
    toggled = english.post(f"/grids/{our_grid.id}/members/{resident.id}/leader")
    assert toggled.status_code == 302
    db.session.expire_all()
    assert {u.display_name for u in our_grid.leaders} == {"邹文静", "王阿姨"}
    edited = english.post(
        f"/grids/{our_grid.id}/edit", data={"name": "第三网格", "buildings": "6栋"}
    )
    assert edited.status_code == 302
    removed = english.post(f"/grids/{our_grid.id}/members/{resident.id}/remove")
    assert removed.status_code == 302
    db.session.expire_all()
    assert our_grid.buildings == ["6栋"]
    assert [m.user_id for m in our_grid.members] == [our_grid_leader.id]


def test_only_members_of_the_community_join_its_grid(
    english, login, secretary, our_grid, cppcc_member
):
    login(secretary)
    response = english.post(f"/grids/{our_grid.id}/members", data={"person": "cppcc"})
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "person")


def test_a_grid_name_is_unique_in_its_community(english, login, secretary, community, our_grid):
    login(secretary)
    response = english.post(f"/communities/{community.id}/grids", data={"name": "第一网格"})
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "name")


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("secretary", 200),
        ("our_grid_leader", 200),
        ("street_official", 200),
        ("admin", 200),
        ("other_official", 403),
        ("other_secretary", 403),
        ("their_grid_leader", 403),
        ("resident", 403),
    ],
)
def test_who_sees_the_grids(client, login, request, community, our_grid, who, sees):
    login(request.getfixturevalue(who))
    assert client.get(f"/communities/{community.id}/grids").status_code == sees
    assert client.get(f"/grids/{our_grid.id}").status_code == sees


@pytest.mark.parametrize("who", ["our_grid_leader", "street_official", "other_secretary"])
def test_only_the_secretary_changes_grids(
    client, login, request, community, our_grid, resident, who
):
    login(request.getfixturevalue(who))
    assert client.post(f"/communities/{community.id}/grids", data={"name": "x"}).status_code == 403
    assert client.get(f"/grids/{our_grid.id}/edit").status_code == 403
    assert (
        client.post(f"/grids/{our_grid.id}/members", data={"person": "resident"}).status_code == 403
    )


def test_grid_pages_ask_anonymous_visitors_to_sign_in(client, community, our_grid):
    for url in (
        f"/communities/{community.id}/grids",
        f"/grids/{our_grid.id}",
        "/units",
        "/streets",
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


# --- units ------------------------------------------------------------------------------


def test_secretary_creates_a_unit_and_adds_its_staff(
    english, login, secretary, community, make_user
):
    make_user("jiaojing", display_name="交警老张")
    login(secretary)
    response = english.post(
        "/units/new",
        data={"name": "交警中队", "kind": "department", "community_ids": [community.id]},
    )
    assert response.status_code == 302
    unit = db.session.scalar(db.select(Unit).where(Unit.name == "交警中队"))
    added = english.post(f"/units/{unit.id}/members", data={"person": "jiaojing"})
    assert added.status_code == 302
    page = english.get(f"/units/{unit.id}").get_data(as_text=True)
    assert "交警老张" in page and community.name in page
    listed = english.get("/units").get_data(as_text=True)
    assert "交警中队" in listed


def test_a_unit_form_offers_only_the_secretarys_communities(
    english, login, secretary, community, other_community
):
    login(secretary)
    response = english.post(
        "/units/new",
        data={"name": "别家单位", "kind": "partner_unit", "community_ids": [other_community.id]},
    )
    assert response.status_code == 422
    assert db.session.scalar(db.select(Unit).where(Unit.name == "别家单位")) is None


@pytest.mark.parametrize(
    ("who", "sees", "manages"),
    [
        ("admin", 200, True),
        ("secretary", 200, True),
        ("unit_staff", 200, False),
        ("other_secretary", 403, False),
        ("resident", 403, False),
        ("street_official", 403, False),
    ],
)
def test_who_sees_and_manages_a_unit(client, login, request, unit, make_user, who, sees, manages):
    make_user("newstaff", display_name="新员工")
    login(request.getfixturevalue(who))
    assert client.get(f"/units/{unit.id}").status_code == sees
    added = client.post(f"/units/{unit.id}/members", data={"person": "newstaff"})
    assert added.status_code == (302 if manages else 403)


def test_removing_a_unit_member(english, login, secretary, unit, unit_staff):
    login(secretary)
    assert english.post(f"/units/{unit.id}/members/{unit_staff.id}/remove").status_code == 302
    db.session.expire_all()
    assert unit.members == []


def test_residents_without_units_see_no_unit_list(client, login, resident, unit_staff, unit):
    login(resident)
    assert client.get("/units").status_code == 403
    client.post("/auth/logout")
    login(unit_staff)
    assert client.get("/units").status_code == 200
