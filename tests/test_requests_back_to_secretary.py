"""A request handed back by its assignee or reopened by a low rating is
waiting for the secretary again: it comes first in their list, counts as
waiting, and they answer it (or accept it as a topic) with the reply form
and ``POST /api/v1/requests/{id}/reply`` — or dispatch it again."""

from __future__ import annotations

import pytest
from request_helpers import fresh

from meetings.errors import InvalidTransition
from meetings.requests import services
from meetings.requests.models import RequestStatus

pytest_plugins = ["meeting_fixtures", "order_fixtures"]


@pytest.mark.parametrize("state", ["reopened", "handed_back"])
def test_the_secretary_answers_a_request_back_with_them(make_order, secretary, state):
    item = make_order(state)
    services.reply_to_request(secretary, item, "answer", "另一盏路灯明天更换。")
    assert item.status == RequestStatus.ANSWERED
    assert item.reply == "另一盏路灯明天更换。"


def test_a_reopened_request_is_not_declined(make_order, secretary):
    item = make_order("reopened")
    with pytest.raises(InvalidTransition) as refused:
        services.reply_to_request(secretary, item, "reject", "不归社区管")
    assert "action" in refused.value.fields
    assert item.status == RequestStatus.REOPENED


def test_requests_back_with_the_secretary_come_first_and_count_as_waiting(
    make_order, secretary, community
):
    handled = make_order("handled", title="已办结的诉求")
    reopened = make_order("reopened", title="重新打开的诉求")
    counts = services.inbox_counts(community)
    assert counts.waiting == 1 and counts.overdue == 0
    listed = [entry.request for entry in services.inbox(community).items]
    assert listed.index(reopened) < listed.index(handled)


def test_the_reply_form_shows_on_a_reopened_request_and_answers_it(
    make_order, client, login, secretary
):
    item = make_order("reopened")
    login(secretary)
    page = client.get(f"/requests/{item.id}")
    assert page.status_code == 200
    assert f'action="/requests/{item.id}/reply' in page.text
    # handed back or reopened: answered, accepted or dispatched again, never declined
    assert 'value="answer"' in page.text and 'value="reject"' not in page.text
    answer = client.post(
        f"/requests/{item.id}/reply",
        data={"action": "answer", "message": "已安排电工复查。"},
    )
    assert answer.status_code == 302
    assert fresh(item).status == RequestStatus.ANSWERED


def test_the_api_answers_a_reopened_request(make_order, client, secretary, bearer):
    item = make_order("reopened")
    response = client.post(
        f"/api/v1/requests/{item.id}/reply",
        json={"action": "reject", "message": "不归社区管"},
        headers=bearer(secretary),
    )
    assert response.status_code == 409
    assert response.json["error"]["code"] == "invalid_transition"
    response = client.post(
        f"/api/v1/requests/{item.id}/reply",
        json={"action": "answer", "message": "已安排电工复查。"},
        headers=bearer(secretary),
    )
    assert response.status_code == 200
    assert response.json["status"] == "answered"
