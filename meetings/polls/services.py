"""Verbs over proposals, comments, polls and ballots. They check permissions
and state, flush and audit; the caller commits.

Concurrency. ``cast_ballot`` and ``close_poll`` meet at the poll's row: a
ballot takes a shared lock on it (PostgreSQL ``FOR SHARE``), closing takes an
exclusive one (``FOR UPDATE``), so ballots never wait for each other, and a
ballot racing the close is either committed before the count or sees the poll
closed and is refused. SQLite runs one writer at a time (``BEGIN IMMEDIATE``,
see ``meetings.database``), which gives the same order. One ballot per voter is
the primary key of ``poll_vote``, so two requests of the same voter cannot both
commit, whatever the number of processes.

A ballot is on the hot path of a meeting (everyone votes in the same minute),
so ``cast_ballot`` takes the poll and the voter by id (it needs no more of
either) and runs prepared SQL rather than going through the ORM. On
PostgreSQL the whole ballot is one statement (``_CAST_SQL``), run as a
transaction of its own outside a session transaction
(``meetings.database.run_alone``): it looks up the API caller's token, reads
the poll with the roll and its option ids, takes the poll's shared lock only
if the poll is open and the ballot valid, and inserts the roll line (``ON
CONFLICT DO NOTHING``: "already voted"), the ballot, its choices and the
audit entry, unsealed (``meetings.audit.services.unsealed_entry_ctes``); one
round trip for the whole request. Ballots by API token that arrive while
another is being stored wait for it and then go together, as one statement of
the same checks and inserts ballot by ballot (``_CAST_GROUP_SQL``, through
``meetings.group_commit``): under a burst PostgreSQL then starts and commits
once per group instead of once per ballot. When it stores nothing,
Python's checks, on what the statement read, say why. On SQLite the token and the poll are
read outside the write lock, then the roll line goes in only while the poll
is open (its row count tells), then the ballot, its choices and the audit
entry, linked (``append``). The checks, their order and the locks are those
described above.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import (
    ARRAY,
    Connection,
    Executable,
    Integer,
    String,
    Table,
    TextClause,
    bindparam,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import DBAPIError, IntegrityError

from auth.models import User
from auth.services import (
    LIVE_TOKEN_OWNER_OF_REQUEST_SQL,
    LIVE_TOKEN_OWNER_PARAMS,
    LIVE_TOKEN_OWNER_SQL,
    Bearer,
)
from meetings.audit.services import (
    append,
    record,
    seal_now_and_then,
    unsealed_entry_ctes,
)
from meetings.database import (
    dialect_name,
    engine_outside_transaction,
    read_only_transaction,
    run_alone,
    run_alone_rows,
)
from meetings.dbtypes import UTCDateTime, utcnow
from meetings.errors import (
    AlreadyVoted,
    Conflict,
    InvalidTransition,
    NotAllowed,
    NotEligible,
    NotFound,
    PollNotOpen,
    Unauthorized,
    ValidationFailed,
)
from meetings.extensions import db
from meetings.group_commit import GroupRunner
from meetings.meeting.models import AgendaItem, Attendance, Meeting, MeetingStatus, Presence
from meetings.meeting.permissions import can_manage_meeting, can_view_meeting, is_insider
from meetings.polls import outcome as rules
from meetings.polls.models import (
    Ballot,
    BallotChoice,
    Comment,
    Majority,
    OptionCode,
    Poll,
    PollKind,
    PollOption,
    PollStatus,
    PollVote,
    PollVoter,
    Proposal,
    ProposalStatus,
)

TITLE_MAX = 200
BODY_MAX = 10_000
COMMENT_MAX = 4_000
OPTIONS_MAX = 30
# Unambiguous characters for receipts read out by elderly voters (no 0/O, 1/I).
RECEIPT_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
RECEIPT_LENGTH = 10

# Meetings in which proposals, comments and polls may still be added.
ACTIVE_MEETING = {MeetingStatus.DRAFT, MeetingStatus.SCHEDULED, MeetingStatus.IN_PROGRESS}
# Meetings in which a poll may open.
VOTING_MEETING = {MeetingStatus.SCHEDULED, MeetingStatus.IN_PROGRESS}


# --- lookups and checks --------------------------------------------------------------


def get_poll(poll_id: int) -> Poll:
    poll = db.session.get(Poll, poll_id)
    if poll is None:
        raise NotFound(_("No such poll."))
    return poll


def get_proposal(proposal_id: int) -> Proposal:
    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None:
        raise NotFound(_("No such proposal."))
    return proposal


def get_comment(comment_id: int) -> Comment:
    comment = db.session.get(Comment, comment_id)
    if comment is None:
        raise NotFound(_("No such comment."))
    return comment


def get_agenda_item(item_id: int) -> AgendaItem:
    item = db.session.get(AgendaItem, item_id)
    if item is None:
        raise NotFound(_("No such agenda item."))
    return item


def _require_manager(actor: User | None, meeting: Meeting) -> None:
    if not can_manage_meeting(actor, meeting):
        raise NotAllowed(_("Only the community's secretary may do this."))


def _require_participant(actor: User | None, meeting: Meeting) -> None:
    """Attendees and the secretary take part in the deliberation."""
    if not is_insider(actor, meeting):
        raise NotAllowed(_("Only the meeting's attendees and its secretary may do this."))


def _require_active(meeting: Meeting) -> None:
    if meeting.status not in ACTIVE_MEETING:
        raise Conflict(_("The meeting is over: nothing can be added to it any more."))


def require_visible(actor: User | None, poll: Poll) -> None:
    """Attendees and the secretary see a poll; everyone once the minutes are out."""
    require_item_visible(actor, poll.agenda_item)


def require_item_visible(actor: User | None, item: AgendaItem) -> None:
    meeting = item.meeting
    if is_insider(actor, meeting):
        return
    if meeting.status == MeetingStatus.MINUTES_PUBLISHED and can_view_meeting(actor, meeting):
        return
    raise NotAllowed(_("Only the meeting's attendees and its secretary may see this."))


def _text(value: str | None, field: str, maximum: int, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationFailed(
            _("Please correct the marked fields."), {field: [_("Please fill this in.")]}
        )
    if len(value) > maximum:
        raise ValidationFailed(
            _("Please correct the marked fields."),
            {field: [_("At most %(n)d characters.", n=maximum)]},
        )
    return value


# --- proposals and comments ----------------------------------------------------------


def table_proposal(actor: User, item: AgendaItem, title: str, body: str = "") -> Proposal:
    """Table a proposal (方案) under an agenda item, before or during the meeting."""
    meeting = item.meeting
    _require_participant(actor, meeting)
    _require_active(meeting)
    proposal = Proposal(
        agenda_item=item,
        author=actor,
        title=_text(title, "title", TITLE_MAX),
        body=_text(body, "body", BODY_MAX, required=False),
    )
    db.session.add(proposal)
    db.session.flush()
    record(actor, "proposal.tabled", proposal, agenda_item_id=item.id)
    return proposal


def withdraw_proposal(actor: User, proposal: Proposal) -> Proposal:
    if proposal.author_id != actor.id:
        raise NotAllowed(_("Only its author may withdraw a proposal."))
    if proposal.is_withdrawn:
        raise InvalidTransition(_("This proposal has already been withdrawn."))
    _require_active(proposal.agenda_item.meeting)
    proposal.status = ProposalStatus.WITHDRAWN
    proposal.withdrawn_at = utcnow()
    db.session.flush()
    record(actor, "proposal.withdrawn", proposal)
    return proposal


def add_comment(actor: User, proposal: Proposal, body: str) -> Comment:
    meeting = proposal.agenda_item.meeting
    _require_participant(actor, meeting)
    _require_active(meeting)
    if proposal.is_withdrawn:
        raise Conflict(_("This proposal has been withdrawn."))
    comment = Comment(proposal=proposal, author=actor, body=_text(body, "body", COMMENT_MAX))
    db.session.add(comment)
    db.session.flush()
    record(actor, "comment.added", comment, proposal_id=proposal.id)
    return comment


def hide_comment(actor: User, comment: Comment) -> Comment:
    """The secretary hides an abusive comment: kept, marked hidden, shown as hidden."""
    _require_manager(actor, comment.proposal.agenda_item.meeting)
    if comment.is_hidden:
        raise InvalidTransition(_("This comment is already hidden."))
    comment.hidden_at = utcnow()
    comment.hidden_by = actor
    db.session.flush()
    record(actor, "comment.hidden", comment)
    return comment


def proposals_of(item: AgendaItem) -> list[Proposal]:
    return list(
        db.session.scalars(
            db.select(Proposal)
            .where(Proposal.agenda_item_id == item.id)
            .order_by(Proposal.id)
            .options(
                db.joinedload(Proposal.author),
                db.selectinload(Proposal.comments).joinedload(Comment.author),
            )
        )
    )


# --- polls -----------------------------------------------------------------------------


@dataclass
class OptionSpec:
    label: str = ""
    proposal_id: int | None = None


@dataclass
class PollSpec:
    title: str
    kind: PollKind | str
    options: Sequence[OptionSpec] = ()
    max_choices: int | None = None
    secret: bool = False
    majority: Majority | str = Majority.SIMPLE
    quorum_percent: int | None = None
    present_only: bool = False
    in_room: bool = False


YES_NO_ABSTAIN_LABELS = {
    OptionCode.YES: "赞成",
    OptionCode.NO: "反对",
    OptionCode.ABSTAIN: "弃权",
}


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(_("Please correct the marked fields."), {field: [message]})


def _options_for(item: AgendaItem, spec: PollSpec, kind: PollKind) -> list[PollOption]:
    if kind == PollKind.YES_NO_ABSTAIN:
        proposal = None
        if spec.options and spec.options[0].proposal_id:
            proposal = _proposal_of_item(item, spec.options[0].proposal_id)
        return [
            PollOption(position=position, code=code, label=label, proposal=proposal)
            for position, (code, label) in enumerate(YES_NO_ABSTAIN_LABELS.items(), start=1)
        ]
    options: list[PollOption] = []
    seen: set[str] = set()
    for position, option in enumerate(spec.options, start=1):
        proposal = _proposal_of_item(item, option.proposal_id) if option.proposal_id else None
        label = (option.label or "").strip() or (proposal.title if proposal else "")
        if not label:
            raise _invalid("options", _("Every option needs a label."))
        if len(label) > TITLE_MAX:
            raise _invalid("options", _("At most %(n)d characters.", n=TITLE_MAX))
        if label in seen:
            raise _invalid("options", _("Two options have the same label: %(label)s", label=label))
        seen.add(label)
        options.append(PollOption(position=position, label=label, proposal=proposal))
    if len(options) < 2:
        raise _invalid("options", _("A poll needs at least two options."))
    if len(options) > OPTIONS_MAX:
        raise _invalid("options", _("At most %(n)d options.", n=OPTIONS_MAX))
    return options


def _proposal_of_item(item: AgendaItem, proposal_id: int) -> Proposal:
    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None or proposal.agenda_item_id != item.id:
        raise _invalid("options", _("The proposal is not one of this agenda item's."))
    if proposal.is_withdrawn:
        raise _invalid("options", _("The proposal has been withdrawn."))
    return proposal


def _enum(enum_class, value, field: str):
    try:
        return enum_class(value)
    except ValueError:
        raise _invalid(field, _("Not a valid choice.")) from None


def create_poll(actor: User, item: AgendaItem, spec: PollSpec) -> Poll:
    meeting = item.meeting
    _require_manager(actor, meeting)
    _require_active(meeting)
    kind = _enum(PollKind, spec.kind, "kind")
    majority = _enum(Majority, spec.majority, "majority")
    title = _text(spec.title, "title", TITLE_MAX)
    options = _options_for(item, spec, kind)
    if kind == PollKind.MULTIPLE:
        max_choices = spec.max_choices or len(options)
        if not 1 <= max_choices <= len(options):
            raise _invalid("max_choices", _("Between 1 and the number of options."))
    else:
        if spec.max_choices not in (None, 1):
            raise _invalid("max_choices", _("Only a poll of several choices takes this."))
        max_choices = 1
    if spec.quorum_percent is not None and not 1 <= spec.quorum_percent <= 100:
        raise _invalid("quorum_percent", _("A percentage from 1 to 100."))
    if spec.in_room and kind == PollKind.MULTIPLE:
        raise _invalid("in_room", _("A show of hands takes one choice per person."))
    if spec.in_room and spec.secret:
        raise _invalid("secret", _("A show of hands cannot be secret."))
    poll = Poll(
        agenda_item=item,
        title=title,
        kind=kind,
        max_choices=max_choices,
        secret=spec.secret,
        majority=majority,
        quorum_percent=spec.quorum_percent,
        present_only=spec.present_only,
        in_room=spec.in_room,
        created_by=actor,
        options=options,
    )
    db.session.add(poll)
    db.session.flush()
    record(actor, "poll.created", poll, kind=kind.value, secret=spec.secret, in_room=spec.in_room)
    return poll


def _locked(poll: Poll, shared: bool) -> Poll:
    """Re-read the poll under a row lock (see the module's docstring)."""
    statement = (
        db.select(Poll)
        .where(Poll.id == poll.id)
        .with_for_update(read=shared)
        .execution_options(populate_existing=True)
    )
    return db.session.execute(statement).scalar_one()


def eligible_attendances(poll: Poll) -> list[Attendance]:
    meeting = poll.meeting
    statement = db.select(Attendance).where(
        Attendance.meeting_id == meeting.id, Attendance.may_vote.is_(True)
    )
    if poll.present_only:
        statement = statement.where(Attendance.presence == Presence.PRESENT)
    return list(db.session.scalars(statement.order_by(Attendance.user_id)))


def open_poll(actor: User, poll: Poll) -> Poll:
    """Open the poll; its eligible voters are fixed now."""
    meeting = poll.meeting
    _require_manager(actor, meeting)
    poll = _locked(poll, shared=False)
    if poll.status != PollStatus.DRAFT:
        raise InvalidTransition(_("Only a poll that has not been opened can be opened."))
    if meeting.status not in VOTING_MEETING:
        raise InvalidTransition(_("Polls open only in a scheduled meeting or one in progress."))
    if poll.present_only and meeting.status != MeetingStatus.IN_PROGRESS:
        raise InvalidTransition(_("A poll of those present opens once the meeting is in progress."))
    if not poll.in_room:
        voters = [PollVoter(poll_id=poll.id, user_id=a.user_id) for a in eligible_attendances(poll)]
        db.session.add_all(voters)
    poll.status = PollStatus.OPEN
    poll.opened_at = utcnow()
    db.session.flush()
    record(actor, "poll.opened", poll)
    return poll


def new_receipt() -> str:
    # 32 letters: the low five bits of a random byte pick one, all alike.
    return "".join(RECEIPT_ALPHABET[byte & 31] for byte in secrets.token_bytes(RECEIPT_LENGTH))


def _check_choice(
    kind: PollKind, max_choices: int, valid: set[int], option_ids: Sequence[int]
) -> list[int]:
    """The chosen option ids, in order, if they make a valid ballot for a poll
    of ``kind`` whose option ids are ``valid``."""
    chosen = list(dict.fromkeys(option_ids))
    if len(chosen) != len(option_ids):
        raise _invalid("option_ids", _("The same option was chosen twice."))
    if not chosen:
        raise _invalid("option_ids", _("Please choose an option."))
    if any(option_id not in valid for option_id in chosen):
        raise _invalid("option_ids", _("That is not an option of this poll."))
    if kind != PollKind.MULTIPLE and len(chosen) != 1:
        raise _invalid("option_ids", _("Please choose exactly one option."))
    if len(chosen) > max_choices:
        raise _invalid("option_ids", _("Choose at most %(n)d options.", n=max_choices))
    return chosen


class _BallotStatements:
    """The statements of ``cast_ballot`` for one SQL dialect, built once:
    building a statement costs about as much as running it."""

    def __init__(self, dialect: str) -> None:
        on_roll = (
            select(PollVoter.user_id)
            .where(PollVoter.poll_id == Poll.id, PollVoter.user_id == bindparam("user_id"))
            .exists()
        )
        # The poll's option ids as one value of the same row on SQLite (one
        # round trip less), else a query. (PostgreSQL casts with _CAST_SQL.)
        option_ids = (
            select(func.group_concat(PollOption.id))
            .where(PollOption.poll_id == Poll.id)
            .scalar_subquery()
            if dialect == "sqlite"
            else None
        )
        # Everything the ballot depends on, read without a lock: only the
        # status of a poll changes once it is created, and the roll is
        # fixed when it opens; the write checks the status again, locked.
        self.facts = select(
            Poll.status,
            Poll.in_room,
            Poll.kind,
            Poll.max_choices,
            Poll.secret,
            on_roll.label("on_roll"),
            *([option_ids.label("option_ids")] if option_ids is not None else []),
        ).where(Poll.id == bindparam("poll_id"))
        self.options = select(PollOption.id).where(PollOption.poll_id == bindparam("poll_id"))
        self.status = select(Poll.status).where(Poll.id == bindparam("poll_id"))
        self.dialect = dialect
        # The roll line goes in only while the poll is open, read under the
        # poll's shared lock where there is one (SQLite: the write lock).
        guarded_vote = insert(PollVote.__table__).from_select(
            ["poll_id", "user_id"],
            select(Poll.id, bindparam("user_id", type_=Integer))
            .where(Poll.id == bindparam("poll_id"), Poll.status == PollStatus.OPEN)
            .with_for_update(read=True),
        )
        self.new_vote = (
            sqlite.insert(PollVote.__table__)
            .from_select(["poll_id", "user_id"], guarded_vote.select)
            .on_conflict_do_nothing(index_elements=["poll_id", "user_id"])
            .execution_options(preserve_rowcount=True)
            if dialect == "sqlite"
            else guarded_vote
        )
        self.new_ballot = self._unless_taken(dialect, Ballot.__table__)
        self.choice = insert(BallotChoice.__table__)

    def valid_option_ids(self, connection: Connection, facts, poll_id: int) -> set[int]:
        """The option ids read with the poll (``facts``), or queried."""
        if self.dialect == "sqlite":  # group_concat: "12,13,14"
            listed = (facts.option_ids or "").split(",")
            return {int(option_id) for option_id in listed if option_id}
        return set(connection.scalars(self.options, {"poll_id": poll_id}))

    @staticmethod
    def _unless_taken(dialect: str, table: Table) -> Executable | None:
        """INSERT unless the primary key is taken, telling which by its row
        count: one statement on SQLite. None elsewhere: ``_insert_new`` then
        uses a savepoint."""
        if dialect != "sqlite":
            return None
        return (
            sqlite.insert(table)
            .on_conflict_do_nothing(index_elements=list(table.primary_key.columns))
            .execution_options(preserve_rowcount=True)
        )


# PostgreSQL: the whole ballot in one statement, run as a transaction of its
# own (``_cast_in_one_statement``). The caller is a user id or a bearer token
# looked up here (``auth.services.LIVE_TOKEN_OWNER_SQL``: no statement of its
# own). ``facts`` reads the poll as ``_BallotStatements.facts`` does; the
# poll is then taken under its shared lock (``FOR SHARE``: a close waits for
# it, and a ballot that waited for a close sees the poll closed) only if it is
# open and the ballot valid (the same checks as in Python, which then tells
# why not), after the poll's shared advisory lock, which makes it queue
# behind a close waiting for the poll (``_hold_back_ballots``). After that
# each INSERT feeds the next: the voter roll line (``ON CONFLICT DO
# NOTHING``: nothing when the voter is on it already, after waiting for a
# concurrent insert of the same voter), the ballot, its choices and the
# audit entry. A receipt drawn twice in one poll fails the ballot's
# primary key and with it the whole statement, which is then tried again.
_CAST_SQL = """
    WITH caller AS MATERIALIZED ({caller}),
    facts AS MATERIALIZED (
        SELECT poll.id, poll.status, poll.in_room, poll.kind, poll.max_choices, poll.secret,
               EXISTS (SELECT FROM poll_voter, caller WHERE poll_voter.poll_id = poll.id
                       AND poll_voter.user_id = caller.user_id) AS on_roll,
               ARRAY(SELECT poll_option.id FROM poll_option
                     WHERE poll_option.poll_id = poll.id) AS option_ids
        FROM poll WHERE poll.id = :poll_id
    ), open_poll AS MATERIALIZED (
        SELECT poll.id, caller.user_id,
               CASE WHEN facts.secret THEN NULL ELSE caller.user_id END AS voter_id
        FROM poll, facts, caller
        WHERE poll.id = facts.id AND poll.status = 'open'
          AND pg_advisory_xact_lock_shared({poll_lock_class:d}, poll.id) IS NOT NULL
          AND NOT facts.in_room AND facts.on_roll
          AND CAST(:option_ids AS INTEGER[]) <@ facts.option_ids
          AND (SELECT count(DISTINCT chosen) FROM unnest(CAST(:option_ids AS INTEGER[])) AS chosen)
              = cardinality(CAST(:option_ids AS INTEGER[]))
          AND cardinality(CAST(:option_ids AS INTEGER[])) BETWEEN 1 AND
              CASE WHEN facts.kind = 'multiple' THEN facts.max_choices ELSE 1 END
        FOR SHARE OF poll
    ), vote AS (
        INSERT INTO poll_vote (poll_id, user_id) SELECT id, user_id FROM open_poll
        ON CONFLICT DO NOTHING
        RETURNING poll_id
    ), ballot AS (
        INSERT INTO ballot (poll_id, receipt, voter_id)
        SELECT vote.poll_id, :receipt, open_poll.voter_id FROM vote, open_poll
        RETURNING poll_id, receipt
    ), choice AS (
        INSERT INTO ballot_choice (poll_id, receipt, option_id)
        SELECT ballot.poll_id, ballot.receipt, chosen.option_id
        FROM ballot, unnest(CAST(:option_ids AS INTEGER[])) AS chosen (option_id)
    ), {audit}
    SELECT caller.user_id AS caller_id, facts.status, facts.in_room, facts.kind,
           facts.max_choices, facts.secret, facts.on_roll, facts.option_ids,
           EXISTS (SELECT FROM open_poll) AS open, EXISTS (SELECT FROM vote) AS voted,
           (SELECT id FROM audit) AS audit_id
    FROM (SELECT) AS one LEFT JOIN caller ON true LEFT JOIN facts ON true
"""


def _ballot_entries(source: str, *, actor: str, poll: str) -> str:
    """The audit CTEs of a ballot statement: one entry per ballot cast, who
    and when, never what (the choice lives only in the ballot)."""
    return unsealed_entry_ctes(
        source,
        actor=actor,
        action="ballot.cast",
        object_type=Poll.__tablename__,
        object_id=poll,
        at=":now",
    )


@functools.cache
def _cast_statement(by_token: bool) -> TextClause:
    """``_CAST_SQL`` for a caller given by id, or by bearer token."""
    caller = LIVE_TOKEN_OWNER_SQL if by_token else "SELECT CAST(:user_id AS INTEGER) AS user_id"
    audit = _ballot_entries("ballot, open_poll", actor="open_poll.user_id", poll="open_poll.id")
    sql = _CAST_SQL.format(caller=caller, audit=audit, poll_lock_class=POLL_LOCK_CLASS)
    return text(sql).bindparams(
        bindparam("poll_id", type_=Integer),
        bindparam("receipt", type_=String),
        bindparam("option_ids", type_=ARRAY(Integer)),
        *(
            LIVE_TOKEN_OWNER_PARAMS  # with the token's "now", also the entry's time
            if by_token
            else (bindparam("user_id", type_=Integer), bindparam("now", type_=UTCDateTime()))
        ),
    )


# PostgreSQL, ballots by bearer token arriving together in one process
# (``_cast_group``): ``_CAST_SQL`` for several of them in one statement, one
# row back per ballot (``n``, in the order given). Each ballot is a line of
# the ``request`` CTE (poll, token hash, receipt) with its chosen options in
# ``chosen``; the checks, locks and inserts are those of ``_CAST_SQL``, row by
# row. Two ballots of the same voter in the same poll: the first one given
# counts, the other is "already voted" (``first_ones``). Within the group the
# roll lines go in by voter and the ballots by receipt (random), so that no
# order links the one to the other in a secret poll. The arrays are read
# through subqueries, which PostgreSQL's estimates cannot see into: a plan
# for one group size is then as good as for any other, and after its first
# five runs PostgreSQL keeps the prepared statement's generic plan instead of
# planning each group anew (planning this statement costs more than running
# it). Every lookup is by key (the token, the roll line as scalar subqueries;
# the polls by id), whatever the plan.
_CAST_GROUP_SQL = """
    WITH request AS MATERIALIZED (
        SELECT request.n, request.poll_id, request.receipt, ({caller}) AS user_id
        FROM unnest((SELECT CAST(:poll_ids AS INTEGER[])),
                    (SELECT CAST(:token_hashes AS VARCHAR[])),
                    (SELECT CAST(:receipts AS VARCHAR[])))
             WITH ORDINALITY AS request (poll_id, token_hash, receipt, n)
    ), chosen AS MATERIALIZED (
        SELECT chosen.n, chosen.option_id
        FROM unnest((SELECT CAST(:chosen_by AS INTEGER[])),
                    (SELECT CAST(:chosen_ids AS INTEGER[])))
             AS chosen (n, option_id)
    ), polls AS MATERIALIZED (
        SELECT poll.id, poll.status, poll.in_room, poll.kind, poll.max_choices, poll.secret,
               ARRAY(SELECT poll_option.id FROM poll_option
                     WHERE poll_option.poll_id = poll.id) AS option_ids
        FROM poll WHERE poll.id = ANY(ARRAY(SELECT request.poll_id FROM request))
    ), facts AS MATERIALIZED (
        SELECT request.n, request.user_id, request.receipt, polls.*,
               COALESCE((SELECT true FROM poll_voter WHERE poll_voter.poll_id = polls.id
                         AND poll_voter.user_id = request.user_id), false) AS on_roll,
               ARRAY(SELECT chosen.option_id FROM chosen WHERE chosen.n = request.n) AS chosen_ids
        FROM request LEFT JOIN polls ON polls.id = request.poll_id
    ), open_poll AS MATERIALIZED (
        -- the lock's argument is the CTE's id, so it is taken only for these polls
        SELECT poll.id FROM polls JOIN poll ON poll.id = polls.id
        WHERE poll.status = 'open' AND NOT polls.in_room
          AND pg_advisory_xact_lock_shared({poll_lock_class:d}, polls.id) IS NOT NULL
        FOR SHARE OF poll
    ), valid AS MATERIALIZED (
        SELECT facts.n, facts.id AS poll_id, facts.user_id, facts.receipt,
               CASE WHEN facts.secret THEN NULL ELSE facts.user_id END AS voter_id
        FROM facts JOIN open_poll ON open_poll.id = facts.id
        WHERE facts.on_roll AND facts.chosen_ids <@ facts.option_ids
          AND (SELECT count(DISTINCT picked) FROM unnest(facts.chosen_ids) AS picked)
              = cardinality(facts.chosen_ids)
          AND cardinality(facts.chosen_ids) BETWEEN 1 AND
              CASE WHEN facts.kind = 'multiple' THEN facts.max_choices ELSE 1 END
    ), first_ones AS MATERIALIZED (
        SELECT DISTINCT ON (poll_id, user_id) n, poll_id, user_id, receipt, voter_id
        FROM valid ORDER BY poll_id, user_id, n
    ), vote AS (
        INSERT INTO poll_vote (poll_id, user_id) SELECT poll_id, user_id FROM first_ones
        ON CONFLICT DO NOTHING
        RETURNING poll_id, user_id
    ), cast_now AS MATERIALIZED (
        SELECT first_ones.* FROM first_ones JOIN vote USING (poll_id, user_id)
    ), ballot AS (
        INSERT INTO ballot (poll_id, receipt, voter_id)
        SELECT poll_id, receipt, voter_id FROM cast_now ORDER BY receipt
        RETURNING poll_id, receipt
    ), choice AS (
        INSERT INTO ballot_choice (poll_id, receipt, option_id)
        SELECT ballot.poll_id, ballot.receipt, chosen.option_id
        FROM ballot JOIN cast_now USING (poll_id, receipt) JOIN chosen USING (n)
        ORDER BY ballot.receipt
    ), {audit}
    SELECT request.n, request.user_id AS caller_id, facts.status, facts.in_room, facts.kind,
           facts.max_choices, facts.secret, facts.on_roll, facts.option_ids, request.receipt,
           EXISTS (SELECT FROM valid WHERE valid.n = request.n) AS open,
           EXISTS (SELECT FROM cast_now WHERE cast_now.n = request.n) AS voted,
           (SELECT audit.id FROM audit, cast_now
            WHERE cast_now.n = request.n AND audit.actor_id = cast_now.user_id
              AND audit.object_id = cast_now.poll_id) AS audit_id
    FROM request JOIN facts USING (n)
    ORDER BY request.n
"""


@functools.cache
def _cast_group_statement() -> TextClause:
    audit = _ballot_entries("cast_now", actor="cast_now.user_id", poll="cast_now.poll_id")
    sql = _CAST_GROUP_SQL.format(
        caller=LIVE_TOKEN_OWNER_OF_REQUEST_SQL, audit=audit, poll_lock_class=POLL_LOCK_CLASS
    )
    return text(sql).bindparams(
        bindparam("poll_ids", type_=ARRAY(Integer)),
        bindparam("token_hashes", type_=ARRAY(String)),
        bindparam("receipts", type_=ARRAY(String)),
        bindparam("chosen_by", type_=ARRAY(Integer)),
        bindparam("chosen_ids", type_=ARRAY(Integer)),
        bindparam("now", type_=UTCDateTime()),
    )


# How often a receipt may be drawn again (32**10 codes: once is already rare).
RECEIPT_ATTEMPTS = 5


@functools.cache
def _ballot_statements(dialect: str) -> _BallotStatements:
    return _BallotStatements(dialect)


def _insert_new(
    connection: Connection, statement: Executable | None, table: Table, values: dict[str, Any]
) -> bool:
    """Insert the row unless its primary key is taken; True when it was inserted."""
    if statement is not None:
        return connection.execute(statement, values).rowcount == 1
    try:
        with db.session.begin_nested():
            connection.execute(insert(table), values)
    except IntegrityError:
        return False
    return True


def cast_ballot(actor: User | int | Bearer, poll: Poll | int, option_ids: Sequence[int]) -> str:
    """Record the voter's ballot in the poll (either given by id: the ballot
    needs no more of them; the voter may also be an API caller's bearer
    token, looked up with the ballot); returns its receipt code."""
    poll_id = poll if isinstance(poll, int) else poll.id
    dialect = dialect_name()
    if dialect == "postgresql":
        return _cast_in_one_statement(actor, poll_id, option_ids)
    sql = _ballot_statements(dialect)
    # The checks outside the write transaction (on SQLite, outside the one
    # writer's lock), with the token's lookup; the write checks the status again.
    with read_only_transaction():
        if isinstance(actor, Bearer) and actor.look_up() is None:
            raise Unauthorized(_("A valid bearer token is required."))
        actor_id = actor.user_id if isinstance(actor, Bearer) else _id_of(actor)
        connection = db.session.connection()
        facts = connection.execute(sql.facts, {"poll_id": poll_id, "user_id": actor_id}).first()
        valid = sql.valid_option_ids(connection, facts, poll_id) if facts else set()
    chosen = _checked_ballot(facts, valid, option_ids)
    voter_id = None if facts.secret else actor_id
    connection = db.session.connection()
    vote = {"poll_id": poll_id, "user_id": actor_id}
    try:
        voted_now = _insert_new(connection, sql.new_vote, PollVote.__table__, vote)
    except IntegrityError:
        # Only the foreign key to the roll, checked above, can fail here.
        raise NotEligible(_("You are not among the eligible voters of this poll.")) from None
    if not voted_now:
        _refuse_second_ballot(connection, sql, poll_id)
    receipt = _store_ballot(connection, sql, poll_id, voter_id, chosen)
    # Who and when, never what: the choice lives only in the ballot.
    append(actor_id, "ballot.cast", Poll.__tablename__, poll_id)
    return receipt


def _checked_ballot(facts: Any, valid: set[int], option_ids: Sequence[int]) -> list[int]:
    """The chosen option ids if the voter may cast this ballot in the poll
    as ``facts`` describes it (None: no such poll), else the reason why not."""
    if facts is None:
        raise NotFound(_("No such poll."))
    if facts.in_room:
        raise Conflict(_("This is a show of hands in the room: there is nothing to cast online."))
    if facts.status != PollStatus.OPEN:
        raise PollNotOpen(_("This poll is not open for voting."))
    if not facts.on_roll:
        raise NotEligible(_("You are not among the eligible voters of this poll."))
    return _check_choice(facts.kind, facts.max_choices, valid, option_ids)


def _refuse_second_ballot(connection: Connection, sql: _BallotStatements, poll_id: int):
    """The roll line did not go in: the poll closed meanwhile, or the voter
    is on the roll already."""
    if connection.execute(sql.status, {"poll_id": poll_id}).scalar() != PollStatus.OPEN:
        raise PollNotOpen(_("This poll is not open for voting."))
    raise AlreadyVoted(_("You have already voted in this poll."))


def _cast_in_one_statement(
    actor: User | int | Bearer, poll_id: int, option_ids: Sequence[int]
) -> str:
    """PostgreSQL: ``_CAST_SQL``, a transaction of its own outside a session
    transaction (one round trip for the whole request, token included); by
    bearer token, outside a session transaction, with the ballots of the
    process's other threads arriving meanwhile (``_cast_group``)."""
    chosen = list(option_ids)
    by_token = isinstance(actor, Bearer)
    if by_token and engine_outside_transaction() is not None:
        done, receipt = _ballot_group().run(_GroupBallot(poll_id, actor.token_hash(), chosen))
    else:
        # The token's "now" is also the audit entry's time.
        caller = actor.owner_params() if by_token else {"user_id": _id_of(actor), "now": utcnow()}
        done, receipt = _cast_one(by_token, caller, poll_id, chosen)
    if by_token:
        actor.found(done.caller_id)
    if done.caller_id is None:
        raise Unauthorized(_("A valid bearer token is required."))
    if not done.open:
        # Why not, by the same checks; if they pass, the poll closed
        # while the ballot waited for its lock.
        _checked_ballot(
            done if done.status is not None else None, set(done.option_ids or ()), chosen
        )
        raise PollNotOpen(_("This poll is not open for voting."))
    if not done.voted:
        raise AlreadyVoted(_("You have already voted in this poll."))
    seal_now_and_then(done.audit_id)
    return receipt


def _cast_one(
    by_token: bool, caller: dict[str, Any], poll_id: int, chosen: list[int]
) -> tuple[Any, str]:
    """``_CAST_SQL``'s row for the ballot, and its receipt; the caller by
    ``token_hash`` or ``user_id``, with ``now``."""
    values = {"poll_id": poll_id, "option_ids": chosen, **caller}
    statement = _cast_statement(by_token)
    for _attempt in range(RECEIPT_ATTEMPTS):
        receipt = new_receipt()
        try:
            return run_alone(statement, {**values, "receipt": receipt}), receipt
        except IntegrityError as error:
            if _constraint_of(error) == "pk_ballot":
                continue  # the same random receipt twice in one poll: draw again
            # Only the foreign key to the roll, checked in the statement, can fail here.
            raise NotEligible(_("You are not among the eligible voters of this poll.")) from None
    raise Conflict(_("Could not record the ballot. Please try again."))


@dataclass(frozen=True)
class _GroupBallot:
    """A ballot by bearer token waiting to go with others (``_cast_group``)."""

    poll_id: int
    token_hash: str
    chosen: list[int]


# At most this many ballots in one statement.
GROUP_LIMIT = 32
_GROUP_RUNNER = "shangliang.ballot_group"


def _ballot_group() -> GroupRunner[_GroupBallot, tuple[Any, str]]:
    """The app's (this process's) queue of ballots waiting for a statement."""
    extensions = current_app.extensions
    runner = extensions.get(_GROUP_RUNNER)
    if runner is None:
        runner = extensions.setdefault(_GROUP_RUNNER, GroupRunner(_cast_group, GROUP_LIMIT))
    return runner


def _cast_group(ballots: list[_GroupBallot]) -> list[tuple[Any, str] | Exception]:
    """Each ballot's ``_CAST_GROUP_SQL`` row and receipt, all in one statement
    (one alone by ``_CAST_SQL``). Should the group fail for any reason but a
    receipt drawn twice (drawn again), each ballot goes on its own, and fails
    or not by itself."""
    if len(ballots) > 1:
        values = {
            "poll_ids": [ballot.poll_id for ballot in ballots],
            "token_hashes": [ballot.token_hash for ballot in ballots],
            "chosen_by": [n for n, b in enumerate(ballots, 1) for _option in b.chosen],
            "chosen_ids": [option_id for ballot in ballots for option_id in ballot.chosen],
            "now": utcnow(),  # the tokens' "now", also the audit entries' time
        }
        for _attempt in range(RECEIPT_ATTEMPTS):
            receipts = [new_receipt() for _ballot in ballots]
            try:
                rows = run_alone_rows(_cast_group_statement(), {**values, "receipts": receipts})
            except DBAPIError as error:
                if _constraint_of(error) == "pk_ballot":
                    continue  # a random receipt drawn twice: draw them all again
                break
            return [(row, row.receipt) for row in rows]
    outcomes: list[tuple[Any, str] | Exception] = []
    for ballot in ballots:
        try:
            caller = {"token_hash": ballot.token_hash, "now": utcnow()}
            outcomes.append(_cast_one(True, caller, ballot.poll_id, ballot.chosen))
        except Exception as error:  # noqa: BLE001 — raised in the ballot's own thread
            outcomes.append(error)
    return outcomes


def _id_of(actor: User | int) -> int:
    return actor if isinstance(actor, int) else actor.id


def _constraint_of(error: IntegrityError) -> str | None:
    diag = getattr(error.orig, "diag", None)
    return getattr(diag, "constraint_name", None)


def _store_ballot(
    connection: Connection,
    sql: _BallotStatements,
    poll_id: int,
    voter_id: int | None,
    chosen: list[int],
) -> str:
    for _attempt in range(RECEIPT_ATTEMPTS):
        receipt = new_receipt()
        ballot = {"poll_id": poll_id, "receipt": receipt, "voter_id": voter_id}
        if not _insert_new(connection, sql.new_ballot, Ballot.__table__, ballot):
            continue  # the same random receipt twice in one poll: draw again
        choices = [{"poll_id": poll_id, "receipt": receipt, "option_id": o} for o in chosen]
        connection.execute(sql.choice, choices[0] if len(choices) == 1 else choices)
        return receipt
    raise Conflict(_("Could not record the ballot. Please try again."))


def has_voted(user: User | None, poll: Poll) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return db.session.get(PollVote, (poll.id, user.id)) is not None


def is_eligible(user: User | None, poll: Poll) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return db.session.get(PollVoter, (poll.id, user.id)) is not None


@dataclass(frozen=True)
class Turnout:
    eligible: int
    cast: int


def turnout(poll: Poll) -> Turnout:
    """Live numbers while open (no choices), stored ones once closed."""
    if poll.status == PollStatus.CLOSED:
        return Turnout(poll.eligible_count or 0, poll.cast_count or 0)
    eligible = db.session.scalar(
        db.select(func.count()).select_from(PollVoter).where(PollVoter.poll_id == poll.id)
    )
    cast = db.session.scalar(
        db.select(func.count()).select_from(PollVote).where(PollVote.poll_id == poll.id)
    )
    return Turnout(eligible or 0, cast or 0)


def _store_result(poll: Poll, eligible: int, cast: int, votes: dict[int, int]) -> None:
    counts = [rules.Count(o.id, votes.get(o.id, 0), o.code) for o in poll.options]
    result = rules.decide(
        poll.kind,
        poll.majority,
        eligible,
        cast,
        counts,
        quorum_percent=poll.quorum_percent,
        max_choices=poll.max_choices,
    )
    for option in poll.options:
        option.votes = votes.get(option.id, 0)
        option.won = option.id in result.winner_option_ids
    poll.eligible_count = eligible
    poll.cast_count = cast
    poll.quorum_met = result.quorum_met
    poll.outcome = result.outcome
    poll.tie = result.tie
    poll.status = PollStatus.CLOSED
    poll.closed_at = utcnow()


def _hold_back_ballots(poll_id: int) -> None:
    """PostgreSQL: make the ballots arriving from now on wait for this
    transaction (see ``_CAST_SQL``). Shared row locks do not queue behind an
    exclusive one, so under a steady stream of ballots, each holding the
    poll's ``FOR SHARE`` for a moment, a close could wait until the stream
    dried up; an advisory lock does queue: the close waits only for the
    ballots already under way."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(_BALLOTS_HELD_BACK, {"kind": POLL_LOCK_CLASS, "poll_id": poll_id})


# The first key of the poll's advisory lock (two-key form): "SLPL" in ASCII.
POLL_LOCK_CLASS = 0x534C504C
_BALLOTS_HELD_BACK = text("SELECT pg_advisory_xact_lock(:kind, :poll_id)")


def close_poll(actor: User, poll: Poll) -> Poll:
    """Close the poll and count it, once: the stored result never changes after."""
    _require_manager(actor, poll.meeting)
    _hold_back_ballots(poll.id)
    poll = _locked(poll, shared=False)
    if poll.status != PollStatus.OPEN:
        raise InvalidTransition(_("Only an open poll can be closed."))
    if poll.in_room:
        raise InvalidTransition(_("Enter the counts of the show of hands to close this poll."))
    now = turnout(poll)
    votes = dict(
        db.session.execute(
            db.select(BallotChoice.option_id, func.count())
            .where(BallotChoice.poll_id == poll.id)
            .group_by(BallotChoice.option_id)
        ).all()
    )
    ballots = db.session.scalar(
        db.select(func.count()).select_from(Ballot).where(Ballot.poll_id == poll.id)
    )
    if ballots != now.cast:  # the two are written in one transaction; never apart
        raise Conflict(_("The ballots and the voter roll disagree; the poll stays open."))
    _store_result(poll, now.eligible, now.cast, votes)
    db.session.flush()
    record(
        actor, "poll.closed", poll, eligible=now.eligible, cast=now.cast, outcome=poll.outcome.value
    )
    return poll


def record_in_room_result(actor: User, poll: Poll, present: int, counts: dict[int, int]) -> Poll:
    """举手表决: the secretary enters the number present and the hands per option."""
    _require_manager(actor, poll.meeting)
    poll = _locked(poll, shared=False)
    if not poll.in_room:
        raise InvalidTransition(_("This poll is voted online; its result is counted from ballots."))
    if poll.status != PollStatus.OPEN:
        raise InvalidTransition(_("Open the poll before entering the show of hands."))
    fields: dict[str, list[str]] = {}
    if present < 0:
        fields["present"] = [_("Not a negative number.")]
    for option in poll.options:
        value = counts.get(option.id)
        if value is None or value < 0:
            fields[f"option_{option.id}"] = [_("Please enter a number of hands (0 or more).")]
    unknown = set(counts) - {option.id for option in poll.options}
    if unknown:
        fields["counts"] = [_("That is not an option of this poll.")]
    cast = sum(max(v, 0) for v in counts.values())
    if not fields and cast > present:
        fields["present"] = [_("More hands were counted than people present.")]
    if fields:
        raise ValidationFailed(_("Please correct the marked fields."), fields)
    _store_result(poll, present, cast, counts)
    poll.result_entered_by = actor
    poll.result_entered_at = poll.closed_at
    db.session.flush()
    record(
        actor, "poll.in_room_result", poll, present=present, cast=cast, outcome=poll.outcome.value
    )
    return poll


def require_result_visible(actor: User | None, poll: Poll) -> None:
    require_visible(actor, poll)
    if poll.status != PollStatus.CLOSED:
        raise PollNotOpen(_("The result is shown once the poll has closed."))


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
    _require_manager(actor, poll.meeting)
    if poll.secret:
        raise NotAllowed(_("This poll is secret: nobody can see who voted what."))
    ballots = db.session.scalars(
        db.select(Ballot)
        .where(Ballot.poll_id == poll.id)
        .options(db.selectinload(Ballot.choices), db.joinedload(Ballot.voter))
    )
    lines = [(b.voter, [c.option_id for c in b.choices]) for b in ballots if b.voter is not None]
    return sorted(lines, key=lambda line: line[0].display_name)


def polls_of(item: AgendaItem) -> list[Poll]:
    return list(
        db.session.scalars(
            db.select(Poll)
            .where(Poll.agenda_item_id == item.id)
            .order_by(Poll.id)
            .options(db.selectinload(Poll.options))
        )
    )
