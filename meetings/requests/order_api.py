"""API: the order workflow on a request (API.md "Intake and orders on a
request"): dispatch, claim, hand back, steps, handled, rating; my orders."""

from __future__ import annotations

from flask_babel import gettext as _
from marshmallow import ValidationError, fields, validate, validates_schema

from auth.models import User
from meetings.api.core import (
    BEARER,
    BaseSchema,
    Id,
    PageArgs,
    blueprint,
    current_api_user,
    list_schema,
    paginate,
    permission_required,
    token_required,
)
from meetings.requests import orders, services
from meetings.requests.api import RequestDetailSchema
from meetings.requests.order_schemas import OrderSummarySchema, StepSchema

bp = blueprint(
    "api_orders",
    "Orders on a request (派单 → 接单 → 办理 → 反馈 → 评价): dispatch, claim, handle, rate",
)


# --- schemas --------------------------------------------------------------------------


class AssigneeInSchema(BaseSchema):
    user_id = Id(load_default=None, allow_none=True)
    grid_id = Id(load_default=None, allow_none=True)
    unit_id = Id(load_default=None, allow_none=True)


class DispatchSchema(BaseSchema):
    assignee = fields.Nested(
        AssigneeInSchema,
        required=True,
        metadata={"description": "{user_id} | {grid_id} | {unit_id}"},
    )
    due_date = fields.Date(required=True, metadata={"description": "YYYY-MM-DD, today or later"})
    note = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=orders.NOTE_MAX)
    )

    @validates_schema
    def _one_assignee(self, data, **kwargs) -> None:
        assignee = data.get("assignee") or {}
        given = [key for key in ("user_id", "grid_id", "unit_id") if assignee.get(key) is not None]
        if "assignee" in data and len(given) != 1:
            raise ValidationError(
                _("Give exactly one of user_id, grid_id and unit_id."), "assignee"
            )


class HandBackSchema(BaseSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=orders.REASON_MAX))


class StepInSchema(BaseSchema):
    note = fields.String(required=True, validate=validate.Length(min=1, max=orders.NOTE_MAX))


class HandledSchema(BaseSchema):
    reply = fields.String(required=True, validate=validate.Length(min=1, max=orders.REPLY_MAX))


class RatingInSchema(BaseSchema):
    score = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=orders.SCORE_MIN, max=orders.SCORE_MAX),
    )
    comment = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=orders.COMMENT_MAX)
    )


def _choice(assignee: dict) -> orders.AssigneeChoice:
    for kind in orders.ASSIGNEE_KINDS:
        if assignee.get(f"{kind}_id") is not None:
            return orders.AssigneeChoice(kind, assignee[f"{kind}_id"])
    return orders.AssigneeChoice("", 0)  # refused by the schema already


# --- who may call ----------------------------------------------------------------------


def _dispatcher(user: User, request_id: int) -> None:
    orders.require_dispatcher(user, services.get_request(request_id))


def _assignee(user: User, request_id: int) -> None:
    orders.require_assignee(user, services.get_request(request_id))


def _handler(user: User, request_id: int) -> None:
    orders.require_handler(user, services.get_request(request_id))


def _rater(user: User, request_id: int) -> None:
    orders.require_rater(user, services.get_request(request_id))


# --- endpoints --------------------------------------------------------------------------

INVALID = "invalid_transition: not in a state that allows it"


@bp.post("/requests/<int:request_id>/dispatch")
@bp.doc(**BEARER)
@permission_required(_dispatcher)
@bp.arguments(DispatchSchema)
@bp.response(200, RequestDetailSchema)
@bp.alt_response(409, description=f"{INVALID} (submitted, handed_back or reopened)")
def dispatch(data, request_id: int):
    """The secretary dispatches the request to a person, a grid or a unit (派单)."""
    item = services.get_request(request_id)
    return orders.dispatch(
        current_api_user(), item, _choice(data["assignee"]), data["due_date"], data["note"]
    )


@bp.post("/requests/<int:request_id>/claim")
@bp.doc(**BEARER)
@permission_required(_assignee)
@bp.response(200, RequestDetailSchema)
@bp.alt_response(409, description=f"{INVALID}: not dispatched, or claimed already")
def claim(request_id: int):
    """An assignee (the person, a member of the grid or unit) takes the order on (接单)."""
    return orders.claim(current_api_user(), services.get_request(request_id))


@bp.post("/requests/<int:request_id>/hand-back")
@bp.doc(**BEARER)
@permission_required(_assignee)
@bp.arguments(HandBackSchema)
@bp.response(200, RequestDetailSchema)
@bp.alt_response(409, description=f"{INVALID}: only an order not yet claimed")
def hand_back(data, request_id: int):
    """An assignee gives the order back to the secretary, with the reason."""
    item = services.get_request(request_id)
    return orders.hand_back(current_api_user(), item, data["reason"])


@bp.post("/requests/<int:request_id>/steps")
@bp.doc(**BEARER)
@permission_required(_handler)
@bp.arguments(StepInSchema)
@bp.response(201, StepSchema)
@bp.alt_response(409, description=f"{INVALID}: only while claimed")
def add_step(data, request_id: int):
    """The assignee who claimed it records a handling step (办理); photos go
    to ``POST /api/v1/requests/{id}/photos``."""
    item = services.get_request(request_id)
    return orders.add_step(current_api_user(), item, data["note"])


@bp.post("/requests/<int:request_id>/handled")
@bp.doc(**BEARER)
@permission_required(_handler)
@bp.arguments(HandledSchema)
@bp.response(200, RequestDetailSchema)
@bp.alt_response(409, description=f"{INVALID}: only while claimed")
def mark_handled(data, request_id: int):
    """The assignee who claimed it marks it handled, with the reply to the resident (反馈)."""
    item = services.get_request(request_id)
    return orders.mark_handled(current_api_user(), item, data["reply"])


@bp.post("/requests/<int:request_id>/rating")
@bp.doc(**BEARER)
@permission_required(_rater)
@bp.arguments(RatingInSchema)
@bp.response(201, RequestDetailSchema)
@bp.alt_response(
    409,
    description="conflict: this handling was rated already; "
    "invalid_transition: not handled or answered",
)
def rate(data, request_id: int):
    """The resident rates it 1–5 (评价): 2 or less reopens it, else it closes.
    Answers the request, its ``status`` now ``reopened`` or ``closed``."""
    item = services.get_request(request_id)
    orders.rate(current_api_user(), item, data["score"], data["comment"])
    return item


@bp.get("/my/orders")
@bp.doc(**BEARER)
@token_required
@bp.arguments(PageArgs, location="query")
@bp.response(200, list_schema(OrderSummarySchema, "OrderList"))
def my_orders(args):
    """The requests dispatched to me, my grids and my units: open ones first."""
    return paginate(orders.my_orders_statement(current_api_user()), args)
