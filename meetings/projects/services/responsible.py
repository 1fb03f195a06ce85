"""Who answers for a project or a condition (责任单位, 责任人): a unit serving
the community and/or a person of it — a member of the community, the
street office's staff of its street, or a member of a unit serving it.

Those responsible see their work under "my tasks" and report its progress;
only the secretary confirms a project's completion (``progress``). The
secretary names them when a resolution opens the project, or later by
editing it (``edit_project``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, case, func, or_, select, union

from auth import permissions
from auth.models import Community, Membership, User
from meetings.audit.services import record
from meetings.errors import InvalidTransition, NotAllowed, ValidationFailed
from meetings.extensions import db
from meetings.main.people import Match, clean_text, like_pattern
from meetings.notifications.services import notify_all
from meetings.organisation import roles
from meetings.organisation.models import StreetStaff, Unit, UnitMember, unit_community
from meetings.projects.models import Project
from meetings.projects.services.common import (
    DESCRIPTION_MAX,
    TITLE_MAX,
    UNIT_MAX,
    _text,
    can_manage_project,
    link_to,
    parse_budget,
    require_project_manager,
)

# How many people the responsible-person picker shows at once.
PICK_LIMIT = 20


# --- who may be named -----------------------------------------------------------------


def units_serving(community: Community) -> list[Unit]:
    """The units serving the community, by name: those a secretary may name."""
    return list(
        db.session.scalars(
            select(Unit)
            .join(unit_community, unit_community.c.unit_id == Unit.id)
            .where(unit_community.c.community_id == community.id)
            .order_by(Unit.name, Unit.id)
        )
    )


def eligible_user_ids(community: Community):
    """The ids of the people who may answer for the community's work: its
    members, the staff of its street and the members of the units serving it."""
    parts = [
        select(Membership.user_id).where(Membership.community_id == community.id),
        select(UnitMember.user_id)
        .join(unit_community, unit_community.c.unit_id == UnitMember.unit_id)
        .where(unit_community.c.community_id == community.id),
    ]
    if community.street_id is not None:
        parts.append(
            select(StreetStaff.user_id).where(StreetStaff.street_id == community.street_id)
        )
    return union(*parts)


def _eligible(community: Community) -> Select:
    return select(User).where(
        User.is_active.is_(True), User.id.in_(eligible_user_ids(community).scalar_subquery())
    )


def _digits(column):
    return func.replace(func.replace(column, " ", ""), "-", "")


def _phone_text(text: str) -> str:
    return text.replace(" ", "").replace("-", "")


def find_eligible(community: Community, query: str | None, limit: int = PICK_LIMIT):
    """The picker's search: eligible people whose name, username or phone
    contains the query, exact matches first; at most ``limit``, and whether
    there were more."""
    text = clean_text(query)
    statement = _eligible(community)
    order = [User.display_name, User.id]
    if text:
        lowered, phone = text.lower(), _phone_text(text)
        conditions = [
            func.lower(User.display_name).like(like_pattern(lowered), escape="\\"),
            func.lower(User.username).like(like_pattern(lowered), escape="\\"),
        ]
        if phone:
            conditions.append(_digits(User.phone).like(like_pattern(phone), escape="\\"))
        statement = statement.where(or_(*conditions))
        exact = or_(func.lower(User.username) == lowered, User.display_name == text)
        order.insert(0, case((exact, 0), else_=1))
    found = list(db.session.scalars(statement.order_by(*order).limit(limit + 1)))
    return found[:limit], len(found) > limit


def match_eligible(community: Community, text: str | None) -> Match:
    """The eligible person named by a typed username, phone number or full name
    (a username wins; a name or phone may name several)."""
    text = clean_text(text)
    if not text:
        return Match(text, [])
    eligible = _eligible(community)
    by_username = db.session.scalar(eligible.where(func.lower(User.username) == text.lower()))
    if by_username is not None:
        return Match(text, [by_username])
    named = User.display_name == text
    phone = _phone_text(text)
    if phone:
        named = or_(named, _digits(User.phone) == phone)
    found = db.session.scalars(eligible.where(named).order_by(User.display_name, User.id).limit(6))
    return Match(text, list(found))


def person_problem(match: Match) -> str:
    if not match.candidates:
        return _(
            "Nobody of this community, its street office or the units serving it has the "
            "username, phone number or name “%(text)s”.",
            text=match.text,
        )
    return _(
        "Several people match “%(text)s”: %(names)s. Please type the username of the one you mean.",
        text=match.text,
        names=match.named(),
    )


def is_eligible(community: Community, user_id: int) -> bool:
    return db.session.scalar(_eligible(community).where(User.id == user_id)) is not None


def eligible_person(community: Community, user_id: int | None, field: str) -> User | None:
    """The person with this id, if eligible for the community's work; else 422 on ``field``."""
    if user_id is None:
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.is_active or not is_eligible(community, user_id):
        raise ValidationFailed(
            _("Please correct the marked fields."),
            {
                field: [
                    _(
                        "Not a member of %(community)s, of its street office or of a unit "
                        "serving it.",
                        community=community.name,
                    )
                ]
            },
        )
    return user


def serving_unit(community: Community, unit_id: int | None, field: str) -> Unit | None:
    """The unit with this id, if it serves the community; else 422 on ``field``."""
    if unit_id is None:
        return None
    unit = db.session.get(Unit, unit_id)
    if unit is None or not roles.unit_serves(unit, community):
        raise ValidationFailed(
            _("Please correct the marked fields."),
            {field: [_("Not a unit serving %(community)s.", community=community.name)]},
        )
    return unit


# --- a project's responsible parties --------------------------------------------------


@dataclass
class Responsible:
    """Who answers for a project: the text shown everywhere (责任单位), and the
    unit and the person with accounts, when there are."""

    text: str
    unit: Unit | None = None
    user: User | None = None


def resolve_responsible(
    community: Community,
    text: str | None,
    unit_id: int | None,
    user_id: int | None,
    prefix: str = "project.",
) -> Responsible:
    """Check the named unit and person against the community; the text is
    required unless a unit is chosen (then it is the unit's name). Field
    errors are collected under ``<prefix>responsible_unit`` etc."""
    fields: dict[str, list[str]] = {}
    unit = user = None
    try:
        unit = serving_unit(community, unit_id, f"{prefix}responsible_unit_id")
    except ValidationFailed as error:
        fields.update(error.fields)
    try:
        user = eligible_person(community, user_id, f"{prefix}responsible_user_id")
    except ValidationFailed as error:
        fields.update(error.fields)
    clean = ""
    try:
        clean = _text(
            text, f"{prefix}responsible_unit", UNIT_MAX, required=unit is None and not unit_id
        )
    except ValidationFailed as error:
        fields.update(error.fields)
    if fields:
        raise ValidationFailed(_("Please correct the marked fields."), fields)
    if not clean and unit is not None:
        clean = unit.name[:UNIT_MAX]
    return Responsible(clean, unit, user)


def secretaries_of(community: Community) -> list[User]:
    """The community's secretaries (active accounts), who hear of the work done."""
    return list(
        db.session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.community_id == community.id,
                Membership.is_secretary.is_(True),
                User.is_active.is_(True),
            )
            .order_by(User.id)
        )
    )


def is_responsible(user: User | None, project: Project) -> bool:
    """The project's responsible person, or a member of its responsible unit."""
    if not permissions.is_authenticated(user):
        return False
    if project.responsible_user_id is not None and project.responsible_user_id == user.id:
        return True
    return project.responsible_unit_id is not None and roles.is_unit_member(
        user, project.responsible_unit_id
    )


def can_report_progress(user: User | None, project: Project) -> bool:
    """The secretary, the responsible person and the members of the responsible unit."""
    return can_manage_project(user, project) or is_responsible(user, project)


def require_progress_reporter(user: User | None, project: Project) -> None:
    if not can_report_progress(user, project):
        raise NotAllowed(
            _(
                "Only the community's secretary and those responsible for the project "
                "(its responsible person, the members of its responsible unit) may report "
                "progress."
            )
        )


def responsible_people(project: Project) -> list[User]:
    """Who is told when they are named: the person and the unit's members."""
    people = [project.responsible_user] if project.responsible_user else []
    if project.responsible_unit_record is not None:
        people += [member.user for member in project.responsible_unit_record.members]
    return [user for user in dict.fromkeys(people) if user.is_active]


def notify_named(actor: User, project: Project, previous: set[int] | None = None) -> None:
    """Tell those newly responsible for the project (not the actor)."""
    previous = previous or set()
    recipients = [
        user
        for user in responsible_people(project)
        if user.id != actor.id and user.id not in previous
    ]
    if recipients:
        notify_all(
            recipients,
            "project.responsible",
            _l("You answer for “%(title)s”", title=project.title),
            _l(
                "%(community)s names you (or your unit) responsible for this project. "
                "Report its progress on the project's page; it is under “My tasks”.",
                community=project.community.name,
            ),
            link_to(project),
        )


# --- editing a project ----------------------------------------------------------------


@dataclass
class ProjectChanges:
    """What the secretary changes on a project; ``None`` keeps a value.
    ``responsible_unit_id`` / ``responsible_user_id``: 0 clears them."""

    title: str | None = None
    description: str | None = None
    responsible_unit: str | None = None
    responsible_unit_id: int | None = None
    responsible_user_id: int | None = None
    due_date: date | None = None
    budget: Decimal | str | int | None = None


def edit_project(actor: User, project: Project, changes: ProjectChanges) -> Project:
    """The secretary edits a project that is not completed: its title,
    description, due date, budget and who answers for it."""
    require_project_manager(actor, project)
    if project.is_completed:
        raise InvalidTransition(_("The project is completed: it can no longer change."))
    fields: dict[str, list[str]] = {}
    values: dict[str, object] = {}
    for name, value, maximum, required in (
        ("title", changes.title, TITLE_MAX, True),
        ("description", changes.description, DESCRIPTION_MAX, False),
    ):
        if value is not None:
            try:
                values[name] = _text(value, name, maximum, required)
            except ValidationFailed as error:
                fields.update(error.fields)
    unit_id = changes.responsible_unit_id
    user_id = changes.responsible_user_id
    unit_id = project.responsible_unit_id if unit_id is None else (unit_id or None)
    user_id = project.responsible_user_id if user_id is None else (user_id or None)
    text = changes.responsible_unit
    if text is None:
        # a newly chosen unit names the project, unless a text is given
        unit_changed = unit_id != project.responsible_unit_id
        text = "" if unit_changed and unit_id else project.responsible_unit
    try:
        responsible = resolve_responsible(project.community, text, unit_id, user_id, prefix="")
    except ValidationFailed as error:
        fields.update(error.fields)
        responsible = None
    if changes.budget is not None:
        try:
            values["budget"] = parse_budget(changes.budget, "budget")
        except ValidationFailed as error:
            fields.update(error.fields)
    if changes.due_date is not None:
        values["due_date"] = changes.due_date
    if fields:
        raise ValidationFailed(_("Please correct the marked fields."), fields)
    previous = {user.id for user in responsible_people(project)}
    for name, value in values.items():
        setattr(project, name, value)
    project.responsible_unit = responsible.text
    project.responsible_unit_record = responsible.unit
    project.responsible_user = responsible.user
    db.session.flush()
    record(
        actor,
        "project.edited",
        project,
        title=project.title,
        responsible_unit=project.responsible_unit,
        responsible_unit_id=project.responsible_unit_id,
        responsible_user_id=project.responsible_user_id,
        budget=str(project.budget) if project.budget is not None else None,
        due_date=project.due_date.isoformat() if project.due_date else None,
    )
    notify_named(actor, project, previous)
    return project
