"""API: streets and their staff, a community's members with a standing
role, grids and units (API.md "Organisation"), and the street's view of its
communities."""

from __future__ import annotations

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
from meetings.errors import NotFound, ValidationFailed
from meetings.extensions import db
from meetings.meeting.models import AttendeeRole
from meetings.organisation import services
from meetings.organisation.models import Unit, UnitKind, UnitMember

bp = blueprint(
    "api_organisation",
    "Organisation: streets (街道) and their staff, members with a standing role, "
    "grids (网格), units (单位), the street's view",
)

ROLE_CODES = [role.value for role in AttendeeRole]
KIND_CODES = [kind.value for kind in UnitKind]


# --- schemas --------------------------------------------------------------------------


class MemberRefSchema(BaseSchema):
    user_id = fields.Integer(attribute="user.id")
    display_name = fields.String(attribute="user.display_name")


class ServedCommunitySchema(BaseSchema):
    id = fields.Integer()
    name = fields.String()


class StreetCreateSchema(BaseSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=services.NAME_MAX))
    district = fields.String(load_default="", validate=validate.Length(max=services.NAME_MAX))


class StreetRefSchema(BaseSchema):
    id = fields.Integer()
    name = fields.String()
    district = fields.String()


class StreetSchema(StreetRefSchema):
    communities = fields.List(fields.Nested(ServedCommunitySchema))
    staff = fields.List(fields.Nested(MemberRefSchema))


class UserRefSchema(BaseSchema):
    user_id = Id(required=True)


class StaffSchema(MemberRefSchema):
    street_id = fields.Integer()


class OverviewLineSchema(BaseSchema):
    id = fields.Integer()
    name = fields.String()
    requests_open = fields.Integer(metadata={"description": "not answered, rejected or closed yet"})
    requests_by_status = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={"description": "the open requests by status (those counted in requests_open)"},
    )
    oldest_open_at = LocalDateTime(
        allow_none=True, metadata={"description": "when the oldest open request came in"}
    )
    orders_overdue = fields.Integer(
        metadata={
            "description": "dispatched or claimed past their due date, or dispatched and "
            "unclaimed for longer than ORDER_CLAIM_HOURS"
        }
    )
    meetings_upcoming = fields.Integer(metadata={"description": "scheduled, not begun"})
    next_meeting_at = LocalDateTime(allow_none=True)
    projects_active = fields.Integer(metadata={"description": "planned or in progress"})
    projects_progress = fields.Integer(
        allow_none=True, metadata={"description": "the active projects' average percent"}
    )


class OverviewSchema(BaseSchema):
    street = fields.Nested(StreetRefSchema)
    communities = fields.List(fields.Nested(OverviewLineSchema))


class MemberCreateSchema(BaseSchema):
    user_id = Id(required=True)
    standing_role = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(ROLE_CODES),
        metadata={"description": "an attendee role code; null (or left out): a resident"},
    )


class MemberPatchSchema(BaseSchema):
    standing_role = fields.String(
        required=True, allow_none=True, validate=validate.OneOf(ROLE_CODES)
    )


class MembershipSchema(MemberRefSchema):
    community_id = fields.Integer()
    is_secretary = fields.Boolean()
    standing_role = fields.String(allow_none=True, metadata={"enum": ROLE_CODES})


class GridCreateSchema(BaseSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=services.GRID_NAME_MAX))
    buildings = fields.List(
        fields.String(validate=validate.Length(min=1, max=services.BUILDING_MAX)),
        load_default=list,
        validate=validate.Length(max=services.BUILDINGS_MAX),
        metadata={"description": 'the buildings it covers: ["1栋", "2栋"]'},
    )


class GridMemberSchema(MemberRefSchema):
    grid_id = fields.Integer()
    is_leader = fields.Boolean()


class GridSchema(BaseSchema):
    id = fields.Integer()
    community_id = fields.Integer()
    name = fields.String()
    buildings = fields.List(fields.String())
    members = fields.List(fields.Nested(GridMemberSchema))


class GridMemberCreateSchema(BaseSchema):
    user_id = Id(required=True)
    is_leader = fields.Boolean(load_default=False, metadata={"description": "网格长"})


class UnitCreateSchema(BaseSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=services.NAME_MAX))
    kind = fields.String(required=True, validate=validate.OneOf(KIND_CODES))
    community_ids = fields.List(Id(), required=True, validate=validate.Length(min=1, max=200))


class UnitMemberSchema(MemberRefSchema):
    unit_id = fields.Integer()


class UnitSchema(BaseSchema):
    id = fields.Integer()
    name = fields.String()
    kind = fields.String(metadata={"enum": KIND_CODES})
    kind_label = fields.String(attribute="kind.label")
    communities = fields.List(fields.Nested(ServedCommunitySchema))
    members = fields.List(fields.Nested(UnitMemberSchema))


# --- who may call, before the body is read ----------------------------------------------


def _admin(user: User, **_path) -> None:
    services.require_admin(user)


def _street_viewer(user: User, street_id: int) -> None:
    services.require_street_viewer(user, services.get_street(street_id))


def _community_manager(user: User, community_id: int, **_path) -> None:
    services.require_community_manager(user, services.get_community(community_id))


def _grid_viewer(user: User, community_id: int) -> None:
    services.require_grid_viewer(user, services.get_community(community_id))


def _grid_manager(user: User, grid_id: int) -> None:
    services.require_community_manager(user, services.get_grid(grid_id).community)


def _grid_reader(user: User, grid_id: int) -> None:
    services.require_grid_viewer(user, services.get_grid(grid_id).community)


def _unit_creator(user: User) -> None:
    services.require_unit_creator(user)


def _unit_manager(user: User, unit_id: int) -> None:
    services.require_unit_manager(user, services.get_unit(unit_id))


def _unit_viewer(user: User, unit_id: int) -> None:
    services.require_unit_viewer(user, services.get_unit(unit_id))


# --- streets --------------------------------------------------------------------------


@bp.post("/streets")
@bp.doc(**BEARER)
@permission_required(_admin)
@bp.arguments(StreetCreateSchema)
@bp.response(201, StreetSchema)
@bp.alt_response(409, description="conflict: a street of this name exists")
def create_street(data):
    """Create a street (街道) record (administrators)."""
    return services.create_street(current_api_user(), data["name"], data["district"])


@bp.get("/streets/<int:street_id>")
@bp.doc(**BEARER)
@permission_required(_street_viewer)
@bp.response(200, StreetSchema)
def get_street(street_id: int):
    """A street with its communities and its office's staff (its staff, administrators)."""
    return services.get_street(street_id)


@bp.post("/streets/<int:street_id>/staff")
@bp.doc(**BEARER)
@permission_required(_admin)
@bp.arguments(UserRefSchema)
@bp.response(201, StaffSchema)
@bp.alt_response(409, description="conflict: already on the staff")
def add_street_staff(data, street_id: int):
    """Put an existing account on the street office's staff (administrators)."""
    street = services.get_street(street_id)
    user = services.get_active_user(data["user_id"])
    return services.add_street_staff(current_api_user(), street, user)


@bp.get("/streets/<int:street_id>/overview")
@bp.doc(**BEARER)
@permission_required(_street_viewer)
@bp.response(200, OverviewSchema)
def street_overview(street_id: int):
    """The street's communities side by side: open requests by status and
    age, overdue orders, meetings coming, active projects and their progress
    (the street's staff, administrators)."""
    overview = services.street_overview(services.get_street(street_id))
    return {"street": overview.street, "communities": overview.communities}


# --- members of a community -------------------------------------------------------------


@bp.post("/communities/<int:community_id>/members")
@bp.doc(**BEARER)
@permission_required(_community_manager)
@bp.arguments(MemberCreateSchema)
@bp.response(201, MembershipSchema)
@bp.alt_response(409, description="conflict: already a member (change the role with PATCH)")
def add_member(data, community_id: int):
    """Make an existing person a member of the community with a standing
    role (its secretary, administrators); a person may be a member of
    several communities."""
    community = services.get_community(community_id)
    user = services.get_active_user(data["user_id"])
    return services.add_member(current_api_user(), community, user, data["standing_role"])


@bp.patch("/communities/<int:community_id>/members/<int:user_id>")
@bp.doc(**BEARER)
@permission_required(_community_manager)
@bp.arguments(MemberPatchSchema)
@bp.response(200, MembershipSchema)
def set_standing_role(data, community_id: int, user_id: int):
    """Change a member's standing role (null: a resident)."""
    community = services.get_community(community_id)
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("This person is not a member of the community."))
    return services.set_standing_role(current_api_user(), community, user, data["standing_role"])


# --- grids ------------------------------------------------------------------------------


@bp.get("/communities/<int:community_id>/grids")
@bp.doc(**BEARER)
@permission_required(_grid_viewer)
@bp.response(200, list_schema(GridSchema, "GridList"))
def list_grids(community_id: int):
    """The community's grids with their members (its secretary, grid
    workers, the street's staff)."""
    grids = services.grids_of(services.get_community(community_id))
    return {"items": grids, "total": len(grids)}


@bp.post("/communities/<int:community_id>/grids")
@bp.doc(**BEARER)
@permission_required(_community_manager)
@bp.arguments(GridCreateSchema)
@bp.response(201, GridSchema)
@bp.alt_response(409, description="conflict: the community has a grid of this name")
def create_grid(data, community_id: int):
    """Create a grid (网格) in the community (its secretary)."""
    community = services.get_community(community_id)
    return services.create_grid(current_api_user(), community, data["name"], data["buildings"])


@bp.get("/grids/<int:grid_id>")
@bp.doc(**BEARER)
@permission_required(_grid_reader)
@bp.response(200, GridSchema)
def get_grid(grid_id: int):
    """A grid with its buildings, leader and members."""
    return services.get_grid(grid_id)


@bp.post("/grids/<int:grid_id>/members")
@bp.doc(**BEARER)
@permission_required(_grid_manager)
@bp.arguments(GridMemberCreateSchema)
@bp.response(201, GridMemberSchema)
@bp.alt_response(409, description="conflict: already in the grid")
def add_grid_member(data, grid_id: int):
    """Add a member of the grid's community to the grid, as leader (网格长)
    or member (网格员); anyone else: 422."""
    grid = services.get_grid(grid_id)
    user = services.get_active_user(data["user_id"])
    return services.add_grid_member(current_api_user(), grid, user, data["is_leader"])


# --- units ------------------------------------------------------------------------------


@bp.get("/units")
@bp.doc(**BEARER)
@token_required
@bp.arguments(PageArgs, location="query")
@bp.response(200, list_schema(UnitSchema, "UnitList"))
def list_units(args):
    """The units the caller sees: all (administrators), those serving the
    communities they are secretary of, those they are a member of."""
    # a page of units in 4 statements, not 3 per unit and 1 per member
    # (bench/README.md, issue 15: "API units (admin)" 224 → 5 statements)
    statement = services.units_statement(current_api_user()).options(
        db.selectinload(Unit.communities),
        db.selectinload(Unit.members).joinedload(UnitMember.user),
    )
    return paginate(statement, args)


@bp.post("/units")
@bp.doc(**BEARER)
@permission_required(_unit_creator)
@bp.arguments(UnitCreateSchema)
@bp.response(201, UnitSchema)
@bp.alt_response(409, description="conflict: a unit of this name exists")
def create_unit(data):
    """Create a unit (单位) serving communities: administrators any,
    secretaries only their own (403 otherwise)."""
    communities = []
    for community_id in dict.fromkeys(data["community_ids"]):
        community = db.session.get(Community, community_id)
        if community is None:
            message = _("No such community.")
            raise ValidationFailed(message, {"community_ids": [message]})
        communities.append(community)
    return services.create_unit(current_api_user(), data["name"], data["kind"], communities)


@bp.get("/units/<int:unit_id>")
@bp.doc(**BEARER)
@permission_required(_unit_viewer)
@bp.response(200, UnitSchema)
def get_unit(unit_id: int):
    """A unit with its members and the communities it serves."""
    return services.get_unit(unit_id)


@bp.post("/units/<int:unit_id>/members")
@bp.doc(**BEARER)
@permission_required(_unit_manager)
@bp.arguments(UserRefSchema)
@bp.response(201, UnitMemberSchema)
@bp.alt_response(409, description="conflict: already a member")
def add_unit_member(data, unit_id: int):
    """Add an existing account to the unit (administrators, secretaries of a
    community it serves)."""
    unit = services.get_unit(unit_id)
    user = services.get_active_user(data["user_id"])
    return services.add_unit_member(current_api_user(), unit, user)
