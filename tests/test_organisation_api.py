"""The organisation's API: streets and their staff, a community's members
with a standing role, grids, units; who may call each endpoint."""

from __future__ import annotations

import pytest

from auth.models import Community
from meetings.extensions import db
from meetings.organisation.models import Grid, Street, Unit

pytest_plugins = ["meeting_fixtures", "organisation_fixtures"]


def error_of(response) -> dict:
    return response.get_json()["error"]


# --- streets ----------------------------------------------------------------------------


def test_admin_creates_a_street_once(client, bearer, admin):
    response = client.post(
        "/api/v1/streets", json={"name": "中兴街道", "district": "开发区"}, headers=bearer(admin)
    )
    assert response.status_code == 201
    body = response.get_json()
    assert (body["name"], body["district"], body["communities"]) == ("中兴街道", "开发区", [])
    again = client.post("/api/v1/streets", json={"name": "中兴街道"}, headers=bearer(admin))
    assert again.status_code == 409
    assert error_of(again)["code"] == "conflict"


@pytest.mark.parametrize("who", ["secretary", "resident", "street_official"])
def test_only_an_admin_creates_streets(client, bearer, request, who, street):
    user = request.getfixturevalue(who)
    response = client.post("/api/v1/streets", json={"name": "新街道"}, headers=bearer(user))
    assert response.status_code == 403
    assert client.post("/api/v1/streets", json={"name": "新街道"}).status_code == 401


def test_admin_puts_an_account_on_the_street_staff(client, bearer, admin, street, make_user):
    official = make_user("liu", display_name="刘科长")
    url = f"/api/v1/streets/{street.id}/staff"
    response = client.post(url, json={"user_id": official.id}, headers=bearer(admin))
    assert response.status_code == 201
    assert response.get_json() == {
        "street_id": street.id,
        "user_id": official.id,
        "display_name": "刘科长",
    }
    assert client.post(url, json={"user_id": official.id}, headers=bearer(admin)).status_code == 409
    unknown = client.post(url, json={"user_id": 999999}, headers=bearer(admin))
    assert unknown.status_code == 422
    assert "user_id" in error_of(unknown)["fields"]


def test_street_is_seen_by_its_staff_not_by_another_streets(
    client, bearer, street, street_official, other_official, secretary, community
):
    url = f"/api/v1/streets/{street.id}"
    response = client.get(url, headers=bearer(street_official))
    assert response.status_code == 200
    body = response.get_json()
    assert body["communities"] == [{"id": community.id, "name": community.name}]
    assert body["staff"] == [{"user_id": street_official.id, "display_name": "街道刘主任"}]
    assert client.get(url, headers=bearer(other_official)).status_code == 403
    assert client.get(url, headers=bearer(secretary)).status_code == 403
    assert client.get("/api/v1/streets/999999", headers=bearer(street_official)).status_code == 404


def test_a_community_is_created_under_a_street_record(client, bearer, admin, street):
    by_id = client.post(
        "/api/v1/communities",
        json={"name": "新社区", "street_id": street.id},
        headers=bearer(admin),
    )
    assert by_id.status_code == 201
    assert (by_id.get_json()["street"], by_id.get_json()["street_id"]) == ("中兴街道", street.id)
    # by name: linked to the record of that name …
    by_name = client.post(
        "/api/v1/communities",
        json={"name": "又一社区", "street": "中兴街道"},
        headers=bearer(admin),
    )
    assert by_name.get_json()["street_id"] == street.id
    # … created when there is none
    new = client.post(
        "/api/v1/communities",
        json={"name": "远方社区", "street": "远方街道"},
        headers=bearer(admin),
    )
    assert new.status_code == 201
    created = db.session.get(Street, new.get_json()["street_id"])
    assert created.name == "远方街道"
    assert [c.name for c in created.communities] == ["远方社区"]


def test_a_community_needs_a_street(client, bearer, admin):
    neither = client.post("/api/v1/communities", json={"name": "无街社区"}, headers=bearer(admin))
    assert neither.status_code == 422
    assert "street" in error_of(neither)["fields"]
    unknown = client.post(
        "/api/v1/communities", json={"name": "无街社区", "street_id": 999999}, headers=bearer(admin)
    )
    assert unknown.status_code == 422
    assert "street_id" in error_of(unknown)["fields"]


# --- members with a standing role -------------------------------------------------------


def test_secretary_adds_a_member_of_another_community_with_a_standing_role(
    client, bearer, secretary, community, other_community, cppcc_member
):
    url = f"/api/v1/communities/{community.id}/members"
    response = client.post(
        url,
        json={"user_id": cppcc_member.id, "standing_role": "cppcc_member"},
        headers=bearer(secretary),
    )
    assert response.status_code == 201
    assert response.get_json()["standing_role"] == "cppcc_member"
    db.session.expire_all()
    assert {m.community_id for m in cppcc_member.memberships} == {community.id, other_community.id}
    # a second add is a conflict; the role changes with PATCH
    again = client.post(url, json={"user_id": cppcc_member.id}, headers=bearer(secretary))
    assert again.status_code == 409
    patched = client.patch(
        f"{url}/{cppcc_member.id}", json={"standing_role": "expert"}, headers=bearer(secretary)
    )
    assert patched.status_code == 200
    assert patched.get_json()["standing_role"] == "expert"
    cleared = client.patch(
        f"{url}/{cppcc_member.id}", json={"standing_role": None}, headers=bearer(secretary)
    )
    assert cleared.get_json()["standing_role"] is None


def test_a_standing_role_is_an_attendee_role(client, bearer, secretary, community, cppcc_member):
    response = client.post(
        f"/api/v1/communities/{community.id}/members",
        json={"user_id": cppcc_member.id, "standing_role": "mayor"},
        headers=bearer(secretary),
    )
    assert response.status_code == 422
    assert "standing_role" in error_of(response)["fields"]


def test_members_are_added_by_the_communitys_secretary_only(
    client,
    bearer,
    other_secretary,
    community,
    cppcc_member,
    our_grid_leader,
    street_official,
    resident,
):
    url = f"/api/v1/communities/{community.id}/members"
    for user in (other_secretary, our_grid_leader, street_official, resident):
        response = client.post(url, json={"user_id": cppcc_member.id}, headers=bearer(user))
        assert response.status_code == 403, user
    assert client.post(url, json={"user_id": cppcc_member.id}).status_code == 401
    not_member = client.patch(
        f"{url}/{cppcc_member.id}",
        json={"standing_role": "expert"},
        headers=bearer(street_official),
    )
    assert not_member.status_code == 403


def test_changing_the_role_of_a_non_member_is_not_found(
    client, bearer, secretary, community, cppcc_member
):
    url = f"/api/v1/communities/{community.id}/members/{cppcc_member.id}"
    response = client.patch(url, json={"standing_role": "expert"}, headers=bearer(secretary))
    assert response.status_code == 404


# --- grids ------------------------------------------------------------------------------


def test_secretary_creates_a_grid_and_adds_its_leader(
    client, bearer, secretary, community, make_user
):
    response = client.post(
        f"/api/v1/communities/{community.id}/grids",
        json={"name": "第二网格", "buildings": ["3栋", "4栋", "3栋"]},
        headers=bearer(secretary),
    )
    assert response.status_code == 201
    our_grid = response.get_json()
    assert (our_grid["name"], our_grid["buildings"], our_grid["members"]) == (
        "第二网格",
        ["3栋", "4栋"],
        [],
    )
    leader = make_user(community=community, display_name="王网格长")
    added = client.post(
        f"/api/v1/grids/{our_grid['id']}/members",
        json={"user_id": leader.id, "is_leader": True},
        headers=bearer(secretary),
    )
    assert added.status_code == 201
    assert added.get_json()["is_leader"] is True
    again = client.post(
        f"/api/v1/grids/{our_grid['id']}/members",
        json={"user_id": leader.id},
        headers=bearer(secretary),
    )
    assert again.status_code == 409
    same_name = client.post(
        f"/api/v1/communities/{community.id}/grids",
        json={"name": "第二网格"},
        headers=bearer(secretary),
    )
    assert same_name.status_code == 409


def test_a_grid_member_must_be_a_member_of_its_community(
    client, bearer, secretary, our_grid, cppcc_member
):
    response = client.post(
        f"/api/v1/grids/{our_grid.id}/members",
        json={"user_id": cppcc_member.id},
        headers=bearer(secretary),
    )
    assert response.status_code == 422
    assert "东篱社区" in error_of(response)["fields"]["user_id"][0]


def test_grids_are_seen_by_secretary_grid_workers_and_street_staff(
    client,
    bearer,
    our_grid,
    community,
    secretary,
    our_grid_leader,
    street_official,
    other_official,
    other_secretary,
    their_grid_leader,
    resident,
):
    for url in (f"/api/v1/communities/{community.id}/grids", f"/api/v1/grids/{our_grid.id}"):
        for user in (secretary, our_grid_leader, street_official):
            assert client.get(url, headers=bearer(user)).status_code == 200, (url, user)
        for user in (other_official, other_secretary, their_grid_leader, resident):
            assert client.get(url, headers=bearer(user)).status_code == 403, (url, user)
    listed = client.get(
        f"/api/v1/communities/{community.id}/grids", headers=bearer(our_grid_leader)
    )
    [item] = listed.get_json()["items"]
    assert item["members"] == [
        {
            "grid_id": our_grid.id,
            "user_id": our_grid_leader.id,
            "display_name": "邹文静",
            "is_leader": True,
        }
    ]


def test_a_grid_leader_does_not_manage_the_grid(
    client, bearer, our_grid, our_grid_leader, resident
):
    response = client.post(
        f"/api/v1/grids/{our_grid.id}/members",
        json={"user_id": resident.id},
        headers=bearer(our_grid_leader),
    )
    assert response.status_code == 403


# --- units ------------------------------------------------------------------------------


def test_admin_creates_a_unit_serving_several_communities(
    client, bearer, admin, community, other_community
):
    response = client.post(
        "/api/v1/units",
        json={
            "name": "交警大队",
            "kind": "department",
            "community_ids": [community.id, other_community.id],
        },
        headers=bearer(admin),
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["kind"] == "department"
    assert {c["id"] for c in body["communities"]} == {community.id, other_community.id}
    again = client.post(
        "/api/v1/units",
        json={"name": "交警大队", "kind": "department", "community_ids": [community.id]},
        headers=bearer(admin),
    )
    assert again.status_code == 409


def test_a_secretary_creates_units_for_their_own_communities_only(
    client, bearer, secretary, community, other_community
):
    own = client.post(
        "/api/v1/units",
        json={"name": "共建单位甲", "kind": "partner_unit", "community_ids": [community.id]},
        headers=bearer(secretary),
    )
    assert own.status_code == 201
    foreign = client.post(
        "/api/v1/units",
        json={"name": "共建单位乙", "kind": "partner_unit", "community_ids": [other_community.id]},
        headers=bearer(secretary),
    )
    assert foreign.status_code == 403
    assert db.session.scalar(db.select(Unit).where(Unit.name == "共建单位乙")) is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "甲", "kind": "bank", "community_ids": [1]}, "kind"),
        ({"name": "甲", "kind": "department", "community_ids": []}, "community_ids"),
        ({"name": "甲", "kind": "department", "community_ids": [999999]}, "community_ids"),
    ],
)
def test_a_unit_needs_a_kind_and_known_communities(client, bearer, admin, body, field):
    response = client.post("/api/v1/units", json=body, headers=bearer(admin))
    assert response.status_code == 422
    assert field in error_of(response)["fields"]


def test_residents_and_street_staff_do_not_create_units(
    client, bearer, resident, street_official, community
):
    body = {"name": "甲", "kind": "department", "community_ids": [community.id]}
    for user in (resident, street_official):
        assert client.post("/api/v1/units", json=body, headers=bearer(user)).status_code == 403


def test_unit_members_are_added_by_a_secretary_of_a_served_community(
    client, bearer, unit, secretary, other_secretary, unit_staff, make_user
):
    newcomer = make_user("wuye2", display_name="物业小李")
    url = f"/api/v1/units/{unit.id}/members"
    assert (
        client.post(url, json={"user_id": newcomer.id}, headers=bearer(other_secretary)).status_code
        == 403
    )
    assert (
        client.post(url, json={"user_id": newcomer.id}, headers=bearer(unit_staff)).status_code
        == 403
    )
    response = client.post(url, json={"user_id": newcomer.id}, headers=bearer(secretary))
    assert response.status_code == 201
    assert response.get_json() == {
        "unit_id": unit.id,
        "user_id": newcomer.id,
        "display_name": "物业小李",
    }
    assert (
        client.post(url, json={"user_id": newcomer.id}, headers=bearer(secretary)).status_code
        == 409
    )


def test_who_sees_which_units(
    client, bearer, unit, admin, secretary, other_secretary, unit_staff, resident
):
    def names(user):
        return [
            u["name"] for u in client.get("/api/v1/units", headers=bearer(user)).get_json()["items"]
        ]

    assert names(admin) == names(secretary) == names(unit_staff) == ["绿城物业"]
    assert names(other_secretary) == names(resident) == []
    url = f"/api/v1/units/{unit.id}"
    for user in (admin, secretary, unit_staff):
        assert client.get(url, headers=bearer(user)).status_code == 200
    for user in (other_secretary, resident):
        assert client.get(url, headers=bearer(user)).status_code == 403
    body = client.get(url, headers=bearer(unit_staff)).get_json()
    assert body["members"] == [
        {"unit_id": unit.id, "user_id": unit_staff.id, "display_name": "物业小王"}
    ]
    assert body["kind_label"]


def test_a_street_record_keeps_the_community_street_text(admin, street, community, in_request):
    assert (community.street_id, community.street) == (street.id, "中兴街道")
    assert isinstance(community, Community)
    assert isinstance(street, Street)
    assert Grid.__tablename__ == "grid"
