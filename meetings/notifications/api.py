"""API: the user's notifications (API.md, ``GET /api/v1/notifications``)."""

from marshmallow import fields

from meetings.api.core import (
    BEARER,
    BaseSchema,
    LocalDateTime,
    PageArgs,
    blueprint,
    current_api_user,
    list_schema,
    paginate,
    token_required,
)
from meetings.notifications import services

bp = blueprint("api_notifications", "Notifications: the user's in-app inbox")


class NotificationSchema(BaseSchema):
    id = fields.Integer()
    kind = fields.String(metadata={"description": "what happened, e.g. meeting.rescheduled"})
    subject = fields.String()
    body = fields.String()
    link = fields.String(
        allow_none=True, metadata={"description": "a path on this site, e.g. /meetings/5"}
    )
    created_at = LocalDateTime()
    read_at = LocalDateTime(allow_none=True)
    read = fields.Boolean(attribute="is_read")


class NotificationListArgs(PageArgs):
    unread = fields.Boolean(
        load_default=False,
        metadata={"description": "only unread ones (with per_page=1, total is the unread count)"},
    )


class ReadAllSchema(BaseSchema):
    marked = fields.Integer(metadata={"description": "how many were unread"})


@bp.get("/notifications")
@bp.doc(**BEARER)
@token_required
@bp.arguments(NotificationListArgs, location="query")
@bp.response(200, list_schema(NotificationSchema, "NotificationList"))
def list_notifications(args):
    """The caller's notifications, newest first."""
    statement = services.inbox_statement(current_api_user(), unread_only=args["unread"])
    return paginate(statement, args)


@bp.post("/notifications/<int:notification_id>/read")
@bp.doc(**BEARER)
@token_required
@bp.response(200, NotificationSchema)
@bp.alt_response(404, description="not_found: no such notification of the caller's")
def mark_notification_read(notification_id: int):
    """Mark one of the caller's notifications read (again: no change)."""
    notification = services.mark_read(current_api_user(), notification_id)
    return notification


@bp.post("/notifications/read-all")
@bp.doc(**BEARER)
@token_required
@bp.response(200, ReadAllSchema)
def mark_all_notifications_read():
    """Mark all the caller's notifications read."""
    marked = services.mark_all_read(current_api_user())
    return {"marked": marked}
