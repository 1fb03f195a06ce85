"""The order workflow on the web: the order panel on a request's page shows
each person the form for their step, the forms post to the verbs, errors
show next to the fields, the wrong person is refused; my orders and the
secretary's orders pages."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from conftest import field_errors, flashes, form_errors
from order_helpers import DUE
from project_helpers import image_bytes
from query_count import queries_of
from request_helpers import fresh, notifications_of, raise_request

from meetings.dbtypes import utcnow
from meetings.extensions import db
from meetings.organisation.models import UnitMember
from meetings.requests.models import RequestStatus

pytest_plugins = ["meeting_fixtures", "order_fixtures"]


def page_of(client, item) -> str:
    response = client.get(f"/requests/{item.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def dispatch_form(**overrides) -> dict:
    return (
        {"kind": "grid", "grid_id": "0", "unit_id": "0", "person": "", "note": ""}
        | {"due_date": DUE.isoformat()}
        | overrides
    )


# --- dispatch ------------------------------------------------------------------------------


def test_the_secretary_dispatches_to_a_grid(
    english, login, secretary, resident, community, grid_one, grid_one_worker, property_unit
):
    item = raise_request(resident, community)
    login(secretary)
    page = page_of(english, item)
    assert f'action="/requests/{item.id}/dispatch#order"' in page
    assert "第一网格" in page and "幸福物业" in page

    response = english.post(
        f"/requests/{item.id}/dispatch", data=dispatch_form(grid_id=str(grid_one.id), note="请上门")
    )

    assert response.status_code == 302
    assert response.headers["Location"] == f"/requests/{item.id}#order"
    assert fresh(item).status == RequestStatus.DISPATCHED
    assert fresh(item).assignee_grid_id == grid_one.id
    page = page_of(english, item)
    assert "Dispatched to 第一网格." in flashes(page)
    assert "Nobody yet" in page
    assert notifications_of(grid_one_worker, "order.dispatched")


def test_dispatch_to_a_person_typed_by_username(
    english, login, secretary, resident, community, make_user
):
    member = make_user("partymember", community=community, display_name="党员小王")
    item = raise_request(resident, community)
    login(secretary)
    response = english.post(
        f"/requests/{item.id}/dispatch", data=dispatch_form(kind="user", person="partymember")
    )
    assert response.status_code == 302
    assert fresh(item).assignee_user_id == member.id


def test_a_bad_dispatch_shows_errors_next_to_the_fields(
    english, login, secretary, resident, community, make_user
):
    make_user("faraway")  # exists, but not of the community, its street or a unit
    item = raise_request(resident, community)
    login(secretary)

    response = english.post(
        f"/requests/{item.id}/dispatch",
        data=dispatch_form(due_date=(date.today() - timedelta(days=1)).isoformat(), kind="grid"),
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert field_errors(page, "grid_id") == ["Please choose the grid."]

    response = english.post(
        f"/requests/{item.id}/dispatch",
        data=dispatch_form(kind="user", person="faraway"),
    )
    assert response.status_code == 422
    errors = field_errors(response.get_data(as_text=True), "person")
    assert errors and "Orders of 东篱社区 go to" in errors[0]

    response = english.post(
        f"/requests/{item.id}/dispatch",
        data=dispatch_form(kind="user", person="sec", due_date="2001-01-01"),
    )
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "due_date") == [
        "The due date cannot be in the past."
    ]
    assert fresh(item).status == RequestStatus.SUBMITTED


# --- claim, hand back, handle ----------------------------------------------------------------


def test_the_assignee_claims_from_the_request_page(english, login, make_order, property_staff):
    item = make_order("dispatched")
    login(property_staff)
    page = page_of(english, item)
    assert "Take on this order" in page and "Hand it back…" in page

    response = english.post(f"/requests/{item.id}/claim", data={})

    assert response.status_code == 302
    assert fresh(item).status == RequestStatus.CLAIMED
    page = page_of(english, item)
    assert "You have taken on this order." in flashes(page)
    assert "Record a step" in page and "Mark handled" in page


def test_a_late_claim_says_why(
    english, login, make_order, property_staff, make_user, property_unit
):
    colleague = make_user("colleague")
    db.session.add(UnitMember(unit=property_unit, user=colleague))
    item = make_order("claimed")
    login(colleague)
    response = english.post(f"/requests/{item.id}/claim", data={})
    assert response.status_code == 302
    assert any("cannot become" in message for message in flashes(page_of(english, item)))
    assert fresh(item).claimed_by_id == property_staff.id


def test_hand_back_asks_for_the_reason_and_a_confirmation(
    english, login, make_order, property_staff, secretary
):
    item = make_order("dispatched")
    login(property_staff)
    page = english.get(f"/requests/{item.id}/hand-back").get_data(as_text=True)
    assert "Hand back this order?" in page

    response = english.post(f"/requests/{item.id}/hand-back", data={"reason": ""})
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "reason") == [
        "Please say why you hand it back."
    ]

    response = english.post(f"/requests/{item.id}/hand-back", data={"reason": "不归物业管"})
    assert response.status_code == 302
    assert fresh(item).status == RequestStatus.HANDED_BACK
    assert notifications_of(secretary, "order.handed_back")


def test_the_handler_records_a_step_with_a_photo_and_marks_it_handled(
    english, login, make_order, property_staff, resident
):
    item = make_order("claimed")
    login(property_staff)

    response = english.post(
        f"/requests/{item.id}/steps",
        data={"note": "已喷药", "photos": [(io.BytesIO(image_bytes()), "flea.png")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    item = fresh(item)
    assert [s.note for s in item.steps] == ["已喷药"] and len(item.steps[0].photos) == 1
    page = page_of(english, item)
    assert f'src="/requests/photos/{item.steps[0].photos[0].id}"' in page

    response = english.post(f"/requests/{item.id}/handled", data={"reply": ""})
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "reply") == [
        "Please write the reply for the resident."
    ]

    response = english.post(f"/requests/{item.id}/handled", data={"reply": "跳蚤已消杀。"})
    assert response.status_code == 302
    assert fresh(item).status == RequestStatus.HANDLED
    assert notifications_of(resident, "request.handled")


def test_a_step_that_is_not_a_photo_is_refused_next_to_the_field(
    english, login, make_order, property_staff
):
    item = make_order("claimed")
    login(property_staff)
    response = english.post(
        f"/requests/{item.id}/steps",
        data={"note": "已喷药", "photos": [(io.BytesIO(b"not an image"), "x.png")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "photos")
    assert fresh(item).steps == []


# --- rating ----------------------------------------------------------------------------------


def test_the_resident_rates_low_and_the_secretary_can_dispatch_again(
    english, login, make_order, resident, secretary, client
):
    item = make_order("handled")
    login(resident)
    page = page_of(english, item)
    assert 'name="score"' in page and 'type="radio"' in page

    response = english.post(f"/requests/{item.id}/rating", data={"score": "2", "comment": "没修好"})

    assert response.status_code == 302
    assert fresh(item).status == RequestStatus.REOPENED
    page = page_of(english, item)
    assert "Thank you. The secretary takes the request up again." in flashes(page)
    assert 'name="score"' not in page

    response = english.post(f"/requests/{item.id}/rating", data={"score": "5"})
    assert response.status_code == 409
    assert form_errors(response.get_data(as_text=True)) == [
        "This handling of the request has been rated already."
    ]

    english.post("/auth/logout")
    login(secretary)
    assert f'action="/requests/{item.id}/dispatch#order"' in page_of(english, item)


def test_a_rating_needs_a_score(english, login, make_order, resident):
    item = make_order("handled")
    login(resident)
    response = english.post(f"/requests/{item.id}/rating", data={"score": "9"})
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "score")
    assert fresh(item).status == RequestStatus.HANDLED


# --- the wrong person ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "path", "person"),
    [
        ("submitted", "dispatch", "other_secretary"),
        ("submitted", "dispatch", "resident"),
        ("dispatched", "claim", "grid_two_worker"),
        ("dispatched", "claim", "partner_staff"),
        ("dispatched", "hand-back", "partner_staff"),
        ("claimed", "steps", "partner_staff"),
        ("claimed", "handled", "secretary"),
        ("handled", "rating", "bystander"),
        ("handled", "rating", "property_staff"),
    ],
)
def test_the_wrong_person_is_refused(
    client, login, make_order, request, grid_two, partner_unit, state, path, person
):
    item = make_order(state)
    login(request.getfixturevalue(person))
    response = client.post(f"/requests/{item.id}/{path}", data={})
    assert response.status_code == 403
    assert fresh(item).status == RequestStatus(state)


def test_anonymous_is_sent_to_log_in(client, make_order):
    item = make_order("dispatched")
    response = client.post(f"/requests/{item.id}/claim", data={})
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_no_order_panel_for_a_resident_before_there_is_one(english, login, make_order, resident):
    item = make_order("submitted")
    login(resident)
    assert 'id="order"' not in page_of(english, item)


# --- lists -------------------------------------------------------------------------------------


def test_my_orders_page(english, login, make_order, property_staff, grid_one_worker):
    make_order("dispatched", title="楼道油污")
    make_order("closed", title="跳蚤")
    login(property_staff)
    page = english.get("/my/orders").get_data(as_text=True)
    assert "楼道油污" in page and "跳蚤" in page
    assert page.index("楼道油污") < page.index("跳蚤")
    english.post("/auth/logout")
    login(grid_one_worker)
    assert "No orders for you yet." in english.get("/my/orders").get_data(as_text=True)


def test_the_secretarys_orders_page_flags_late_orders(
    english, login, make_order, secretary, other_secretary, community
):
    late = make_order("dispatched", title="没人接")
    late.dispatched_at = utcnow() - timedelta(hours=30)
    overdue = make_order("claimed", title="逾期")
    overdue.order_due_date = date.today() - timedelta(days=1)
    db.session.flush()
    login(secretary)

    page = english.get(f"/communities/{community.id}/orders").get_data(as_text=True)
    assert "Open orders: 2 · not taken on in time: 1 · overdue: 1" in page
    only_late = english.get(f"/communities/{community.id}/orders?show=unclaimed")
    assert "没人接" in only_late.get_data(as_text=True)
    assert "逾期" not in only_late.get_data(as_text=True)

    english.post("/auth/logout")
    login(other_secretary)
    assert english.get(f"/communities/{community.id}/orders").status_code == 403


@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("property_staff", "/my/orders"),
        ("property_staff", "/api/v1/my/orders"),
        ("secretary", "/communities/{community}/orders"),
    ],
)
def test_the_order_lists_queries_do_not_grow_with_the_orders(
    client, login, bearer, make_order, request, community, who, path
):
    user = request.getfixturevalue(who)
    url = path.format(community=community.id)
    headers = bearer(user) if url.startswith("/api/") else {}
    if not headers:
        login(user)

    def grow(n: int) -> None:
        for state in ["dispatched", "claimed", "handled", "reopened", "closed"][:n]:
            make_order(state)

    grow(2)
    small = queries_of(client, url, headers=headers)
    grow(5)
    assert queries_of(client, url, headers=headers) == small
