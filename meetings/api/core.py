"""API plumbing: the flask-smorest ``Api`` wired to our error shape, bearer
token authentication, paging and shared fields."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any
from zoneinfo import ZoneInfo

from apispec import BasePlugin
from flask import Flask, current_app, g, request
from flask_babel import gettext as _
from flask_smorest import Api
from flask_smorest import Blueprint as SmorestBlueprint
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate
from sqlalchemy import Select
from webargs.flaskparser import FlaskParser

from auth import services as auth_services
from auth.models import User
from meetings.dbtypes import MAX_ID
from meetings.errors import Unauthorized
from meetings.extensions import csrf, db
from meetings.http import handle_http_exception, unstorable_fields

BEARER_SCHEME = {"type": "http", "scheme": "bearer"}


class ErrorBodySchema(Schema):
    code = fields.String(required=True, metadata={"description": "snake_case error code"})
    message = fields.String(required=True)
    fields_ = fields.Dict(
        data_key="fields",
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "messages per field, for validation errors"},
    )


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBodySchema, required=True)


class ShangliangApi(Api):
    """flask-smorest, with errors in the contract's shape (see ``meetings.http``)."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error):
        return handle_http_exception(error)


class ErrorResponses(BasePlugin):
    """Documents, on every operation, the errors the shared plumbing gives
    (bad JSON, no token, not allowed, no such object) and gives each error
    response the error body, so that an endpoint declares only its own
    (409 with its codes, say)."""

    def operation_helper(self, path=None, operations=None, **kwargs: Any) -> None:
        has_ids = "{" in (path or "")
        for method, operation in (operations or {}).items():
            responses = operation.setdefault("responses", {})
            documented = {str(status) for status in responses}
            shared = {
                "400": True,
                "401": "security" in operation,
                "403": "security" in operation,
                "404": has_ids,
                "409": has_ids and method != "get",
            }
            for status, applies in shared.items():
                if applies and status not in documented:
                    responses[status] = {"description": SHARED_ERRORS[status]}
            for status, response in responses.items():
                if str(status).isdigit() and int(status) >= 400 and isinstance(response, dict):
                    response.setdefault("content", {"application/json": {"schema": "Error"}})


SHARED_ERRORS = {
    "400": "bad_request: the body is not valid JSON, or the query holds a NUL character",
    "401": "unauthorized: no bearer token, or one that is not valid",
    "403": "forbidden: the token's user may not do this",
    "404": "not_found: no such object, or not one the user may see",
    "409": "conflict, invalid_transition: not in the object's present state",
}


api = ShangliangApi(
    spec_kwargs={
        "info": {"description": "有事好商量 — the JSON API of Shangliang. See docs/api.md."},
        "servers": [{"url": "/"}],
        "extra_plugins": [ErrorResponses()],
    }
)


class JsonParser(FlaskParser):
    """webargs' parser, made safe for any body: JSON nested deeper than Python
    can parse is malformed (400), and text no column can hold (a NUL
    character, which PostgreSQL refuses; a lone surrogate such as
    ``"\\ud800"``, which UTF-8 cannot encode) is refused next to its field
    (422, the field named by its dotted path: ``title``, ``choices.1``)."""

    def load_json(self, req, schema):
        try:
            data = super().load_json(req, schema)
        except RecursionError as error:
            self._handle_invalid_json_error(error, req)
        found = unstorable_fields(data)
        if found:
            messages = {
                "nul": _("Text may not contain NUL characters."),
                "surrogate": _("Text may not contain lone surrogates (invalid Unicode)."),
            }
            raise ValidationError(
                {path or "_schema": [messages[reason]] for path, reason in found.items()}
            )
        return data


class ApiBlueprint(SmorestBlueprint):
    ARGUMENTS_PARSER = JsonParser()


def blueprint(name: str, description: str) -> ApiBlueprint:
    """A blueprint of the API: under /api/v1, CSRF-free (bearer tokens only)."""
    bp = ApiBlueprint(name, __name__, url_prefix="/api/v1", description=description)
    csrf.exempt(bp)
    # Set up here, once per blueprint: a blueprint cannot change once an app
    # has registered it, and ``create_app`` may build more than one app.
    bp.before_request(_load_bearer_user)
    return bp


def _load_bearer_user() -> None:
    """Session cookies never authenticate API calls: only a bearer token does,
    so a cross-site form cannot act through the API. The token is looked up
    when the endpoint first asks who is calling (``current_api_token``)."""
    header = request.headers.get("Authorization", "")
    scheme, _sep, value = header.partition(" ")
    g.api_bearer = value.strip() if scheme.lower() == "bearer" else ""


def current_api_token(required: bool = True) -> auth_services.LiveToken | None:
    """The request's bearer token if it works (looked up once per request);
    401 when it is missing or does not work and ``required``."""
    if "api_token" not in g:
        plain = g.get("api_bearer")
        g.api_token = auth_services.token_for(plain) if plain else None
    if g.api_token is None and required:
        raise Unauthorized(_("A valid bearer token is required."))
    return g.api_token


def token_required(view: Callable) -> Callable:
    """Ask for the bearer token before the body is read: 401 comes before 422.
    Place it below ``@bp.doc`` and above ``@bp.arguments``."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        current_api_token()
        return view(*args, **kwargs)

    return wrapper


def permission_required(check: Callable[..., object]) -> Callable:
    """``token_required``, then who may call the endpoint, before the body is
    read: 403 (or 404) comes before 422, so a caller who may not act learns
    nothing from what their body lacks. ``check(user, **path_arguments)``
    raises the domain error (a ``require_*`` of the area's permissions); the
    service checks again inside. Place it where ``token_required`` goes."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            check(current_api_user(), **kwargs)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def current_api_user_id(required: bool = True) -> int | None:
    """The id of the token's user, without loading the user."""
    token = current_api_token(required)
    return token.user_id if token is not None else None


def current_api_user(required: bool = True) -> User | None:
    """The token's user (loaded with the token)."""
    token = current_api_token(required)
    return token.user if token is not None else None


def init_api(app: Flask, blueprints: list[SmorestBlueprint]) -> None:
    api.init_app(app)
    api.spec.components.security_scheme("bearerAuth", BEARER_SCHEME)
    for bp in blueprints:
        api.register_blueprint(bp)


# --- schemas ---------------------------------------------------------------------


class BaseSchema(Schema):
    class Meta:
        # Clients may send more than we read; the contract grows by addition.
        unknown = EXCLUDE


class LocalDateTime(fields.DateTime):
    """ISO 8601 with the community's offset, e.g. 2026-12-02T19:00:00+08:00."""

    def _serialize(self, value: datetime | None, attr, obj, **kwargs: Any):
        if value is None:
            return None
        zone = ZoneInfo(current_app.config["TIMEZONE"])
        return value.astimezone(zone).isoformat(timespec="seconds")


class Id(fields.Integer):
    """A database id: a whole number within an INTEGER column's range."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, validate=validate.Range(min=1, max=MAX_ID), **kwargs)


class PageArgs(BaseSchema):
    # Bounded so that the OFFSET it makes fits the database's integers.
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_ID))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


def paginate(statement: Select, args: dict[str, int]) -> dict[str, Any]:
    """The contract's list shape: ``{"items": [...], "total": N}``."""
    page = db.paginate(
        statement, page=args["page"], per_page=args["per_page"], max_per_page=200, error_out=False
    )
    return {"items": page.items, "total": page.total}


def list_schema(item: type[Schema] | Schema, name: str) -> type[Schema]:
    return Schema.from_dict(
        {"items": fields.List(fields.Nested(item)), "total": fields.Integer()}, name=name
    )


# The security requirement for @bp.doc on endpoints that take the token.
BEARER = {"security": [{"bearerAuth": []}]}
