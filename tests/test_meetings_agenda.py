"""The agenda (议程): ordered items with planned minutes and linked requests,
added, edited, reordered (up/down without JavaScript, or to a position) and
removed while the meeting is a draft or scheduled."""

from __future__ import annotations

import re

import pytest
from conftest import field_errors, flashes
from meeting_helpers import audit_actions, fresh

from meetings.errors import Conflict, ValidationFailed
from meetings.extensions import db
from meetings.meeting import services
from meetings.meeting.models import AgendaItem, Meeting
from meetings.polls import services as poll_services
from meetings.polls.models import Proposal

pytest_plugins = ["meeting_fixtures"]  # make_meeting, attendee, in_request…

TITLES = ["介绍活动室现状", "物业报告改造方案", "讨论与表决"]


@pytest.fixture
def agenda(in_request, make_meeting, secretary) -> Meeting:
    """A scheduled meeting with three items of 10, 20 and 30 minutes."""
    meeting = make_meeting("scheduled")
    for title, minutes in zip(TITLES, (10, 20, 30), strict=True):
        services.add_agenda_item(secretary, meeting, title, planned_minutes=minutes)
    db.session.flush()
    return meeting


def titles(meeting: Meeting) -> list[str]:
    return list(
        db.session.scalars(
            db.select(AgendaItem.title)
            .where(AgendaItem.meeting_id == meeting.id)
            .order_by(AgendaItem.position)
        )
    )


def positions(meeting: Meeting) -> list[int]:
    return list(
        db.session.scalars(
            db.select(AgendaItem.position)
            .where(AgendaItem.meeting_id == meeting.id)
            .order_by(AgendaItem.position)
        )
    )


def item_named(meeting: Meeting, title: str) -> AgendaItem:
    return db.session.scalar(
        db.select(AgendaItem).where(AgendaItem.meeting_id == meeting.id, AgendaItem.title == title)
    )


def test_items_are_added_in_order_and_the_total_time_is_shown(english, login, agenda, secretary):
    assert titles(agenda) == TITLES
    assert positions(agenda) == [1, 2, 3]
    assert fresh(agenda).total_planned_minutes == 60
    login(secretary)
    page = english.get(f"/meetings/{agenda.id}").get_data(as_text=True)
    assert "Total planned time: 60 minutes" in page
    assert [page.index(title) for title in TITLES] == sorted(page.index(t) for t in TITLES)


def test_secretary_adds_an_item_on_the_web(english, login, make_meeting, secretary):
    meeting = make_meeting("draft")
    login(secretary)
    response = english.post(
        f"/meetings/{meeting.id}/agenda",
        data={"title": "电梯广告清理方案", "planned_minutes": "15", "description": "物业说明"},
    )
    assert response.status_code == 302
    [item] = fresh(meeting).agenda_items
    assert (item.title, item.planned_minutes, item.position) == ("电梯广告清理方案", 15, 1)
    assert audit_actions(item) == ["agenda_item.added"]


def test_bad_item_input_is_shown_next_to_the_field(english, login, make_meeting, secretary):
    meeting = make_meeting("draft")
    login(secretary)
    response = english.post(
        f"/meetings/{meeting.id}/agenda", data={"title": "", "planned_minutes": "0"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field_errors(page, "title")
    assert field_errors(page, "planned_minutes")


def test_up_and_down_buttons_reorder_without_javascript(english, login, agenda, secretary):
    login(secretary)
    last = item_named(agenda, TITLES[2])
    response = english.post(
        f"/meetings/{agenda.id}/agenda/{last.id}/move", data={"direction": "up"}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/meetings/{agenda.id}/agenda#item-{last.id}")
    assert titles(agenda) == [TITLES[0], TITLES[2], TITLES[1]]

    first = item_named(agenda, TITLES[0])
    english.post(f"/meetings/{agenda.id}/agenda/{first.id}/move", data={"direction": "down"})
    assert titles(agenda) == [TITLES[2], TITLES[0], TITLES[1]]
    assert positions(agenda) == [1, 2, 3]


def test_moving_past_either_end_stays_at_the_end(in_request, agenda, secretary):
    first = item_named(agenda, TITLES[0])
    services.move_agenda_item(secretary, first, 0)
    assert titles(agenda) == TITLES
    services.move_agenda_item(secretary, first, 99)
    assert titles(agenda) == [TITLES[1], TITLES[2], TITLES[0]]


def test_drag_and_drop_posts_a_position(english, login, agenda, secretary):
    """What static/js/agenda.js sends when an item is dropped on another."""
    login(secretary)
    last = item_named(agenda, TITLES[2])
    response = english.post(f"/meetings/{agenda.id}/agenda/{last.id}/move", data={"position": 1})
    assert response.status_code == 302
    assert titles(agenda) == [TITLES[2], TITLES[0], TITLES[1]]
    assert "agenda_item.moved" in audit_actions(last)


def test_the_editor_loads_the_drag_script_from_static(english, login, agenda, secretary):
    login(secretary)
    response = english.get(f"/meetings/{agenda.id}/agenda")
    page = response.get_data(as_text=True)
    assert '<script src="/static/js/agenda.js" defer></script>' in page
    assert "<script>" not in page  # the CSP allows no inline script
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert len(re.findall(r'name="direction" value="up"', page)) == 3


def test_editing_an_item(english, login, agenda, secretary):
    login(secretary)
    item = item_named(agenda, TITLES[1])
    response = english.post(
        f"/meetings/{agenda.id}/agenda/{item.id}/edit",
        data={"title": "物业报告改造方案与预算", "planned_minutes": "25", "description": ""},
    )
    assert response.status_code == 302
    item = fresh(item)
    assert (item.title, item.planned_minutes, item.position) == ("物业报告改造方案与预算", 25, 2)


def test_removing_an_item_closes_the_gap(english, login, agenda, secretary):
    login(secretary)
    item = item_named(agenda, TITLES[0])
    response = english.post(f"/meetings/{agenda.id}/agenda/{item.id}/remove")
    assert response.status_code == 302
    assert titles(agenda) == TITLES[1:]
    assert positions(agenda) == [1, 2]
    assert fresh(agenda).total_planned_minutes == 50


def test_an_item_with_a_proposal_is_kept_with_a_reason(english, login, agenda, secretary, bearer):
    item = item_named(agenda, TITLES[2])
    poll_services.table_proposal(secretary, item, "全面改造出新")
    db.session.flush()
    login(secretary)
    response = english.post(f"/meetings/{agenda.id}/agenda/{item.id}/remove")
    assert response.status_code == 409
    assert any("cannot be removed" in m for m in flashes(response.get_data(as_text=True)))

    response = english.delete(
        f"/api/v1/meetings/{agenda.id}/agenda-items/{item.id}", headers=bearer(secretary)
    )
    assert response.status_code == 409
    assert response.json["error"]["code"] == "conflict"
    assert titles(agenda) == TITLES
    assert db.session.scalar(db.select(db.func.count(Proposal.id))) == 1


def test_items_deal_with_the_meetings_topics_only(
    in_request, make_meeting, secretary, accepted_request
):
    meeting = make_meeting("draft")
    with pytest.raises(ValidationFailed) as raised:
        services.add_agenda_item(secretary, meeting, "地板", request_ids=[accepted_request.id])
    assert set(raised.value.fields) == {"request_ids"}

    services.update_meeting(secretary, meeting, request_ids=[accepted_request.id])
    item = services.add_agenda_item(secretary, meeting, "地板", request_ids=[accepted_request.id])
    assert item.requests == [accepted_request]
    # a topic taken off the meeting leaves its agenda items too
    services.update_meeting(secretary, meeting, request_ids=[])
    assert item.requests == []


@pytest.mark.parametrize("status", ["in_progress", "closed", "cancelled"])
def test_the_agenda_is_fixed_once_the_meeting_has_begun(
    english, login, in_request, make_meeting, secretary, status
):
    meeting = make_meeting("scheduled")
    item = services.add_agenda_item(secretary, meeting, "议题一")
    for step in {"in_progress": ["in_progress"], "closed": ["in_progress", "closed"]}.get(
        status, []
    ):
        services.transition_meeting(secretary, meeting, step)
    if status == "cancelled":
        services.transition_meeting(secretary, meeting, "cancelled", "改期")
    db.session.flush()

    with pytest.raises(Conflict):
        services.add_agenda_item(secretary, meeting, "议题二")
    login(secretary)
    response = english.post(f"/meetings/{meeting.id}/agenda/{item.id}/move", data={"position": 2})
    assert response.status_code == 409
    assert "The agenda can be changed only while the meeting is a draft or scheduled." in flashes(
        response.get_data(as_text=True)
    )
    response = english.post(f"/meetings/{meeting.id}/agenda/{item.id}/remove")
    assert response.status_code == 409
    assert titles(meeting) == ["议题一"]


def test_an_item_of_another_meeting_is_not_found(english, login, agenda, make_meeting, secretary):
    other = make_meeting("draft")
    item = item_named(agenda, TITLES[0])
    login(secretary)
    response = english.post(f"/meetings/{other.id}/agenda/{item.id}/move", data={"position": 2})
    assert response.status_code == 404
