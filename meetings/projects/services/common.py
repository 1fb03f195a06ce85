"""Lookups, permission checks and small helpers shared by the project services.

``can_*`` answer yes or no (for templates); each ``require_*`` raises
``NotAllowed`` with the one message for its rule, called by the services, by
the views before they read a form and by the API's ``permission_required``.
(Recording and correcting resolutions is the meeting's secretary's:
``meetings.meeting.permissions.require_manager``.)"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlalchemy import select

from auth import permissions
from auth.models import User
from meetings.errors import NotAllowed, NotFound, ValidationFailed
from meetings.extensions import db
from meetings.main.periods import local_today
from meetings.meeting.models import Meeting, MeetingStatus
from meetings.meeting.permissions import can_manage_meeting, can_view_meeting, is_insider
from meetings.projects.models import Project, ProjectRating, ProjectUpdate

TEXT_MAX = 10_000
CONDITIONS_MAX = 4_000
TITLE_MAX = 200
DESCRIPTION_MAX = 10_000
UNIT_MAX = 100
NOTE_MAX = 4_000
COMMENT_MAX = 2_000
CONDITION_MAX = 1_000
# Numeric(12, 2): ten digits of yuan and two of fen
BUDGET_MAX = Decimal("9999999999.99")
# Suggestions for the responsible unit (责任单位); any other text is allowed.
RESPONSIBLE_UNITS = ("物业", "街道", "社区")
# A resolution is recorded during the meeting or after it, until the minutes are out.
RESOLVING_MEETING = frozenset({MeetingStatus.IN_PROGRESS, MeetingStatus.CLOSED})


def _invalid(name: str, message: str) -> ValidationFailed:
    return ValidationFailed(_("Please correct the marked fields."), {name: [message]})


def _text(value: str | None, name: str, maximum: int, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise _invalid(name, _("Please fill this in."))
    if len(value) > maximum:
        raise _invalid(name, _("At most %(n)d characters.", n=maximum))
    return value


def parse_budget(
    value: Decimal | str | int | None, field: str = "project.budget"
) -> Decimal | None:
    """An amount in yuan with at most two decimals (never a float), or None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    message = _("An amount in yuan, e.g. 86000 or 12500.50.")
    if isinstance(value, float):
        raise _invalid(field, message)  # money is never a float
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise _invalid(field, message) from None
    if not amount.is_finite() or amount.as_tuple().exponent < -2:
        raise _invalid(field, message)
    if amount < 0 or amount > BUDGET_MAX:
        raise _invalid(field, _("Between 0 and %(max)s yuan.", max=f"{BUDGET_MAX:,.2f}"))
    return amount.quantize(Decimal("0.01"))


def today() -> date:
    """Today in the communities' time zone (config ``TIMEZONE``)."""
    return local_today()


def link_to(project: Project) -> str:
    """The project's page (``projects.show``), built by hand because services
    also run outside a web request (the demo data, the CLI)."""
    return f"/projects/{project.id}"


# --- lookups and permissions ------------------------------------------------------------


def get_project(project_id: int) -> Project:
    project = db.session.get(Project, project_id)
    if project is None:
        raise NotFound(_("No such project."))
    return project


def get_update(update_id: int) -> ProjectUpdate:
    update = db.session.get(ProjectUpdate, update_id)
    if update is None:
        raise NotFound(_("No such progress update."))
    return update


def can_manage_project(user: User | None, project: Project) -> bool:
    """The community's secretary (or an administrator): edits the project,
    names who answers for it and confirms its completion."""
    return permissions.can_manage(user, project.community)


def require_project_manager(user: User | None, project: Project) -> None:
    if not can_manage_project(user, project):
        raise NotAllowed(_("Only the community's secretary may manage this project."))


def require_resident(user: User | None, project: Project) -> None:
    """The members of the project's community rate it."""
    if not permissions.is_member(user, project.community):
        raise NotAllowed(
            _(
                "Only residents of %(community)s may rate its projects.",
                community=project.community.name,
            )
        )


def has_rated(user: User | None, project: Project) -> bool:
    if not permissions.is_authenticated(user):
        return False
    return (
        db.session.scalar(
            select(ProjectRating.id).where(
                ProjectRating.project_id == project.id, ProjectRating.user_id == user.id
            )
        )
        is not None
    )


def can_rate(user: User | None, project: Project) -> bool:
    """A member of the community, once, when the project is completed."""
    return (
        project.is_completed
        and permissions.is_member(user, project.community)
        and not has_rated(user, project)
    )


def can_see_resolutions(user: User | None, meeting: Meeting) -> bool:
    """Attendees and the secretary while the meeting runs; everyone who may
    see the meeting once it has closed."""
    if is_insider(user, meeting):
        return True
    return can_view_meeting(user, meeting) and meeting.status in (
        MeetingStatus.CLOSED,
        MeetingStatus.MINUTES_PUBLISHED,
    )


def can_record_resolution(user: User | None, meeting: Meeting) -> bool:
    return can_manage_meeting(user, meeting) and meeting.status in RESOLVING_MEETING


def is_overdue(project: Project, on: date | None = None) -> bool:
    """Past its due date (in the community's time zone) and not completed."""
    if project.due_date is None or project.is_completed:
        return False
    return project.due_date < (on or today())
