"""The order's fields in the API's answers: a request's assignee, due date,
who claimed it, when it was handled, its rating and handling steps. Shared
by the request API (``api.py``, the request's answer) and the order API
(``order_api.py``), which import it; it imports neither."""

from __future__ import annotations

from marshmallow import fields

from meetings.api.core import BaseSchema, LocalDateTime
from meetings.requests import orders
from meetings.requests.models import RequestStatus

ASSIGNEE_KINDS = list(orders.ASSIGNEE_KINDS)
STATUS_CODES = [status.value for status in RequestStatus]


class OrderPersonSchema(BaseSchema):
    id = fields.Integer()
    display_name = fields.String()


class AssigneeSchema(BaseSchema):
    kind = fields.String(metadata={"enum": ASSIGNEE_KINDS})
    id = fields.Integer()
    name = fields.String()


class RatingSchema(BaseSchema):
    score = fields.Integer(metadata={"description": "1 to 5"})
    comment = fields.String()
    created_at = LocalDateTime()
    rated_by = fields.Nested(OrderPersonSchema, allow_none=True)


class StepSchema(BaseSchema):
    id = fields.Integer()
    request_id = fields.Integer()
    note = fields.String()
    at = LocalDateTime()
    author = fields.Nested(OrderPersonSchema, allow_none=True)
    photo_ids = fields.Method(
        "_photo_ids", metadata={"type": "array", "items": {"type": "integer"}}
    )

    def _photo_ids(self, step) -> list[int]:
        return [photo.id for photo in step.photos]


class OrderFieldsSchema(BaseSchema):
    """The order on a request (null fields until it is dispatched)."""

    assignee = fields.Method(
        "_assignee",
        metadata={
            "type": "object",
            "nullable": True,
            "description": "whom the current order names: {kind: user|grid|unit, id, name}",
        },
    )
    order_due_date = fields.Date(allow_none=True, metadata={"description": "YYYY-MM-DD"})
    dispatched_at = LocalDateTime(allow_none=True)
    claimed_by = fields.Nested(OrderPersonSchema, allow_none=True)
    claimed_at = LocalDateTime(allow_none=True)
    handled_at = LocalDateTime(allow_none=True)
    rating = fields.Method(
        "_rating",
        metadata={
            "type": "object",
            "nullable": True,
            "description": "the latest rating {score, comment, created_at, rated_by}",
        },
    )

    def _assignee(self, item) -> dict | None:
        chosen = orders.assignee_of(item)
        return AssigneeSchema().dump(chosen) if chosen else None

    def _rating(self, item) -> dict | None:
        rating = orders.latest_rating(item)
        return RatingSchema().dump(rating) if rating else None


class OrderDetailFieldsSchema(OrderFieldsSchema):
    """The order's fields of a request's full answer: with the handling steps."""

    steps = fields.List(fields.Nested(StepSchema))


class OrderSummarySchema(OrderFieldsSchema):
    """An order in "my orders": the request in short, with its order."""

    id = fields.Integer()
    community_id = fields.Integer()
    community_name = fields.String(attribute="community.name")
    title = fields.String()
    location = fields.String()
    status = fields.String(metadata={"enum": STATUS_CODES})
    status_label = fields.String(attribute="status.label")
    created_at = LocalDateTime()
    is_unclaimed = fields.Method(
        "_is_unclaimed",
        metadata={"type": "boolean", "description": "not claimed after ORDER_CLAIM_HOURS"},
    )
    is_order_overdue = fields.Method(
        "_is_order_overdue",
        metadata={"type": "boolean", "description": "past order_due_date, not handled"},
    )

    def _is_unclaimed(self, item) -> bool:
        return orders.is_unclaimed_late(item)

    def _is_order_overdue(self, item) -> bool:
        return orders.is_order_overdue(item)
