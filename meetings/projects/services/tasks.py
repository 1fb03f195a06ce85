"""A resolution's conditions as tasks (the named volume keeper, the playing
hours), each with a person or a unit answering for it and a due date; and
"my tasks": the projects and conditions a person, or one of their units,
answers for.

The secretary of the meeting's community adds a condition to an agreed
resolution; its assignee (the person, or any member of the unit) marks it
done with an optional note — and so may the secretary, on their behalf (a
property company reporting by phone), the entry naming who did. A condition
is done once: a second time is a 409 ``conflict``. The assignee hears of a
new condition, the secretaries of a condition done."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import LazyString, format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, false, func, literal, null, or_, select, union_all

from auth import permissions
from auth.models import Community, User
from meetings.audit.services import record
from meetings.dbtypes import utcnow
from meetings.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from meetings.extensions import db
from meetings.meeting.models import Meeting
from meetings.notifications.services import notify_all
from meetings.organisation import roles
from meetings.projects.models import (
    Decision,
    Project,
    ProjectStatus,
    Resolution,
    ResolutionCondition,
)
from meetings.projects.services.common import (
    CONDITION_MAX,
    NOTE_MAX,
    _text,
    can_see_resolutions,
    link_to,
    today,
)
from meetings.projects.services.responsible import (
    eligible_person,
    secretaries_of,
    serving_unit,
)


def link_to_condition(condition: ResolutionCondition | int) -> str:
    """The condition's page (``projects.condition``), by hand: services also
    run outside a web request."""
    condition_id = condition if isinstance(condition, int) else condition.id
    return f"/conditions/{condition_id}"


# --- lookups and permissions ------------------------------------------------------------


def get_condition(condition_id: int) -> ResolutionCondition:
    condition = db.session.get(ResolutionCondition, condition_id)
    if condition is None:
        raise NotFound(_("No such condition."))
    return condition


def community_of(resolution: Resolution) -> Community:
    return resolution.meeting.community


def can_add_condition(user: User | None, resolution: Resolution) -> bool:
    """The secretary of the meeting's community (or an administrator)."""
    return permissions.can_manage(user, community_of(resolution))


def require_condition_manager(user: User | None, resolution: Resolution) -> None:
    if not can_add_condition(user, resolution):
        raise NotAllowed(_("Only the community's secretary may set a resolution's conditions."))


def is_assignee(user: User | None, condition: ResolutionCondition) -> bool:
    """The person it is assigned to, or a member of the unit it is assigned to."""
    if not permissions.is_authenticated(user):
        return False
    if condition.assignee_user_id is not None:
        return condition.assignee_user_id == user.id
    return roles.is_unit_member(user, condition.assignee_unit_id)


def can_mark_done(user: User | None, condition: ResolutionCondition) -> bool:
    """The assignee; and the secretary, on the assignee's behalf."""
    return is_assignee(user, condition) or permissions.can_manage(
        user, community_of(condition.resolution)
    )


def require_condition_assignee(user: User | None, condition: ResolutionCondition) -> None:
    if not can_mark_done(user, condition):
        raise NotAllowed(
            _(
                "Only the person or the members of the unit the condition is assigned to "
                "(or the community's secretary) may mark it done."
            )
        )


def can_see_condition(user: User | None, condition: ResolutionCondition) -> bool:
    """Those who may act on it, and those who may see the resolution."""
    return can_mark_done(user, condition) or can_see_resolutions(user, condition.resolution.meeting)


def require_condition_viewer(user: User | None, condition: ResolutionCondition) -> None:
    if not can_see_condition(user, condition):
        raise NotAllowed(_("The conditions are shown to everyone once the meeting has closed."))


def is_condition_overdue(condition: ResolutionCondition, on: date | None = None) -> bool:
    """Past its due date (the communities' time zone) and not done."""
    return not condition.is_done and condition.due_date < (on or today())


def assignee_name(condition: ResolutionCondition) -> str:
    if condition.assignee_unit is not None:
        return condition.assignee_unit.name
    return condition.assignee_user.display_name if condition.assignee_user else ""


def assignees_of(condition: ResolutionCondition) -> list[User]:
    """Who is told of it: the person, or the unit's members."""
    if condition.assignee_user is not None:
        people = [condition.assignee_user]
    elif condition.assignee_unit is not None:
        people = [member.user for member in condition.assignee_unit.members]
    else:
        people = []
    return [user for user in dict.fromkeys(people) if user.is_active]


# --- the verbs --------------------------------------------------------------------------


def add_condition(
    actor: User,
    resolution: Resolution,
    text: str | None,
    due_date: date | None,
    assignee_user_id: int | None = None,
    assignee_unit_id: int | None = None,
) -> ResolutionCondition:
    """The secretary makes a condition of an agreed resolution a task: what
    is to be done, by whom (one person eligible for the community's work, or
    one unit serving it) and by when. The assignee is told."""
    require_condition_manager(actor, resolution)
    community = community_of(resolution)
    if resolution.decision != Decision.ADOPTED:
        raise Conflict(_("A resolution that was not agreed sets no conditions."))
    fields: dict[str, list[str]] = {}
    clean = ""
    try:
        clean = _text(text, "text", CONDITION_MAX)
    except ValidationFailed as error:
        fields.update(error.fields)
    if due_date is None:
        fields["due_date"] = [_("Please give the date it is due.")]
    elif due_date < today():
        fields["due_date"] = [_("The date it is due cannot be in the past.")]
    user = unit = None
    if (assignee_user_id is None) == (assignee_unit_id is None):
        fields["assignee"] = [_("Please choose one person or one unit.")]
    else:
        try:
            user = eligible_person(community, assignee_user_id, "assignee.user_id")
            unit = serving_unit(community, assignee_unit_id, "assignee.unit_id")
        except ValidationFailed as error:
            fields.update(error.fields)
    if fields:
        raise ValidationFailed(_("Please correct the marked fields."), fields)
    condition = ResolutionCondition(
        resolution=resolution,
        text=clean,
        assignee_user=user,
        assignee_unit=unit,
        due_date=due_date,
        created_by_id=actor.id,
    )
    db.session.add(condition)
    db.session.flush()
    record(
        actor,
        "condition.added",
        condition,
        resolution_id=resolution.id,
        assignee_user_id=condition.assignee_user_id,
        assignee_unit_id=condition.assignee_unit_id,
        due_date=due_date.isoformat(),
    )
    recipients = [person for person in assignees_of(condition) if person.id != actor.id]
    if recipients:
        notify_all(
            recipients,
            "condition.assigned",
            _l("A task for you: %(text)s", text=clean[:120]),
            _l(
                "%(community)s asks you (or your unit) to see to this condition of a "
                "resolution by %(date)s, and to mark it done.",
                community=community.name,
                date=LazyString(format_date, due_date, "long"),
            ),
            link_to_condition(condition),
        )
    return condition


def mark_condition_done(
    actor: User, condition: ResolutionCondition, note: str | None = ""
) -> ResolutionCondition:
    """The assignee (or the secretary for them) says the condition is met,
    with an optional note. Once: a second time is a conflict. The
    community's secretaries are told."""
    require_condition_assignee(actor, condition)
    note = _text(note, "note", NOTE_MAX, required=False)
    # ``UPDATE … WHERE done_at IS NULL``: of two people marking it at once, one wins
    result = db.session.execute(
        db.update(ResolutionCondition)
        .where(ResolutionCondition.id == condition.id, ResolutionCondition.done_at.is_(None))
        .values(done_at=utcnow(), done_by_id=actor.id, done_note=note or None)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise Conflict(_("This condition is already marked done."))
    db.session.refresh(condition)
    record(actor, "condition.done", condition, resolution_id=condition.resolution_id)
    community = community_of(condition.resolution)
    recipients = [user for user in secretaries_of(community) if user.id != actor.id]
    if recipients:
        notify_all(
            recipients,
            "condition.done",
            _l("Done: %(text)s", text=condition.text[:120]),
            _l(
                "%(name)s marked this condition done. %(note)s",
                name=actor.display_name,
                note=note,
            ),
            link_to_condition(condition),
        )
    return condition


# --- readers ----------------------------------------------------------------------------


def conditions_of(resolution_ids: list[int]) -> dict[int, list[ResolutionCondition]]:
    """The conditions of these resolutions, by resolution, with their assignees."""
    found: dict[int, list[ResolutionCondition]] = {rid: [] for rid in resolution_ids}
    if not resolution_ids:
        return found
    for condition in db.session.scalars(
        select(ResolutionCondition)
        .where(ResolutionCondition.resolution_id.in_(resolution_ids))
        .order_by(ResolutionCondition.id)
        .options(
            db.joinedload(ResolutionCondition.assignee_user),
            db.joinedload(ResolutionCondition.assignee_unit),
        )
    ):
        found[condition.resolution_id].append(condition)
    return found


@dataclass(frozen=True)
class Task:
    """A line of "my tasks": a project or a condition."""

    kind: str  # "project" or "condition"
    id: int
    title: str
    community: Community
    due_date: date | None
    is_open: bool
    status: str  # a project's status; "open" or "done" for a condition
    is_overdue: bool
    url: str
    project: Project | None = None
    condition: ResolutionCondition | None = None

    @property
    def done(self) -> bool:
        return not self.is_open


@dataclass
class TaskPage:
    items: list[Task]
    total: int
    page: int
    per_page: int

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page * self.per_page < self.total

    @property
    def prev_num(self) -> int | None:
        return self.page - 1 if self.has_prev else None

    @property
    def next_num(self) -> int | None:
        return self.page + 1 if self.has_next else None

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    def iter_pages(self, **_kwargs):
        # the pagination macro's numbers: few pages of tasks, all shown
        return iter(range(1, self.pages + 1))


def _tasks_statement(user: User):
    """One list of the person's projects and conditions (their own or their
    units'): kind, id, due date, open (1) or not (0); each part reads its
    assignee's index."""
    unit_ids = roles.unit_ids_of(user)
    project_is_open = case((Project.status == ProjectStatus.COMPLETED, 0), else_=1)
    project_mine = Project.responsible_user_id == user.id
    condition_mine = ResolutionCondition.assignee_user_id == user.id
    if unit_ids:
        project_mine = or_(project_mine, Project.responsible_unit_id.in_(unit_ids))
        condition_mine = or_(condition_mine, ResolutionCondition.assignee_unit_id.in_(unit_ids))
    projects = select(
        literal("project").label("kind"),
        Project.id.label("id"),
        Project.due_date.label("due_date"),
        project_is_open.label("is_open"),
    ).where(project_mine)
    conditions = select(
        literal("condition").label("kind"),
        ResolutionCondition.id.label("id"),
        ResolutionCondition.due_date.label("due_date"),
        case((ResolutionCondition.done_at.is_(None), 1), else_=0).label("is_open"),
    ).where(condition_mine)
    return union_all(projects, conditions).subquery()


def my_tasks(user: User, page: int = 1, per_page: int = 50) -> TaskPage:
    """The projects and conditions the person or one of their units answers
    for: open ones first, soonest due first (the overdue at the top); then
    the finished ones, latest due first."""
    if not permissions.is_authenticated(user):
        return TaskPage([], 0, page, per_page)
    tasks = _tasks_statement(user)
    total = db.session.scalar(select(func.count()).select_from(tasks))
    open_due = case((tasks.c.is_open == 1, tasks.c.due_date), else_=null())
    done_due = case((tasks.c.is_open == 0, tasks.c.due_date), else_=null())
    rows = db.session.execute(
        select(tasks.c.kind, tasks.c.id)
        .order_by(
            tasks.c.is_open.desc(),
            open_due.is_(None),
            open_due,
            done_due.desc(),
            tasks.c.kind,
            tasks.c.id.desc(),
        )
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return TaskPage(_load(rows), total or 0, page, per_page)


def _load(rows) -> list[Task]:
    project_ids = [row.id for row in rows if row.kind == "project"]
    condition_ids = [row.id for row in rows if row.kind == "condition"]
    projects = {
        project.id: project
        for project in db.session.scalars(
            select(Project)
            .where(Project.id.in_(project_ids) if project_ids else false())
            .options(db.joinedload(Project.community))
        )
    }
    conditions = {
        condition.id: condition
        for condition in db.session.scalars(
            select(ResolutionCondition)
            .where(ResolutionCondition.id.in_(condition_ids) if condition_ids else false())
            .options(
                db.joinedload(ResolutionCondition.resolution)
                .joinedload(Resolution.meeting)
                .joinedload(Meeting.community),
                db.joinedload(ResolutionCondition.resolution).joinedload(Resolution.project),
            )
        )
    }
    now = today()
    items = []
    for row in rows:
        if row.kind == "project":
            project = projects[row.id]
            overdue = (
                project.due_date is not None and not project.is_completed and project.due_date < now
            )
            items.append(
                Task(
                    "project",
                    project.id,
                    project.title,
                    project.community,
                    project.due_date,
                    not project.is_completed,
                    project.status.value,
                    overdue,
                    link_to(project),
                    project=project,
                )
            )
        else:
            condition = conditions[row.id]
            items.append(
                Task(
                    "condition",
                    condition.id,
                    condition.text,
                    condition.resolution.meeting.community,
                    condition.due_date,
                    not condition.is_done,
                    "done" if condition.is_done else "open",
                    is_condition_overdue(condition, now),
                    link_to_condition(condition),
                    condition=condition,
                )
            )
    return items


def open_task_count(user: User) -> int:
    """How many of the person's tasks are open (for a badge)."""
    if not permissions.is_authenticated(user):
        return 0
    tasks = _tasks_statement(user)
    return db.session.scalar(select(func.count()).select_from(tasks).where(tasks.c.is_open == 1))
