"""The order workflow on a request (派单 → 接单 → 办理 → 反馈 → 评价), through
its verbs: every verb from every state, who may do each step, whom each
step tells, the rating that reopens, and the rules run by the clock
(``flask requests close-unrated`` and ``flag-orders``)."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from order_helpers import DUE, make_grid, make_unit
from project_helpers import image_bytes
from request_helpers import draft, fresh, notifications_of, raise_request

from auth.models import Community
from meetings.audit.models import AuditEntry
from meetings.dbtypes import utcnow
from meetings.errors import Conflict, InvalidTransition, NotAllowed, ValidationFailed
from meetings.extensions import db
from meetings.organisation.models import GridMember, Street, StreetStaff, UnitMember
from meetings.requests import orders, services
from meetings.requests.models import RequestStatus

pytest_plugins = ["meeting_fixtures", "order_fixtures"]

STATES = [
    "submitted",
    "accepted",
    "answered",
    "rejected",
    "dispatched",
    "handed_back",
    "claimed",
    "handled",
    "reopened",
    "closed",
]
OK = "ok"
# What each verb, called by the person whose step it is, does from each state:
# OK (and the state it leads to), 409 (not in this state; "conflict": the
# handling is rated already) or 403 (nobody holds the order in that state,
# so the caller is not the person it names).
NO_ORDER = {"submitted": 403, "accepted": 403, "answered": 403, "rejected": 403}
EXPECTED = {
    "dispatch": dict.fromkeys(STATES, 409) | {"submitted": OK, "handed_back": OK, "reopened": OK},
    "claim": dict.fromkeys(STATES, 409) | NO_ORDER | {"handed_back": 403, "dispatched": OK},
    "hand_back": dict.fromkeys(STATES, 409) | NO_ORDER | {"handed_back": 403, "dispatched": OK},
    "add_step": dict.fromkeys(STATES, 409)
    | NO_ORDER
    | {"handed_back": 403, "dispatched": 403, "claimed": OK},
    "mark_handled": dict.fromkeys(STATES, 409)
    | NO_ORDER
    | {"handed_back": 403, "dispatched": 403, "claimed": OK},
    "rate": dict.fromkeys(STATES, 409)
    | {"handled": OK, "answered": OK, "reopened": "conflict", "closed": "conflict"},
}
LEADS_TO = {
    "dispatch": "dispatched",
    "claim": "claimed",
    "hand_back": "handed_back",
    "add_step": "claimed",
    "mark_handled": "handled",
    "rate": "closed",
}


@pytest.fixture
def step_takers(secretary, property_staff, resident, property_unit):
    """Each verb called by the person whose step it is."""
    return {
        "dispatch": lambda item: orders.dispatch(
            secretary, item, orders.AssigneeChoice("unit", property_unit.id), DUE
        ),
        "claim": lambda item: orders.claim(property_staff, item),
        "hand_back": lambda item: orders.hand_back(property_staff, item, "人手不够"),
        "add_step": lambda item: orders.add_step(property_staff, item, "已到现场"),
        "mark_handled": lambda item: orders.mark_handled(property_staff, item, "已修好"),
        "rate": lambda item: orders.rate(resident, item, 4, "不错"),
    }


@pytest.mark.parametrize("verb", list(EXPECTED))
@pytest.mark.parametrize("state", STATES)
def test_each_verb_from_each_state_succeeds_or_is_refused(make_order, step_takers, state, verb):
    item = make_order(state)
    expected = EXPECTED[verb][state]
    if expected == OK:
        step_takers[verb](item)
        assert fresh(item).status == LEADS_TO[verb]
        return
    error = {403: NotAllowed, 409: InvalidTransition, "conflict": Conflict}[expected]
    with pytest.raises(error) as raised:
        step_takers[verb](item)
    if expected == 409:
        assert raised.value.code == "invalid_transition"
    assert fresh(item).status == state


# --- dispatch ------------------------------------------------------------------------------


def test_dispatch_to_a_grid_tells_its_members_and_the_resident(
    secretary, resident, community, grid_one, grid_one_worker, grid_two_worker
):
    item = raise_request(resident, community)

    orders.dispatch(secretary, item, orders.AssigneeChoice("grid", grid_one.id), DUE, "请上门看看")

    item = fresh(item)
    assert item.status == RequestStatus.DISPATCHED
    assert (item.assignee_grid_id, item.assignee_user_id, item.assignee_unit_id) == (
        grid_one.id,
        None,
        None,
    )
    assert item.order_due_date == DUE and item.dispatched_at is not None
    assert item.events[-1].message == "请上门看看"
    [note] = notifications_of(grid_one_worker, "order.dispatched")
    assert note.link == f"/requests/{item.id}" and "第一网格" in note.subject
    assert notifications_of(grid_two_worker, "order.dispatched") == []
    assert notifications_of(resident, "request.dispatched")
    actions = db.session.scalars(
        db.select(AuditEntry.action).where(AuditEntry.object_id == item.id)
    ).all()
    assert {"request.dispatched", "request.order_assigned"} <= set(actions)


def test_dispatch_to_a_unit_tells_its_members(
    secretary, resident, community, property_unit, property_staff, partner_staff, partner_unit
):
    item = raise_request(resident, community)
    orders.dispatch(secretary, item, orders.AssigneeChoice("unit", property_unit.id), DUE)
    assert notifications_of(property_staff, "order.dispatched")
    assert notifications_of(partner_staff, "order.dispatched") == []
    assert orders.assignee_of(item) == orders.Assignee("unit", property_unit.id, "幸福物业")


def test_dispatch_to_a_person_tells_them(secretary, resident, community, make_user):
    member = make_user("partymember", community=community, display_name="党员小王")
    item = raise_request(resident, community)
    orders.dispatch(secretary, item, orders.AssigneeChoice("user", member.id), DUE)
    assert fresh(item).assignee_user_id == member.id
    assert notifications_of(member, "order.dispatched")


def test_a_person_of_the_street_office_or_a_serving_unit_may_be_named(
    secretary, resident, community, make_user, property_staff, property_unit
):
    street = Street(name="中兴街道办", district="开发区")
    db.session.add(street)
    community.street_record = street
    official = make_user("streetofficial", display_name="街道干部")
    db.session.add(StreetStaff(street=street, user=official))
    db.session.flush()
    for person in (official, property_staff):
        item = raise_request(resident, community)
        orders.dispatch(secretary, item, orders.AssigneeChoice("user", person.id), DUE)
        assert fresh(item).assignee_user_id == person.id


@pytest.mark.parametrize("kind", ["stranger", "foreign_grid", "foreign_unit", "nothing", "user0"])
def test_dispatch_to_someone_outside_the_community_is_refused_next_to_the_field(
    secretary, resident, community, make_user, make_community, kind
):
    elsewhere = make_community("别的社区")
    stranger = make_user("stranger", community=elsewhere)
    choices = {
        "stranger": orders.AssigneeChoice("user", stranger.id),
        "foreign_grid": orders.AssigneeChoice(
            "grid", make_grid(elsewhere, "外网格", [stranger]).id
        ),
        "foreign_unit": orders.AssigneeChoice(
            "unit", make_unit("外单位", [elsewhere], [stranger]).id
        ),
        "nothing": orders.AssigneeChoice("", 0),
        "user0": orders.AssigneeChoice("user", 999_999),
    }
    item = raise_request(resident, community)
    with pytest.raises(ValidationFailed) as raised:
        orders.dispatch(secretary, item, choices[kind], DUE)
    assert list(raised.value.fields) == ["assignee"]
    assert fresh(item).status == RequestStatus.SUBMITTED


@pytest.mark.parametrize("days_from_today", [None, -1])
def test_dispatch_needs_a_due_date_from_today(
    secretary, resident, community, grid_one, days_from_today
):
    # "today" is the communities' (Asia/Shanghai), not the machine's: from
    # 16:00 UTC they differ by a day
    today = orders.today()
    due = None if days_from_today is None else today + timedelta(days=days_from_today)
    item = raise_request(resident, community)
    with pytest.raises(ValidationFailed) as raised:
        orders.dispatch(secretary, item, orders.AssigneeChoice("grid", grid_one.id), due)
    assert list(raised.value.fields) == ["due_date"]
    orders.dispatch(secretary, item, orders.AssigneeChoice("grid", grid_one.id), today)
    assert fresh(item).status == RequestStatus.DISPATCHED


def test_another_communitys_secretary_and_a_resident_may_not_dispatch(
    other_secretary, resident, community, grid_one
):
    item = raise_request(resident, community)
    for person in (other_secretary, resident, None):
        with pytest.raises(NotAllowed):
            orders.dispatch(person, item, orders.AssigneeChoice("grid", grid_one.id), DUE)


# --- claim and hand back -----------------------------------------------------------------------


def test_a_grid_member_claims_and_a_second_claim_is_refused(
    secretary, resident, community, grid_one, grid_one_worker, make_user
):
    second = make_user("gridmate", community=community)
    db.session.add(GridMember(grid=grid_one, user=second))
    item = raise_request(resident, community)
    orders.dispatch(secretary, item, orders.AssigneeChoice("grid", grid_one.id), DUE)

    orders.claim(grid_one_worker, item)
    with pytest.raises(InvalidTransition):
        orders.claim(second, item)

    item = fresh(item)
    assert item.status == RequestStatus.CLAIMED
    assert item.claimed_by_id == grid_one_worker.id and item.claimed_at is not None
    assert notifications_of(secretary, "order.claimed")
    assert notifications_of(resident, "request.claimed")


def test_a_worker_of_another_grid_and_staff_of_another_unit_may_not_claim(
    secretary,
    resident,
    community,
    grid_one,
    grid_two_worker,
    property_unit,
    partner_staff,
    partner_unit,
    bystander,
):
    by_grid = raise_request(resident, community)
    orders.dispatch(secretary, by_grid, orders.AssigneeChoice("grid", grid_one.id), DUE)
    by_unit = raise_request(resident, community)
    orders.dispatch(secretary, by_unit, orders.AssigneeChoice("unit", property_unit.id), DUE)
    for person, item in [
        (grid_two_worker, by_grid),
        (partner_staff, by_unit),
        (secretary, by_unit),
        (bystander, by_grid),
        (None, by_grid),
    ]:
        with pytest.raises(NotAllowed):
            orders.claim(person, item)
        with pytest.raises(NotAllowed):
            orders.hand_back(person, item, "不是我的")


def test_handing_back_needs_a_reason_and_makes_it_nobodys_order(
    make_order, property_staff, secretary
):
    item = make_order("dispatched")
    with pytest.raises(ValidationFailed) as raised:
        orders.hand_back(property_staff, item, "  ")
    assert list(raised.value.fields) == ["reason"]

    orders.hand_back(property_staff, item, "这是市政的管辖范围")

    item = fresh(item)
    assert item.status == RequestStatus.HANDED_BACK
    assert orders.assignee_of(item) is None and item.order_due_date is None
    assert item.events[-1].message == "这是市政的管辖范围"
    [note] = notifications_of(secretary, "order.handed_back")
    assert "幸福物业" in note.subject and note.body == "这是市政的管辖范围"
    assert orders.my_orders(property_staff).total == 0


# --- handling ----------------------------------------------------------------------------------


def test_only_the_one_who_claimed_records_steps_and_marks_handled(
    make_order, property_staff, make_user, property_unit, secretary
):
    colleague = make_user("colleague")
    db.session.add(UnitMember(unit=property_unit, user=colleague))
    db.session.flush()
    item = make_order("claimed")
    for person in (colleague, secretary, None):
        with pytest.raises(NotAllowed):
            orders.add_step(person, item, "看过了")
        with pytest.raises(NotAllowed):
            orders.mark_handled(person, item, "好了")


def test_a_step_with_photos(make_order, property_staff, resident):
    item = make_order("claimed")

    step = orders.add_step(
        property_staff, item, "已喷药灭跳蚤", [io.BytesIO(image_bytes()), io.BytesIO(image_bytes())]
    )

    item = fresh(item)
    assert [s.note for s in item.steps] == ["已喷药灭跳蚤"]
    assert len(item.steps[0].photos) == 2
    assert {p.step_id for p in item.photos} == {step.id}
    assert notifications_of(resident, "request.step")


def test_a_step_needs_a_note(make_order, property_staff):
    item = make_order("claimed")
    with pytest.raises(ValidationFailed) as raised:
        orders.add_step(property_staff, item, "")
    assert list(raised.value.fields) == ["note"]


def test_marking_handled_sends_the_reply_to_the_resident_and_the_secretary(
    make_order, property_staff, resident, secretary
):
    item = make_order("claimed")
    with pytest.raises(ValidationFailed):
        orders.mark_handled(property_staff, item, "")

    orders.mark_handled(property_staff, item, "地面油污已清理。")

    item = fresh(item)
    assert item.status == RequestStatus.HANDLED
    assert item.reply == "地面油污已清理。" and item.replied_by_id == property_staff.id
    assert item.handled_at is not None and item.replied_at == item.handled_at
    [note] = notifications_of(resident, "request.handled")
    assert "地面油污已清理。" in note.body
    assert notifications_of(secretary, "order.handled")


def test_no_notification_for_a_resident_without_an_account(
    grid_one_worker, grid_one, secretary, community
):
    item = services.raise_for_resident(
        grid_one_worker,
        community,
        services.ResidentDetails("王阿姨", "13800000000", "3栋"),
        draft(),
        "wechat_group",
    )
    orders.dispatch(secretary, item, orders.AssigneeChoice("grid", grid_one.id), DUE)
    orders.claim(grid_one_worker, item)
    orders.mark_handled(grid_one_worker, item, "已修好")
    assert fresh(item).requester_id is None
    # whoever raised it for the resident records the rating they gave by phone
    orders.rate(grid_one_worker, item, 5, "王阿姨电话里说很满意")
    assert fresh(item).status == RequestStatus.CLOSED
    assert fresh(item).ratings[0].rated_by_id == grid_one_worker.id


# --- rating ------------------------------------------------------------------------------------


def test_a_rating_above_two_closes_the_request(make_order, resident, property_staff):
    item = make_order("handled")
    orders.rate(resident, item, 4, "很及时")
    item = fresh(item)
    assert item.status == RequestStatus.CLOSED
    assert [(r.score, r.comment) for r in item.ratings] == [(4, "很及时")]
    assert notifications_of(property_staff, "request.rated")


def test_a_rating_of_two_reopens_it_and_the_secretary_dispatches_again(
    make_order, resident, secretary, property_staff, grid_one, grid_one_worker
):
    item = make_order("handled")

    orders.rate(resident, item, 2, "油污还在")

    item = fresh(item)
    assert item.status == RequestStatus.REOPENED
    [note] = notifications_of(secretary, "request.reopened")
    assert "2" in note.subject and note.body == "油污还在"
    assert notifications_of(property_staff, "request.reopened")
    # a second rating of the same handling
    with pytest.raises(Conflict):
        orders.rate(resident, item, 5, "")

    orders.dispatch(secretary, item, orders.AssigneeChoice("grid", grid_one.id), DUE)
    item = fresh(item)
    assert item.status == RequestStatus.DISPATCHED and item.claimed_by_id is None
    orders.claim(grid_one_worker, item)
    orders.mark_handled(grid_one_worker, item, "彻底清理了")
    orders.rate(resident, item, 5, "")
    assert fresh(item).status == RequestStatus.CLOSED
    assert [r.score for r in fresh(item).ratings] == [2, 5]


def test_an_answered_request_is_rated_too(make_order, resident):
    item = make_order("answered")
    orders.rate(resident, item, 1, "答非所问")
    assert fresh(item).status == RequestStatus.REOPENED


@pytest.mark.parametrize("score", [0, 6, -1, None, True])
def test_a_score_outside_one_to_five_is_refused(make_order, resident, score):
    item = make_order("handled")
    with pytest.raises(ValidationFailed) as raised:
        orders.rate(resident, item, score, "")
    assert list(raised.value.fields) == ["score"]


def test_only_the_resident_rates(make_order, bystander, secretary, property_staff):
    item = make_order("handled")
    for person in (bystander, secretary, property_staff, None):
        with pytest.raises(NotAllowed):
            orders.rate(person, item, 5, "")


# --- lists -------------------------------------------------------------------------------------


def test_my_orders_lists_person_grid_and_unit_orders_open_first(
    secretary,
    resident,
    community,
    grid_one,
    grid_one_worker,
    property_unit,
    make_user,
):
    db.session.add(UnitMember(unit=property_unit, user=grid_one_worker))
    done = raise_request(resident, community, title="已处理的")
    orders.dispatch(secretary, done, orders.AssigneeChoice("user", grid_one_worker.id), DUE)
    orders.claim(grid_one_worker, done)
    orders.mark_handled(grid_one_worker, done, "好了")
    to_grid = raise_request(resident, community, title="派给网格")
    orders.dispatch(secretary, to_grid, orders.AssigneeChoice("grid", grid_one.id), DUE)
    to_unit = raise_request(resident, community, title="派给物业")
    orders.dispatch(
        secretary,
        to_unit,
        orders.AssigneeChoice("unit", property_unit.id),
        DUE - timedelta(days=3),
    )
    raise_request(resident, community, title="没派单")

    page = orders.my_orders(grid_one_worker)

    assert [entry.request.title for entry in page.items] == ["派给物业", "派给网格", "已处理的"]
    assert page.total == 3
    assert orders.my_orders(make_user("nobody")).total == 0


def test_the_secretarys_orders_flag_unclaimed_and_overdue(make_order, community):
    unclaimed = make_order("dispatched", title="没人接")
    unclaimed.dispatched_at = utcnow() - timedelta(hours=30)
    overdue = make_order("claimed", title="逾期了")
    overdue.order_due_date = date.today() - timedelta(days=2)
    make_order("claimed", title="正常")
    make_order("handled", title="已办结")
    db.session.flush()

    everything = orders.community_orders(community)
    assert sorted(e.request.title for e in everything.items) == ["正常", "没人接", "逾期了"]
    flags = {e.request.title: (e.is_unclaimed, e.is_overdue) for e in everything.items}
    assert flags == {"没人接": (True, False), "逾期了": (False, True), "正常": (False, False)}
    assert [
        e.request.title for e in orders.community_orders(community, wanted="unclaimed").items
    ] == ["没人接"]
    assert [
        e.request.title for e in orders.community_orders(community, wanted="overdue").items
    ] == ["逾期了"]
    assert orders.order_counts(community) == orders.OrderCounts(open=3, unclaimed=1, overdue=1)


# --- by the clock: the CLI ---------------------------------------------------------------------


def test_close_unrated_closes_after_the_rating_period(make_order, runner, resident):
    old = make_order("handled", title="早就办好了")
    old.handled_at = utcnow() - timedelta(days=8)
    recent = make_order("handled", title="刚办好")
    answered = make_order("answered", title="早就答复了")
    answered.replied_at = utcnow() - timedelta(days=10)
    db.session.flush()

    result = runner.invoke(args=["requests", "close-unrated"])

    assert result.exit_code == 0, result.output
    assert "Closed 2 unrated request(s)." in result.output
    assert fresh(old).status == RequestStatus.CLOSED
    assert fresh(answered).status == RequestStatus.CLOSED
    assert fresh(recent).status == RequestStatus.HANDLED
    assert fresh(old).events[-1].actor_id is None
    assert notifications_of(resident, "request.closed")


def test_close_unrated_follows_the_setting(app, make_order):
    item = make_order("handled")
    item.handled_at = utcnow() - timedelta(days=2)
    db.session.flush()
    app.config["REQUEST_RATING_DAYS"] = 1
    try:
        assert orders.close_unrated() == [item]
    finally:
        app.config["REQUEST_RATING_DAYS"] = 7


def test_flag_orders_tells_the_secretary_once_a_day(make_order, runner, secretary, community):
    unclaimed = make_order("dispatched", title="没人接")
    unclaimed.dispatched_at = utcnow() - timedelta(hours=25)
    overdue = make_order("claimed", title="逾期了")
    overdue.order_due_date = date.today() - timedelta(days=1)
    make_order("dispatched", title="刚派的")
    db.session.flush()

    result = runner.invoke(args=["requests", "flag-orders"])

    assert result.exit_code == 0, result.output
    assert "Flagged 2 late order(s)." in result.output
    subjects = sorted(n.subject for n in notifications_of(secretary, "order.late"))
    assert len(subjects) == 2
    assert any("没人接" in s for s in subjects) and any("逾期了" in s for s in subjects)
    assert fresh(unclaimed).flagged_at is not None
    # again at once: nothing new; a day later: told again (and of the third,
    # unclaimed for a day by then)
    assert runner.invoke(args=["requests", "flag-orders"]).output.startswith("Flagged 0")
    later = orders.flag_late_orders(utcnow() + timedelta(days=1, minutes=1))
    assert sorted(item.title for item in later) == ["刚派的", "没人接", "逾期了"]


def test_the_street_sees_late_orders_through_the_same_rule(make_order, community):
    item = make_order("dispatched")
    item.dispatched_at = utcnow() - timedelta(hours=48)
    db.session.flush()
    late = db.session.scalars(
        db.select(Community.id)
        .join(services.ResidentRequest, services.ResidentRequest.community_id == Community.id)
        .where(orders.late_order_condition())
    ).all()
    assert late == [community.id]
