"""API: resolutions, projects, progress updates and ratings (API.md
"Resolutions, projects, minutes"). Projects are public: their list and pages
need no token."""

from __future__ import annotations

from flask import request, url_for
from flask_babel import gettext as _
from marshmallow import fields, validate

from auth.models import User
from meetings.api.core import (
    BEARER,
    BaseSchema,
    Id,
    LocalDateTime,
    PageArgs,
    Unauthorized,
    blueprint,
    current_api_user,
    list_schema,
    paginate,
    permission_required,
    token_required,
)
from meetings.dbtypes import MAX_ID
from meetings.errors import NotAllowed
from meetings.meeting import services as meeting_services
from meetings.meeting.permissions import require_manager
from meetings.projects import services
from meetings.projects.models import Decision, ProjectStatus, ResolutionStatus
from meetings.projects.services import notice
from meetings.projects.services.resolutions import DESCRIPTION_MAX

bp = blueprint("api_projects", "Resolutions (决议), projects (实事项目), progress and ratings")

STATUS_CODES = [status.value for status in ProjectStatus]
DECISION_CODES = [decision.value for decision in Decision]
BUDGET_HELP = 'yuan, two decimals at most: 86000, "86000.00"; given back as a string'


def _optional_user() -> User | None:
    """The token's user; none without a token, but a token that does not work
    is refused (401), not ignored."""
    if request.headers.get("Authorization"):
        return current_api_user()
    return None


# --- schemas --------------------------------------------------------------------------


RESPONSIBLE_UNIT_ID_HELP = (
    "a unit serving the community (its members report progress); the text defaults to its name"
)
RESPONSIBLE_USER_ID_HELP = (
    "a person who answers for it (reports progress): a member of the community, "
    "of its street office or of a unit serving it"
)


class ProjectInSchema(BaseSchema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=services.TITLE_MAX))
    responsible_unit = fields.String(
        load_default="",
        validate=validate.Length(max=services.UNIT_MAX),
        metadata={
            "description": "物业 / 街道 / 社区 or any other unit, as text; required unless "
            "responsible_unit_id is given"
        },
    )
    responsible_unit_id = Id(
        load_default=None, allow_none=True, metadata={"description": RESPONSIBLE_UNIT_ID_HELP}
    )
    responsible_user_id = Id(
        load_default=None, allow_none=True, metadata={"description": RESPONSIBLE_USER_ID_HELP}
    )
    due_date = fields.Date(required=True, metadata={"description": "YYYY-MM-DD"})
    budget = fields.Decimal(
        load_default=None, allow_none=True, as_string=True, metadata={"description": BUDGET_HELP}
    )
    description = fields.String(load_default="", validate=validate.Length(max=DESCRIPTION_MAX))


class ResolutionCreateSchema(BaseSchema):
    text = fields.String(required=True, validate=validate.Length(min=1, max=services.TEXT_MAX))
    poll_id = Id(
        load_default=None,
        allow_none=True,
        metadata={"description": "a closed poll of this meeting; the decision follows its result"},
    )
    agenda_item_id = Id(load_default=None, allow_none=True)
    decision = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(DECISION_CODES),
        metadata={"description": "with a poll: must be what the poll decided (else 422)"},
    )
    conditions = fields.String(
        load_default="", validate=validate.Length(max=services.CONDITIONS_MAX)
    )
    project = fields.Nested(
        ProjectInSchema,
        load_default=None,
        allow_none=True,
        metadata={"description": "a new project this resolution opens"},
    )
    project_id = Id(
        load_default=None,
        allow_none=True,
        metadata={"description": "an existing project of the community it adds to"},
    )


class ConditionSchema(BaseSchema):
    """A condition of a resolution as a task."""

    id = fields.Integer()
    resolution_id = fields.Integer()
    text = fields.String()
    assignee_user_id = fields.Integer(allow_none=True)
    assignee_unit_id = fields.Integer(allow_none=True)
    assignee_name = fields.Function(services.assignee_name)
    due_date = fields.Date()
    done = fields.Boolean(attribute="is_done")
    done_at = LocalDateTime(allow_none=True)
    done_by_id = fields.Integer(allow_none=True)
    done_note = fields.String(allow_none=True)
    is_overdue = fields.Function(
        services.is_condition_overdue,
        metadata={"type": "boolean", "description": "past its due date, not done"},
    )
    url = fields.Function(services.link_to_condition, metadata={"type": "string"})


class ResolutionSchema(BaseSchema):
    id = fields.Integer()
    meeting_id = fields.Integer()
    agenda_item_id = fields.Integer(allow_none=True)
    poll_id = fields.Integer(allow_none=True)
    poll_outcome = fields.String(attribute="poll.outcome", allow_none=True)
    decision = fields.String(metadata={"enum": DECISION_CODES})
    text = fields.String()
    conditions = fields.String()
    condition_tasks = fields.List(
        fields.Nested(ConditionSchema),
        metadata={"description": "its conditions as tasks, with assignee and due date"},
    )
    project_id = fields.Integer(allow_none=True)
    created_at = LocalDateTime()
    # 公示 (public notice), see meetings.projects.notice_api
    status = fields.Function(
        lambda resolution: notice.shown_status(resolution).value,
        metadata={"type": "string", "enum": [status.value for status in ResolutionStatus]},
    )
    notice_ends_at = LocalDateTime(allow_none=True)


class ProjectSchema(BaseSchema):
    """A project as the list shows it (a board card)."""

    id = fields.Integer(attribute="project.id")
    community_id = fields.Integer(attribute="project.community_id")
    community_name = fields.String(attribute="project.community.name")
    title = fields.String(attribute="project.title")
    responsible_unit = fields.String(attribute="project.responsible_unit")
    responsible_unit_id = fields.Integer(attribute="project.responsible_unit_id", allow_none=True)
    responsible_user_id = fields.Integer(attribute="project.responsible_user_id", allow_none=True)
    # Sent as a string ("86000.00"), so that no client rounds the money.
    budget = fields.Decimal(
        attribute="project.budget",
        as_string=True,
        allow_none=True,
        metadata={"type": "string", "format": "decimal"},
    )
    due_date = fields.Date(attribute="project.due_date", allow_none=True)
    status = fields.String(attribute="project.status", metadata={"enum": STATUS_CODES})
    suspended_reason = fields.String(attribute="project.suspended_reason", allow_none=True)
    progress_percent = fields.Integer(attribute="project.progress_percent")
    is_overdue = fields.Boolean(
        metadata={"description": "past its due date (community's time zone), not completed"}
    )
    completed_at = LocalDateTime(attribute="project.completed_at", allow_none=True)
    awaits_confirmation = fields.Function(
        lambda card: services.awaits_confirmation(card.project),
        metadata={
            "type": "boolean",
            "description": "reported at 100 %, waiting for the secretary to confirm completion",
        },
    )
    rating_count = fields.Integer(attribute="rating.count")
    rating_average = fields.Float(attribute="rating.average", allow_none=True)


class UpdateSchema(BaseSchema):
    id = fields.Integer()
    project_id = fields.Integer()
    on_date = fields.Date()
    progress_percent = fields.Integer(attribute="percent")
    note = fields.String()
    status = fields.String(
        allow_none=True,
        metadata={"enum": STATUS_CODES, "description": "the state it moved to, if it changed"},
    )
    photo_url = fields.Method("_photo_url", allow_none=True)
    author_name = fields.String(attribute="author.display_name", allow_none=True)
    created_at = LocalDateTime()

    def _photo_url(self, update):
        if update.photo_id is None:
            return None
        return url_for("projects.photo", project_id=update.project_id, update_id=update.id)


class RequestRefSchema(BaseSchema):
    id = fields.Integer()
    title = fields.String()


class ProjectDetailSchema(ProjectSchema):
    description = fields.String(attribute="project.description")
    conditions = fields.List(fields.String(), attribute="project.conditions")
    resolutions = fields.List(fields.Nested(ResolutionSchema), attribute="project.resolutions")
    requests = fields.List(fields.Nested(RequestRefSchema), attribute="project.requests")
    updates = fields.Method("_updates")

    def _updates(self, card):
        return UpdateSchema(many=True).dump(services.updates_of(card.project))


class ProjectListArgs(PageArgs):
    # not Id(): a query string's number is text, so no strict integer here
    community_id = fields.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_ID))
    status = fields.String(load_default=None, validate=validate.OneOf(STATUS_CODES))


class UpdateCreateSchema(BaseSchema):
    progress_percent = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=0, max=100)
    )
    note = fields.String(required=True, validate=validate.Length(min=1, max=services.NOTE_MAX))
    status = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(STATUS_CODES),
        metadata={
            "description": "planned → in_progress → completed; suspended (the note is the "
            "reason) and back. Leave out for no change."
        },
    )
    on_date = fields.Date(load_default=None, allow_none=True, metadata={"description": "today"})


class ProjectPatchSchema(BaseSchema):
    title = fields.String(validate=validate.Length(min=1, max=services.TITLE_MAX))
    description = fields.String(validate=validate.Length(max=DESCRIPTION_MAX))
    responsible_unit = fields.String(validate=validate.Length(max=services.UNIT_MAX))
    responsible_unit_id = Id(allow_none=True, metadata={"description": RESPONSIBLE_UNIT_ID_HELP})
    responsible_user_id = Id(allow_none=True, metadata={"description": RESPONSIBLE_USER_ID_HELP})
    due_date = fields.Date(metadata={"description": "YYYY-MM-DD"})
    budget = fields.Decimal(as_string=True, metadata={"description": BUDGET_HELP})


class AssigneeSchema(BaseSchema):
    user_id = Id(load_default=None, allow_none=True)
    unit_id = Id(load_default=None, allow_none=True)


class ConditionCreateSchema(BaseSchema):
    text = fields.String(required=True, validate=validate.Length(min=1, max=services.CONDITION_MAX))
    assignee = fields.Nested(
        AssigneeSchema,
        required=True,
        metadata={
            "description": "exactly one: {user_id} (a member of the community, of its street "
            "office or of a unit serving it) or {unit_id} (a unit serving it)"
        },
    )
    due_date = fields.Date(required=True, metadata={"description": "YYYY-MM-DD, not past"})


class ConditionDoneSchema(BaseSchema):
    note = fields.String(load_default="", validate=validate.Length(max=services.NOTE_MAX))


class CommunityRefSchema(BaseSchema):
    id = fields.Integer()
    name = fields.String()


class TaskSchema(BaseSchema):
    kind = fields.String(metadata={"enum": ["project", "condition"]})
    id = fields.Integer()
    title = fields.String(metadata={"description": "a project's title, a condition's text"})
    text = fields.Function(
        lambda task: task.title if task.kind == "condition" else None,
        metadata={"type": "string", "nullable": True, "description": "a condition's text"},
    )
    community = fields.Nested(CommunityRefSchema)
    due_date = fields.Date(allow_none=True)
    status = fields.String(
        metadata={"description": "a project's status; a condition's: open or done"}
    )
    done = fields.Boolean()
    is_overdue = fields.Boolean()
    url = fields.String(metadata={"description": "the page where the person acts on it"})
    project_id = fields.Function(
        lambda task: task.id if task.kind == "project" else task.condition.resolution.project_id,
        metadata={"type": "integer", "nullable": True},
    )
    resolution_id = fields.Function(
        lambda task: task.condition.resolution_id if task.kind == "condition" else None,
        metadata={"type": "integer", "nullable": True},
    )


class RatingCreateSchema(BaseSchema):
    score = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=5))
    comment = fields.String(load_default="", validate=validate.Length(max=services.COMMENT_MAX))


class RatingSchema(BaseSchema):
    id = fields.Integer()
    project_id = fields.Integer()
    score = fields.Integer()
    comment = fields.String()
    created_at = LocalDateTime()


# --- resolutions ----------------------------------------------------------------------


def _meeting_manager(user: User, meeting_id: int) -> None:
    require_manager(user, meeting_services.get_visible_meeting(user, meeting_id))


@bp.post("/meetings/<int:meeting_id>/resolutions")
@bp.doc(**BEARER)
@permission_required(_meeting_manager)
@bp.arguments(ResolutionCreateSchema)
@bp.response(201, ResolutionSchema)
@bp.alt_response(409, description="conflict: the meeting is not in progress or closed")
def record_resolution(data, meeting_id: int):
    """Record a resolution of the meeting (its secretary), following a closed
    poll's result if ``poll_id`` is given, opening (``project``) or adding to
    (``project_id``) a project."""
    actor = current_api_user()
    meeting = meeting_services.get_visible_meeting(actor, meeting_id)
    project = data["project"]
    spec = services.ResolutionSpec(
        text=data["text"],
        poll_id=data["poll_id"],
        agenda_item_id=data["agenda_item_id"],
        decision=data["decision"],
        conditions=data["conditions"],
        project=services.ProjectSpec(**project) if project is not None else None,
        project_id=data["project_id"],
    )
    return services.record_resolution(actor, meeting, spec)


class ResolutionWordingSchema(BaseSchema):
    text = fields.String(validate=validate.Length(min=1, max=services.TEXT_MAX))
    conditions = fields.String(validate=validate.Length(max=services.CONDITIONS_MAX))


def _resolution_manager(user: User, resolution_id: int) -> None:
    _meeting_manager(user, services.get_resolution(resolution_id).meeting_id)


@bp.patch("/resolutions/<int:resolution_id>")
@bp.doc(**BEARER)
@permission_required(_resolution_manager)
@bp.arguments(ResolutionWordingSchema)
@bp.response(200, ResolutionSchema)
@bp.alt_response(409, description="conflict: the minutes are published")
def correct_resolution(data, resolution_id: int):
    """Correct a resolution's ``text`` and/or ``conditions`` (its secretary),
    until the meeting's minutes are published; the decision, poll and project
    stay as recorded."""
    resolution = services.get_resolution(resolution_id)
    services.correct_resolution(
        current_api_user(),
        resolution,
        data.get("text", resolution.text),
        data.get("conditions", resolution.conditions),
    )
    return resolution


@bp.get("/meetings/<int:meeting_id>/resolutions")
@bp.doc(**BEARER)
@bp.arguments(PageArgs, location="query")
@bp.response(200, list_schema(ResolutionSchema, "ResolutionList"))
def list_resolutions(args, meeting_id: int):
    """A meeting's resolutions: for its attendees and secretary while it runs,
    for everyone who may see the meeting once it has closed."""
    user = _optional_user()
    meeting = meeting_services.get_visible_meeting(user, meeting_id)
    if not services.can_see_resolutions(user, meeting):
        if user is None:  # an attendee's token would show them: say so, like the other endpoints
            raise Unauthorized(_("A valid bearer token is required."))
        raise NotAllowed(_("The resolutions are shown to everyone once the meeting has closed."))
    items = services.resolutions_of(meeting)
    start = (args["page"] - 1) * args["per_page"]
    return {"items": items[start : start + args["per_page"]], "total": len(items)}


# --- projects -------------------------------------------------------------------------


@bp.get("/projects")
@bp.arguments(ProjectListArgs, location="query")
@bp.response(200, list_schema(ProjectSchema, "ProjectList"))
def list_projects(args):
    """Projects, of one community and/or status: open to all, no token needed.
    Board order: in progress, planned, suspended, completed; then by due date."""
    status = ProjectStatus(args["status"]) if args["status"] else None
    page = paginate(services.projects_statement(args["community_id"], status), args)
    return {"items": services.cards_for(page["items"]), "total": page["total"]}


@bp.get("/projects/<int:project_id>")
@bp.response(200, ProjectDetailSchema)
def get_project(project_id: int):
    """A project with its conditions, resolutions, requests and progress updates."""
    return services.cards_for([services.get_project(project_id)])[0]


def _project_manager(user: User, project_id: int) -> None:
    services.require_project_manager(user, services.get_project(project_id))


@bp.patch("/projects/<int:project_id>")
@bp.doc(**BEARER)
@permission_required(_project_manager)
@bp.arguments(ProjectPatchSchema)
@bp.response(200, ProjectSchema)
@bp.alt_response(409, description="invalid_transition: the project is completed")
def edit_project(data, project_id: int):
    """Edit a project that is not completed (the community's secretary): its
    title, description, due date, budget, and who answers for it
    (``responsible_unit``, ``responsible_unit_id``, ``responsible_user_id``;
    ``null`` clears an id). Those newly responsible are notified."""
    project = services.get_project(project_id)
    changes = services.ProjectChanges(
        title=data.get("title"),
        description=data.get("description"),
        responsible_unit=data.get("responsible_unit"),
        due_date=data.get("due_date"),
        budget=data.get("budget"),
    )
    if "responsible_unit_id" in data:
        changes.responsible_unit_id = data["responsible_unit_id"] or 0
    if "responsible_user_id" in data:
        changes.responsible_user_id = data["responsible_user_id"] or 0
    services.edit_project(current_api_user(), project, changes)
    return services.cards_for([project])[0]


def _progress_reporter(user: User, project_id: int) -> None:
    services.require_progress_reporter(user, services.get_project(project_id))


@bp.post("/projects/<int:project_id>/updates")
@bp.doc(**BEARER)
@permission_required(_progress_reporter)
@bp.arguments(UpdateCreateSchema)
@bp.response(201, UpdateSchema)
@bp.alt_response(409, description="invalid_transition")
def add_update(data, project_id: int):
    """Report progress: the community's secretary, the project's responsible
    person, the members of its responsible unit. Only the secretary sets
    ``completed`` (others get 403: they report 100 %, which asks the
    secretary to confirm). Completing sets 100 % and hands over the requests
    behind the project; requesters and proposal authors are notified, and
    the secretaries when a responsible party reports."""
    return services.add_progress_update(
        current_api_user(),
        services.get_project(project_id),
        data["progress_percent"],
        data["note"],
        data["status"],
        on_date=data["on_date"],
    )


def _resident(user: User, project_id: int) -> None:
    services.require_resident(user, services.get_project(project_id))


@bp.post("/projects/<int:project_id>/ratings")
@bp.doc(**BEARER)
@permission_required(_resident)
@bp.arguments(RatingCreateSchema)
@bp.response(201, RatingSchema)
@bp.alt_response(409, description="conflict: already rated, or not completed")
def rate_project(data, project_id: int):
    """Rate a completed project, once (a member of its community)."""
    return services.rate_project(
        current_api_user(), services.get_project(project_id), data["score"], data["comment"]
    )


# --- conditions as tasks, my tasks -----------------------------------------------------


def _condition_manager(user: User, resolution_id: int) -> None:
    services.require_condition_manager(user, services.get_resolution(resolution_id))


@bp.post("/resolutions/<int:resolution_id>/conditions")
@bp.doc(**BEARER)
@permission_required(_condition_manager)
@bp.arguments(ConditionCreateSchema)
@bp.response(201, ConditionSchema)
@bp.alt_response(409, description="conflict: the resolution was not agreed")
def add_condition(data, resolution_id: int):
    """Make a condition of an agreed resolution a task (the community's
    secretary): its text, one assignee — a person or a unit — and a due
    date. The assignee (the person, or the unit's members) is notified."""
    assignee = data["assignee"]
    return services.add_condition(
        current_api_user(),
        services.get_resolution(resolution_id),
        data["text"],
        data["due_date"],
        assignee_user_id=assignee["user_id"],
        assignee_unit_id=assignee["unit_id"],
    )


def _condition_assignee(user: User, condition_id: int) -> None:
    services.require_condition_assignee(user, services.get_condition(condition_id))


@bp.post("/conditions/<int:condition_id>/done")
@bp.doc(**BEARER)
@permission_required(_condition_assignee)
@bp.arguments(ConditionDoneSchema)
@bp.response(200, ConditionSchema)
@bp.alt_response(409, description="conflict: already marked done")
def mark_condition_done(data, condition_id: int):
    """Mark a condition done, with an optional note: its assignee (the person,
    a member of the unit), or the community's secretary on their behalf.
    Once: a second time is 409 ``conflict``. The secretaries are notified."""
    return services.mark_condition_done(
        current_api_user(), services.get_condition(condition_id), data["note"]
    )


@bp.get("/my/tasks")
@bp.doc(**BEARER)
@token_required
@bp.arguments(PageArgs, location="query")
@bp.response(200, list_schema(TaskSchema, "TaskList"))
def my_tasks(args):
    """The projects and conditions assigned to me or to my units: open ones
    first (soonest due first, the overdue flagged), then the finished ones."""
    found = services.my_tasks(current_api_user(), args["page"], args["per_page"])
    return {"items": found.items, "total": found.total}
