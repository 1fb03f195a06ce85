"""Ballots: casting one, the ballot box, receipts.

``cast_ballot`` is the one way a ballot is cast, from the web form and the
API alike. In the request's transaction it checks the poll's state, the
voter's place on the roll and the choices against the poll's kind
(``meetings.polls.kinds``), then writes the voter's line on the roll
(``poll_vote``: its primary key is "one ballot per voter", whatever the
number of processes) and the ballot into the box (``pending_ballot``), with
an audit entry saying who voted when, never what.

Casting and closing meet at the poll's ballot box lock (``hold_ballot_box``):
on PostgreSQL each ballot holds it shared until its commit, the close takes
it exclusively, so the close waits for the ballots under way and the ballots
arriving meanwhile wait for the close, then find the poll closed. (An
advisory lock queues fairly; a row lock shared by a steady stream of ballots
could keep a close waiting.) SQLite runs one writer at a time (``BEGIN
IMMEDIATE``, see ``meetings.database``), which gives the same order.

The close empties the box into ``ballot`` and ``ballot_choice`` in a random
order (``empty_ballot_box``): see ``meetings.polls.models`` and
docs/ballot-secrecy.md for what that keeps secret.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import bindparam, delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from auth.models import User
from meetings.audit.services import record
from meetings.errors import AlreadyVoted, Conflict, NotAllowed, NotEligible, PollNotOpen
from meetings.extensions import db
from meetings.meeting.models import AgendaItem
from meetings.meeting.permissions import require_manager
from meetings.polls.kinds import check_choice
from meetings.polls.models import (
    Ballot,
    BallotChoice,
    OnBehalfKind,
    PendingBallot,
    Poll,
    PollStatus,
    PollVote,
    PollVoter,
    VoteOnBehalf,
)
from meetings.polls.services.common import checked_text, invalid
from meetings.room.live import publish
from meetings.room.proxies import require_proxy_for

# Unambiguous characters for receipts read out by elderly voters (no 0/O, 1/I).
RECEIPT_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
RECEIPT_LENGTH = 10
# The first key of the poll's advisory lock (two-key form): "SLPL" in ASCII.
POLL_LOCK_CLASS = 0x534C504C


def new_receipt() -> str:
    # 32 letters: the low five bits of a random byte pick one, all alike.
    return "".join(RECEIPT_ALPHABET[byte & 31] for byte in secrets.token_bytes(RECEIPT_LENGTH))


def hold_ballot_box(poll_id: int, *, exclusive: bool) -> None:
    """Take the poll's ballot box lock until the transaction ends: shared to
    cast a ballot, exclusive to close (PostgreSQL; see the module)."""
    if db.session.get_bind().dialect.name != "postgresql":
        return  # SQLite: the transaction is the only writer already
    lock = func.pg_advisory_xact_lock if exclusive else func.pg_advisory_xact_lock_shared
    db.session.execute(select(lock(POLL_LOCK_CLASS, poll_id)))


def cast_ballot(
    voter: User, poll: Poll, option_ids: Sequence[int], on_behalf_of: User | None = None
) -> str:
    """Cast the voter's ballot in the poll; returns its receipt code.

    With ``on_behalf_of``, ``voter`` is a confirmed proxy (委托投票, see
    ``meetings.room.proxies``) casting the principal's ballot: the
    principal's line goes on the roll, with a ``VoteOnBehalf`` beside it
    naming the proxy, and the audit entry names both. The plain path below
    runs the same statements as ever (bench/vote_load.py)."""
    if on_behalf_of is not None:
        return _cast_as_proxy(voter, poll, option_ids, on_behalf_of)
    receipt = _into_the_box(voter, poll, option_ids)
    record(voter, "ballot.cast", poll)  # who and when, never what
    return receipt


def _into_the_box(voter: User, poll: Poll, option_ids: Sequence[int], *, own: bool = True) -> str:
    """The ballot's rules, once for every way of casting: the poll's lock,
    its state, the voter on the roll, the choice, one ballot per voter; then
    the voter's line on the roll and the ballot in the box. ``own``: the
    voter casts it themself (else the messages name "this voter")."""
    hold_ballot_box(poll.id, exclusive=False)
    # Read now that no close can be under way: only the status of a poll
    # changes once it is open (its options and its roll are fixed by then).
    now = db.session.execute(_POLL_NOW, {"poll_id": poll.id, "user_id": voter.id}).one()
    if poll.in_room:
        raise Conflict(_("This is a show of hands in the room: there is nothing to cast online."))
    if now.status != PollStatus.OPEN:
        raise PollNotOpen(_("This poll is not open for voting."))
    if not now.on_roll:
        raise NotEligible(_not_eligible(voter, own))
    chosen = check_choice(poll, option_ids)
    if now.voted:
        raise AlreadyVoted(_already_voted(voter, own))
    try:
        db.session.execute(_NEW_ROLL_LINE, {"poll_id": poll.id, "user_id": voter.id})
    except IntegrityError:
        # The same voter's other request got in first (and committed meanwhile).
        raise AlreadyVoted(_already_voted(voter, own)) from None
    receipt = new_receipt()
    while db.session.scalar(_RECEIPT_TAKEN, {"poll_id": poll.id, "receipt": receipt}):
        receipt = new_receipt()  # drawn twice in one poll: rare, but draw again
    ballot = {"poll_id": poll.id, "receipt": receipt, "option_ids": chosen}
    ballot["voter_id"] = None if poll.secret else voter.id
    db.session.execute(_NEW_BALLOT, ballot)
    # the room's turnout moves (counted by the live stream, coalesced)
    publish(now.meeting_id, "turnout", {"poll_id": poll.id})
    return receipt


def _not_eligible(voter: User, own: bool) -> str:
    if own:
        return _("You are not among the eligible voters of this poll.")
    return _("%(name)s is not among the eligible voters of this poll.", name=voter.display_name)


def _already_voted(voter: User, own: bool) -> str:
    if own:
        return _("You have already voted in this poll.")
    return _("%(name)s has already voted in this poll.", name=voter.display_name)


def _on_behalf(poll: Poll, principal: User, actor: User, kind: OnBehalfKind, **details) -> None:
    """Beside the principal's roll line: whose hand cast it. The audit entry
    ``ballot.cast_for`` says who cast whose ballot and when, never what (as
    ``ballot.cast`` for one's own); its actor is the hand that cast it."""
    db.session.add(
        VoteOnBehalf(
            poll_id=poll.id, user_id=principal.id, kind=kind, cast_by_id=actor.id, **details
        )
    )
    db.session.flush()
    record(
        actor,
        "ballot.cast_for",
        poll,
        on_behalf_of=principal.id,
        cast_by=actor.id,
        kind=kind.value,
        **details,
    )


def _cast_as_proxy(actor: User, poll: Poll, option_ids: Sequence[int], principal: User) -> str:
    proxy = require_proxy_for(actor, poll, principal)
    receipt = _into_the_box(principal, poll, option_ids, own=False)
    _on_behalf(poll, principal, actor, OnBehalfKind.PROXY, proxy_id=proxy.id)
    return receipt


WITNESS_MAX = 100


def cast_assisted_ballot(
    actor: User, poll: Poll, voter: User | None, witness: str | None, option_ids: Sequence[int]
) -> str:
    """Assisted voting: the secretary records the ballot of an attendee
    without a phone, in front of a named witness; returns its receipt (to
    hand to the voter)."""
    require_manager(actor, poll.meeting)
    if voter is None:
        raise invalid("voter_id", _("Choose one of the poll's voters."))
    if voter.id == actor.id:
        raise invalid("voter_id", _("Cast your own ballot yourself."))
    witness = checked_text(witness, "witness", WITNESS_MAX)
    try:
        receipt = _into_the_box(voter, poll, option_ids, own=False)
    except NotEligible as error:
        raise invalid("voter_id", error.message) from None
    _on_behalf(poll, voter, actor, OnBehalfKind.ASSISTED, witness=witness)
    return receipt


# The statements of a ballot, built once (building one costs about as much
# as running it), and the poll, roll and vote read in one: with the token
# read with its user, this took bench/vote_load.py on PostgreSQL from 204 to
# 272 ballots/s and the steady round's p99 from 2.1 s to 37 ms (2026-12-06).
_BOX, _ROLL, _ELIGIBLE = PendingBallot.__table__, PollVote.__table__, PollVoter.__table__
_poll = Poll.__table__


def _roll_line(table):
    return (
        select(table.c.user_id)
        .where(table.c.poll_id == _poll.c.id, table.c.user_id == bindparam("user_id"))
        .exists()
    )


_item = AgendaItem.__table__
_POLL_NOW = (
    select(
        _poll.c.status,
        _roll_line(_ELIGIBLE).label("on_roll"),
        _roll_line(_ROLL).label("voted"),
        _item.c.meeting_id,
    )
    .join_from(_poll, _item, _item.c.id == _poll.c.agenda_item_id)
    .where(_poll.c.id == bindparam("poll_id"))
)
_NEW_ROLL_LINE, _NEW_BALLOT = insert(_ROLL), insert(_BOX)
_RECEIPT_TAKEN = (
    select(_BOX.c.receipt)
    .where(_BOX.c.poll_id == bindparam("poll_id"), _BOX.c.receipt == bindparam("receipt"))
    .exists()
    .select()
)


@dataclass(frozen=True)
class Count:
    ballots: int
    votes: dict[int, int]  # by option id


def empty_ballot_box(poll: Poll) -> Count:
    """At the close (the poll already marked closed, its box locked): move
    the poll's ballots from the box into ``ballot`` and ``ballot_choice`` in
    a random order, then count the poll's ballots."""
    waiting = list(
        db.session.scalars(select(PendingBallot).where(PendingBallot.poll_id == poll.id))
    )
    secrets.SystemRandom().shuffle(waiting)  # in no order that the casting had
    db.session.add_all(
        Ballot(
            poll_id=poll.id,
            receipt=pending.receipt,
            voter_id=pending.voter_id,
            choices=[BallotChoice(option_id=option_id) for option_id in pending.option_ids],
        )
        for pending in waiting
    )
    db.session.flush()
    db.session.execute(delete(PendingBallot).where(PendingBallot.poll_id == poll.id))
    ballots = db.session.scalar(
        select(func.count()).select_from(Ballot).where(Ballot.poll_id == poll.id)
    )
    votes = db.session.execute(
        select(BallotChoice.option_id, func.count())
        .where(BallotChoice.poll_id == poll.id)
        .group_by(BallotChoice.option_id)
    )
    return Count(ballots or 0, dict(votes.all()))


def has_voted(user: User | None, poll: Poll) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return db.session.get(PollVote, (poll.id, user.id)) is not None


def is_eligible(user: User | None, poll: Poll) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return db.session.get(PollVoter, (poll.id, user.id)) is not None


def voters_not_voted(poll: Poll) -> list[User]:
    """The poll's eligible voters who have not voted yet, by name (the
    secretary's list for an assisted ballot)."""
    voted = select(PollVote.user_id).where(PollVote.poll_id == poll.id)
    users = db.session.scalars(
        select(User)
        .join(PollVoter, PollVoter.user_id == User.id)
        .where(PollVoter.poll_id == poll.id, User.id.not_in(voted))
    )
    return sorted(users, key=lambda user: (user.display_name, user.id))


@dataclass(frozen=True)
class ReceiptLine:
    receipt: str
    option_ids: list[int]


def receipts(poll: Poll) -> list[ReceiptLine]:
    """Every counted ballot by receipt code, so each voter can find theirs."""
    ballots = db.session.scalars(
        db.select(Ballot)
        .where(Ballot.poll_id == poll.id)
        .order_by(Ballot.receipt)
        .options(db.selectinload(Ballot.choices))
    )
    return [ReceiptLine(b.receipt, [c.option_id for c in b.choices]) for b in ballots]


def named_votes(actor: User, poll: Poll) -> list[tuple[User, list[int]]]:
    """Who voted what, on a named poll, for the secretary."""
    require_manager(actor, poll.meeting)
    if poll.secret:
        raise NotAllowed(_("This poll is secret: nobody can see who voted what."))
    ballots = db.session.scalars(
        db.select(Ballot)
        .where(Ballot.poll_id == poll.id)
        .options(db.selectinload(Ballot.choices), db.joinedload(Ballot.voter))
    )
    lines = [(b.voter, [c.option_id for c in b.choices]) for b in ballots if b.voter is not None]
    return sorted(lines, key=lambda line: line[0].display_name)
