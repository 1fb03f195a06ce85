"""The voting flow through the API, end to end: table, create, open, vote, close."""

import pytest

from meetings.meeting import services as meeting_services
from meetings.meeting.models import MeetingStatus

pytest_plugins = ["meeting_fixtures"]


@pytest.fixture
def meeting_in_progress(make_meeting, make_member, secretary, in_request, db):
    """Three resident representatives who vote, an observer who does not, one agenda item."""
    voters = [make_member(f"居民代表{i}") for i in range(3)]
    observer = make_member("列席人员")
    invite = dict.fromkeys(voters, "resident_rep") | {observer: "observer"}
    meeting = make_meeting(MeetingStatus.SCHEDULED, invite=invite)
    item = meeting_services.add_agenda_item(secretary, meeting, "活动室改造方案")
    meeting_services.transition_meeting(secretary, meeting, MeetingStatus.IN_PROGRESS)
    db.session.flush()
    return item, voters, observer


def test_a_poll_runs_from_draft_to_a_stored_result(client, bearer, secretary, meeting_in_progress):
    item, voters, observer = meeting_in_progress
    sec = bearer(secretary)
    item_id = item.id

    proposal = client.post(
        f"/api/v1/agenda-items/{item_id}/proposals",
        json={"title": "铺设防滑地板", "body": "乒乓球室和舞蹈室换防滑地胶"},
        headers=bearer(voters[0]),
    )
    assert proposal.status_code == 201, proposal.json

    poll = client.post(
        f"/api/v1/agenda-items/{item_id}/polls",
        json={
            "title": "是否改造活动室",
            "kind": "yes_no_abstain",
            "secret": True,
            "majority": "simple",
        },
        headers=sec,
    )
    assert poll.status_code == 201, poll.json
    assert poll.json["status"] == "draft"
    assert [o["code"] for o in poll.json["options"]] == ["yes", "no", "abstain"]
    poll_id = poll.json["id"]
    yes, no, abstain = (o["id"] for o in poll.json["options"])

    early = client.post(
        f"/api/v1/polls/{poll_id}/ballots", json={"option_ids": [yes]}, headers=bearer(voters[0])
    )
    assert early.status_code == 409 and early.json["error"]["code"] == "poll_not_open"

    opened = client.post(f"/api/v1/polls/{poll_id}/open", headers=sec)
    assert opened.json == {"id": poll_id, "status": "open"}

    tokens = [bearer(v) for v in voters]
    receipts = []
    for headers, choice in zip(tokens, [yes, yes, abstain], strict=True):
        cast = client.post(
            f"/api/v1/polls/{poll_id}/ballots", json={"option_ids": [choice]}, headers=headers
        )
        assert cast.status_code == 201, cast.json
        receipts.append(cast.json["receipt"])

    again = client.post(
        f"/api/v1/polls/{poll_id}/ballots", json={"option_ids": [no]}, headers=tokens[0]
    )
    assert again.status_code == 409 and again.json["error"]["code"] == "already_voted"
    outsider = client.post(
        f"/api/v1/polls/{poll_id}/ballots", json={"option_ids": [no]}, headers=bearer(observer)
    )
    assert outsider.status_code == 403 and outsider.json["error"]["code"] == "not_eligible"

    state = client.get(f"/api/v1/polls/{poll_id}", headers=tokens[0]).json
    assert (state["eligible"], state["cast"], state["has_voted"]) == (3, 3, True)
    hidden = client.get(f"/api/v1/polls/{poll_id}/result", headers=tokens[0])
    assert hidden.status_code == 409 and hidden.json["error"]["code"] == "poll_not_open"

    closed = client.post(f"/api/v1/polls/{poll_id}/close", headers=sec)
    assert closed.status_code == 200, closed.json
    result = closed.json
    assert (result["eligible"], result["cast"], result["outcome"]) == (3, 3, "adopted")
    assert result["winner_option_ids"] == [yes]
    assert {o["id"]: o["votes"] for o in result["options"]} == {yes: 2, no: 0, abstain: 1}

    listed = client.get(f"/api/v1/polls/{poll_id}/receipts", headers=tokens[2]).json
    assert sorted(line["receipt"] for line in listed["items"]) == sorted(receipts)
    late = client.post(
        f"/api/v1/polls/{poll_id}/ballots", json={"option_ids": [no]}, headers=bearer(observer)
    )
    assert late.status_code == 409
