"""Photos on a request: who may add them (web and API), what is refused
(not a photo, too large, too many), and who may see them."""

from __future__ import annotations

import io

import pytest
from conftest import field_errors, flashes
from intake_helpers import log_for_resident, make_grid, make_street
from project_helpers import image_bytes
from request_helpers import fresh, raise_request, requests_in

from meetings.errors import InvalidTransition, NotAllowed, ValidationFailed
from meetings.projects import uploads
from meetings.projects.models import StoredFile
from meetings.requests import photos
from meetings.requests.models import RequestStatus, RequestStep


@pytest.fixture
def grid_leader(make_user, community):
    leader = make_user("shijie", community=community, display_name="邹文静")
    make_grid(community, leader=leader)
    return leader


@pytest.fixture
def other_grid_leader(make_user, other_community):
    leader = make_user("otherleader", community=other_community, display_name="周网格长")
    make_grid(other_community, "星怡一网格", leader=leader)
    return leader


@pytest.fixture
def neighbour(make_user, community):
    return make_user("neighbour", community=community, display_name="李大爷")


@pytest.fixture
def street_staff(make_user, community):
    person = make_user("streetstaff", display_name="街道小张")
    make_street("中兴街道办", community, staff=(person,))
    return person


def post_photo(client, item, headers, data: bytes = b"", name: str = "photo.png"):
    return client.post(
        f"/api/v1/requests/{item.id}/photos",
        data={"file": (io.BytesIO(data or image_bytes()), name)},
        content_type="multipart/form-data",
        headers=headers | {"Accept-Language": "en"},
    )


# --- the API ------------------------------------------------------------------------------


def test_resident_adds_a_photo_and_sees_it(client, bearer, resident, community):
    item = raise_request(resident, community)
    response = post_photo(client, item, bearer(resident))

    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    [photo] = fresh(item).photos
    assert data["id"] == photo.id
    assert data["url"] == f"/requests/photos/{photo.id}"
    detail = client.get(f"/api/v1/requests/{item.id}", headers=bearer(resident)).get_json()
    assert [p["id"] for p in detail["photos"]] == [photo.id]


def test_grid_leader_adds_a_photo_to_the_request_they_raised(
    client, bearer, grid_leader, community
):
    item = log_for_resident(grid_leader, community)
    assert post_photo(client, item, bearer(grid_leader)).status_code == 201


@pytest.mark.parametrize(
    "who", ["neighbour", "other_grid_leader", "other_secretary", "street_staff"]
)
def test_others_may_not_add_photos(request, client, bearer, resident, community, who):
    item = raise_request(resident, community)
    response = post_photo(client, item, bearer(request.getfixturevalue(who)))
    assert response.status_code == 403
    assert fresh(item).photos == []


def test_anonymous_may_not_add_photos(client, resident, community):
    item = raise_request(resident, community)
    response = post_photo(client, item, {})
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "x.png", "Only photos in JPEG"),
        (b"GIF89a" + b"\0" * 40, "x.gif", "Only photos in JPEG"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "broken.png", "This file is not a photo"),
    ],
)
def test_files_that_are_not_photos_are_refused(
    client, bearer, resident, community, data, name, message
):
    item = raise_request(resident, community)
    response = post_photo(client, item, bearer(resident), data, name)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_error"
    assert error["fields"]["file"][0].startswith(message)
    assert fresh(item).photos == []


def test_too_large_a_photo_is_refused(app, client, bearer, resident, community, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_MAX_BYTES", 100_000)
    item = raise_request(resident, community)
    big = image_bytes("PNG", (300, 300), compress_level=0)
    assert len(big) > 100_000
    response = post_photo(client, item, bearer(resident), big)
    assert response.status_code == 422
    assert "too large" in response.get_json()["error"]["fields"]["file"][0]


def test_no_file_is_a_validation_error(client, bearer, resident, community):
    item = raise_request(resident, community)
    response = client.post(
        f"/api/v1/requests/{item.id}/photos",
        data={},
        content_type="multipart/form-data",
        headers=bearer(resident),
    )
    assert response.status_code == 422
    assert "file" in response.get_json()["error"]["fields"]


def test_a_request_takes_at_most_so_many_photos(
    db, client, bearer, resident, community, monkeypatch
):
    monkeypatch.setattr(photos, "MAX_PHOTOS", 2)
    item = raise_request(resident, community)
    for _ in range(2):
        assert post_photo(client, item, bearer(resident)).status_code == 201
    response = post_photo(client, item, bearer(resident))
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"]["file"] == ["A request carries at most 2 photos."]


def test_a_closed_request_takes_no_photos(db, resident, community):
    item = raise_request(resident, community)
    item.status = RequestStatus.CLOSED
    db.session.flush()
    with pytest.raises(InvalidTransition):
        photos.add_request_photo(resident, item, io.BytesIO(image_bytes()))


def test_a_steps_photo_is_only_for_the_handler(db, make_user, resident, secretary, community):
    handler = make_user("handler", community=community, display_name="物业小王")
    item = raise_request(resident, community)
    item.assignee_user_id = handler.id
    item.claimed_by_id = handler.id
    item.status = RequestStatus.CLAIMED
    step = RequestStep(request=item, author=handler, note="已上门查看")
    db.session.add(step)
    db.session.flush()
    for someone in (resident, secretary):
        with pytest.raises(NotAllowed):
            photos.add_request_photo(someone, item, io.BytesIO(image_bytes()), step)
    photo = photos.add_request_photo(handler, item, io.BytesIO(image_bytes()), step)
    assert photo.step == step
    # the assignee adds photos of the problem too
    assert photos.add_request_photo(handler, item, io.BytesIO(image_bytes())).step is None


def test_a_stored_photo_in_use_is_not_discarded(db, resident, community):
    item = raise_request(resident, community)
    photo = photos.add_request_photo(resident, item, io.BytesIO(image_bytes()))
    uploads.discard(photo.file)
    assert db.session.scalar(db.select(StoredFile.id).where(StoredFile.id == photo.file_id))
    loose = uploads.store_photo(io.BytesIO(image_bytes()))
    loose_id = loose.id
    uploads.discard(loose)
    assert db.session.scalar(db.select(StoredFile.id).where(StoredFile.id == loose_id)) is None


def test_photo_bytes_carry_no_metadata(db, resident, community):
    item = raise_request(resident, community)
    data = image_bytes("JPEG", comment=b"secret comment")
    assert b"secret comment" in data
    photo = photos.add_request_photo(resident, item, io.BytesIO(data))
    assert b"secret comment" not in photo.file.data


def test_service_refuses_with_the_field_it_is_told(db, resident, community):
    item = raise_request(resident, community)
    with pytest.raises(ValidationFailed) as refused:
        photos.add_request_photo(resident, item, io.BytesIO(b"nope"), field="photos")
    assert set(refused.value.fields) == {"photos"}


# --- the pages -----------------------------------------------------------------------------


def test_resident_adds_photos_on_the_request_page(english, login, resident, community):
    item = raise_request(resident, community)
    login(resident)
    page = english.get(f"/requests/{item.id}").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page
    response = english.post(
        f"/requests/{item.id}/photos",
        data={
            "photos": [(io.BytesIO(image_bytes()), "a.png"), (io.BytesIO(image_bytes()), "b.png")]
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    page = english.get(response.location).get_data(as_text=True)
    assert "2 photo(s) added." in flashes(page)
    urls = [f"/requests/photos/{photo.id}" for photo in fresh(item).photos]
    assert len(urls) == 2
    assert all(f'src="{url}"' in page for url in urls)


def test_request_page_shows_the_photo_error_next_to_the_field(english, login, resident, community):
    item = raise_request(resident, community)
    login(resident)
    response = english.post(
        f"/requests/{item.id}/photos",
        data={"photos": [(io.BytesIO(b"hello"), "a.txt")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "photos") == [
        "Only photos in JPEG, PNG or WebP format can be added."
    ]
    response = english.post(
        f"/requests/{item.id}/photos", data={}, content_type="multipart/form-data"
    )
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "photos") == [
        "Please choose one or several photos."
    ]


def test_resident_attaches_photos_when_raising(english, login, resident, community):
    login(resident)
    response = english.post(
        "/requests/new",
        data={
            "community_id": community.id,
            "title": "楼道灯坏了",
            "category": "public_facilities",
            "description": "三楼楼道灯一直不亮。",
            "location": "3栋",
            "photos": [(io.BytesIO(image_bytes("JPEG")), "a.jpg")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    [item] = requests_in(community)
    assert item.title == "楼道灯坏了"
    assert len(item.photos) == 1


def test_photos_are_served_to_those_who_see_the_request(
    client, login, resident, neighbour, secretary, street_staff, community
):
    item = raise_request(resident, community)
    photo = photos.add_request_photo(resident, item, io.BytesIO(image_bytes()))
    url = f"/requests/photos/{photo.id}"

    assert client.get(url).status_code == 302  # anonymous: log in first
    for who, status in ((neighbour, 404), (secretary, 200), (street_staff, 200), (resident, 200)):
        client.post("/auth/logout")
        login(who)
        response = client.get(url)
        assert response.status_code == status, who
    assert response.mimetype == "image/png"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "private" in response.headers["Cache-Control"]
    assert "public" not in response.headers["Cache-Control"]
    assert response.headers["Content-Disposition"].startswith("inline;")
