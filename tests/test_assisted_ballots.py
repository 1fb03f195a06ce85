"""Assisted voting: the secretary records the ballot of an attendee without a
phone, with a named witness; audited, once, for an eligible voter only."""

from __future__ import annotations

import sqlalchemy as sa
from poll_helpers import error_of

from meetings.audit.models import AuditEntry
from meetings.extensions import db
from meetings.polls.models import OnBehalfKind, VoteOnBehalf

pytest_plugins = ["meeting_fixtures", "poll_fixtures"]


def assisted(api, actor, poll, voter_id, witness="张红（楼栋长）", option=None):
    body = {"voter_id": voter_id, "witness": witness}
    body["option_ids"] = [option or poll["options"][0]["id"]]
    return api.post(f"/polls/{poll['id']}/assisted-ballots", actor, body)


def opened(api, assembly, secretary, **body):
    poll = api.create_poll(secretary, assembly.item, **body)
    api.open_poll(secretary, poll["id"])
    return poll


def test_the_secretary_records_an_assisted_ballot_once(api, assembly, secretary):
    voter = assembly.voters[0]
    poll = opened(api, assembly, secretary)
    response = assisted(api, secretary, poll, voter.id)
    assert response.status_code == 201, response.json
    assert response.json["receipt"] and response.json["on_behalf_of"] == voter.id
    beside = db.session.get(VoteOnBehalf, (poll["id"], voter.id))
    assert (beside.kind, beside.cast_by_id, beside.witness) == (
        OnBehalfKind.ASSISTED,
        secretary.id,
        "张红（楼栋长）",
    )
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "ballot.cast_for"))
    assert entry.actor_id == secretary.id
    assert entry.data == {
        "on_behalf_of": voter.id,
        "cast_by": secretary.id,
        "kind": "assisted",
        "witness": "张红（楼栋长）",
    }
    state = api.get(f"/polls/{poll['id']}", secretary).json
    assert (state["cast"], state["assisted"], state["by_proxy"]) == (1, 1, 0)
    assert error_of(assisted(api, secretary, poll, voter.id)) == (409, "already_voted")
    own = api.post(
        f"/polls/{poll['id']}/ballots", voter, {"option_ids": [poll["options"][0]["id"]]}
    )
    assert error_of(own) == (409, "already_voted")


def test_only_the_secretary_records_assisted_ballots(api, assembly, secretary, other_secretary):
    poll = opened(api, assembly, secretary)
    voter = assembly.voters[0]
    for someone in (assembly.voters[1], assembly.observer, other_secretary):
        assert error_of(assisted(api, someone, poll, voter.id)) == (403, "forbidden")


def test_a_witness_is_required(api, assembly, secretary):
    poll = opened(api, assembly, secretary)
    for witness in ("", "   "):
        response = assisted(api, secretary, poll, assembly.voters[0].id, witness=witness)
        assert error_of(response) == (422, "validation_error")
        assert "witness" in response.json["error"]["fields"]


def test_only_an_eligible_voter(api, assembly, secretary, resident):
    poll = opened(api, assembly, secretary)
    for wrong in (assembly.observer.id, resident.id, 99_999_999, secretary.id):
        response = assisted(api, secretary, poll, wrong)
        assert error_of(response) == (422, "validation_error"), wrong
        assert "voter_id" in response.json["error"]["fields"]


def test_not_in_a_closed_poll(api, assembly, secretary):
    poll = opened(api, assembly, secretary)
    api.close_poll(secretary, poll["id"])
    assert error_of(assisted(api, secretary, poll, assembly.voters[0].id)) == (
        409,
        "poll_not_open",
    )


def test_the_secretary_records_one_on_the_page(client, login, api, assembly, secretary):
    poll = opened(api, assembly, secretary, secret=True)
    voter = assembly.voters[0]
    login(secretary)
    page = client.get(f"/polls/{poll['id']}")
    assert f"/polls/{poll['id']}/assisted" in page.get_data(as_text=True)
    form = client.get(f"/polls/{poll['id']}/assisted")
    assert form.status_code == 200 and voter.display_name in form.get_data(as_text=True)
    option = poll["options"][0]["id"]
    missing = client.post(
        f"/polls/{poll['id']}/assisted",
        data={"voter_id": voter.id, "witness": "", "option_ids": option, "confirm": "1"},
    )
    assert missing.status_code == 422
    done = client.post(
        f"/polls/{poll['id']}/assisted",
        data={"voter_id": voter.id, "witness": "张红", "option_ids": option, "confirm": "1"},
    )
    assert done.status_code == 200
    assert "receipt-code" in done.get_data(as_text=True)
    assert db.session.get(VoteOnBehalf, (poll["id"], voter.id)) is not None
    shown = client.get(f"/polls/{poll['id']}").get_data(as_text=True)
    assert "代为投票1人" in shown  # "1 assisted", in the site's language
    client.post("/auth/logout")
    login(voter)
    assert client.get(f"/polls/{poll['id']}/assisted").status_code == 403
