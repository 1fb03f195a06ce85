"""Intake by those who hear it: a secretary or grid worker raises a request
for a resident with an account or without one, with its channel; who may
see a request (``can_view`` and the API's list)."""

from __future__ import annotations

import io

import pytest
from conftest import field_errors, flashes
from intake_helpers import INTAKE, log_for_resident, make_grid, make_street
from project_helpers import image_bytes
from query_count import counting_queries
from request_helpers import fresh, notifications_of, raise_request, requests_in

from meetings.errors import NotAllowed, ValidationFailed
from meetings.minutes.services import answer_requesters
from meetings.requests import services
from meetings.requests.models import RequestChannel, RequestStatus

pytest_plugins = ["meeting_fixtures"]


@pytest.fixture
def grid_leader(make_user, community):
    return make_user("shijie", community=community, display_name="邹文静")


@pytest.fixture
def grid_member(make_user, community):
    return make_user("gridmember", community=community, display_name="网格员小李")


@pytest.fixture
def grid(community, grid_leader, grid_member):
    return make_grid(community, leader=grid_leader, members=(grid_member,))


@pytest.fixture
def other_grid_leader(make_user, other_community):
    """A grid leader of another community."""
    leader = make_user("otherleader", community=other_community, display_name="周网格长")
    make_grid(other_community, "星怡一网格", leader=leader)
    return leader


@pytest.fixture
def neighbour(make_user, community):
    return make_user("neighbour", community=community, display_name="李大爷")


def api_body(community, **overrides) -> dict:
    return {
        "community_id": community.id,
        "title": INTAKE["title"],
        "description": INTAKE["description"],
        "category": INTAKE["category"],
        "location": INTAKE["location"],
    } | overrides


BEHALF = {"name": "王阿姨", "phone": "138 0000 1234", "building": "3栋2单元"}


# --- the web form ----------------------------------------------------------------------


def test_grid_leader_logs_a_concern_for_a_resident_without_an_account(
    english, login, grid, grid_leader, secretary, community
):
    login(grid_leader)
    page = english.get("/requests/intake")
    assert page.status_code == 200
    assert "Log a concern for a resident" in page.get_data(as_text=True)

    response = english.post("/requests/intake", data=INTAKE | {"community_id": community.id})

    assert response.status_code == 302
    [item] = requests_in(community)
    assert item.requester is None
    assert (item.resident_name, item.resident_phone, item.building) == (
        "王阿姨",
        "138 0000 1234",
        "3栋2单元",
    )
    assert item.channel == RequestChannel.WECHAT_GROUP
    assert item.raised_by == grid_leader
    assert item.status == RequestStatus.SUBMITTED
    assert notifications_of(secretary, "request.submitted")
    page = english.get(response.location).get_data(as_text=True)
    assert "The concern of 王阿姨 was logged." in flashes(page)
    assert "WeChat group" in page
    assert "138 0000 1234" in page  # the one who raised it sees the phone


def test_intake_with_photos(english, login, grid, grid_leader, community):
    login(grid_leader)
    response = english.post(
        "/requests/intake",
        data=INTAKE
        | {
            "community_id": community.id,
            "photos": [
                (io.BytesIO(image_bytes("PNG")), "a.png"),
                (io.BytesIO(image_bytes("JPEG")), "b.jpg"),
            ],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    [item] = requests_in(community)
    assert [photo.file.content_type for photo in item.photos] == ["image/png", "image/jpeg"]


def test_intake_refuses_a_file_that_is_no_photo_and_saves_nothing(
    english, login, grid, grid_leader, community
):
    login(grid_leader)
    response = english.post(
        "/requests/intake",
        data=INTAKE
        | {
            "community_id": community.id,
            "photos": [(io.BytesIO(b"<svg></svg>"), "evil.png")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "photos") == [
        "Only photos in JPEG, PNG or WebP format can be added."
    ]
    assert requests_in(community) == []


def test_intake_shows_errors_next_to_the_fields(english, login, grid, grid_leader, community):
    login(grid_leader)
    response = english.post(
        "/requests/intake",
        data=INTAKE
        | {"community_id": community.id, "resident_name": " ", "channel": "", "title": ""},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert field_errors(page, "title") == ["Please say in a few words what it is about."]
    assert requests_in(community) == []
    # the resident's details and the channel are checked with the rest of the form
    response = english.post(
        "/requests/intake",
        data=INTAKE
        | {
            "community_id": community.id,
            "resident_name": " ",
            "channel": "",
            "resident_phone": "call me",
        },
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert field_errors(page, "resident_name") == [
        "Please give the resident's name, e.g. “王阿姨”."
    ]
    assert field_errors(page, "channel") == ["Please say how the concern reached you."]
    assert field_errors(page, "resident_phone")
    assert requests_in(community) == []


def test_grid_member_raises_for_a_resident_with_an_account(
    english, login, grid, grid_member, resident, community
):
    login(grid_member)
    response = english.post(
        "/requests/intake",
        data=INTAKE
        | {
            "community_id": community.id,
            "has_account": "yes",
            "on_behalf_of": resident.username,
            "channel": "home_visit",
        },
    )
    assert response.status_code == 302
    [item] = requests_in(community)
    assert item.requester == resident
    assert item.raised_by == grid_member
    assert item.channel == RequestChannel.HOME_VISIT
    assert notifications_of(resident, "request.raised_for_you")


def test_resident_with_an_account_must_be_chosen(english, login, grid, grid_member, community):
    login(grid_member)
    response = english.post(
        "/requests/intake",
        data=INTAKE | {"community_id": community.id, "has_account": "yes", "on_behalf_of": ""},
    )
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "on_behalf_of") == [
        "Please choose the resident you raise this request for."
    ]


@pytest.mark.parametrize("who", ["resident", "other_grid_leader", "other_secretary"])
def test_intake_is_for_secretaries_and_grid_workers_of_the_community(
    request, client, login, grid, community, who
):
    login(request.getfixturevalue(who))
    response = client.post("/requests/intake", data=INTAKE | {"community_id": community.id})
    if who == "resident":
        assert response.status_code == 403
    else:
        # a community they do not work in is not among the choices
        assert response.status_code == 422
    assert requests_in(community) == []


def test_secretary_uses_the_intake_form(english, login, secretary, community):
    login(secretary)
    response = english.post("/requests/intake", data=INTAKE | {"community_id": community.id})
    assert response.status_code == 302
    [item] = requests_in(community)
    assert item.raised_by == secretary and item.requester is None


def test_anonymous_is_asked_to_log_in(client):
    response = client.get("/requests/intake")
    assert response.status_code == 302
    assert "/auth/login" in response.location


# --- the services ---------------------------------------------------------------------------


def test_services_check_who_takes_in(
    db, grid, resident, grid_member, other_grid_leader, other_secretary, community
):
    with pytest.raises(NotAllowed):
        log_for_resident(resident, community)
    with pytest.raises(NotAllowed):
        log_for_resident(other_grid_leader, community)
    with pytest.raises(NotAllowed):
        log_for_resident(other_secretary, community)
    item = log_for_resident(grid_member, community)
    assert item.raised_by == grid_member


def test_channel_is_needed_on_behalf_and_cannot_be_app(db, grid, grid_member, community):
    for channel in (None, "", "app", "carrier_pigeon"):
        with pytest.raises(ValidationFailed) as refused:
            services.raise_for_resident(
                grid_member,
                community,
                services.ResidentDetails("王阿姨"),
                services.RequestDraft("漏水", "楼上漏水", "property_service", "3栋"),
                channel,
            )
        assert set(refused.value.fields) == {"channel"}


def test_resident_request_defaults_to_the_app_channel(db, resident, community):
    assert raise_request(resident, community).channel == RequestChannel.APP


def test_no_notification_to_a_resident_without_an_account(
    db, grid, grid_leader, secretary, community
):
    item = log_for_resident(grid_leader, community)
    services.reply_to_request(secretary, item, "answer", "物业明天上门维修。")
    assert fresh(item).status == RequestStatus.ANSWERED
    assert notifications_of(grid_leader, "request.answered") == []


# --- the API ------------------------------------------------------------------------------------


def test_api_grid_worker_raises_for_a_resident_without_an_account(
    client, bearer, grid, grid_member, secretary, community
):
    response = client.post(
        "/api/v1/requests",
        json=api_body(community, on_behalf_of=BEHALF, channel="phone"),
        headers=bearer(grid_member),
    )
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    assert data["requester"] is None
    assert data["channel"] == "phone"
    assert data["resident"] == {
        "name": "王阿姨",
        "phone": "138 0000 1234",
        "building": "3栋2单元",
        "has_account": False,
    }
    assert data["raised_by"]["id"] == grid_member.id
    # the secretary sees the phone; street staff would not (below)
    seen = client.get(f"/api/v1/requests/{data['id']}", headers=bearer(secretary)).get_json()
    assert seen["resident"]["phone"] == "138 0000 1234"


def test_api_on_behalf_needs_a_channel_and_a_name(client, bearer, grid, grid_member, community):
    response = client.post(
        "/api/v1/requests",
        json=api_body(community, on_behalf_of={"name": ""}),
        headers=bearer(grid_member),
    )
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"on_behalf_of.name"}
    response = client.post(
        "/api/v1/requests",
        json=api_body(community, on_behalf_of={"name": "王阿姨"}),
        headers=bearer(grid_member),
    )
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"channel"}
    assert requests_in(community) == []


@pytest.mark.parametrize("who", ["resident", "other_grid_leader", "other_secretary"])
def test_api_on_behalf_is_refused_to_others(request, client, bearer, grid, community, who):
    response = client.post(
        "/api/v1/requests",
        json=api_body(community, on_behalf_of=BEHALF, channel="phone"),
        headers=bearer(request.getfixturevalue(who)),
    )
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"
    assert requests_in(community) == []


def test_api_grid_worker_raises_for_a_resident_with_an_account(
    client, bearer, grid, grid_leader, resident, community
):
    response = client.post(
        "/api/v1/requests",
        json=api_body(community, requester_id=resident.id, channel="home_visit"),
        headers=bearer(grid_leader),
    )
    assert response.status_code == 201
    data = response.get_json()
    assert data["requester"]["id"] == resident.id
    assert data["resident"]["has_account"] is True
    assert data["channel"] == "home_visit"


def test_api_requester_id_alone_keeps_working_as_a_walk_in(
    client, bearer, secretary, resident, community
):
    response = client.post(
        "/api/v1/requests",
        json=api_body(community, requester_id=resident.id),
        headers=bearer(secretary),
    )
    assert response.status_code == 201
    assert response.get_json()["channel"] == "walk_in"


def test_api_both_kinds_of_resident_at_once_are_refused(
    client, bearer, secretary, resident, community
):
    response = client.post(
        "/api/v1/requests",
        json=api_body(community, requester_id=resident.id, on_behalf_of=BEHALF, channel="phone"),
        headers=bearer(secretary),
    )
    assert response.status_code == 422
    assert "on_behalf_of" in response.get_json()["error"]["fields"]


def test_api_resident_raises_with_the_qr_channel(client, bearer, resident, community):
    response = client.post(
        "/api/v1/requests",
        json=api_body(community, channel="building_qr"),
        headers=bearer(resident),
    )
    assert response.status_code == 201
    assert response.get_json()["channel"] == "building_qr"


# --- who may see a request ------------------------------------------------------------------


@pytest.fixture
def street_staff(make_user, community):
    person = make_user("streetstaff", display_name="街道小张")
    make_street("中兴街道办", community, staff=(person,))
    return person


@pytest.fixture
def other_street_staff(make_user, other_community):
    person = make_user("otherstreet", display_name="竹行街道小周")
    make_street("竹行街道办", other_community, staff=(person,))
    return person


def test_who_sees_a_request_raised_for_a_resident(
    db,
    grid,
    grid_leader,
    grid_member,
    secretary,
    resident,
    neighbour,
    other_grid_leader,
    other_secretary,
    street_staff,
    other_street_staff,
    community,
):
    item = log_for_resident(grid_member, community)
    assert services.can_view(grid_member, item)  # raised it
    assert services.can_view(secretary, item)
    assert services.can_view(street_staff, item)  # reading only
    assert not services.can_handle(street_staff, item)
    assert not services.can_reply(street_staff, item)
    for stranger in (resident, neighbour, grid_leader, other_grid_leader, other_secretary):
        assert not services.can_view(stranger, item), stranger
    assert not services.can_view(other_street_staff, item)
    assert not services.can_view(None, item)

    # dispatched to the grid: its workers see it (the order workflow sets these)
    item.assignee_grid_id = grid.id
    db.session.flush()
    assert services.can_view(grid_leader, item)
    assert not services.can_view(other_grid_leader, item)


def test_the_api_list_shows_the_same_in_one_query(
    db,
    client,
    bearer,
    grid,
    grid_leader,
    grid_member,
    secretary,
    resident,
    other_grid_leader,
    street_staff,
    other_street_staff,
    community,
):
    own = raise_request(resident, community, title="居民自己的")
    logged = log_for_resident(grid_member, community, title="网格员记的")
    dispatched = log_for_resident(secretary, community, title="派给网格的")
    dispatched.assignee_grid_id = grid.id
    db.session.flush()

    def titles(user):
        response = client.get("/api/v1/requests", headers=bearer(user))
        assert response.status_code == 200
        return sorted(item["title"] for item in response.get_json()["items"])

    assert titles(resident) == [own.title]
    assert titles(grid_member) == sorted([logged.title, dispatched.title])
    assert titles(grid_leader) == [dispatched.title]
    assert titles(other_grid_leader) == []
    assert titles(street_staff) == sorted([own.title, logged.title, dispatched.title])
    assert titles(other_street_staff) == []
    for item in (own, logged, dispatched):
        assert services.can_view(grid_member, item) == (item.title in titles(grid_member))

    statement = services.visible_requests(street_staff)
    db.session.expire_all()
    with counting_queries() as statements:
        list(db.session.scalars(statement).unique())
    # the requests with their people (one SELECT), and the meetings of them all
    assert len(statements) == 2, statements


def test_street_staff_get_the_request_without_the_phone(
    client, bearer, grid, grid_member, street_staff, other_street_staff, community
):
    item = log_for_resident(grid_member, community)
    response = client.get(f"/api/v1/requests/{item.id}", headers=bearer(street_staff))
    assert response.status_code == 200
    assert response.get_json()["resident"]["phone"] is None
    assert response.get_json()["contact"] is None
    response = client.post(
        f"/api/v1/requests/{item.id}/reply",
        json={"action": "answer", "message": "好"},
        headers=bearer(street_staff),
    )
    assert response.status_code == 403
    response = client.get(f"/api/v1/requests/{item.id}", headers=bearer(other_street_staff))
    assert response.status_code == 403


def test_request_page_of_a_resident_without_an_account(
    english, login, grid, grid_member, secretary, community
):
    item = log_for_resident(grid_member, community)
    login(secretary)
    page = english.get(f"/requests/{item.id}").get_data(as_text=True)
    assert "王阿姨" in page and "(no account)" in page
    inbox = english.get(f"/communities/{community.id}/requests").get_data(as_text=True)
    assert "王阿姨" in inbox
    response = english.post(
        f"/requests/{item.id}/reply", data={"action": "answer", "message": "物业明天来。"}
    )
    assert response.status_code == 302


def test_my_requests_lists_what_a_grid_worker_raised(english, login, grid, grid_member, community):
    log_for_resident(grid_member, community)
    login(grid_member)
    page = english.get("/requests/mine").get_data(as_text=True)
    assert "卫生间漏水" in page and "For 王阿姨" in page
    assert "Log a concern for a resident" in page


# --- through a meeting ---------------------------------------------------------------------


def test_a_request_without_an_account_goes_through_a_meeting(
    db, make_meeting, grid, grid_member, secretary, community
):
    """Scheduling, the minutes' answer to requesters and the topic pickers
    take a request whose resident has no account (nobody to notify)."""
    item = log_for_resident(grid_member, community)
    services.reply_to_request(secretary, item, "accept", None)
    meeting = make_meeting("scheduled", request_ids=[item.id])
    assert fresh(item).status == RequestStatus.SCHEDULED
    answer_requesters(secretary, meeting)
    assert notifications_of(grid_member, "minutes.published") == []
