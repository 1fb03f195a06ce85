"""Progress updates (挂图作战) with their photos, the project's states, who
hears of them, and the requests a completed project closes."""

from __future__ import annotations

from datetime import date

from flask import current_app
from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from auth.models import User
from meetings.audit.services import record
from meetings.dbtypes import utcnow
from meetings.errors import InvalidTransition, NotAllowed, ValidationFailed
from meetings.extensions import db
from meetings.notifications.services import notify_all
from meetings.polls.models import Proposal, ProposalStatus
from meetings.projects.models import (
    PROJECT_TRANSITIONS,
    Decision,
    Project,
    ProjectStatus,
    ProjectUpdate,
    StoredFile,
)
from meetings.projects.services.common import (
    NOTE_MAX,
    _invalid,
    can_manage_project,
    link_to,
    require_project_manager,
    today,
)
from meetings.projects.services.responsible import require_progress_reporter, secretaries_of
from meetings.requests import services as request_services
from meetings.requests.models import RequestStatus, ResidentRequest

# How a request that a completed project answers reaches "handled": the
# resident then rates it, and the rating closes or reopens it.
PATH_TO_HANDLED = {
    RequestStatus.DELIBERATED: [RequestStatus.RESOLVED, RequestStatus.HANDLED],
    RequestStatus.RESOLVED: [RequestStatus.HANDLED],
    RequestStatus.ACCEPTED: [RequestStatus.HANDLED],
}


def _new_status(project: Project, status: ProjectStatus | str | None) -> ProjectStatus | None:
    if status in (None, ""):
        return None
    try:
        status = ProjectStatus(status)
    except ValueError:
        raise _invalid("status", _("Not a valid choice.")) from None
    if status == project.status:
        return None
    if status not in PROJECT_TRANSITIONS[project.status]:
        raise InvalidTransition(_illegal_message(project, status))
    return status


def _illegal_message(project: Project, to: ProjectStatus) -> str:
    possible = project.next_statuses
    if not possible:
        return _(
            "This project is “%(current)s”: its state can no longer change.",
            current=project.status.label,
        )
    return _(
        "This project is “%(current)s”: it cannot become “%(to)s”. Possible: %(possible)s.",
        current=project.status.label,
        to=to.label,
        possible=", ".join(f"“{status.label}”" for status in possible),
    )


def add_progress_update(
    actor: User,
    project: Project,
    percent: int | None,
    note: str | None,
    status: ProjectStatus | str | None = None,
    photo: StoredFile | None = None,
    on_date: date | None = None,
) -> ProjectUpdate:
    """Report progress (挂图作战): percent, a note, maybe a photo, maybe a new
    state along ``PROJECT_TRANSITIONS``. The secretary, the responsible
    person and the members of the responsible unit report; only the
    secretary completes a project (a responsible party reports 100 %, which
    asks the secretary to confirm). Suspending needs a reason (the note);
    completing sets 100 % and hands over the requests behind the project.
    Its requesters and the authors of the proposals behind it are told, and
    the secretaries when a responsible party reports."""
    require_progress_reporter(actor, project)
    project = _locked(project)
    if project.is_completed:
        raise InvalidTransition(_("The project is completed: it takes no more updates."))
    to = _new_status(project, status)
    if to == ProjectStatus.COMPLETED and not can_manage_project(actor, project):
        raise NotAllowed(
            _(
                "Only the community's secretary confirms that a project is completed: "
                "report %(percent)d%% and the secretary will be asked to confirm.",
                percent=100,
            )
        )
    fields: dict[str, list[str]] = {}
    if percent is None or isinstance(percent, bool) or not 0 <= percent <= 100:
        fields["progress_percent"] = [_("A percentage from 0 to 100.")]
    note = (note or "").strip()
    if not note:
        fields["note"] = [
            _("Please give the reason for suspending the project.")
            if to == ProjectStatus.SUSPENDED
            else _("Please say what has been done.")
        ]
    elif len(note) > NOTE_MAX:
        fields["note"] = [_("At most %(n)d characters.", n=NOTE_MAX)]
    on_date = on_date or today()
    if on_date > today():
        fields["on_date"] = [_("The date cannot be in the future.")]
    if fields:
        raise ValidationFailed(_("Please correct the marked fields."), fields)
    # Progress on a planned project means the work has begun.
    if to is None and project.status == ProjectStatus.PLANNED and percent > 0:
        to = ProjectStatus.IN_PROGRESS
    if to == ProjectStatus.COMPLETED:
        percent = 100

    current = project.status
    if to == ProjectStatus.COMPLETED:
        # The requests' rows are locked before the first audit entry (which
        # serialises the audit log) is written: the lock order of every writer.
        _lock_requests(project)
    if to is not None:
        _guarded_status_change(project, current, to)
        if to == ProjectStatus.SUSPENDED:
            project.suspended_reason = note
        else:
            project.suspended_reason = None
        if to == ProjectStatus.COMPLETED:
            project.completed_at = utcnow()
    project.progress_percent = percent
    update = ProjectUpdate(
        project=project,
        on_date=on_date,
        percent=percent,
        note=note,
        status=to,
        photo=photo,
        author=actor,
    )
    db.session.add(update)
    db.session.flush()
    record(
        actor,
        "project.updated",
        project,
        update_id=update.id,
        percent=percent,
        from_status=current.value,
        to_status=to.value if to else None,
        photo=photo is not None,
    )
    if to == ProjectStatus.COMPLETED:
        hand_over_requests_of(actor, project)
    _notify_update(actor, project, update)
    if not can_manage_project(actor, project):
        _notify_secretaries(actor, project, update)
    return update


def confirm_completion(actor: User, project: Project, note: str | None = "") -> ProjectUpdate:
    """The secretary confirms that the project is completed (after those
    responsible reported it done, or on their own inspection): an update to
    ``completed`` at 100 %, with the note given or a stored default."""
    require_project_manager(actor, project)
    note = (note or "").strip()
    if not note:
        with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
            note = _("The secretary confirmed the completion.")
    return add_progress_update(actor, project, 100, note, ProjectStatus.COMPLETED)


def awaits_confirmation(project: Project) -> bool:
    """Reported done (100 %) but not yet confirmed completed by the secretary."""
    return project.status == ProjectStatus.IN_PROGRESS and project.progress_percent == 100


def _notify_secretaries(actor: User, project: Project, update: ProjectUpdate) -> None:
    """A responsible party reported: the secretaries hear of it, and are asked
    to confirm completion when the work is reported done."""
    recipients = [user for user in secretaries_of(project.community) if user.id != actor.id]
    if not recipients:
        return
    if awaits_confirmation(project):
        kind = "project.completion_proposed"
        subject = _l(
            "“%(title)s” is reported done: please confirm its completion", title=project.title
        )
    else:
        kind = "project.reported"
        subject = _l(
            "%(name)s reported progress on “%(title)s”: %(percent)d%%",
            name=actor.display_name,
            title=project.title,
            percent=update.percent,
        )
    notify_all(recipients, kind, subject, update.note, link_to(project))


def _locked(project: Project) -> Project:
    """The project re-read under a row lock (PostgreSQL ``FOR UPDATE``; SQLite
    writers take turns anyway): updates of one project happen one at a time."""
    statement = (
        select(Project)
        .where(Project.id == project.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return db.session.execute(statement).scalar_one()


def _lock_requests(project: Project) -> None:
    ids = [item.id for item in project.requests]
    if ids:
        db.session.execute(
            select(ResidentRequest.id)
            .where(ResidentRequest.id.in_(ids))
            .order_by(ResidentRequest.id)
            .with_for_update()
        ).all()


def _guarded_status_change(project: Project, current: ProjectStatus, to: ProjectStatus) -> None:
    """``UPDATE … WHERE status = <current>``: of two secretaries completing the
    same project at once, one wins and the other is told."""
    result = db.session.execute(
        db.update(Project)
        .where(Project.id == project.id, Project.status == current)
        .values(status=to)
        .execution_options(synchronize_session="evaluate")
    )
    if result.rowcount != 1:
        raise InvalidTransition(
            _("Someone else changed this project just now. Please look at it again.")
        )
    project.status = to


def proposals_behind(project: Project) -> list[Proposal]:
    """The proposals the project carries out: those of the winning options of
    the polls its agreed resolutions follow, or else the active proposals under
    their agenda items."""
    found: dict[int, Proposal] = {}
    for resolution in project.resolutions:
        if resolution.decision != Decision.ADOPTED:
            continue
        winners = []
        if resolution.poll is not None:
            winners = [o.proposal for o in resolution.poll.options if o.won and o.proposal]
        if not winners and resolution.agenda_item_id is not None:
            winners = list(
                db.session.scalars(
                    select(Proposal).where(
                        Proposal.agenda_item_id == resolution.agenda_item_id,
                        Proposal.status == ProposalStatus.ACTIVE,
                    )
                )
            )
        for proposal in winners:
            found.setdefault(proposal.id, proposal)
    return sorted(found.values(), key=lambda proposal: proposal.id)


def followers_of(project: Project) -> list[User]:
    """Who hears of each progress update: the residents whose requests the
    project answers and the authors of the proposals behind it."""
    # a resident without an account (raised for them by a grid worker) hears
    # of it from whoever raised it, not here
    people = [request.requester for request in project.requests if request.requester is not None]
    people += [proposal.author for proposal in proposals_behind(project)]
    return list(dict.fromkeys(people))


def _notify_update(actor: User, project: Project, update: ProjectUpdate) -> None:
    recipients = [user for user in followers_of(project) if user.id != actor.id]
    if not recipients:
        return
    if update.status == ProjectStatus.COMPLETED:
        subject = _l("Completed: “%(title)s”", title=project.title)
        body = _l(
            "%(note)s\n\nResidents of %(community)s can now rate the work on the project's page.",
            note=update.note,
            community=project.community.name,
        )
    elif update.status == ProjectStatus.SUSPENDED:
        subject = _l("Suspended: “%(title)s”", title=project.title)
        body = _l("Reason: %(reason)s", reason=update.note)
    else:
        subject = _l(
            "Progress on “%(title)s”: %(percent)d%%", title=project.title, percent=update.percent
        )
        body = update.note
    kind = f"project.{update.status.value}" if update.status else "project.update"
    notify_all(recipients, kind, subject, body, link_to(project))


def hand_over_requests_of(actor: User | None, project: Project) -> list[ResidentRequest]:
    """The project is completed: the requests behind it are handled. Each goes
    (through ``resolved``) to ``handled``, its public reply saying the project
    is done, and waits for the resident's rating (which closes or reopens
    it); returns the requests handed over. Requests still on a meeting's
    agenda, or never taken up, are left alone."""
    resolved_note, reply = completion_texts(project)
    handled = []
    for item in project.requests:
        for step in PATH_TO_HANDLED.get(item.status, []):
            if step == RequestStatus.HANDLED:
                item.reply = reply
                item.replied_at = item.handled_at = utcnow()
                item.replied_by = actor
                request_services.transition(item, step, actor, reply)
                handled.append(item)
            else:
                request_services.transition(item, step, actor, resolved_note)
    return handled


def completion_texts(project: Project) -> tuple[str, str]:
    """Stored texts, in the site's default language: everyone reads them."""
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        resolved = _("The project “%(title)s” carries it out.", title=project.title)
        reply = _(
            "The project “%(title)s” (responsible: %(unit)s) was completed on %(date)s.",
            title=project.title,
            unit=project.responsible_unit,
            date=format_date(project.completed_at or utcnow(), "long"),
        )
    return resolved, reply
