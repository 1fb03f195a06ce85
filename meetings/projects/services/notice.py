"""公示 (public notice) of resolutions: the verbs, their permission checks and
what readers are shown.

A resolution the meeting agreed (``decision`` adopted) can be put on notice
by the meeting's secretary once the meeting is over (closed, or its minutes
published): ``recorded`` → ``in_notice`` for 1–30 days. During the period
each member of the community may object once, with a reason. The secretary
answers every objection, saying whether it is upheld. When the period is
over and every objection is answered the notice is *settled*: the
resolution becomes ``effective``, or ``withdrawn`` if any objection was
upheld.

Settling happens at two moments, both writes: right after an answer (when
the period is already over), and by ``flask resolutions settle-notices``
(cron, ``notice_cli.py``) for periods that ran out with every objection
already answered. Between the end of a period and the next CLI run a stored
``in_notice`` would be stale, so readers never show the stored status
directly: ``shown_status`` gives the *due* status — the outcome the next
settle will write, worked out from the same rule (``due_outcome``) — and the
pages and the API show that. Nothing is written on a read (a GET by an
anonymous visitor does not audit or notify); the CLI writes the same outcome
later, so the two never disagree.

Services never commit; the request's unit of work (or the CLI) does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import LazyString, format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from auth import permissions
from auth.models import User
from meetings.audit.services import record
from meetings.dbtypes import utcnow
from meetings.errors import Conflict, InvalidTransition, NotAllowed, NotFound
from meetings.extensions import db
from meetings.meeting.models import Meeting, MeetingStatus
from meetings.meeting.permissions import can_manage_meeting, require_manager
from meetings.notifications.services import notify_all
from meetings.polls.models import Poll
from meetings.projects.models import (
    Decision,
    Resolution,
    ResolutionCondition,
    ResolutionObjection,
    ResolutionStatus,
)
from meetings.projects.services.common import _invalid, _text
from meetings.projects.services.resolutions import requests_behind
from meetings.projects.services.responsible import secretaries_of

DEFAULT_DAYS = 5
MIN_DAYS = 1
MAX_DAYS = 30
REASON_MAX = 2_000
ANSWER_MAX = 4_000
# A meeting whose resolutions may go on notice: it is over.
MEETING_OVER = frozenset({MeetingStatus.CLOSED, MeetingStatus.MINUTES_PUBLISHED})


def link_to_notice(resolution: Resolution) -> str:
    """The resolution's notice page (``notice.show``), built by hand because
    services also run outside a web request (the CLI, the demo data)."""
    return f"/resolutions/{resolution.id}/notice"


def _now(now: datetime | None) -> datetime:
    return now or utcnow()


# --- lookups ------------------------------------------------------------------------------


def get_resolution(resolution_id: int) -> Resolution:
    resolution = db.session.get(Resolution, resolution_id)
    if resolution is None:
        raise NotFound(_("No such resolution."))
    return resolution


def get_objection(objection_id: int) -> ResolutionObjection:
    objection = db.session.get(ResolutionObjection, objection_id)
    if objection is None:
        raise NotFound(_("No such objection."))
    return objection


def objection_of(user: User | None, resolution: Resolution) -> ResolutionObjection | None:
    """The user's own objection to the resolution, if any."""
    if not permissions.is_authenticated(user):
        return None
    return db.session.scalar(
        select(ResolutionObjection).where(
            ResolutionObjection.resolution_id == resolution.id,
            ResolutionObjection.user_id == user.id,
        )
    )


def objections_for(user: User, resolution: Resolution) -> list[ResolutionObjection]:
    """Every objection for the meeting's secretary; the user's own otherwise."""
    statement = (
        select(ResolutionObjection)
        .where(ResolutionObjection.resolution_id == resolution.id)
        .order_by(ResolutionObjection.id)
        .options(
            db.joinedload(ResolutionObjection.user),
            db.joinedload(ResolutionObjection.answered_by),
        )
    )
    if not can_manage_meeting(user, resolution.meeting):
        statement = statement.where(ResolutionObjection.user_id == user.id)
    return list(db.session.scalars(statement))


# --- what readers see ---------------------------------------------------------------------


def due_outcome(resolution: Resolution, now: datetime | None = None) -> ResolutionStatus | None:
    """The status settling would write now: ``effective`` or ``withdrawn``
    when the resolution is in notice, its period is over and every objection
    is answered; None otherwise (not in notice, still running, or an
    objection waits for its answer)."""
    if resolution.status != ResolutionStatus.IN_NOTICE or resolution.notice_ends_at is None:
        return None
    if _now(now) < resolution.notice_ends_at:
        return None
    objections = resolution.objections
    if any(not objection.is_answered for objection in objections):
        return None
    if any(objection.upheld for objection in objections):
        return ResolutionStatus.WITHDRAWN
    return ResolutionStatus.EFFECTIVE


def shown_status(resolution: Resolution, now: datetime | None = None) -> ResolutionStatus:
    """The status to show: the stored one, or the due outcome of a notice
    that has run out with every objection answered but is not settled yet
    (see the module's docstring)."""
    return due_outcome(resolution, now) or resolution.status


def is_running(resolution: Resolution, now: datetime | None = None) -> bool:
    """In notice and the period not over: residents may object."""
    return (
        resolution.status == ResolutionStatus.IN_NOTICE
        and resolution.notice_ends_at is not None
        and _now(now) < resolution.notice_ends_at
    )


@dataclass
class NoticeView:
    """What the resolution display says about the notice."""

    status: ResolutionStatus
    running: bool  # residents may object now
    # the period is over, but an objection still waits for its answer
    awaiting_answers: bool
    ends_at: datetime | None
    settled_at: datetime | None


def notice_view(resolution: Resolution, now: datetime | None = None) -> NoticeView:
    # Only an expired, unsettled notice reads its objections (one query).
    status = shown_status(resolution, now)
    running = is_running(resolution, now)
    return NoticeView(
        status=status,
        running=running,
        awaiting_answers=status == ResolutionStatus.IN_NOTICE and not running,
        ends_at=resolution.notice_ends_at,
        settled_at=resolution.notice_settled_at,
    )


def load_display(resolutions: list[Resolution]) -> None:
    """Load, for these resolutions at once, what the resolution display
    reads: the poll each follows with its options (to name the chosen one)
    and the conditions as tasks with who answers for them — a fixed number
    of queries however many resolutions (the caller holds the resolutions,
    so the loaded attributes stay on them)."""
    ids = [resolution.id for resolution in resolutions]
    if not ids:
        return
    db.session.scalars(
        select(Resolution)
        .where(Resolution.id.in_(ids))
        .options(
            db.selectinload(Resolution.poll).selectinload(Poll.options),
            db.selectinload(Resolution.condition_tasks).joinedload(
                ResolutionCondition.assignee_user
            ),
            db.selectinload(Resolution.condition_tasks).joinedload(
                ResolutionCondition.assignee_unit
            ),
        )
    ).all()


# --- permissions --------------------------------------------------------------------------


def can_start_notice(user: User | None, resolution: Resolution) -> bool:
    return can_manage_meeting(user, resolution.meeting) and _may_start(resolution)


def _may_start(resolution: Resolution) -> bool:
    return (
        resolution.status == ResolutionStatus.RECORDED
        and resolution.decision == Decision.ADOPTED
        and resolution.meeting.status in MEETING_OVER
    )


def require_objector(user: User | None, resolution: Resolution) -> None:
    """Members of the resolution's community object to it; not whoever runs
    its meeting, who answers the objections."""
    community = resolution.meeting.community
    if can_manage_meeting(user, resolution.meeting):
        raise NotAllowed(
            _("The secretary answers the objections to a resolution; residents make them.")
        )
    if not permissions.is_member(user, community):
        raise NotAllowed(
            _(
                "Only residents of %(community)s may object to its resolutions.",
                community=community.name,
            )
        )


def can_object(user: User | None, resolution: Resolution, now: datetime | None = None) -> bool:
    """A member of the community who does not run the meeting, during the
    period, who has not objected yet."""
    return (
        is_running(resolution, now)
        and permissions.is_member(user, resolution.meeting.community)
        and not can_manage_meeting(user, resolution.meeting)
        and objection_of(user, resolution) is None
    )


def require_objection_manager(user: User | None, objection: ResolutionObjection) -> None:
    require_manager(user, objection.resolution.meeting)


def require_objections_reader(user: User | None, resolution: Resolution) -> None:
    """The secretary reads every objection; a member of the community their
    own (an empty list if they made none)."""
    if can_manage_meeting(user, resolution.meeting):
        return
    require_objector(user, resolution)


# --- the verbs ----------------------------------------------------------------------------


def _days(days: int | str | None) -> int:
    if days in (None, ""):
        return DEFAULT_DAYS
    try:
        value = int(days)
    except (TypeError, ValueError):
        value = 0
    if isinstance(days, bool) or not MIN_DAYS <= value <= MAX_DAYS:
        raise _invalid("days", _("Between %(min)d and %(max)d days.", min=MIN_DAYS, max=MAX_DAYS))
    return value


def _ends_text(resolution: Resolution) -> LazyString:
    # as the pages show it (2026/12/11 23:09), without seconds and offset
    return LazyString(format_datetime, resolution.notice_ends_at, "short")


def start_notice(
    actor: User, resolution: Resolution, days: int | str | None = DEFAULT_DAYS, now=None
) -> Resolution:
    """The meeting's secretary publishes an agreed resolution of a meeting
    that is over for ``days`` days (1–30). Those concerned hear of it: the
    residents whose requests it answers and the meeting's attendees (not the
    whole community)."""
    meeting = resolution.meeting
    require_manager(actor, meeting)
    if not _may_start(resolution):
        if resolution.status != ResolutionStatus.RECORDED:
            message = _("The resolution has already been put on public notice.")
        elif resolution.decision != Decision.ADOPTED:
            message = _("Only a resolution the meeting agreed can be put on public notice.")
        else:
            message = _("A resolution goes on public notice once its meeting is over.")
        raise InvalidTransition(message)
    length = _days(days)
    start = _now(now)
    resolution.status = ResolutionStatus.IN_NOTICE
    resolution.notice_started_at = start
    resolution.notice_ends_at = start + timedelta(days=length)
    db.session.flush()
    record(
        actor,
        "resolution.notice_started",
        resolution,
        meeting_id=meeting.id,
        days=length,
        ends_at=resolution.notice_ends_at.isoformat(),
    )
    concerned = [
        item.requester
        for item in requests_behind(meeting, resolution.agenda_item)
        if item.requester is not None
    ]
    if resolution.project is not None:
        concerned += [item.requester for item in resolution.project.requests if item.requester]
    concerned += [attendance.user for attendance in meeting.attendances]
    recipients = [user for user in concerned if user.is_active and user.id != actor.id]
    if recipients:
        notify_all(
            recipients,
            "resolution.notice_started",
            _l("In public notice: %(text)s", text=resolution.text[:120]),
            _l(
                "%(community)s publishes this resolution of “%(meeting)s” until %(date)s. "
                "Residents may object once each, with a reason, until then.",
                community=meeting.community.name,
                meeting=meeting.title,
                date=_ends_text(resolution),
            ),
            link_to_notice(resolution),
        )
    return resolution


def object_to(
    actor: User, resolution: Resolution, reason: str, now: datetime | None = None
) -> ResolutionObjection:
    """A member of the community objects, once, during the period, with a
    reason; the community's secretaries are told."""
    require_objector(actor, resolution)
    if not is_running(resolution, now):
        if resolution.status == ResolutionStatus.IN_NOTICE:
            raise InvalidTransition(_("The notice period is over: objections are closed."))
        raise InvalidTransition(_("The resolution is not in public notice."))
    text = _text(reason, "reason", REASON_MAX)
    if objection_of(actor, resolution) is not None:
        raise Conflict(_("You have already objected to this resolution."))
    # by ids: the row is added in its own savepoint (below), not through
    # the resolution's collection
    objection = ResolutionObjection(
        resolution_id=resolution.id, user_id=actor.id, reason=text, created_at=_now(now)
    )
    try:
        with db.session.begin_nested():
            db.session.add(objection)
            db.session.flush()
    except IntegrityError:  # the same person, twice at once
        raise Conflict(_("You have already objected to this resolution.")) from None
    db.session.expire(resolution, ["objections"])
    record(actor, "resolution.objected", objection, resolution_id=resolution.id)
    community = resolution.meeting.community
    recipients = [user for user in secretaries_of(community) if user.id != actor.id]
    if recipients:
        notify_all(
            recipients,
            "resolution.objection",
            _l("An objection to a resolution in public notice"),
            _l(
                "%(name)s objects to “%(text)s”. Please record how it was handled.",
                name=actor.display_name,
                text=resolution.text[:120],
            ),
            link_to_notice(resolution),
        )
    return objection


def answer_objection(
    actor: User,
    objection: ResolutionObjection,
    answer: str,
    upheld: bool = False,
    now: datetime | None = None,
) -> ResolutionObjection:
    """The secretary records how an objection was handled, once; ``upheld``
    accepts it, which withdraws the resolution when the notice is settled.
    The objector is told; then the notice is settled if it is due."""
    resolution = objection.resolution
    require_manager(actor, resolution.meeting)
    if objection.is_answered:
        raise Conflict(_("This objection has already been answered."))
    if resolution.status != ResolutionStatus.IN_NOTICE:
        raise InvalidTransition(_("The resolution is not in public notice."))
    text = _text(answer, "answer", ANSWER_MAX)
    objection.answer = text
    objection.upheld = bool(upheld)
    objection.answered_at = _now(now)
    objection.answered_by = actor
    db.session.flush()
    record(
        actor,
        "resolution.objection_answered",
        objection,
        resolution_id=resolution.id,
        upheld=objection.upheld,
    )
    if objection.user.is_active and objection.user_id != actor.id:
        notify_all(
            [objection.user],
            "resolution.objection_answered",
            _l("Your objection was answered"),
            _l("Upheld: %(answer)s", answer=text[:500])
            if objection.upheld
            else _l("Answer: %(answer)s", answer=text[:500]),
            link_to_notice(resolution),
        )
    settle(resolution, now, actor)
    return objection


def settle(
    resolution: Resolution, now: datetime | None = None, actor: User | None = None
) -> ResolutionStatus | None:
    """Write the notice's outcome when it is due (``due_outcome``): the
    period is over and every objection answered. Tells the objectors and the
    secretaries. Returns the new status, or None when nothing was due."""
    outcome = due_outcome(resolution, now)
    if outcome is None:
        return None
    resolution.status = outcome
    resolution.notice_settled_at = _now(now)
    db.session.flush()
    record(
        actor,
        "resolution.notice_settled",
        resolution,
        status=outcome.value,
        objections=len(resolution.objections),
    )
    meeting = resolution.meeting
    objectors = [o.user for o in resolution.objections if o.user.is_active]
    secretaries = secretaries_of(meeting.community)
    recipients = [u for u in objectors + secretaries if actor is None or u.id != actor.id]
    if recipients:
        notify_all(
            recipients,
            "resolution.notice_settled",
            _l("Public notice over: %(status)s", status=outcome.label),
            _l(
                "The public notice of “%(text)s” (%(meeting)s) is over: %(status)s.",
                text=resolution.text[:120],
                meeting=meeting.title,
                status=outcome.label,
            ),
            link_to_notice(resolution),
        )
    return outcome


def settle_due(now: datetime | None = None) -> list[Resolution]:
    """Settle every notice whose period is over and whose objections are
    all answered (the CLI, by the clock). Notices still waiting for an
    answer stay in notice; the answer settles them."""
    due = db.session.scalars(
        select(Resolution)
        .where(
            Resolution.status == ResolutionStatus.IN_NOTICE,
            Resolution.notice_ends_at <= _now(now),
        )
        .order_by(Resolution.id)
        .options(
            db.selectinload(Resolution.objections).joinedload(ResolutionObjection.user),
            db.joinedload(Resolution.meeting),
        )
    )
    return [resolution for resolution in list(due) if settle(resolution, now) is not None]


def notices_of(community_id: int, limit: int = 50) -> list[Resolution]:
    """A community's resolutions that went on notice, newest notice first."""
    return list(
        db.session.scalars(
            select(Resolution)
            .join(Resolution.meeting)
            .where(
                Meeting.community_id == community_id,
                Resolution.notice_started_at.is_not(None),
            )
            .order_by(Resolution.notice_started_at.desc(), Resolution.id.desc())
            .limit(limit)
            .options(
                db.contains_eager(Resolution.meeting),
                db.joinedload(Resolution.poll).selectinload(Poll.options),
                db.selectinload(Resolution.objections),
            )
        )
    )
