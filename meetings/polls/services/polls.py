"""Polls (表决): made in draft, opened (the roll of eligible voters is fixed
then), closed and counted once — from the ballots, or from the hands counted
in the room (举手表决)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func

from auth.models import User
from meetings.audit.services import record
from meetings.dbtypes import utcnow
from meetings.errors import Conflict, InvalidTransition, PollNotOpen, ValidationFailed
from meetings.extensions import db
from meetings.meeting.models import AgendaItem, Attendance, MeetingStatus, Presence
from meetings.meeting.permissions import require_manager
from meetings.notifications.services import notify_all
from meetings.polls import outcome as rules
from meetings.polls.kinds import RULES
from meetings.polls.models import (
    Majority,
    OnBehalfKind,
    OptionCode,
    Poll,
    PollKind,
    PollOption,
    PollStatus,
    PollVote,
    PollVoter,
    Proposal,
    VoteOnBehalf,
)
from meetings.polls.services.ballots import empty_ballot_box, hold_ballot_box
from meetings.polls.services.common import (
    TITLE_MAX,
    checked_text,
    invalid,
    require_active,
    require_visible,
)
from meetings.room.live import publish

OPTIONS_MAX = 30
# Meetings in which a poll may open.
VOTING_MEETING = {MeetingStatus.SCHEDULED, MeetingStatus.IN_PROGRESS}

YES_NO_ABSTAIN_LABELS = {
    OptionCode.YES: "赞成",
    OptionCode.NO: "反对",
    OptionCode.ABSTAIN: "弃权",
}


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


def _options_for(item: AgendaItem, spec: PollSpec, kind: PollKind) -> list[PollOption]:
    if RULES[kind].fixed_options:
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
            raise invalid("options", _("Every option needs a label."))
        if len(label) > TITLE_MAX:
            raise invalid("options", _("At most %(n)d characters.", n=TITLE_MAX))
        if label in seen:
            raise invalid("options", _("Two options have the same label: %(label)s", label=label))
        seen.add(label)
        options.append(PollOption(position=position, label=label, proposal=proposal))
    if len(options) < 2:
        raise invalid("options", _("A poll needs at least two options."))
    if len(options) > OPTIONS_MAX:
        raise invalid("options", _("At most %(n)d options.", n=OPTIONS_MAX))
    return options


def _proposal_of_item(item: AgendaItem, proposal_id: int) -> Proposal:
    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None or proposal.agenda_item_id != item.id:
        raise invalid("options", _("The proposal is not one of this agenda item's."))
    if proposal.is_withdrawn:
        raise invalid("options", _("The proposal has been withdrawn."))
    return proposal


def _enum(enum_class, value, field: str):
    try:
        return enum_class(value)
    except ValueError:
        raise invalid(field, _("Not a valid choice.")) from None


def create_poll(actor: User, item: AgendaItem, spec: PollSpec) -> Poll:
    meeting = item.meeting
    require_manager(actor, meeting)
    require_active(meeting)
    kind = _enum(PollKind, spec.kind, "kind")
    majority = _enum(Majority, spec.majority, "majority")
    title = checked_text(spec.title, "title", TITLE_MAX)
    options = _options_for(item, spec, kind)
    if RULES[kind].several_choices:
        max_choices = spec.max_choices or len(options)
        if not 1 <= max_choices <= len(options):
            raise invalid("max_choices", _("Between 1 and the number of options."))
    else:
        if spec.max_choices not in (None, 1):
            raise invalid("max_choices", _("Only a poll of several choices takes this."))
        max_choices = 1
    if spec.quorum_percent is not None and not 1 <= spec.quorum_percent <= 100:
        raise invalid("quorum_percent", _("A percentage from 1 to 100."))
    if spec.in_room and RULES[kind].several_choices:
        raise invalid("in_room", _("A show of hands takes one choice per person."))
    if spec.in_room and spec.secret:
        raise invalid("secret", _("A show of hands cannot be secret."))
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


def _locked(poll: Poll) -> Poll:
    """The poll re-read under its row lock: opening and closing take turns."""
    statement = (
        db.select(Poll)
        .where(Poll.id == poll.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return db.session.execute(statement).scalar_one()


def eligible_attendances(poll: Poll) -> list[Attendance]:
    statement = db.select(Attendance).where(
        Attendance.meeting_id == poll.meeting.id, Attendance.may_vote.is_(True)
    )
    if poll.present_only:
        statement = statement.where(Attendance.presence == Presence.PRESENT)
    statement = statement.order_by(Attendance.user_id).options(db.joinedload(Attendance.user))
    return list(db.session.scalars(statement))


def open_poll(actor: User, poll: Poll) -> Poll:
    """Open the poll; its eligible voters are fixed now."""
    meeting = poll.meeting
    require_manager(actor, meeting)
    poll = _locked(poll)
    if poll.status != PollStatus.DRAFT:
        raise InvalidTransition(_("Only a poll that has not been opened can be opened."))
    if meeting.status not in VOTING_MEETING:
        raise InvalidTransition(_("Polls open only in a scheduled meeting or one in progress."))
    if poll.present_only and meeting.status != MeetingStatus.IN_PROGRESS:
        raise InvalidTransition(_("A poll of those present opens once the meeting is in progress."))
    if not poll.in_room:
        eligible = eligible_attendances(poll)
        db.session.add_all(PollVoter(poll_id=poll.id, user_id=a.user_id) for a in eligible)
    poll.status = PollStatus.OPEN
    poll.opened_at = utcnow()
    db.session.flush()
    record(actor, "poll.opened", poll)
    publish(meeting.id, "poll_opened", {"poll_id": poll.id})
    if not poll.in_room:
        _call_the_voters(poll, [attendance.user for attendance in eligible])
    return poll


def _call_the_voters(poll: Poll, voters: list[User]) -> None:
    """Opening a poll tells each eligible voter (in the app, and by e-mail
    when configured), with a link straight to the ballot."""
    notify_all(
        voters,
        "poll.opened",
        _l("Vote now: %(title)s", title=poll.title),
        _l(
            "Voting is open in “%(meeting)s”: %(title)s. Tap the link to cast your vote.",
            meeting=poll.meeting.title,
            title=poll.title,
        ),
        link=f"/polls/{poll.id}/vote",
    )


@dataclass(frozen=True)
class Turnout:
    eligible: int
    cast: int
    # of the ballots cast: by a proxy (委托投票), recorded by the secretary (assisted)
    by_proxy: int = 0
    assisted: int = 0


def _on_behalf_counts(poll: Poll) -> dict[OnBehalfKind, int]:
    """Ballots cast for another, by kind (the roll's ``vote_on_behalf``, kept after the close)."""
    rows = db.session.execute(
        db.select(VoteOnBehalf.kind, func.count())
        .where(VoteOnBehalf.poll_id == poll.id)
        .group_by(VoteOnBehalf.kind)
    )
    return dict(rows.all())


def turnout(poll: Poll) -> Turnout:
    """Live numbers while open (no choices), stored ones once closed; with
    how many ballots a proxy cast, and how many were assisted."""
    if poll.in_room:
        return Turnout(poll.eligible_count or 0, poll.cast_count or 0)
    on_behalf = _on_behalf_counts(poll)
    by_proxy = on_behalf.get(OnBehalfKind.PROXY, 0)
    assisted = on_behalf.get(OnBehalfKind.ASSISTED, 0)
    if poll.status == PollStatus.CLOSED:
        return Turnout(poll.eligible_count or 0, poll.cast_count or 0, by_proxy, assisted)
    eligible = db.session.scalar(
        db.select(func.count()).select_from(PollVoter).where(PollVoter.poll_id == poll.id)
    )
    cast = db.session.scalar(
        db.select(func.count()).select_from(PollVote).where(PollVote.poll_id == poll.id)
    )
    return Turnout(eligible or 0, cast or 0, by_proxy, assisted)


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


def close_poll(actor: User, poll: Poll) -> Poll:
    """Close the poll and count it, once: the stored result never changes after."""
    require_manager(actor, poll.meeting)
    hold_ballot_box(poll.id, exclusive=True)  # the ballots under way go in first
    poll = _locked(poll)
    if poll.status != PollStatus.OPEN:
        raise InvalidTransition(_("Only an open poll can be closed."))
    if poll.in_room:
        raise InvalidTransition(_("Enter the counts of the show of hands to close this poll."))
    now = turnout(poll)
    poll.status = PollStatus.CLOSED  # the box may be emptied only once its poll is closed
    db.session.flush()
    counted = empty_ballot_box(poll)
    if counted.ballots != now.cast:  # written in one transaction each; never apart
        raise Conflict(_("The ballots and the voter roll disagree; the poll stays open."))
    _store_result(poll, now.eligible, now.cast, counted.votes)
    db.session.flush()
    record(
        actor, "poll.closed", poll, eligible=now.eligible, cast=now.cast, outcome=poll.outcome.value
    )
    publish(poll.meeting.id, "poll_closed", {"poll_id": poll.id})
    return poll


def record_in_room_result(actor: User, poll: Poll, present: int, counts: dict[int, int]) -> Poll:
    """举手表决: the secretary enters the number present and the hands per option."""
    require_manager(actor, poll.meeting)
    poll = _locked(poll)
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
    publish(poll.meeting.id, "poll_closed", {"poll_id": poll.id})
    return poll


def require_result_visible(actor: User | None, poll: Poll) -> None:
    require_visible(actor, poll)
    if poll.status != PollStatus.CLOSED:
        raise PollNotOpen(_("The result is shown once the poll has closed."))


def polls_of(item: AgendaItem) -> list[Poll]:
    return list(
        db.session.scalars(
            db.select(Poll)
            .where(Poll.agenda_item_id == item.id)
            .order_by(Poll.id)
            .options(db.selectinload(Poll.options))
        )
    )
