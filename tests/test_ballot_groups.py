"""Ballots by API token that arrive together in one process go to PostgreSQL
as one statement (``_CAST_GROUP_SQL`` through ``meetings.group_commit``),
each with its own outcome: the checks, the one-ballot-per-voter rule and the
secrecy of ``_CAST_SQL`` hold ballot by ballot inside a group."""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from conftest import _on_postgres
from flask import Flask
from live_server import meeting_in_progress, open_poll
from poll_helpers import error_of

from auth import services as auth_services
from auth.models import User
from meetings import database
from meetings.audit.services import seal_pending, verify_chain
from meetings.extensions import db as _db
from meetings.polls import services
from meetings.polls.models import Poll

pytestmark = pytest.mark.skipif(not _on_postgres(), reason="PostgreSQL only")


@dataclass
class Hall:
    app: Flask
    named: tuple[int, list[int]]  # yes / no / abstain, by name
    secret: tuple[int, list[int]]  # yes / no / abstain, secret
    closed: tuple[int, list[int]]
    tokens: list[str]  # the six voters'
    voter_ids: list[int]
    outsider_token: str  # a member of the community who is not on the roll


@pytest.fixture
def hall(committing_app) -> Hall:
    with committing_app.test_request_context(headers={"Accept-Language": "en"}):
        secretary, people, item = meeting_in_progress(6, "group")
        named = open_poll(secretary, item, "是否安装智能音箱", "yes_no_abstain", secret=False)
        secret = open_poll(secretary, item, "活动室改造方案", "yes_no_abstain", secret=True)
        closed = open_poll(secretary, item, "已结束的表决", "yes_no_abstain", secret=False)
        services.close_poll(secretary, _db.session.get(Poll, closed[0]))
        outsider = User(username="group-outsider", display_name="旁听居民")
        outsider.set_password("not-used-here-1")
        _db.session.add(outsider)
        _db.session.flush()
        tokens = [auth_services.issue_token(person)[0] for person in people]
        outsider_token = auth_services.issue_token(outsider)[0]
        voter_ids = [person.id for person in people]
        _db.session.commit()
    return Hall(committing_app, named, secret, closed, tokens, voter_ids, outsider_token)


@pytest.fixture
def one_statement(monkeypatch):
    """The group goes as one statement: falling back to one by one fails the test."""

    def one_by_one(*args, **kwargs):
        raise AssertionError("the group's statement failed: its ballots went one by one")

    monkeypatch.setattr(services, "_cast_one", one_by_one)


def token_hash(plain: str) -> str:
    return auth_services.Bearer(plain).token_hash()


def stored(app: Flask, sql: str, **params) -> list[tuple]:
    with app.app_context(), _db.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(sa.text(sql), params)]


def test_one_statement_gives_each_ballot_of_a_group_its_own_outcome(hall, one_statement):
    (named, (yes, no, _abstain)), (secret, secret_options) = hall.named, hall.secret
    closed, closed_options = hall.closed
    ballots = [
        services._GroupBallot(named, token_hash(hall.tokens[0]), [yes]),
        services._GroupBallot(named, token_hash(hall.tokens[1]), [no]),
        services._GroupBallot(named, token_hash(hall.tokens[0]), [no]),  # again
        services._GroupBallot(named, token_hash("forged-token"), [yes]),
        services._GroupBallot(named, token_hash(hall.outsider_token), [yes]),
        services._GroupBallot(named, token_hash(hall.tokens[2]), [secret_options[0]]),
        services._GroupBallot(named, token_hash(hall.tokens[3]), [yes, no]),
        services._GroupBallot(secret, token_hash(hall.tokens[4]), [secret_options[2]]),
        services._GroupBallot(closed, token_hash(hall.tokens[5]), [closed_options[0]]),
        services._GroupBallot(2**31 - 1, token_hash(hall.tokens[5]), [yes]),  # no such poll
    ]
    with hall.app.test_request_context():
        outcomes = services._cast_group(ballots)
    rows = [row for row, _receipt in outcomes]
    voters = hall.voter_ids
    assert [row.caller_id for row in rows] == [
        voters[0], voters[1], voters[0], None, rows[4].caller_id, voters[2], voters[3],
        voters[4], voters[5], voters[5],
    ]  # fmt: skip
    assert rows[4].caller_id not in (None, *voters)
    # open: the poll open and the ballot valid; voted: it went in
    assert [(row.open, row.voted) for row in rows] == [
        (True, True), (True, True), (True, False), (False, False), (False, False),
        (False, False), (False, False), (True, True), (False, False), (False, False),
    ]  # fmt: skip
    assert rows[4].on_roll is False and rows[5].on_roll is True
    assert rows[8].status == "closed" and rows[9].status is None
    receipts = [receipt for _row, receipt in outcomes]
    assert len(set(receipts)) == len(receipts)

    assert sorted(stored(hall.app, "SELECT poll_id, user_id FROM poll_vote")) == sorted(
        [(named, voters[0]), (named, voters[1]), (secret, voters[4])]
    )
    ballot_rows = stored(
        hall.app,
        "SELECT ballot.poll_id, ballot.receipt, ballot.voter_id, ballot_choice.option_id"
        " FROM ballot JOIN ballot_choice USING (poll_id, receipt)",
    )
    assert sorted(ballot_rows) == sorted(
        [
            (named, receipts[0], voters[0], yes),
            (named, receipts[1], voters[1], no),
            (secret, receipts[7], None, secret_options[2]),  # no voter in a secret poll
        ]
    )
    entries = stored(
        hall.app, "SELECT id, actor_id, object_id FROM audit_entry WHERE action = 'ballot.cast'"
    )
    assert sorted((actor, poll) for _id, actor, poll in entries) == sorted(
        [(voters[0], named), (voters[1], named), (voters[4], secret)]
    )
    by_voter = {(actor, poll): entry_id for entry_id, actor, poll in entries}
    assert rows[0].audit_id == by_voter[(voters[0], named)]
    assert rows[7].audit_id == by_voter[(voters[4], secret)]
    assert rows[2].audit_id is None
    with hall.app.app_context():
        seal_pending(_db.session.connection())
        _db.session.commit()
        report = verify_chain()
    assert report.ok and report.unsealed == 0


def test_a_secret_polls_ballots_go_in_by_receipt_not_in_the_order_of_the_roll(hall, one_statement):
    secret, (yes, no, abstain) = hall.secret
    ballots = [
        services._GroupBallot(secret, token_hash(token), [(yes, no, abstain)[number % 3]])
        for number, token in enumerate(hall.tokens)
    ]
    with hall.app.test_request_context():
        outcomes = services._cast_group(ballots)
    assert all(row.voted for row, _receipt in outcomes)
    in_heap = [
        receipt
        for (receipt,) in stored(
            hall.app, "SELECT receipt FROM ballot WHERE poll_id = :p ORDER BY ctid", p=secret
        )
    ]
    assert in_heap == sorted(receipt for _row, receipt in outcomes)
    assert stored(hall.app, "SELECT count(*) FROM ballot WHERE voter_id IS NOT NULL") == [(0,)]


def test_a_receipt_drawn_twice_in_a_group_draws_the_groups_receipts_again(
    hall, one_statement, monkeypatch
):
    named, (yes, no, _abstain) = hall.named
    draws = iter(["SAMERECEIP", "SAMERECEIP", "FIRSTRECPT", "SECONDRECP"])
    monkeypatch.setattr(services, "new_receipt", lambda: next(draws))
    ballots = [
        services._GroupBallot(named, token_hash(hall.tokens[0]), [yes]),
        services._GroupBallot(named, token_hash(hall.tokens[1]), [no]),
    ]
    with hall.app.test_request_context():
        outcomes = services._cast_group(ballots)
    assert [(row.voted, receipt) for row, receipt in outcomes] == [
        (True, "FIRSTRECPT"),
        (True, "SECONDRECP"),
    ]
    assert sorted(stored(hall.app, "SELECT receipt FROM ballot")) == [
        ("FIRSTRECPT",),
        ("SECONDRECP",),
    ]


def test_groups_of_any_size_share_one_generic_plan(hall, one_statement):
    """Planning the group's statement costs more than running it: after its
    first runs PostgreSQL keeps the prepared statement's generic plan,
    whatever the number of ballots in a group. (On this new database, with
    the arrays given straight to ``unnest``, it would plan every group anew.)"""
    named, (yes, _no, _abstain) = hall.named
    hashes = [token_hash(token) for token in hall.tokens] + [token_hash("forged")] * 30
    with hall.app.test_request_context():
        for size in (2, 5, 3, 8, 4, 2, 6, 3, 7, 2, 4, 5):
            group = [services._GroupBallot(named, hashes[n], [yes]) for n in range(size)]
            services._cast_group(group)
        # Run one after the other, every statement went on the one pooled connection.
        plans = database.run_alone(
            sa.text(
                "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
                " WHERE statement LIKE '%WITH request AS MATERIALIZED%'"
                " AND statement NOT LIKE '%pg_prepared_statements%'"
            ),
            {},
        )
    assert plans.custom_plans <= 5
    assert plans.generic_plans >= 7


def test_a_group_that_fails_sends_each_ballot_on_its_own(hall, monkeypatch):
    named, (yes, no, _abstain) = hall.named

    def failing(*args, **kwargs):
        raise sa.exc.OperationalError("statement", {}, Exception("server closed the connection"))

    monkeypatch.setattr(services, "run_alone_rows", failing)
    ballots = [
        services._GroupBallot(named, token_hash(hall.tokens[0]), [yes]),
        services._GroupBallot(named, token_hash(hall.tokens[0]), [no]),  # again
        services._GroupBallot(named, token_hash(hall.tokens[1]), [no]),
    ]
    with hall.app.test_request_context():
        outcomes = services._cast_group(ballots)
    assert [row.voted for row, _receipt in outcomes] == [True, False, True]
    assert len(stored(hall.app, "SELECT * FROM poll_vote")) == 2


def test_ballots_arriving_together_through_the_api_share_a_statement(hall, monkeypatch):
    """While one ballot's statement runs, the others queue; they then go as one
    group, and every caller gets the answer its own ballot deserves."""
    named, (yes, no, _abstain) = hall.named
    secret, secret_options = hall.secret
    groups: list[int] = []
    cast_group = services._cast_group
    queued_behind_the_first = 6

    def recording(ballots):
        if not groups:  # hold the first one until the others have queued
            runner = hall.app.extensions[services._GROUP_RUNNER]
            deadline = time.monotonic() + 10
            while len(runner._queue) < queued_behind_the_first and time.monotonic() < deadline:
                time.sleep(0.001)
        groups.append(len(ballots))
        return cast_group(ballots)

    monkeypatch.setattr(services, "_cast_group", recording)
    first = (hall.tokens[0], named, [yes])
    together = [
        (hall.tokens[1], named, [no]),
        (hall.tokens[2], named, [yes]),
        (hall.tokens[2], named, [no]),  # the same voter twice: one counts
        (hall.tokens[3], named, [secret_options[0]]),  # not an option of this poll
        ("forged-token-forged-token-forged-token-00", named, [yes]),
        (hall.tokens[4], secret, [secret_options[1]]),
    ]
    started = threading.Event()

    def cast(ballot):
        token, poll_id, option_ids = ballot
        if ballot is first:
            started.set()
        response = hall.app.test_client().post(
            f"/api/v1/polls/{poll_id}/ballots",
            json={"option_ids": option_ids},
            headers={"Authorization": f"Bearer {token}"},
        )
        return error_of(response)

    with ThreadPoolExecutor(len(together) + 1) as pool:
        leading = pool.submit(cast, first)
        started.wait(10)
        answers = [leading] + [pool.submit(cast, ballot) for ballot in together]
        statuses = [answer.result(30) for answer in answers]

    assert groups == [1, queued_behind_the_first]
    assert statuses[:2] == [(201, None), (201, None)]
    assert Counter(statuses[2:4]) == Counter([(201, None), (409, "already_voted")])
    assert statuses[4] == (422, "validation_error")
    assert statuses[5] == (401, "unauthorized")
    assert statuses[6] == (201, None)
    assert len(stored(hall.app, "SELECT * FROM poll_vote WHERE poll_id = :p", p=named)) == 3
    assert stored(hall.app, "SELECT voter_id FROM ballot WHERE poll_id = :p", p=secret) == [(None,)]
