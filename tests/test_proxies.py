"""Proxy voting (委托投票): naming, confirming, revoking a proxy; the proxy's
ballots (each separate, with its receipt); the roll, the audit log and the
turnout; secret polls stay secret. Through the API and the pages."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from poll_helpers import error_of

from meetings.audit.models import AuditEntry
from meetings.extensions import db
from meetings.notifications.models import Notification
from meetings.polls.models import Ballot, OnBehalfKind, PendingBallot, Poll, VoteOnBehalf
from meetings.room.models import Proxy, ProxyStatus

pytest_plugins = ["meeting_fixtures", "poll_fixtures"]


@pytest.fixture
def room(assembly, db):
    """The assembly's meeting, allowing proxies."""
    assembly.meeting.allow_proxies = True
    db.session.flush()
    return assembly


def name(api, principal, meeting, proxy_user) -> object:
    return api.post(f"/meetings/{meeting.id}/proxies", principal, {"proxy_user_id": proxy_user.id})


def confirmed(api, room, secretary, principal, proxy_user) -> int:
    named = name(api, principal, room.meeting, proxy_user)
    assert named.status_code == 201, named.json
    assert named.json["status"] == "requested"
    done = api.post(f"/proxies/{named.json['id']}/confirm", secretary)
    assert done.status_code == 200 and done.json["status"] == "confirmed", done.json
    return named.json["id"]


def open_poll(api, room, secretary, **body) -> dict:
    poll = api.create_poll(secretary, room.item, **body)
    api.open_poll(secretary, poll["id"])
    return poll


def cast_for(api, proxy_user, poll, principal, option_id=None):
    option_id = option_id or poll["options"][0]["id"]
    return api.post(
        f"/polls/{poll['id']}/ballots",
        proxy_user,
        {"option_ids": [option_id], "on_behalf_of": principal.id},
    )


# --- naming a proxy ----------------------------------------------------------------------


def test_proxies_are_refused_where_the_meeting_does_not_allow_them(api, assembly):
    principal, proxy_user = assembly.voters[:2]
    assert error_of(name(api, principal, assembly.meeting, proxy_user)) == (403, "forbidden")


def test_only_an_attendee_with_a_vote_names_a_proxy(api, room, resident, secretary):
    voter = room.voters[0]
    assert error_of(name(api, room.observer, room.meeting, voter)) == (403, "forbidden")
    assert error_of(name(api, secretary, room.meeting, voter)) == (403, "forbidden")
    assert error_of(name(api, resident, room.meeting, voter))[0] in (403, 404)


def test_the_proxy_is_another_attendee_of_the_same_meeting(api, room, resident):
    principal = room.voters[0]
    for wrong in (principal, resident):
        response = name(api, principal, room.meeting, wrong)
        assert error_of(response) == (422, "validation_error")
        assert "proxy_user_id" in response.json["error"]["fields"]
    missing = api.post(
        f"/meetings/{room.meeting.id}/proxies", principal, {"proxy_user_id": 99_999_999}
    )
    assert error_of(missing) == (422, "validation_error")


def test_an_observer_may_be_a_proxy_and_is_told(api, room, secretary):
    principal = room.voters[0]
    response = name(api, principal, room.meeting, room.observer)
    assert response.status_code == 201
    assert response.json["proxy_user_id"] == room.observer.id
    kinds = {
        (n.user_id, n.kind)
        for n in db.session.scalars(
            sa.select(Notification).where(Notification.kind.like("proxy.%"))
        )
    }
    assert (room.observer.id, "proxy.named") in kinds
    assert (secretary.id, "proxy.requested") in kinds


def test_one_standing_proxy_per_principal(api, room, secretary):
    principal, first, second = room.voters[:3]
    assert name(api, principal, room.meeting, first).status_code == 201
    assert error_of(name(api, principal, room.meeting, second)) == (409, "conflict")


def test_a_proxy_holds_at_most_the_meetings_cap(api, room, secretary):
    holder, a, b, c = room.voters[:4]
    assert name(api, a, room.meeting, holder).status_code == 201
    assert error_of(name(api, b, room.meeting, holder)) == (409, "conflict")
    room.meeting.max_proxies_per_person = 2
    db.session.flush()
    assert name(api, b, room.meeting, holder).status_code == 201
    assert error_of(name(api, c, room.meeting, holder)) == (409, "conflict")


def test_only_the_secretary_confirms(api, room, secretary, other_secretary):
    principal, proxy_user = room.voters[:2]
    proxy_id = name(api, principal, room.meeting, proxy_user).json["id"]
    for someone in (principal, proxy_user, other_secretary):
        assert error_of(api.post(f"/proxies/{proxy_id}/confirm", someone)) == (403, "forbidden")
    assert api.post(f"/proxies/{proxy_id}/confirm", secretary).status_code == 200
    again = api.post(f"/proxies/{proxy_id}/confirm", secretary)
    assert error_of(again) == (409, "invalid_transition")
    told = db.session.scalar(
        sa.select(Notification).where(
            Notification.user_id == proxy_user.id, Notification.kind == "proxy.confirmed"
        )
    )
    assert told is not None


def test_the_secretary_refuses_a_request_but_not_a_confirmed_proxy(api, room, secretary):
    principal, proxy_user = room.voters[:2]
    proxy_id = name(api, principal, room.meeting, proxy_user).json["id"]
    assert (
        api.client.delete(f"/api/v1/proxies/{proxy_id}", headers=api.headers(secretary)).status_code
        == 204
    )
    assert db.session.get(Proxy, proxy_id).status == ProxyStatus.REVOKED
    # refused: the principal may name someone again
    other = confirmed(api, room, secretary, principal, room.voters[2])
    refused = api.client.delete(f"/api/v1/proxies/{other}", headers=api.headers(secretary))
    assert error_of(refused) == (409, "invalid_transition")
    stranger = api.client.delete(f"/api/v1/proxies/{other}", headers=api.headers(room.voters[3]))
    assert error_of(stranger) == (403, "forbidden")


def test_the_list_shows_the_secretary_all_and_an_attendee_theirs(api, room, secretary, resident):
    a, b, c, d = room.voters[:4]
    name(api, a, room.meeting, b)
    name(api, c, room.meeting, d)
    path = f"/meetings/{room.meeting.id}/proxies"
    assert api.get(path, secretary).json["total"] == 2
    mine = api.get(path, b).json
    assert mine["total"] == 1 and mine["items"][0]["principal_id"] == a.id
    assert api.get(path, room.voters[4]).json["total"] == 0
    assert error_of(api.get(path, resident))[0] in (403, 404)


# --- casting as a proxy -------------------------------------------------------------------


def test_the_proxy_casts_each_ballot_separately_with_its_receipt(api, room, secretary):
    principal, proxy_user = room.voters[:2]
    proxy_id = confirmed(api, room, secretary, principal, proxy_user)
    poll = open_poll(api, room, secretary)
    own = api.vote(proxy_user, poll["id"], poll["options"][0]["id"])
    theirs = cast_for(api, proxy_user, poll, principal, poll["options"][1]["id"])
    assert theirs.status_code == 201, theirs.json
    assert theirs.json["on_behalf_of"] == principal.id
    assert theirs.json["receipt"] != own
    state = api.get(f"/polls/{poll['id']}", secretary).json
    assert (state["cast"], state["by_proxy"], state["assisted"]) == (2, 1, 0)
    # the roll: the principal voted, by the proxy's hand
    beside = db.session.get(VoteOnBehalf, (poll["id"], principal.id))
    assert (beside.kind, beside.cast_by_id, beside.proxy_id) == (
        OnBehalfKind.PROXY,
        proxy_user.id,
        proxy_id,
    )
    entry = db.session.scalar(
        sa.select(AuditEntry).where(
            AuditEntry.action == "ballot.cast_for", AuditEntry.object_id == poll["id"]
        )
    )
    assert entry.actor_id == proxy_user.id
    assert entry.data == {
        "on_behalf_of": principal.id,
        "cast_by": proxy_user.id,
        "kind": "proxy",
        "proxy_id": proxy_id,
    }
    # a named poll: the box holds the principal's ballot under the principal
    voters = set(
        db.session.scalars(
            sa.select(PendingBallot.voter_id).where(PendingBallot.poll_id == poll["id"])
        )
    )
    assert voters == {principal.id, proxy_user.id}
    closed = api.close_poll(secretary, poll["id"])
    assert closed["cast"] == 2
    assert api.get(f"/polls/{poll['id']}", secretary).json["by_proxy"] == 1


def test_a_proxy_casts_once_per_principal(api, room, secretary):
    principal, proxy_user = room.voters[:2]
    confirmed(api, room, secretary, principal, proxy_user)
    poll = open_poll(api, room, secretary)
    assert cast_for(api, proxy_user, poll, principal).status_code == 201
    assert error_of(cast_for(api, proxy_user, poll, principal)) == (409, "already_voted")
    # and the principal can no longer vote themself
    again = api.post(
        f"/polls/{poll['id']}/ballots", principal, {"option_ids": [poll["options"][0]["id"]]}
    )
    assert error_of(again) == (409, "already_voted")


def test_a_principal_who_voted_first_leaves_nothing_to_the_proxy(api, room, secretary):
    principal, proxy_user = room.voters[:2]
    confirmed(api, room, secretary, principal, proxy_user)
    poll = open_poll(api, room, secretary)
    api.vote(principal, poll["id"], poll["options"][0]["id"])
    assert error_of(cast_for(api, proxy_user, poll, principal)) == (409, "already_voted")


def test_only_a_confirmed_proxy_casts(api, room, secretary):
    principal, proxy_user, stranger = room.voters[:3]
    name(api, principal, room.meeting, proxy_user)
    poll = open_poll(api, room, secretary)
    assert error_of(cast_for(api, proxy_user, poll, principal)) == (403, "forbidden")
    assert error_of(cast_for(api, stranger, poll, principal)) == (403, "forbidden")
    assert error_of(cast_for(api, secretary, poll, principal)) == (403, "forbidden")
    unknown = api.post(
        f"/polls/{poll['id']}/ballots",
        proxy_user,
        {"option_ids": [poll["options"][0]["id"]], "on_behalf_of": 99_999_999},
    )
    assert error_of(unknown) == (403, "forbidden")


def test_no_proxy_casts_once_the_meeting_stops_allowing_them(api, room, secretary):
    principal, proxy_user = room.voters[:2]
    confirmed(api, room, secretary, principal, proxy_user)
    room.meeting.allow_proxies = False
    db.session.flush()
    poll = open_poll(api, room, secretary)
    assert error_of(cast_for(api, proxy_user, poll, principal)) == (403, "forbidden")


def test_a_proxy_of_another_meeting_casts_nothing_here(
    api, room, secretary, make_meeting, in_request
):
    from meetings.meeting import services as meeting_services  # noqa: PLC0415

    principal, proxy_user = room.voters[:2]
    other = make_meeting(
        "scheduled", invite={principal: "resident_rep", proxy_user: "resident_rep"}
    )
    other.allow_proxies = True
    db.session.flush()
    assert name(api, principal, other, proxy_user).status_code == 201
    proxy = db.session.scalar(sa.select(Proxy).where(Proxy.meeting_id == other.id))
    assert api.post(f"/proxies/{proxy.id}/confirm", secretary).status_code == 200
    assert meeting_services  # the meeting's own poll:
    poll = open_poll(api, room, secretary)
    assert error_of(cast_for(api, proxy_user, poll, principal)) == (403, "forbidden")


# --- revocation -----------------------------------------------------------------------------


def test_the_principal_revokes_until_used_then_again_after_the_close(api, room, secretary):
    principal, proxy_user = room.voters[:2]
    proxy_id = confirmed(api, room, secretary, principal, proxy_user)
    poll = open_poll(api, room, secretary)
    assert cast_for(api, proxy_user, poll, principal).status_code == 201
    delete = lambda who: api.client.delete(  # noqa: E731
        f"/api/v1/proxies/{proxy_id}", headers=api.headers(who)
    )
    assert error_of(delete(principal)) == (409, "conflict")
    api.close_poll(secretary, poll["id"])
    assert delete(principal).status_code == 204
    assert error_of(delete(principal)) == (409, "invalid_transition")
    later = open_poll(api, room, secretary)
    assert error_of(cast_for(api, proxy_user, later, principal)) == (403, "forbidden")


def test_a_principal_who_voted_in_an_open_poll_revokes_after_its_close(api, room, secretary):
    principal, proxy_user = room.voters[:2]
    proxy_id = confirmed(api, room, secretary, principal, proxy_user)
    poll = open_poll(api, room, secretary)
    api.vote(principal, poll["id"], poll["options"][0]["id"])
    path = f"/api/v1/proxies/{proxy_id}"
    assert error_of(api.client.delete(path, headers=api.headers(principal))) == (409, "conflict")
    api.close_poll(secretary, poll["id"])
    assert api.client.delete(path, headers=api.headers(principal)).status_code == 204


def test_revoking_before_any_vote_works_and_the_proxy_only_hears_if_confirmed(api, room, secretary):
    principal, proxy_user = room.voters[:2]
    proxy_id = confirmed(api, room, secretary, principal, proxy_user)
    open_poll(api, room, secretary)  # open, nobody voted: not in use
    response = api.client.delete(f"/api/v1/proxies/{proxy_id}", headers=api.headers(principal))
    assert response.status_code == 204
    kinds = set(
        db.session.scalars(
            sa.select(Notification.kind).where(Notification.user_id == proxy_user.id)
        )
    )
    assert "proxy.revoked" in kinds


# --- secret polls stay secret -----------------------------------------------------------------


def test_after_a_secret_poll_nothing_links_principal_or_proxy_to_a_ballot(api, room, secretary):
    principal, proxy_user = room.voters[:2]
    confirmed(api, room, secretary, principal, proxy_user)
    poll = open_poll(api, room, secretary, secret=True)
    options = [o["id"] for o in poll["options"]]
    receipts = {
        "proxy": api.vote(proxy_user, poll["id"], options[0]),
        "principal": cast_for(api, proxy_user, poll, principal, options[1]).json["receipt"],
    }
    for voter in room.voters[2:]:
        api.vote(voter, poll["id"], options[2])
    assert set(
        db.session.scalars(
            sa.select(PendingBallot.voter_id).where(PendingBallot.poll_id == poll["id"])
        )
    ) == {None}
    api.close_poll(secretary, poll["id"])
    rows = db.session.execute(
        sa.select(Ballot.receipt, Ballot.voter_id).where(Ballot.poll_id == poll["id"])
    ).all()
    assert {voter_id for _r, voter_id in rows} == {None}
    assert set(receipts.values()) <= {receipt for receipt, _v in rows}
    # the proxy's record names whose hand, never which ballot
    columns = {c["name"] for c in sa.inspect(db.session.connection()).get_columns("vote_on_behalf")}
    assert columns == {"poll_id", "user_id", "kind", "cast_by_id", "proxy_id", "witness"}
    # no audit entry names a receipt or a choice
    for entry in db.session.scalars(sa.select(AuditEntry)):
        text = repr(entry.data)
        assert not any(receipt in text for receipt in receipts.values()), entry.action
    cast_for_entries = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "ballot.cast_for")
    )
    for entry in cast_for_entries:
        assert set(entry.data) == {"on_behalf_of", "cast_by", "kind", "proxy_id"}
    assert db.session.get(Poll, poll["id"]).secret


# --- the pages ----------------------------------------------------------------------------------


def test_pages_name_confirm_and_vote_by_proxy(client, login, room, secretary, api):
    principal, proxy_user = room.voters[:2]
    meeting = room.meeting
    login(principal)
    page = client.get(f"/meetings/{meeting.id}")
    assert f"/meetings/{meeting.id}/proxy" in page.get_data(as_text=True)
    assert client.get(f"/meetings/{meeting.id}/proxy").status_code == 200
    empty = client.post(f"/meetings/{meeting.id}/proxy", data={"proxy_user_id": ""})
    assert empty.status_code == 422
    named = client.post(f"/meetings/{meeting.id}/proxy", data={"proxy_user_id": proxy_user.id})
    assert named.status_code == 302
    proxy = db.session.scalar(sa.select(Proxy).where(Proxy.principal_id == principal.id))
    client.post("/auth/logout")

    login(secretary)
    attendees = client.get(f"/meetings/{meeting.id}/attendees").get_data(as_text=True)
    assert f"/proxies/{proxy.id}/confirm" in attendees
    assert client.post(f"/proxies/{proxy.id}/confirm").status_code == 302
    db.session.expire_all()
    assert db.session.get(Proxy, proxy.id).status == ProxyStatus.CONFIRMED
    poll = open_poll(api, room, secretary)
    client.post("/auth/logout")

    login(proxy_user)
    option = poll["options"][0]["id"]
    client.post(f"/polls/{poll['id']}/vote", data={"option_ids": option, "confirm": "1"})
    voted = client.get(f"/polls/{poll['id']}/vote").get_data(as_text=True)
    link = f"/polls/{poll['id']}/vote-for/{principal.id}"
    assert link in voted
    ballot = client.get(link)
    assert ballot.status_code == 200 and principal.display_name in ballot.get_data(as_text=True)
    check = client.post(link, data={"option_ids": option})
    assert check.status_code == 200
    cast = client.post(link, data={"option_ids": option, "confirm": "1"})
    assert cast.status_code == 302
    receipt = client.get(link).get_data(as_text=True)
    assert "receipt-code" in receipt and principal.display_name in receipt
    assert client.post(link, data={"option_ids": option, "confirm": "1"}).status_code == 409
    client.post("/auth/logout")

    login(secretary)
    shown = client.get(f"/polls/{poll['id']}").get_data(as_text=True)
    assert "其中委托投票1人" in shown  # "of which 1 by proxy"


def test_pages_revoke_after_a_confirmation(client, login, room, secretary, api):
    principal, proxy_user = room.voters[:2]
    proxy_id = confirmed(api, room, secretary, principal, proxy_user)
    login(proxy_user)
    assert client.get(f"/proxies/{proxy_id}/revoke").status_code == 403
    client.post("/auth/logout")
    login(principal)
    assert client.get(f"/proxies/{proxy_id}/revoke").status_code == 200
    assert client.post(f"/proxies/{proxy_id}/revoke").status_code == 302
    db.session.expire_all()
    assert db.session.get(Proxy, proxy_id).status == ProxyStatus.REVOKED
