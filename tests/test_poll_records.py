"""What the database itself holds to: one ballot per voter per poll and only
eligible voters on the roll, by constraint (not only by a check in Python); and
the audit log of every poll transition and ballot, with who and when."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from ballot_store import stored_ballots
from sqlalchemy.exc import IntegrityError

from meetings.audit.models import AuditEntry
from meetings.dbtypes import utcnow
from meetings.errors import AlreadyVoted, Conflict, NotAllowed
from meetings.extensions import db
from meetings.meeting import services as meeting_services
from meetings.meeting.models import MeetingStatus
from meetings.polls import services
from meetings.polls.models import Ballot, BallotChoice, Poll, PollVote, PollVoter

pytest_plugins = ["meeting_fixtures"]


@pytest.fixture
def voters(make_member):
    return [make_member(f"居民代表{i}") for i in range(1, 4)]


@pytest.fixture
def outsider(make_member):
    """A member of the community who was not invited."""
    return make_member("未受邀居民")


@pytest.fixture
def item(make_meeting, secretary, voters, in_request, db):
    meeting = make_meeting(MeetingStatus.SCHEDULED, invite=dict.fromkeys(voters, "resident_rep"))
    item = meeting_services.add_agenda_item(secretary, meeting, "活动室改造方案")
    meeting_services.transition_meeting(secretary, meeting, MeetingStatus.IN_PROGRESS)
    db.session.flush()
    return item


def yes_no_poll(secretary, item, **spec) -> Poll:
    return services.create_poll(
        secretary, item, services.PollSpec(title="是否改造活动室", kind="yes_no_abstain", **spec)
    )


@pytest.fixture
def open_poll(secretary, item) -> Poll:
    poll = yes_no_poll(secretary, item)
    services.open_poll(secretary, poll)
    return poll


def insert(*rows) -> None:
    """Write rows straight through the session, past every check in Python."""
    with db.session.begin_nested():
        db.session.add_all(rows)


# --- constraints -----------------------------------------------------------------------


def test_a_second_roll_entry_for_the_same_voter_is_refused_by_the_database(open_poll, voters):
    insert(PollVote(poll_id=open_poll.id, user_id=voters[0].id))
    with pytest.raises(IntegrityError):
        insert(PollVote(poll_id=open_poll.id, user_id=voters[0].id))
    assert services.turnout(open_poll).cast == 1


def test_someone_not_eligible_cannot_be_put_on_the_roll(open_poll, outsider):
    with pytest.raises(IntegrityError):
        insert(PollVote(poll_id=open_poll.id, user_id=outsider.id))
    assert services.turnout(open_poll).cast == 0


def test_nobody_can_be_on_the_roll_of_a_poll_that_never_opened(secretary, item, voters):
    draft = yes_no_poll(secretary, item)
    with pytest.raises(IntegrityError):
        insert(PollVote(poll_id=draft.id, user_id=voters[0].id))


def test_the_eligible_voters_are_one_row_each(open_poll, voters):
    with pytest.raises(IntegrityError):
        insert(PollVoter(poll_id=open_poll.id, user_id=voters[0].id))


def test_a_receipt_is_unique_in_its_poll(open_poll):
    insert(Ballot(poll_id=open_poll.id, receipt="ABCDEFGHJK"))
    with pytest.raises(IntegrityError):
        insert(Ballot(poll_id=open_poll.id, receipt="ABCDEFGHJK"))


def test_a_choice_belongs_to_a_ballot_and_an_option(open_poll):
    yes = open_poll.options[0].id
    with pytest.raises(IntegrityError):
        insert(BallotChoice(poll_id=open_poll.id, receipt="NOSUCHBALL", option_id=yes))
    insert(Ballot(poll_id=open_poll.id, receipt="ABCDEFGHJK"))
    with pytest.raises(IntegrityError):
        insert(BallotChoice(poll_id=open_poll.id, receipt="ABCDEFGHJK", option_id=2**31 - 1))
    insert(BallotChoice(poll_id=open_poll.id, receipt="ABCDEFGHJK", option_id=yes))
    with pytest.raises(IntegrityError):  # the same option twice on one ballot
        insert(BallotChoice(poll_id=open_poll.id, receipt="ABCDEFGHJK", option_id=yes))


@pytest.mark.parametrize(
    "values",
    [
        {"quorum_percent": 0},
        {"quorum_percent": 101},
        {"max_choices": 0},
        {"kind": "ranked"},
        {"majority": "unanimous"},
        {"status": "paused"},
    ],
)
def test_the_database_refuses_impossible_polls(db, item, values):
    # Plain SQL: the enum columns would refuse an unknown code in Python already.
    columns = {
        "agenda_item_id": item.id,
        "title": "是否改造活动室",
        "kind": "yes_no_abstain",
        "max_choices": 1,
        "secret": False,
        "majority": "simple",
        "present_only": False,
        "in_room": False,
        "status": "draft",
        "created_at": utcnow().replace(tzinfo=None),
    } | values
    names = ", ".join(columns)
    params = ", ".join(f":{name}" for name in columns)
    statement = sa.text(f"INSERT INTO poll ({names}) VALUES ({params})")  # noqa: S608
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.execute(statement, columns)


def test_a_refused_second_ballot_leaves_the_first_alone(open_poll, voters):
    yes, no, _abstain = (o.id for o in open_poll.options)
    receipt = services.cast_ballot(voters[0], open_poll, [yes])
    with pytest.raises(AlreadyVoted):
        services.cast_ballot(voters[0], open_poll, [no])
    db.session.expire_all()
    ballots = stored_ballots(db.session, open_poll.id)
    assert [(r, list(chosen)) for r, (_voter, chosen) in ballots.items()] == [(receipt, [yes])]


# --- the audit log ---------------------------------------------------------------------


def entries_of(poll: Poll) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            db.select(AuditEntry)
            .where(AuditEntry.object_type == "poll", AuditEntry.object_id == poll.id)
            .order_by(AuditEntry.id)
        )
    )


def test_every_transition_and_ballot_is_in_the_audit_log(secretary, item, voters):
    before = utcnow() - timedelta(seconds=1)
    poll = yes_no_poll(secretary, item, secret=True)
    services.open_poll(secretary, poll)
    yes, no, abstain = (o.id for o in poll.options)
    for voter, choice in zip(voters, (yes, no, abstain), strict=True):
        services.cast_ballot(voter, poll, [choice])
    services.close_poll(secretary, poll)
    db.session.flush()
    after = utcnow() + timedelta(seconds=1)

    entries = entries_of(poll)

    assert [(e.action, e.actor_id) for e in entries] == [
        ("poll.created", secretary.id),
        ("poll.opened", secretary.id),
        ("ballot.cast", voters[0].id),
        ("ballot.cast", voters[1].id),
        ("ballot.cast", voters[2].id),
        ("poll.closed", secretary.id),
    ]
    assert all(before <= e.at <= after for e in entries)
    assert [e.at for e in entries] == sorted(e.at for e in entries)
    created, _opened, *casts, closed = entries
    assert created.data == {"kind": "yes_no_abstain", "secret": True, "in_room": False}
    assert all(cast.data == {} for cast in casts)  # never the choice
    # 1 yes, 1 no, 1 abstain of 3: yes 1 = no 1, not adopted
    assert closed.data == {"eligible": 3, "cast": 3, "outcome": "rejected"}


def test_a_refused_ballot_leaves_no_audit_entry(open_poll, voters, outsider):
    yes = open_poll.options[0].id
    services.cast_ballot(voters[0], open_poll, [yes])
    for voter in (voters[0], outsider):
        with pytest.raises((NotAllowed, Conflict)), db.session.begin_nested():
            services.cast_ballot(voter, open_poll, [yes])
    casts = [e for e in entries_of(open_poll) if e.action == "ballot.cast"]
    assert [e.actor_id for e in casts] == [voters[0].id]


def test_a_show_of_hands_is_audited_with_its_counts_and_who_entered_them(secretary, item):
    poll = yes_no_poll(secretary, item, in_room=True, majority="absolute")
    services.open_poll(secretary, poll)
    yes, no, abstain = (o.id for o in poll.options)
    before = utcnow() - timedelta(seconds=1)

    services.record_in_room_result(secretary, poll, 15, {yes: 8, no: 5, abstain: 1})
    db.session.flush()

    *_earlier, entry = entries_of(poll)
    # absolute: 8 of 15 present, 2·8 = 16 > 15
    assert (entry.action, entry.actor_id) == ("poll.in_room_result", secretary.id)
    assert entry.data == {"present": 15, "cast": 14, "outcome": "adopted"}
    assert entry.at >= before
    db.session.expire_all()
    stored = db.session.get(Poll, poll.id)
    assert (stored.result_entered_by_id, stored.result_entered_at) == (
        secretary.id,
        stored.closed_at,
    )
    assert stored.result_entered_at >= before
    assert [e.action for e in entries_of(poll)] == [
        "poll.created",
        "poll.opened",
        "poll.in_room_result",
    ]
