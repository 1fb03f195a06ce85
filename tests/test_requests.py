"""Resident requests (居民诉求): raising one, the secretary's inbox and reply,
the history of states, notifications, overdue marking and who sees what."""

from __future__ import annotations

import re

import pytest
from conftest import field_errors, flashes, form_errors
from flask import Flask
from request_helpers import FORM, fresh, notifications_of, raise_request, requests_in
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from auth.models import Membership
from meetings.audit.models import AuditEntry
from meetings.config import load_config
from meetings.demo import DEMO_REQUESTS
from meetings.errors import InvalidTransition, NotAllowed, ValidationFailed
from meetings.requests import services
from meetings.requests.models import (
    TRANSITIONS,
    WAITING_FOR_SECRETARY,
    RequestStatus,
    ResidentRequest,
)


@pytest.fixture
def neighbour(make_user, community):
    """Another resident of the same community."""
    return make_user("neighbour", community=community, display_name="李大爷")


def has_select(page: str, name: str) -> bool:
    return re.search(rf'<select[^>]* name="{name}"', page) is not None


def form_data(community, **overrides) -> dict:
    return FORM | {"community_id": community.id} | overrides


# --- raising a request -------------------------------------------------------------


def test_resident_raises_a_request(english, login, resident, secretary, community):
    login(resident)
    page = english.get("/requests/new").get_data(as_text=True)
    # one community: nothing to choose, and no "on behalf of" for a resident
    assert not has_select(page, "community_id")
    assert 'type="hidden" name="community_id"' in page
    assert not has_select(page, "on_behalf_of")

    response = english.post("/requests/new", data=form_data(community, contact="138 0000 0000"))

    [item] = requests_in(community)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/requests/{item.id}"
    assert (item.requester_id, item.raised_by_id) == (resident.id, None)
    assert (item.status, item.category) == ("submitted", "public_facilities")
    assert (item.title, item.location, item.contact) == (
        "活动室地板磨损",
        "优山美地花园182幢一层",
        "138 0000 0000",
    )
    page = english.get(response.headers["Location"]).get_data(as_text=True)
    assert "Sent. The secretary will reply within 3 days." in flashes(page)
    assert "Waiting for a reply" in page
    # the secretary hears of it
    [note] = notifications_of(secretary, "request.submitted")
    assert note.link == f"/requests/{item.id}"


def test_bad_request_shows_errors_next_to_the_fields_and_saves_nothing(
    english, login, resident, community
):
    login(resident)
    response = english.post(
        "/requests/new",
        data=form_data(community, title="", category="", description=" ", location="  "),
    )

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert field_errors(page, "title") == ["Please say in a few words what it is about."]
    assert field_errors(page, "category") == ["Please choose a category."]
    assert field_errors(page, "description") == ["Please describe the problem."]
    assert field_errors(page, "location") == ["Please say where it is."]
    assert requests_in(community) == []


def test_unknown_category_is_refused(english, login, resident, community):
    login(resident)
    response = english.post("/requests/new", data=form_data(community, category="weather"))

    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "category") == ["Not a valid choice."]
    assert requests_in(community) == []


def test_resident_of_two_communities_chooses_where(
    db, english, login, make_user, community, other_community
):
    user = make_user(community=community)
    db.session.add(Membership(user=user, community=other_community))
    db.session.flush()
    login(user)
    page = english.get("/requests/new").get_data(as_text=True)
    assert has_select(page, "community_id")
    assert "东篱社区" in page and "星怡社区" in page

    response = english.post("/requests/new", data=form_data(community, community_id=0))
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "community_id") == [
        "Please choose the community."
    ]

    response = english.post("/requests/new", data=form_data(other_community))
    assert response.status_code == 302
    [item] = requests_in(other_community)
    assert item.requester_id == user.id
    assert requests_in(community) == []


def test_resident_cannot_raise_in_a_community_not_theirs(
    english, login, resident, community, other_community
):
    login(resident)
    response = english.post("/requests/new", data=form_data(other_community))

    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "community_id") == ["Not a valid choice."]
    assert requests_in(other_community) == []


def test_user_without_community_is_told_to_ask_the_secretary(english, login, make_user):
    login(make_user())
    page = english.get("/requests/new").get_data(as_text=True)

    assert "You do not belong to a community yet." in page
    assert 'name="title"' not in page


def has_person_picker(page: str, name: str) -> bool:
    """A text field the picker's script enhances (``data-picker-url``)."""
    return re.search(rf'<input[^>]* data-picker-url="[^"]*"[^>]* name="{name}"', page) is not None


def test_secretary_raises_a_request_for_a_resident(english, login, secretary, resident, community):
    login(secretary)
    page = english.get("/requests/new").get_data(as_text=True)
    assert has_person_picker(page, "on_behalf_of")
    assert not has_select(page, "on_behalf_of")
    assert "王阿姨" not in page  # no list of the members

    response = english.post(
        "/requests/new", data=form_data(community, on_behalf_of=resident.username)
    )

    assert response.status_code == 302
    [item] = requests_in(community)
    assert (item.requester_id, item.raised_by_id) == (resident.id, secretary.id)
    page = english.get(f"/requests/{item.id}").get_data(as_text=True)
    assert "The request was raised for 王阿姨." in flashes(page)
    [note] = notifications_of(resident, "request.raised_for_you")
    assert note.link == f"/requests/{item.id}"
    history = [(e.actor_id, e.to_status) for e in item.events]
    assert history == [(secretary.id, "submitted")]


def test_without_the_script_a_phone_number_or_a_full_name_names_the_resident(
    db, english, login, secretary, resident, community
):
    resident.phone = "138-0013-8000"
    db.session.flush()
    login(secretary)
    for typed in ("138 0013 8000", "王阿姨"):
        response = english.post("/requests/new", data=form_data(community, on_behalf_of=typed))
        assert response.status_code == 302, typed
    assert [item.requester_id for item in requests_in(community)] == [resident.id, resident.id]


def test_a_typed_name_that_matches_several_residents_is_refused_with_their_usernames(
    english, login, make_user, secretary, resident, community
):
    make_user("wang2", community=community, display_name="王阿姨")
    login(secretary)
    response = english.post("/requests/new", data=form_data(community, on_behalf_of="王阿姨"))

    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "on_behalf_of") == [
        "Several people in 东篱社区 match “王阿姨”: 王阿姨 (resident), 王阿姨 (wang2). "
        "Please type the username of the one you mean."
    ]
    assert requests_in(community) == []

    response = english.post("/requests/new", data=form_data(community, on_behalf_of="wang2"))
    assert response.status_code == 302


def test_secretary_cannot_raise_for_someone_outside_the_community(
    english, login, make_user, secretary, resident, community, other_community
):
    stranger = make_user("stranger", community=other_community)
    login(secretary)
    response = english.post(
        "/requests/new", data=form_data(community, on_behalf_of=stranger.username)
    )

    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "on_behalf_of") == [
        "Nobody in 东篱社区 has the username, phone number or name “stranger”."
    ]
    assert requests_in(community) == []


def test_secretary_of_two_communities_raises_for_a_member_of_the_chosen_one(
    db, english, login, secretary, resident, make_user, community, other_community
):
    db.session.add(Membership(user=secretary, community=other_community, is_secretary=True))
    db.session.flush()
    login(secretary)
    response = english.post(
        "/requests/new", data=form_data(other_community, on_behalf_of=resident.username)
    )

    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "on_behalf_of") == [
        "Nobody in 星怡社区 has the username, phone number or name “resident”."
    ]
    assert requests_in(other_community) == []


def test_a_deactivated_resident_is_not_found(db, english, login, secretary, resident, community):
    resident.is_active = False
    db.session.flush()
    login(secretary)
    response = english.post(
        "/requests/new", data=form_data(community, on_behalf_of=resident.username)
    )
    assert response.status_code == 422
    assert requests_in(community) == []


def test_resident_cannot_raise_on_behalf_of_a_neighbour(
    english, login, resident, neighbour, community
):
    login(resident)
    response = english.post("/requests/new", data=form_data(community, on_behalf_of=neighbour.id))

    assert response.status_code == 302
    [item] = requests_in(community)
    assert (item.requester_id, item.raised_by_id) == (resident.id, None)


def test_administrator_raises_only_for_a_resident(english, login, admin, resident, community):
    login(admin)
    response = english.post("/requests/new", data=form_data(community))

    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "on_behalf_of") == [
        "Please choose the resident you raise this request for."
    ]
    assert requests_in(community) == []

    response = english.post(
        "/requests/new", data=form_data(community, on_behalf_of=resident.username)
    )
    assert response.status_code == 302
    [item] = requests_in(community)
    assert (item.requester_id, item.raised_by_id) == (resident.id, admin.id)


def test_services_check_who_raises(db, resident, neighbour, secretary, other_secretary, community):
    with pytest.raises(NotAllowed):
        services.raise_request(
            other_secretary, community, services.RequestDraft("灯坏了", "灯坏了", "other", "1幢")
        )
    with pytest.raises(NotAllowed):
        services.raise_on_behalf(
            resident,
            community,
            neighbour,
            services.RequestDraft("灯坏了", "灯坏了", "other", "1幢"),
        )
    with pytest.raises(ValidationFailed) as caught:
        services.raise_on_behalf(
            secretary,
            community,
            other_secretary,
            services.RequestDraft("灯坏了", "灯坏了", "other", "1幢"),
        )
    assert list(caught.value.fields) == ["requester_id"]
    assert requests_in(community) == []


# --- my requests and the request's page ------------------------------------------


def test_my_requests_lists_only_my_own(english, login, resident, neighbour, community):
    raise_request(resident, community, title="楼道灯不亮")
    raise_request(neighbour, community, title="垃圾桶满了")
    login(resident)
    page = english.get("/requests/mine").get_data(as_text=True)

    assert "楼道灯不亮" in page
    assert "垃圾桶满了" not in page
    assert "Waiting for a reply" in page


def test_request_page_shows_status_reply_and_history(
    english, login, resident, secretary, community
):
    item = raise_request(resident, community)
    services.reply_to_request(secretary, item, "answer", "物业已安排维修，本周内完成。")
    login(resident)
    page = english.get(f"/requests/{item.id}").get_data(as_text=True)

    assert "Answered" in page
    assert "物业已安排维修，本周内完成。" in page
    assert page.count('class="timeline-item"') == 2
    assert "Request raised" in page  # the first step of the history
    assert 'name="action"' not in page  # no reply form for the resident


def test_secretary_sees_the_reply_form_while_the_request_waits(
    english, login, resident, secretary, community
):
    item = raise_request(resident, community)
    login(secretary)
    assert 'name="action"' in english.get(f"/requests/{item.id}").get_data(as_text=True)

    services.reply_to_request(secretary, item, "accept", None)
    assert 'name="action"' not in english.get(f"/requests/{item.id}").get_data(as_text=True)


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("resident", 200),
        ("secretary", 200),
        ("admin", 200),
        ("other_secretary", 403),
        ("neighbour", 403),
    ],
)
def test_request_page_is_for_the_requester_and_the_secretary(
    request, client, login, resident, community, who, status
):
    item = raise_request(resident, community)
    login(request.getfixturevalue(who))

    assert client.get(f"/requests/{item.id}").status_code == status


def test_missing_request_is_not_found(client, login, resident):
    login(resident)
    assert client.get("/requests/999999").status_code == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/requests/new"),
        ("post", "/requests/new"),
        ("get", "/requests/mine"),
        ("get", "/requests/{id}"),
        ("post", "/requests/{id}/reply"),
        ("get", "/communities/{community}/requests"),
    ],
)
def test_pages_ask_anonymous_visitors_to_log_in(client, resident, community, method, path):
    item = raise_request(resident, community)
    url = path.format(id=item.id, community=community.id)

    response = getattr(client, method)(url, data={"action": "accept"})

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login")
    assert fresh(item).status == "submitted"


# --- the secretary's reply ------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "message", "status"),
    [
        ("accept", "", "accepted"),
        ("accept", "将召开协商议事会讨论。", "accepted"),
        ("answer", "物业已清理电梯广告。", "answered"),
        ("reject", "属于个人房屋内部问题，请联系物业报修。", "rejected"),
    ],
)
def test_secretary_replies_and_the_requester_is_notified(
    english, login, secretary, resident, community, action, message, status
):
    item = raise_request(resident, community)
    login(secretary)
    response = english.post(
        f"/requests/{item.id}/reply", data={"action": action, "message": message}
    )

    assert response.status_code == 302
    assert response.headers["Location"] == f"/requests/{item.id}"
    item = fresh(item)
    assert item.status == status
    assert item.reply == (message or None)
    assert item.replied_by_id == secretary.id
    assert item.replied_at is not None
    assert [(e.from_status, e.to_status) for e in item.events] == [
        (None, "submitted"),
        ("submitted", status),
    ]
    [note] = notifications_of(resident, f"request.{status}")
    assert note.link == f"/requests/{item.id}"
    assert "活动室地板磨损" in note.subject
    page = english.get(f"/requests/{item.id}").get_data(as_text=True)
    assert "Your reply has been sent to 王阿姨." in flashes(page)


@pytest.mark.parametrize(
    ("action", "error"),
    [
        ("answer", "Please write the answer for the resident."),
        ("reject", "Please give the resident the reason."),
    ],
)
def test_answer_and_rejection_need_a_message(
    english, login, secretary, resident, community, action, error
):
    item = raise_request(resident, community)
    login(secretary)
    response = english.post(f"/requests/{item.id}/reply", data={"action": action, "message": " "})

    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "message") == [error]
    assert fresh(item).status == "submitted"
    assert notifications_of(resident) == []


def test_reply_needs_a_choice(english, login, secretary, resident, community):
    item = raise_request(resident, community)
    login(secretary)
    response = english.post(f"/requests/{item.id}/reply", data={"message": "好的"})

    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "action") == [
        "Please choose accept, answer or reject."
    ]
    assert fresh(item).status == "submitted"


def test_second_reply_gets_a_clear_message(english, login, secretary, resident, community):
    item = raise_request(resident, community)
    services.reply_to_request(secretary, item, "answer", "已处理。")
    login(secretary)
    response = english.post(
        f"/requests/{item.id}/reply", data={"action": "reject", "message": "重复反映"}
    )

    assert response.status_code == 409
    assert form_errors(response.get_data(as_text=True)) == [
        "This request is already “Answered”: only a request waiting for a reply "
        "can be accepted, answered or rejected."
    ]
    item = fresh(item)
    assert (item.status, item.reply) == ("answered", "已处理。")


@pytest.mark.parametrize("who", ["resident", "neighbour", "other_secretary"])
def test_only_the_secretary_may_reply(request, client, login, resident, community, who):
    item = raise_request(resident, community)
    login(request.getfixturevalue(who))
    response = client.post(
        f"/requests/{item.id}/reply", data={"action": "answer", "message": "我来答复"}
    )

    assert response.status_code == 403
    assert fresh(item).status == "submitted"


def test_administrator_may_reply(client, login, admin, resident, community):
    item = raise_request(resident, community)
    login(admin)
    response = client.post(f"/requests/{item.id}/reply", data={"action": "accept"})

    assert response.status_code == 302
    assert fresh(item).status == "accepted"


# --- states and history -----------------------------------------------------------------


@pytest.mark.parametrize("current", [s for s in RequestStatus if s not in WAITING_FOR_SECRETARY])
@pytest.mark.parametrize("action", ["accept", "answer", "reject"])
def test_only_a_waiting_request_can_be_replied_to(
    db, secretary, resident, community, current, action
):
    item = raise_request(resident, community)
    item.status = current
    db.session.flush()

    with pytest.raises(InvalidTransition):
        services.reply_to_request(secretary, item, action, "答复")
    assert fresh(item).status == current


@pytest.mark.parametrize("current", list(RequestStatus))
@pytest.mark.parametrize("to", list(RequestStatus))
def test_transitions_follow_the_table(db, secretary, resident, community, current, to):
    item = raise_request(resident, community)
    item.status, item.reply = current, "答复"
    db.session.flush()

    if to in TRANSITIONS[current]:
        event = services.transition(item, to, secretary, "备注")
        assert (event.from_status, event.to_status, event.message) == (current, to, "备注")
        assert fresh(item).status == to
    else:
        with pytest.raises(InvalidTransition):
            services.transition(item, to, secretary)
        assert fresh(item).status == current


def test_request_is_closed_only_after_a_reply(db, secretary, resident, community):
    item = raise_request(resident, community)
    services.reply_to_request(secretary, item, "accept", "")
    assert item.reply is None

    with pytest.raises(InvalidTransition):
        services.transition(item, RequestStatus.CLOSED, secretary)


def test_every_change_is_kept_in_history_and_audit(db, secretary, resident, community):
    item = raise_request(resident, community)
    services.reply_to_request(secretary, item, "accept", "列入议题")
    services.transition(item, RequestStatus.SCHEDULED, secretary)

    item = fresh(item)
    assert [(e.from_status, e.to_status, e.actor_id, e.message) for e in item.events] == [
        (None, "submitted", resident.id, None),
        ("submitted", "accepted", secretary.id, "列入议题"),
        ("accepted", "scheduled", secretary.id, None),
    ]
    audit = db.session.scalars(
        db.select(AuditEntry.action)
        .where(AuditEntry.object_type == "resident_request", AuditEntry.object_id == item.id)
        .order_by(AuditEntry.id)
    ).all()
    assert audit == ["request.submitted", "request.accepted", "request.scheduled"]


def test_of_two_replies_at_once_only_one_wins(db, secretary, resident, community):
    item = raise_request(resident, community)
    # another secretary's reply lands after this one loaded the request
    db.session.execute(
        db.update(ResidentRequest)
        .where(ResidentRequest.id == item.id)
        .values(status=RequestStatus.ANSWERED)
        .execution_options(synchronize_session=False)
    )
    assert item.status == "submitted"

    with pytest.raises(InvalidTransition):
        services.reply_to_request(secretary, item, "reject", "不予受理")


def test_database_refuses_unknown_codes(db, resident, community):
    item = raise_request(resident, community)
    for column in ("status", "category"):
        with pytest.raises(IntegrityError), db.session.begin_nested():
            db.session.execute(
                text(f"UPDATE resident_request SET {column} = 'bogus' WHERE id = :id"),  # noqa: S608
                {"id": item.id},
            )


# --- the inbox -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [("secretary", 200), ("admin", 200), ("other_secretary", 403), ("resident", 403)],
)
def test_inbox_is_for_the_community_secretary(request, client, login, community, who, status):
    login(request.getfixturevalue(who))
    assert client.get(f"/communities/{community.id}/requests").status_code == status


def inbox_cards(page: str) -> list[tuple[bool, str]]:
    """(overdue?, title) of each request in the inbox, in order."""
    card = r'<li class="request-card( is-overdue)?">\s*<h2 class="request-title"><a [^>]*>(.*?)</a>'
    return [(bool(overdue), title) for overdue, title in re.findall(card, page)]


def test_inbox_lists_waiting_requests_first_by_age_with_overdue_marked(
    english, login, secretary, resident, community
):
    raise_request(resident, community, title="楼道灯不亮", days_ago=2)
    raise_request(resident, community, title="地下车库跳蚤", days_ago=4)
    answered = raise_request(resident, community, title="电梯轿厢广告", days_ago=10)
    services.reply_to_request(secretary, answered, "answer", "已清理。")
    login(secretary)
    page = english.get(f"/communities/{community.id}/requests").get_data(as_text=True)

    assert inbox_cards(page) == [
        (True, "地下车库跳蚤"),
        (False, "楼道灯不亮"),
        (False, "电梯轿厢广告"),
    ]
    assert "2 waiting for a reply, of which 1 overdue (no reply after 3 days)." in page


@pytest.mark.parametrize(
    ("show", "titles"),
    [
        ("", ["地下车库跳蚤", "楼道灯不亮", "电梯轿厢广告"]),
        ("overdue", ["地下车库跳蚤"]),
        ("submitted", ["地下车库跳蚤", "楼道灯不亮"]),
        ("answered", ["电梯轿厢广告"]),
        ("closed", []),
        ("nonsense", ["地下车库跳蚤", "楼道灯不亮", "电梯轿厢广告"]),
    ],
)
def test_inbox_filters_by_status(english, login, secretary, resident, community, show, titles):
    raise_request(resident, community, title="楼道灯不亮", days_ago=1)
    raise_request(resident, community, title="地下车库跳蚤", days_ago=5)
    answered = raise_request(resident, community, title="电梯轿厢广告", days_ago=10)
    services.reply_to_request(secretary, answered, "answer", "已清理。")
    login(secretary)
    response = english.get(f"/communities/{community.id}/requests", query_string={"status": show})

    assert response.status_code == 200
    assert [title for _overdue, title in inbox_cards(response.get_data(as_text=True))] == titles


def test_inbox_shows_only_its_own_community(
    english, login, secretary, resident, make_user, community, other_community
):
    raise_request(resident, community, title="楼道灯不亮")
    raise_request(make_user(community=other_community), other_community, title="别处的诉求")
    login(secretary)
    page = english.get(f"/communities/{community.id}/requests").get_data(as_text=True)

    assert [title for _overdue, title in inbox_cards(page)] == ["楼道灯不亮"]


def test_overdue_follows_the_reply_days_setting(app, monkeypatch, resident, community):
    item = raise_request(resident, community, days_ago=2)
    assert not services.is_overdue(item)

    monkeypatch.setitem(app.config, "REQUEST_REPLY_DAYS", 1)
    assert services.is_overdue(item)

    item.status = RequestStatus.ANSWERED
    assert not services.is_overdue(item)


def test_reply_days_default_to_three_and_come_from_the_environment(monkeypatch, tmp_path):
    config = {"SECRET_KEY": "x", "DATABASE_URL": "sqlite://"}
    app = Flask("probe", instance_path=str(tmp_path))
    load_config(app, config)
    assert app.config["REQUEST_REPLY_DAYS"] == 3

    monkeypatch.setenv("REQUEST_REPLY_DAYS", "5")
    app = Flask("probe", instance_path=str(tmp_path))
    load_config(app, config)
    assert app.config["REQUEST_REPLY_DAYS"] == 5


def test_secretary_inbox_is_linked_in_the_navigation(english, login, secretary, community):
    login(secretary)
    page = english.get("/").get_data(as_text=True)

    assert f'href="/communities/{community.id}/requests"' in page
    assert 'href="/requests/new"' in page
    assert 'href="/requests/mine"' in page


# --- demo data -------------------------------------------------------------------------


def test_demo_seeds_the_story_requests_once(db, runner, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "demo-password-1")
    monkeypatch.setenv("ADMIN_PASSWORD", "admin-password-1")
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "Demo requests created: 6" in first.output

    second = runner.invoke(args=["seed-demo"])
    assert "Demo requests created: 0" in second.output

    stories = {demo.title for demo in DEMO_REQUESTS}
    items = {
        item.title: item
        for item in db.session.scalars(db.select(ResidentRequest))
        if item.title in stories  # the orders are meetings.requests.demo's
    }
    # the secretary's reply to each (later issues take accepted ones further)
    replies = {
        title: next((e.to_status for e in item.events if e.from_status == "submitted"), None)
        for title, item in items.items()
    }
    assert replies == {
        "活动室地板磨损": "accepted",
        "电梯轿厢广告": "answered",
        "飞马转盘中心路拥堵": "accepted",
        "智慧音箱安装": "accepted",
        "楼道里给电动自行车充电": "accepted",
        "广场舞音响太吵": None,
    }
    assert items["广场舞音响太吵"].status == "submitted"
    assert items["智慧音箱安装"].raised_by is not None
    assert items["智慧音箱安装"].community.name == "竹韵社区"
    assert services.is_overdue(items["广场舞音响太吵"])
    assert items["广场舞音响太吵"].community.name == "星怡社区"
