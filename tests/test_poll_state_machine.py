"""A Hypothesis state machine over the poll services: create, open, vote,
close, enter a show of hands, and meanwhile check people in, invite latecomers
and change voting rights — in any order. A model of what should happen says
which calls succeed and which domain error the others raise, and after every
step the database must agree with it:

- ballots are accepted only while a poll is open, from its eligible voters
  (fixed at the opening), once each;
- the ballots, the voter roll and the counted choices always match;
- nothing is stored as a result before closing, and the result stored at
  closing (outcome, counts, eligible, cast) never changes afterwards.

Each run of the machine builds a meeting of its own, so runs do not see each
other's polls; all of them stay in the test's transaction, rolled back at its
end. (Not a savepoint per run: SQLite gives the id of a rolled-back row out
again, and the session may still hold an object under that id.)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import hypothesis.strategies as st
from ballot_store import stored_ballots
from hypothesis import HealthCheck, settings
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func

from auth.models import User
from meetings.errors import (
    AlreadyVoted,
    Conflict,
    DomainError,
    InvalidTransition,
    NotEligible,
    PollNotOpen,
    ValidationFailed,
)
from meetings.extensions import db
from meetings.meeting import services as meeting_services
from meetings.meeting.models import MeetingStatus, Presence
from meetings.polls import outcome as rules
from meetings.polls import services
from meetings.polls.models import (
    Majority,
    OptionCode,
    Poll,
    PollKind,
    PollOption,
    PollStatus,
    PollVote,
)

pytest_plugins = ["meeting_fixtures"]

NOT_AN_OPTION = 2**31 - 1
LABELS = ["设置道闸", "划定停车位", "移交市政", "维持现状"]


@dataclass
class Expected:
    """The model of one poll."""

    kind: PollKind
    secret: bool
    majority: Majority
    quorum_percent: int | None
    max_choices: int
    present_only: bool
    in_room: bool
    option_ids: list[int]
    codes: list[OptionCode | None]
    status: PollStatus = PollStatus.DRAFT
    eligible: set[int] = field(default_factory=set)
    voted: set[int] = field(default_factory=set)
    marks: Counter = field(default_factory=Counter)  # option id → ballots choosing it
    result: tuple | None = None  # what closing stored, as ``stored_result`` reads it


@dataclass
class Fixtures:
    make_meeting: Callable[..., Any]
    make_member: Callable[..., User]
    secretary: User


def stored_results(poll_ids: list[int]) -> dict[int, tuple]:
    """Each poll's status and stored result, read from the rows (not the
    session's objects)."""
    options: dict[int, list[tuple]] = {poll_id: [] for poll_id in poll_ids}
    for row in db.session.execute(
        db.select(PollOption.poll_id, PollOption.id, PollOption.votes, PollOption.won)
        .where(PollOption.poll_id.in_(poll_ids))
        .order_by(PollOption.position)
    ):
        options[row.poll_id].append((row.id, row.votes, row.won))
    return {
        row.id: (
            row.status,
            row.eligible_count,
            row.cast_count,
            row.quorum_met,
            row.outcome,
            row.tie,
            tuple(options[row.id]),
        )
        for row in db.session.execute(
            db.select(
                Poll.id,
                Poll.status,
                Poll.eligible_count,
                Poll.cast_count,
                Poll.quorum_met,
                Poll.outcome,
                Poll.tie,
            ).where(Poll.id.in_(poll_ids))
        )
    }


class PollMachine(RuleBasedStateMachine):
    fixtures: ClassVar[Fixtures]

    polls = Bundle("polls")

    def __init__(self) -> None:
        super().__init__()
        fx = self.fixtures
        self.secretary = fx.secretary
        voters = [fx.make_member(f"居民代表{i}") for i in range(3)]
        observer = fx.make_member("列席人员")
        invite = dict.fromkeys(voters, "resident_rep") | {observer: "observer"}
        self.meeting = fx.make_meeting(MeetingStatus.SCHEDULED, invite=invite)
        self.item = meeting_services.add_agenda_item(self.secretary, self.meeting, "中心路通行")
        meeting_services.transition_meeting(self.secretary, self.meeting, MeetingStatus.IN_PROGRESS)
        # who may try to vote: voters, the observer, the secretary (no attendee), latecomers
        self.people: list[User] = [*voters, observer, self.secretary]
        self.may_vote = {v.id: True for v in voters} | {observer.id: False}
        self.present: set[int] = set()
        self.expected: dict[int, Expected] = {}

    # --- calling the services as a request would: a refused call changes nothing ---

    def attempt(self, call: Callable[[], Any]) -> tuple[Any, DomainError | None]:
        try:
            with db.session.begin_nested():
                return call(), None
        except DomainError as error:
            return None, error

    def person(self, index: int) -> User:
        return self.people[index % len(self.people)]

    def poll(self, poll_id: int) -> Poll:
        return db.session.get(Poll, poll_id)

    # --- the rules -----------------------------------------------------------------

    @initialize(
        target=polls,
        kind=st.sampled_from(PollKind),
        secret=st.booleans(),
        majority=st.sampled_from(Majority),
        choices=st.lists(st.integers(0, 2), max_size=3),
    )
    def an_open_poll(self, kind, secret, majority, choices):
        """Every run starts with an open poll (online, of everyone who may
        vote) and the ballots of the first few voters."""
        poll_id = self.create(kind, secret, majority, None, 2, False, False)
        self.open(poll_id)
        for who, choice in enumerate(choices):
            self.vote(poll_id, who, [choice])
        return poll_id

    @rule(
        target=polls,
        kind=st.sampled_from(PollKind),
        secret=st.booleans(),
        majority=st.sampled_from(Majority),
        quorum=st.one_of(st.none(), st.integers(1, 100)),
        max_choices=st.integers(1, 4),
        present_only=st.booleans(),
        in_room=st.booleans(),
    )
    def create(self, kind, secret, majority, quorum, max_choices, present_only, in_room):
        labels = LABELS if kind == PollKind.MULTIPLE else LABELS[:3]
        spec = services.PollSpec(
            title="中心路怎么治理",
            kind=kind,
            options=[services.OptionSpec(label) for label in labels],
            max_choices=max_choices if kind == PollKind.MULTIPLE else None,
            secret=secret,
            majority=majority,
            quorum_percent=quorum,
            present_only=present_only,
            in_room=in_room,
        )
        poll, error = self.attempt(lambda: services.create_poll(self.secretary, self.item, spec))
        if in_room and (secret or kind == PollKind.MULTIPLE):
            assert isinstance(error, ValidationFailed), error
            return multiple()
        assert error is None, error
        self.expected[poll.id] = Expected(
            kind=kind,
            secret=secret,
            majority=majority,
            quorum_percent=quorum,
            max_choices=max_choices if kind == PollKind.MULTIPLE else 1,
            present_only=present_only,
            in_room=in_room,
            option_ids=[o.id for o in poll.options],
            codes=[o.code for o in poll.options],
        )
        return poll.id

    @rule(poll_id=polls)
    def open(self, poll_id):
        model = self.expected[poll_id]
        _, error = self.attempt(lambda: services.open_poll(self.secretary, self.poll(poll_id)))
        if model.status != PollStatus.DRAFT:
            assert type(error) is InvalidTransition, error
            return
        assert error is None, error
        model.status = PollStatus.OPEN
        if not model.in_room:
            model.eligible = {
                user_id
                for user_id, votes in self.may_vote.items()
                if votes and (user_id in self.present or not model.present_only)
            }

    @rule(
        poll_id=polls,
        who=st.integers(0, 9),
        # mostly one option of this poll; else anything (indexes past its options
        # stand for an option of another poll)
        picks=st.one_of(
            st.lists(st.integers(0, 2), min_size=1, max_size=1),
            st.lists(st.integers(0, 4), max_size=4),
        ),
    )
    def vote(self, poll_id, who, picks):
        model = self.expected[poll_id]
        voter = self.person(who)
        other_options = [o for p, m in self.expected.items() if p != poll_id for o in m.option_ids]
        foreign = other_options[0] if other_options else NOT_AN_OPTION
        n = len(model.option_ids)
        chosen = [model.option_ids[i] if i < n else foreign for i in picks]

        receipt, error = self.attempt(
            lambda: services.cast_ballot(voter, self.poll(poll_id), chosen)
        )

        valid = (
            bool(chosen)
            and len(set(chosen)) == len(chosen)
            and set(chosen) <= set(model.option_ids)
            and (model.kind == PollKind.MULTIPLE or len(chosen) == 1)
            and len(chosen) <= model.max_choices
        )
        if model.in_room:
            assert type(error) is Conflict, error
        elif model.status != PollStatus.OPEN:
            assert type(error) is PollNotOpen, error
        elif voter.id not in model.eligible:
            assert type(error) is NotEligible, error
        elif not valid:
            assert type(error) is ValidationFailed, error
        elif voter.id in model.voted:
            assert type(error) is AlreadyVoted, error
        else:
            assert error is None, error
            assert len(receipt) == services.RECEIPT_LENGTH
            model.voted.add(voter.id)
            model.marks.update(chosen)
        if model.status == PollStatus.OPEN:
            # the live turnout shown while voting goes on
            numbers = services.turnout(self.poll(poll_id))
            assert (numbers.eligible, numbers.cast) == (len(model.eligible), len(model.voted))

    def open_online_polls(self) -> list[int]:
        return [
            poll_id
            for poll_id, model in self.expected.items()
            if model.status == PollStatus.OPEN and not model.in_room
        ]

    @precondition(lambda self: self.open_online_polls())
    @rule(
        which=st.integers(0, 9),
        who=st.integers(0, 9),
        picks=st.lists(st.integers(0, 3), min_size=1, max_size=2, unique=True),
    )
    def vote_in_an_open_poll(self, which, who, picks):
        """Most ballots go to polls that are open, with options of the poll."""
        polls = self.open_online_polls()
        poll_id = polls[which % len(polls)]
        width = len(self.expected[poll_id].option_ids)
        self.vote(poll_id, who, [pick % width for pick in picks])

    @rule(poll_id=polls)
    def close(self, poll_id):
        model = self.expected[poll_id]
        _, error = self.attempt(lambda: services.close_poll(self.secretary, self.poll(poll_id)))
        if model.status != PollStatus.OPEN or model.in_room:
            assert type(error) is InvalidTransition, error
            return
        assert error is None, error
        self.settle(model, poll_id, len(model.eligible), len(model.voted), model.marks)

    @rule(
        poll_id=polls,
        present=st.integers(0, 8),
        hands=st.lists(st.integers(0, 4), min_size=4, max_size=4),
    )
    def show_of_hands(self, poll_id, present, hands):
        model = self.expected[poll_id]
        counts = dict(zip(model.option_ids, hands, strict=False))
        _, error = self.attempt(
            lambda: services.record_in_room_result(
                self.secretary, self.poll(poll_id), present, counts
            )
        )
        if not model.in_room or model.status != PollStatus.OPEN:
            assert type(error) is InvalidTransition, error
        elif sum(counts.values()) > present:
            assert type(error) is ValidationFailed, error
            assert set(error.fields) == {"present"}
        else:
            assert error is None, error
            self.settle(model, poll_id, present, sum(counts.values()), Counter(counts))

    @rule(who=st.integers(0, 9))
    def check_in(self, who):
        person = self.person(who)
        attendance = self.meeting.attendance_of(person)
        if attendance is None:
            return
        meeting_services.mark_presence(self.secretary, attendance, Presence.PRESENT)
        self.present.add(person.id)

    @rule(who=st.integers(0, 9), votes=st.booleans())
    def change_voting_right(self, who, votes):
        person = self.person(who)
        attendance = self.meeting.attendance_of(person)
        if attendance is None:
            return
        meeting_services.update_attendance(self.secretary, attendance, may_vote=votes)
        self.may_vote[person.id] = votes

    @rule()
    def invite_latecomer(self):
        latecomer = self.fixtures.make_member(f"迟到的居民代表{len(self.people)}")
        meeting_services.invite(
            self.secretary, self.meeting, [meeting_services.Invitation(latecomer, "resident_rep")]
        )
        self.people.append(latecomer)
        self.may_vote[latecomer.id] = True

    # --- what closing must store -----------------------------------------------------

    def settle(self, model: Expected, poll_id: int, eligible: int, cast: int, marks) -> None:
        decided = rules.decide(
            model.kind,
            model.majority,
            eligible,
            cast,
            [
                rules.Count(option_id, marks.get(option_id, 0), code)
                for option_id, code in zip(model.option_ids, model.codes, strict=True)
            ],
            quorum_percent=model.quorum_percent,
            max_choices=model.max_choices,
        )
        model.status = PollStatus.CLOSED
        model.result = (
            PollStatus.CLOSED,
            eligible,
            cast,
            decided.quorum_met,
            decided.outcome,
            decided.tie,
            tuple(
                (option_id, marks.get(option_id, 0), option_id in decided.winner_option_ids)
                for option_id in model.option_ids
            ),
        )
        if not decided.quorum_met:
            assert decided.outcome == "no_quorum"

    # --- after every step ------------------------------------------------------------

    @invariant()
    def stored_results_match_the_model(self):
        if not self.expected:
            return
        stored = stored_results(list(self.expected))
        for poll_id, model in self.expected.items():
            if model.result is not None:
                # set once at closing, never changed by anything that came after
                assert stored[poll_id] == model.result, poll_id
            else:
                status, *numbers, options = stored[poll_id]
                assert status == model.status
                assert numbers == [None] * 5
                assert all(votes is None and not won for _id, votes, won in options)

    @invariant()
    def ballots_match_the_roll_and_the_model(self):
        if not self.expected:
            return
        ids = list(self.expected)
        roll = dict(
            db.session.execute(
                db.select(PollVote.poll_id, func.count())
                .where(PollVote.poll_id.in_(ids))
                .group_by(PollVote.poll_id)
            ).all()
        )
        voters_of: dict[int, list[int | None]] = {poll_id: [] for poll_id in ids}
        marks: Counter = Counter()
        for poll_id in ids:
            for voter_id, chosen in stored_ballots(db.session, poll_id).values():
                voters_of[poll_id].append(voter_id)
                marks.update((poll_id, option_id) for option_id in chosen)
        for poll_id, model in self.expected.items():
            assert roll.get(poll_id, 0) == len(voters_of[poll_id]) == len(model.voted)
            if model.secret:
                assert set(voters_of[poll_id]) <= {None}
            else:
                assert sorted(voters_of[poll_id]) == sorted(model.voted)
            for option_id in model.option_ids:
                assert marks.get((poll_id, option_id), 0) == model.marks.get(option_id, 0)


def test_polls_hold_to_their_rules_in_any_order(make_meeting, make_member, secretary, in_request):
    class Machine(PollMachine):
        fixtures = Fixtures(make_meeting, make_member, secretary)

    run_state_machine_as_test(
        Machine,
        settings=settings(
            max_examples=30,
            stateful_step_count=20,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
