"""API: resident requests (API.md "Requests"): raising them (also for a
resident, with or without an account), their photos, and the grid workers'
visit log (走访记录), a visit becoming a request."""

from flask import g, url_for
from flask_babel import gettext as _
from flask_smorest.fields import Upload
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
from meetings.errors import NotAllowed, ValidationFailed
from meetings.extensions import db
from meetings.organisation.models import Grid
from meetings.projects.services import outcome_of_request
from meetings.requests import photos, services, visits
from meetings.requests.models import RequestCategory, RequestChannel, RequestStatus
from meetings.requests.order_schemas import OrderDetailFieldsSchema

bp = blueprint("api_requests", "Resident requests (居民诉求): raise, follow, reply")

CATEGORY_CODES = [category.value for category in RequestCategory]
STATUS_CODES = [status.value for status in RequestStatus]
CHANNEL_CODES = [channel.value for channel in RequestChannel]
_LOCAL_TIME = LocalDateTime()


# --- schemas ---------------------------------------------------------------------


class RequestPersonSchema(BaseSchema):
    id = fields.Integer()
    display_name = fields.String()


class ResidentInSchema(BaseSchema):
    """A resident without an account, as whoever heard them names them."""

    name = fields.String(
        required=True, validate=validate.Length(min=1, max=services.RESIDENT_NAME_MAX)
    )
    phone = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=services.RESIDENT_PHONE_MAX),
    )
    building = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=services.BUILDING_MAX)
    )


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
            "description": "Secretaries and grid workers: the resident (a member of "
            "the community) this request is raised for. Left out: the caller's own request."
        },
    )
    on_behalf_of = fields.Nested(
        ResidentInSchema,
        load_default=None,
        allow_none=True,
        metadata={
            "description": "Secretaries and grid workers: a resident without an account "
            "the request is raised for (not with requester_id); channel is then required."
        },
    )
    channel = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(CHANNEL_CODES),
        metadata={
            "description": "how the concern reached the community: the resident's own "
            "request defaults to app; raised for a resident, how it reached the one who "
            "raised it (not app; requester_id alone defaults to walk_in)"
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


def _places(user) -> services.Places:
    """The caller's grids and units, read once per API call (not per request listed)."""
    if "request_places" not in g:
        g.request_places = services.places_of(user)
    return g.request_places


class ResidentOutSchema(BaseSchema):
    name = fields.String()
    phone = fields.String(
        allow_none=True, metadata={"description": "null unless the caller handles the request"}
    )
    building = fields.String(allow_none=True)
    has_account = fields.Boolean()


class PhotoSchema(BaseSchema):
    id = fields.Integer()
    url = fields.Method("_url", metadata={"type": "string"})
    step_id = fields.Integer(allow_none=True)
    created_at = LocalDateTime()

    def _url(self, photo) -> str:
        return url_for("requests.photo", photo_id=photo.id)


class RequestSchema(BaseSchema):
    id = fields.Integer()
    community_id = fields.Integer()
    community_name = fields.String(attribute="community.name")
    title = fields.String()
    description = fields.String()
    category = fields.String(metadata={"enum": CATEGORY_CODES})
    category_label = fields.String(attribute="category.label")
    location = fields.String()
    contact = fields.Method(
        "_contact",
        metadata={
            "type": "string",
            "nullable": True,
            "description": "for the resident and those who handle the request",
        },
    )
    channel = fields.String(metadata={"enum": CHANNEL_CODES})
    channel_label = fields.String(attribute="channel.label")
    resident = fields.Method(
        "_resident",
        metadata={
            "type": "object",
            "description": "whom it is for: {name, phone, building, has_account}",
        },
    )
    status = fields.String(metadata={"enum": STATUS_CODES})
    status_label = fields.String(attribute="status.label")
    reply = fields.String(allow_none=True, metadata={"description": "the public reply (答复)"})
    replied_at = LocalDateTime(allow_none=True)
    replied_by = fields.Nested(RequestPersonSchema, allow_none=True)
    requester = fields.Nested(
        RequestPersonSchema,
        allow_none=True,
        metadata={"description": "null for a resident without an account (see resident)"},
    )
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

    def _contact(self, item) -> str | None:
        user = current_api_user()
        return item.contact if services.can_see_contact(user, item, _places(user)) else None

    def _resident(self, item) -> dict:
        user = current_api_user()
        handles = services.can_handle(user, item, _places(user))
        return {
            "name": item.resident_display,
            "phone": item.resident_phone if handles else None,
            "building": item.building,
            "has_account": item.requester_id is not None,
        }


class RequestDetailSchema(RequestSchema, OrderDetailFieldsSchema):
    history = fields.List(fields.Nested(RequestEventSchema), attribute="events")
    photos = fields.List(fields.Nested(PhotoSchema), metadata={"description": "oldest first"})
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
        return [resolution.id for resolution in _outcome(item).resolutions]

    def _project_ids(self, item) -> list[int]:
        return [project.id for project in _outcome(item).projects]


def _outcome(item):
    """The request's resolutions and projects, read once per API call for
    both fields (2 statements, not 4: bench/README.md, issue 15, "API request
    with an order")."""
    outcomes = g.setdefault("request_outcomes", {})
    if item.id not in outcomes:
        outcomes[item.id] = outcome_of_request(item)
    return outcomes[item.id]


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
    """Raise a request in one's community; secretaries and grid workers also
    for a resident with an account (``requester_id``) or without one
    (``on_behalf_of``)."""
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
    behalf, requester_id = data["on_behalf_of"], data["requester_id"]
    if behalf is not None and requester_id is not None:
        message = _("Name a resident with an account or one without, not both.")
        raise ValidationFailed(message, {"on_behalf_of": [message]})
    if behalf is not None:
        resident = services.ResidentDetails(behalf["name"], behalf["phone"], behalf["building"])
        return services.raise_for_resident(actor, community, resident, draft, data["channel"])
    if requester_id is not None and requester_id != actor.id:
        resident = db.session.get(User, requester_id)
        if resident is None:
            message = _("No such user.")
            raise ValidationFailed(message, {"requester_id": [message]})
        channel = data["channel"] or RequestChannel.WALK_IN
        return services.raise_on_behalf(actor, community, resident, draft, channel)
    return services.raise_request(actor, community, draft, data["channel"])


@bp.get("/requests/<int:request_id>")
@bp.doc(**BEARER)
@bp.response(200, RequestDetailSchema)
def get_request(request_id: int):
    """A request with its status, reply, history and meetings (requester, secretary)."""
    return services.get_request_in_full(current_api_user(), request_id)


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


# --- photos ----------------------------------------------------------------------


class PhotoUploadSchema(BaseSchema):
    file = Upload(required=True, metadata={"description": "a JPEG, PNG or WebP photo"})


def _photo_adder(user: User, request_id: int) -> None:
    photos.require_photo_adder(user, services.get_visible_request(user, request_id))


@bp.post("/requests/<int:request_id>/photos")
@bp.doc(**BEARER)
@permission_required(_photo_adder)
@bp.arguments(PhotoUploadSchema, location="files")
@bp.response(201, PhotoSchema)
@bp.alt_response(409, description="invalid_transition: the request is closed")
def add_photo(files, request_id: int):
    """Add a photo of the problem (the resident, whoever raised or handles
    the request, the community's secretaries and grid workers). 422 on
    ``file`` for a file that is not a JPEG, PNG or WebP photo, too large, or
    beyond the photos a request takes."""
    actor = current_api_user()
    item = services.get_visible_request(actor, request_id)
    return photos.add_request_photo(actor, item, files["file"].stream)


# --- visits (走访记录) ---------------------------------------------------------------


class VisitCreateSchema(BaseSchema):
    grid_id = Id(required=True)
    visited = fields.String(
        required=True,
        validate=validate.Length(min=1, max=visits.VISITED_MAX),
        metadata={"description": "whom, e.g. 3栋 王阿姨"},
    )
    notes = fields.String(
        required=True,
        validate=validate.Length(min=1, max=visits.NOTES_MAX),
        metadata={"description": "what they heard"},
    )
    follow_up = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=visits.FOLLOW_UP_MAX)
    )


class VisitSchema(BaseSchema):
    id = fields.Integer()
    grid_id = fields.Integer()
    grid_name = fields.String(attribute="grid.name")
    community_id = fields.Integer(attribute="grid.community_id")
    visitor = fields.Nested(RequestPersonSchema)
    visited = fields.String()
    notes = fields.String()
    follow_up = fields.String(allow_none=True)
    visited_at = LocalDateTime()
    request_id = fields.Integer(allow_none=True, metadata={"description": "the request it became"})


class VisitListArgs(PageArgs):
    grid_id = fields.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_ID))


class VisitRequestSchema(BaseSchema):
    """The request a visit becomes: what it is about, for whom (by default
    the resident the visit names, without an account), heard on a home visit."""

    title = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=services.TITLE_MAX)
    )
    description = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=services.DESCRIPTION_MAX),
        metadata={"description": "left out: the visit's notes and follow-up"},
    )
    category = fields.String(required=True, validate=validate.OneOf(CATEGORY_CODES))
    location = fields.String(
        required=True, validate=validate.Length(min=1, max=services.LOCATION_MAX)
    )
    requester_id = Id(
        load_default=None, allow_none=True, metadata={"description": "a resident with an account"}
    )
    on_behalf_of = fields.Nested(
        ResidentInSchema,
        load_default=None,
        allow_none=True,
        metadata={"description": "left out (and no requester_id): the visit's resident"},
    )
    channel = fields.String(
        load_default=None, allow_none=True, validate=validate.OneOf(CHANNEL_CODES)
    )


@bp.get("/visits")
@bp.doc(**BEARER)
@token_required
@bp.arguments(VisitListArgs, location="query")
@bp.response(200, list_schema(VisitSchema, "VisitList"))
def list_visits(args):
    """The visits the caller sees, newest first: their own, and all those of
    the grids they lead or whose community they run."""
    return paginate(visits.visits_query(current_api_user(), args["grid_id"]), args)


def _grid_worker(user: User) -> None:
    """Only grid workers log visits (which grid is checked with the body)."""
    if not visits.grids_of_visitor(user):
        raise NotAllowed(_("Only the grid's leader and members may log visits in it."))


@bp.post("/visits")
@bp.doc(**BEARER)
@permission_required(_grid_worker)
@bp.arguments(VisitCreateSchema)
@bp.response(201, VisitSchema)
def create_visit(data):
    """A grid worker logs a visit in one of their grids."""
    grid = db.session.get(Grid, data["grid_id"])
    if grid is None:
        message = _("No such grid.")
        raise ValidationFailed(message, {"grid_id": [message]})
    return visits.log_visit(
        current_api_user(), grid, data["visited"], data["notes"], data["follow_up"]
    )


def _raiser_from(user: User, visit_id: int) -> None:
    visits.require_raiser_from(user, visits.get_visible_visit(user, visit_id))


@bp.post("/visits/<int:visit_id>/request")
@bp.doc(**BEARER)
@permission_required(_raiser_from)
@bp.arguments(VisitRequestSchema)
@bp.response(201, RequestDetailSchema)
@bp.alt_response(409, description="conflict: the visit has become a request already")
def request_from_visit(data, visit_id: int):
    """The visit becomes a request (the visitor, the grid's leader, the secretary)."""
    actor = current_api_user()
    visit = visits.get_visible_visit(actor, visit_id)
    prefilled = visits.draft_from(visit)
    draft = services.RequestDraft(
        title=data["title"] if data["title"] is not None else prefilled.title,
        description=(
            data["description"] if data["description"] is not None else prefilled.description
        ),
        category=data["category"],
        location=data["location"],
    )
    behalf, requester = data["on_behalf_of"], None
    if data["requester_id"] is not None:
        if behalf is not None:
            message = _("Name a resident with an account or one without, not both.")
            raise ValidationFailed(message, {"on_behalf_of": [message]})
        requester = db.session.get(User, data["requester_id"])
        if requester is None:
            message = _("No such user.")
            raise ValidationFailed(message, {"requester_id": [message]})
    resident = (
        services.ResidentDetails(behalf["name"], behalf["phone"], behalf["building"])
        if behalf is not None
        else None
    )
    return visits.raise_from_visit(
        actor,
        visit,
        draft,
        resident=resident,
        requester=requester,
        channel=data["channel"] or RequestChannel.HOME_VISIT,
    )
