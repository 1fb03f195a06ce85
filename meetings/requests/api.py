"""API: resident requests (API.md "Requests")."""

from flask_babel import gettext as _
from marshmallow import fields, validate

from auth.models import Community, User
from meetings.api.core import (
    BEARER,
    BaseSchema,
    Id,
    LocalDateTime,
    PageArgs,
    blueprint,
    current_api_user,
    list_schema,
    paginate,
    permission_required,
    token_required,
)
from meetings.dbtypes import MAX_ID
from meetings.errors import ValidationFailed
from meetings.extensions import db
from meetings.projects.services import outcome_of_request
from meetings.requests import services
from meetings.requests.models import RequestCategory, RequestStatus
from meetings.requests.order_schemas import OrderDetailFieldsSchema

bp = blueprint("api_requests", "Resident requests (居民诉求): raise, follow, reply")

CATEGORY_CODES = [category.value for category in RequestCategory]
STATUS_CODES = [status.value for status in RequestStatus]
_LOCAL_TIME = LocalDateTime()


# --- schemas ---------------------------------------------------------------------


class RequestPersonSchema(BaseSchema):
    id = fields.Integer()
    display_name = fields.String()


class RequestCreateSchema(BaseSchema):
    community_id = Id(required=True)
    title = fields.String(required=True, validate=validate.Length(min=1, max=services.TITLE_MAX))
    description = fields.String(
        required=True, validate=validate.Length(min=1, max=services.DESCRIPTION_MAX)
    )
    category = fields.String(required=True, validate=validate.OneOf(CATEGORY_CODES))
    location = fields.String(
        required=True, validate=validate.Length(min=1, max=services.LOCATION_MAX)
    )
    contact = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=services.CONTACT_MAX)
    )
    requester_id = Id(
        load_default=None,
        allow_none=True,
        metadata={
            "description": "Secretaries: the resident (a member of the community) "
            "this request is raised for. Left out: the caller's own request."
        },
    )


class RequestEventSchema(BaseSchema):
    at = LocalDateTime()
    from_status = fields.String(
        allow_none=True, metadata={"enum": STATUS_CODES, "description": "null when raised"}
    )
    to_status = fields.String(metadata={"enum": STATUS_CODES})
    message = fields.String(allow_none=True)
    actor = fields.Nested(RequestPersonSchema, allow_none=True)


class RequestSchema(BaseSchema):
    id = fields.Integer()
    community_id = fields.Integer()
    community_name = fields.String(attribute="community.name")
    title = fields.String()
    description = fields.String()
    category = fields.String(metadata={"enum": CATEGORY_CODES})
    category_label = fields.String(attribute="category.label")
    location = fields.String()
    contact = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": STATUS_CODES})
    status_label = fields.String(attribute="status.label")
    reply = fields.String(allow_none=True, metadata={"description": "the public reply (答复)"})
    replied_at = LocalDateTime(allow_none=True)
    replied_by = fields.Nested(RequestPersonSchema, allow_none=True)
    requester = fields.Nested(RequestPersonSchema)
    raised_by = fields.Nested(
        RequestPersonSchema, allow_none=True, metadata={"description": "set when raised on behalf"}
    )
    created_at = LocalDateTime()
    reply_due_at = fields.Method(
        "_reply_due_at",
        metadata={"type": "string", "format": "date-time", "description": "reply expected by"},
    )
    is_overdue = fields.Method(
        "_is_overdue",
        metadata={"type": "boolean", "description": "no reply after REQUEST_REPLY_DAYS"},
    )
    meeting_ids = fields.List(fields.Integer())

    def _reply_due_at(self, item) -> str:
        return _LOCAL_TIME.serialize("due", {"due": services.reply_due_at(item)})

    def _is_overdue(self, item) -> bool:
        return services.is_overdue(item)


class RequestDetailSchema(RequestSchema, OrderDetailFieldsSchema):
    history = fields.List(fields.Nested(RequestEventSchema), attribute="events")
    resolution_ids = fields.Method(
        "_resolution_ids",
        metadata={"type": "array", "items": {"type": "integer"}, "description": "决议 on it"},
    )
    project_ids = fields.Method(
        "_project_ids",
        metadata={
            "type": "array",
            "items": {"type": "integer"},
            "description": "the follow-up projects answering it",
        },
    )

    def _resolution_ids(self, item) -> list[int]:
        return [resolution.id for resolution in outcome_of_request(item).resolutions]

    def _project_ids(self, item) -> list[int]:
        return [project.id for project in outcome_of_request(item).projects]


class RequestListArgs(PageArgs):
    community_id = fields.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_ID))
    status = fields.String(load_default=None, validate=validate.OneOf(STATUS_CODES))


class RequestReplySchema(BaseSchema):
    action = fields.String(required=True, validate=validate.OneOf(list(services.REPLY_ACTIONS)))
    message = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=services.MESSAGE_MAX),
        metadata={"description": "required to answer or reject"},
    )


# --- endpoints -------------------------------------------------------------------


@bp.get("/requests")
@bp.doc(**BEARER)
@token_required
@bp.arguments(RequestListArgs, location="query")
@bp.response(200, list_schema(RequestSchema, "RequestList"))
def list_requests(args):
    """The requests the caller may see, newest first: their own, and all
    those of the communities they are secretary of."""
    status = RequestStatus(args["status"]) if args["status"] else None
    statement = services.visible_requests(current_api_user(), args["community_id"], status)
    return paginate(statement, args)


@bp.post("/requests")
@bp.doc(**BEARER)
@token_required
@bp.arguments(RequestCreateSchema)
@bp.response(201, RequestDetailSchema)
def create_request(data):
    """Raise a request in one's community (secretaries: also for a resident)."""
    actor = current_api_user()
    community = db.session.get(Community, data["community_id"])
    if community is None:
        message = _("No such community.")
        raise ValidationFailed(message, {"community_id": [message]})
    draft = services.RequestDraft(
        title=data["title"],
        description=data["description"],
        category=data["category"],
        location=data["location"],
        contact=data["contact"],
    )
    if data["requester_id"] is not None and data["requester_id"] != actor.id:
        resident = db.session.get(User, data["requester_id"])
        if resident is None:
            message = _("No such user.")
            raise ValidationFailed(message, {"requester_id": [message]})
        item = services.raise_on_behalf(actor, community, resident, draft)
    else:
        item = services.raise_request(actor, community, draft)
    return item


@bp.get("/requests/<int:request_id>")
@bp.doc(**BEARER)
@bp.response(200, RequestDetailSchema)
def get_request(request_id: int):
    """A request with its status, reply, history and meetings (requester, secretary)."""
    return services.get_visible_request(current_api_user(), request_id)


def _replier(user: User, request_id: int) -> None:
    services.require_replier(user, services.get_visible_request(user, request_id))


@bp.post("/requests/<int:request_id>/reply")
@bp.doc(**BEARER)
@permission_required(_replier)
@bp.arguments(RequestReplySchema)
@bp.response(200, RequestDetailSchema)
@bp.alt_response(409, description="invalid_transition: the request is not waiting for a reply")
def reply_to_request(data, request_id: int):
    """The secretary accepts the request as a topic, answers it, or rejects it."""
    actor = current_api_user()
    item = services.get_visible_request(actor, request_id)
    return services.reply_to_request(actor, item, data["action"], data["message"])
