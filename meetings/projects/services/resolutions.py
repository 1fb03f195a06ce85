"""Resolutions (决议 / 协商成果) and the projects they open or add to.

The rule of a resolution that follows a poll: its decision is the poll's
stored outcome — adopted (or a decided choice) makes it "agreed", rejected (or
no quorum) "not agreed" — and a request claiming the opposite is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select

from auth.models import Community, User
from meetings.audit.services import record
from meetings.errors import Conflict, NotFound, ValidationFailed
from meetings.extensions import db
from meetings.meeting.models import AgendaItem, Meeting
from meetings.meeting.permissions import require_manager
from meetings.polls.models import Outcome, Poll, PollStatus
from meetings.projects.models import (
    Decision,
    Project,
    ProjectStatus,
    Resolution,
    ResolutionCondition,
)
from meetings.projects.services.common import (
    CONDITIONS_MAX,
    DESCRIPTION_MAX,
    RESOLVING_MEETING,
    TEXT_MAX,
    TITLE_MAX,
    _invalid,
    _text,
    parse_budget,
)
from meetings.projects.services.responsible import notify_named, resolve_responsible
from meetings.requests.models import ResidentRequest

# The poll's stored outcome decides the resolution's decision.
DECISION_OF_OUTCOME = {
    Outcome.ADOPTED: Decision.ADOPTED,
    Outcome.DECIDED: Decision.ADOPTED,
    Outcome.REJECTED: Decision.REJECTED,
    Outcome.NO_QUORUM: Decision.REJECTED,
}


@dataclass
class ProjectSpec:
    """A new project opened by a resolution."""

    title: str
    # the text shown (物业 / 街道 / a department); a chosen unit's name when empty
    responsible_unit: str = ""
    due_date: date | None = None
    budget: Decimal | str | int | None = None
    description: str = ""
    # a unit serving the community, and/or a person who answers for it
    responsible_unit_id: int | None = None
    responsible_user_id: int | None = None


@dataclass
class ResolutionSpec:
    text: str
    poll_id: int | None = None
    agenda_item_id: int | None = None
    # what the secretary says was decided; with a poll, it must be the poll's result
    decision: Decision | str | None = None
    conditions: str = ""
    project: ProjectSpec | None = None
    project_id: int | None = None


def decision_of(poll: Poll) -> Decision:
    """What a closed poll's stored outcome lets a resolution say."""
    return DECISION_OF_OUTCOME[poll.outcome]


def _poll_of(meeting: Meeting, poll_id: int) -> Poll:
    poll = db.session.get(Poll, poll_id)
    if poll is None or poll.agenda_item.meeting_id != meeting.id:
        raise _invalid("poll_id", _("The poll is not one of this meeting's."))
    if poll.status != PollStatus.CLOSED or poll.outcome is None:
        raise _invalid("poll_id", _("The poll has not closed yet: its result is not known."))
    return poll


def _agenda_item_of(meeting: Meeting, item_id: int) -> AgendaItem:
    item = db.session.get(AgendaItem, item_id)
    if item is None or item.meeting_id != meeting.id:
        raise _invalid("agenda_item_id", _("The agenda item is not one of this meeting's."))
    return item


def _decision(spec: ResolutionSpec, poll: Poll | None) -> Decision:
    claim = None
    if spec.decision not in (None, ""):
        try:
            claim = Decision(spec.decision)
        except ValueError:
            raise _invalid("decision", _("Not a valid choice.")) from None
    if poll is None:
        return claim or Decision.ADOPTED
    decision = decision_of(poll)
    if claim is not None and claim != decision:
        raise _invalid(
            "decision",
            _(
                "The poll “%(poll)s” ended “%(outcome)s”: the resolution must say “%(decision)s”.",
                poll=poll.title,
                outcome=poll.outcome.label,
                decision=decision.label,
            ),
        )
    return decision


def _new_project(actor: User, community: Community, spec: ProjectSpec) -> Project:
    fields: dict[str, list[str]] = {}
    checks = (
        ("project.title", spec.title, TITLE_MAX, True),
        ("project.description", spec.description, DESCRIPTION_MAX, False),
    )
    clean: dict[str, str] = {}
    for name, value, maximum, required in checks:
        try:
            clean[name] = _text(value, name, maximum, required)
        except ValidationFailed as error:
            fields.update(error.fields)
    responsible = None
    try:
        responsible = resolve_responsible(
            community, spec.responsible_unit, spec.responsible_unit_id, spec.responsible_user_id
        )
    except ValidationFailed as error:
        fields.update(error.fields)
    if spec.due_date is None:
        fields["project.due_date"] = [_("Please give the date it is due.")]
    budget = None
    try:
        budget = parse_budget(spec.budget)
    except ValidationFailed as error:
        fields.update(error.fields)
    if fields:
        raise ValidationFailed(_("Please correct the marked fields."), fields)
    project = Project(
        community=community,
        title=clean["project.title"],
        responsible_unit=responsible.text,
        responsible_unit_record=responsible.unit,
        responsible_user=responsible.user,
        description=clean["project.description"],
        budget=budget,
        due_date=spec.due_date,
        status=ProjectStatus.PLANNED,
        progress_percent=0,
        created_by=actor,
    )
    db.session.add(project)
    db.session.flush()
    record(
        actor,
        "project.created",
        project,
        community_id=community.id,
        title=project.title,
        responsible_unit=project.responsible_unit,
        responsible_unit_id=project.responsible_unit_id,
        responsible_user_id=project.responsible_user_id,
        budget=str(budget) if budget is not None else None,
        due_date=project.due_date.isoformat() if project.due_date else None,
    )
    notify_named(actor, project)
    return project


def _existing_project(meeting: Meeting, project_id: int) -> Project:
    project = db.session.get(Project, project_id)
    if project is None or project.community_id != meeting.community_id:
        raise _invalid("project_id", _("The project is not one of this community's."))
    if project.is_completed:
        raise _invalid("project_id", _("The project is completed: it can no longer change."))
    return project


def requests_behind(meeting: Meeting, item: AgendaItem | None) -> list[ResidentRequest]:
    """The requests a resolution on this agenda item answers: those the item
    deals with; for an item naming none (or no item), the meeting's topics that
    no agenda item names — all its topics when it has only one. (The minutes
    read resolutions the same way.)"""
    if item is not None and item.requests:
        return list(item.requests)
    if len(meeting.topics) <= 1:
        return list(meeting.topics)
    named = {request.id for agenda_item in meeting.agenda_items for request in agenda_item.requests}
    return [topic for topic in meeting.topics if topic.id not in named]


def record_resolution(actor: User, meeting: Meeting, spec: ResolutionSpec) -> Resolution:
    """The secretary records what the meeting decided on an agenda item: the
    text, the poll it follows (if any), conditions, and the project it opens
    (``spec.project``) or updates (``spec.project_id``). The project takes on
    the requests behind the resolution (``requests_behind``)."""
    require_manager(actor, meeting)
    if meeting.status not in RESOLVING_MEETING:
        raise Conflict(
            _(
                "Resolutions are recorded while the meeting is in progress or once it has "
                "closed, until its minutes are published."
            )
        )
    text = _text(spec.text, "text", TEXT_MAX)
    conditions = _text(spec.conditions, "conditions", CONDITIONS_MAX, required=False)
    poll = _poll_of(meeting, spec.poll_id) if spec.poll_id else None
    item = _agenda_item_of(meeting, spec.agenda_item_id) if spec.agenda_item_id else None
    if poll is not None:
        if item is not None and item.id != poll.agenda_item_id:
            raise _invalid("agenda_item_id", _("The poll belongs to another item of the agenda."))
        item = poll.agenda_item
    decision = _decision(spec, poll)
    if spec.project is not None and spec.project_id:
        raise _invalid("project", _("Either open a new project or choose an existing one."))
    if spec.project is not None and decision == Decision.REJECTED:
        raise _invalid("project", _("A resolution that was not agreed opens no project."))

    project = None
    if spec.project is not None:
        project = _new_project(actor, meeting.community, spec.project)
    elif spec.project_id:
        project = _existing_project(meeting, spec.project_id)
    if project is not None:
        project.requests.extend(
            r for r in requests_behind(meeting, item) if r not in project.requests
        )

    resolution = Resolution(
        meeting=meeting,
        agenda_item=item,
        poll=poll,
        decision=decision,
        text=text,
        conditions=conditions,
        project=project,
        created_by=actor,
    )
    db.session.add(resolution)
    db.session.flush()
    record(
        actor,
        "resolution.recorded",
        resolution,
        meeting_id=meeting.id,
        decision=decision.value,
        poll_id=poll.id if poll else None,
        project_id=project.id if project else None,
    )
    return resolution


def get_resolution(resolution_id: int) -> Resolution:
    resolution = db.session.get(Resolution, resolution_id)
    if resolution is None:
        raise NotFound(_("No such resolution."))
    return resolution


def correct_resolution(
    actor: User, resolution: Resolution, text: str, conditions: str
) -> Resolution:
    """Correct the wording of a resolution — a typo, a condition left out —
    until the minutes are published. What was decided stays: the poll it
    follows, the decision and the project are not changed here. A project
    reads its conditions from its resolutions, so it shows the correction."""
    meeting = resolution.meeting
    require_manager(actor, meeting)
    if meeting.status not in RESOLVING_MEETING:
        raise Conflict(
            _("A resolution can be corrected only until the meeting's minutes are published.")
        )
    new_text = _text(text, "text", TEXT_MAX)
    new_conditions = _text(conditions, "conditions", CONDITIONS_MAX, required=False)
    if (new_text, new_conditions) == (resolution.text, resolution.conditions):
        return resolution
    resolution.text, resolution.conditions = new_text, new_conditions
    db.session.flush()
    record(actor, "resolution.corrected", resolution, meeting_id=meeting.id)
    return resolution


def resolutions_of(meeting: Meeting) -> list[Resolution]:
    """A meeting's resolutions in the order they were recorded, with their
    agenda item, poll (and its options) and project loaded."""
    return list(
        db.session.scalars(
            select(Resolution)
            .where(Resolution.meeting_id == meeting.id)
            .order_by(Resolution.id)
            .options(
                db.joinedload(Resolution.agenda_item),
                db.joinedload(Resolution.poll).selectinload(Poll.options),
                db.joinedload(Resolution.project),
                db.selectinload(Resolution.condition_tasks).joinedload(
                    ResolutionCondition.assignee_user
                ),
                db.selectinload(Resolution.condition_tasks).joinedload(
                    ResolutionCondition.assignee_unit
                ),
            )
        )
    )


def open_projects(community: Community) -> list[Project]:
    """Projects a new resolution may update: those not completed."""
    return list(
        db.session.scalars(
            select(Project)
            .where(Project.community_id == community.id, Project.status != ProjectStatus.COMPLETED)
            .order_by(Project.title, Project.id)
        )
    )


def closed_polls(meeting: Meeting) -> list[Poll]:
    """The meeting's polls with a result, that a resolution may follow."""
    return list(
        db.session.scalars(
            select(Poll)
            .join(Poll.agenda_item)
            .where(AgendaItem.meeting_id == meeting.id, Poll.status == PollStatus.CLOSED)
            .order_by(AgendaItem.position, Poll.id)
        )
    )
