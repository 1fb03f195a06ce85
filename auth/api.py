"""API: tokens, the current user, communities and users (API.md "Accounts")."""

from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from marshmallow import fields, validate

from auth import limits, permissions
from auth import services as auth_services
from auth.models import Community, User
from meetings.api.core import (
    BEARER,
    BaseSchema,
    Id,
    LocalDateTime,
    PageArgs,
    Unauthorized,
    blueprint,
    current_api_token,
    current_api_user,
    list_schema,
    paginate,
    permission_required,
)
from meetings.errors import NotAllowed, ValidationFailed
from meetings.extensions import db
from meetings.http import json_error

bp = blueprint("api_accounts", "Accounts: tokens, the current user, communities, users")


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"


class UserSchema(BaseSchema):
    id = fields.Integer(dump_only=True)
    username = fields.String()
    display_name = fields.String()
    phone = fields.String(allow_none=True)
    is_admin = fields.Boolean()
    is_active = fields.Boolean()


class MeCommunitySchema(BaseSchema):
    id = fields.Integer(attribute="community.id")
    name = fields.String(attribute="community.name")
    street = fields.String(attribute="community.street")
    is_secretary = fields.Boolean()


class MeSchema(UserSchema):
    communities = fields.List(fields.Nested(MeCommunitySchema), attribute="memberships")


class TokenRequestSchema(BaseSchema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=100))
    password = fields.String(required=True, validate=validate.Length(min=1, max=200))


class TokenSchema(BaseSchema):
    token = fields.String()
    expires_at = LocalDateTime()
    user = fields.Nested(UserSchema)


class CommunitySchema(BaseSchema):
    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    street = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=100),
        metadata={
            "description": "the street's name; required without street_id. A name with no "
            "street record yet creates the record"
        },
    )
    street_id = Id(
        load_default=None,
        allow_none=True,
        metadata={"description": "the street's record (POST /api/v1/streets); wins over street"},
    )
    district = fields.String(load_default="", validate=validate.Length(max=100))


class UserCreateSchema(BaseSchema):
    username = fields.String(required=True, validate=validate.Length(max=40))
    password = fields.String(required=True, validate=validate.Length(max=200))
    display_name = fields.String(required=True, validate=validate.Length(min=1, max=60))
    phone = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=30))
    community_id = Id(load_default=None, allow_none=True)
    is_secretary = fields.Boolean(load_default=False)


@bp.post("/tokens")
@bp.arguments(TokenRequestSchema)
@bp.response(201, TokenSchema)
@bp.alt_response(401, description="invalid_credentials")
@bp.alt_response(
    429,
    description="rate_limited: too many failed attempts for this account or from this "
    "address (the login form's count too); Retry-After says how many seconds to wait",
)
def create_token(credentials):
    """Exchange a username and password for a bearer token."""
    try:
        user = auth_services.attempt_login(
            credentials["username"], credentials["password"], get_remote_address()
        )
    except limits.TooManyAttempts as error:
        response = json_error(error.status, error.code, error.message)
        response.headers["Retry-After"] = str(error.retry_after)
        return response
    if user is None:
        raise InvalidCredentials(_("Wrong username or password."))
    plain, token = auth_services.issue_token(user)
    return {"token": plain, "expires_at": token.expires_at, "user": user}


@bp.delete("/tokens/current")
@bp.doc(**BEARER)
@bp.response(204)
def revoke_current_token():
    """Revoke the token this request carries."""
    current_api_user()
    auth_services.revoke_token(current_api_token())


@bp.get("/me")
@bp.doc(**BEARER)
@bp.response(200, MeSchema)
def me():
    """The token's user, with their communities."""
    return current_api_user()


@bp.get("/communities")
@bp.arguments(PageArgs, location="query")
@bp.response(200, list_schema(CommunitySchema, "CommunityList"))
def list_communities(page_args):
    """Every community (public: residents choose theirs when they sign up)."""
    statement = db.select(Community).order_by(Community.street, Community.name)
    return paginate(statement, page_args)


def _administrator(user: User) -> None:
    if not permissions.can_manage_communities(user):
        raise NotAllowed(_("Only an administrator may create communities."))


@bp.post("/communities")
@bp.doc(**BEARER)
@permission_required(_administrator)
@bp.arguments(CommunitySchema)
@bp.response(201, CommunitySchema)
def create_community(data):
    """Create a community (administrators) under a street: ``street_id``, or
    ``street`` by name (linked to the street's record, created if missing)."""
    community = auth_services.create_community(
        current_api_user(), data["name"], data["street"], data["district"], data["street_id"]
    )
    return community


def _account_maker(user: User) -> None:
    """Administrators and secretaries; which community, the body says."""
    if not permissions.manages_any_community(user):
        raise NotAllowed(_("You may not create accounts in this community."))


@bp.post("/users")
@bp.doc(**BEARER)
@permission_required(_account_maker)
@bp.arguments(UserCreateSchema)
@bp.response(201, UserSchema)
@bp.alt_response(409, description="conflict: the username is taken")
def create_user(data):
    """Create an account: administrators anywhere, secretaries in their community."""
    actor = current_api_user()
    community = None
    if data["community_id"] is not None:
        community = db.session.get(Community, data["community_id"])
        if community is None:
            message = _("No such community.")
            raise ValidationFailed(message, {"community_id": [message]})
    user = auth_services.create_account(
        actor,
        auth_services.NewAccount(
            username=data["username"],
            display_name=data["display_name"],
            password=data["password"],
            phone=data["phone"],
        ),
        community,
        is_secretary=data["is_secretary"],
    )
    return user
