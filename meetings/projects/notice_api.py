"""API: 公示 (public notice) of resolutions and residents' objections (issue
17). The same verbs and permission checks as the pages
(``meetings.projects.services.notice``)."""

from __future__ import annotations

from marshmallow import fields, validate

from auth.models import User
from meetings.api.core import (
    BEARER,
    BaseSchema,
    LocalDateTime,
    blueprint,
    current_api_user,
    list_schema,
    permission_required,
)
from meetings.meeting.permissions import require_manager
from meetings.projects.models import ResolutionStatus
from meetings.projects.services import notice

bp = blueprint("api_notice", "Public notice (公示) of resolutions and residents' objections")

STATUS_CODES = [status.value for status in ResolutionStatus]


class NoticeInSchema(BaseSchema):
    days = fields.Integer(
        strict=True,
        load_default=notice.DEFAULT_DAYS,
        validate=validate.Range(min=notice.MIN_DAYS, max=notice.MAX_DAYS),
        metadata={"description": "length of the notice period, 1–30 days (default 5)"},
    )


class NoticeSchema(BaseSchema):
    id = fields.Integer()
    status = fields.Function(
        lambda resolution: notice.shown_status(resolution).value,
        metadata={
            "type": "string",
            "enum": STATUS_CODES,
            "description": "recorded, in_notice, effective or withdrawn (the due outcome "
            "once the period is over and every objection is answered)",
        },
    )
    notice_started_at = LocalDateTime(allow_none=True)
    notice_ends_at = LocalDateTime(allow_none=True)
    notice_settled_at = LocalDateTime(allow_none=True)
    url = fields.Function(notice.link_to_notice, metadata={"type": "string"})


class ObjectionInSchema(BaseSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=notice.REASON_MAX))


class AnswerInSchema(BaseSchema):
    answer = fields.String(required=True, validate=validate.Length(min=1, max=notice.ANSWER_MAX))
    upheld = fields.Boolean(
        load_default=False,
        metadata={"description": "true accepts the objection: the resolution is withdrawn"},
    )


class ObjectionSchema(BaseSchema):
    id = fields.Integer()
    resolution_id = fields.Integer()
    user_id = fields.Integer()
    user_name = fields.String(attribute="user.display_name")
    reason = fields.String()
    created_at = LocalDateTime()
    answer = fields.String(allow_none=True)
    upheld = fields.Boolean()
    answered_at = LocalDateTime(allow_none=True)
    resolution_status = fields.Function(
        lambda objection: notice.shown_status(objection.resolution).value,
        metadata={"type": "string", "enum": STATUS_CODES},
    )


def _resolution_manager(user: User, resolution_id: int) -> None:
    require_manager(user, notice.get_resolution(resolution_id).meeting)


def _objector(user: User, resolution_id: int) -> None:
    notice.require_objector(user, notice.get_resolution(resolution_id))


def _objections_reader(user: User, resolution_id: int) -> None:
    notice.require_objections_reader(user, notice.get_resolution(resolution_id))


def _objection_manager(user: User, objection_id: int) -> None:
    notice.require_objection_manager(user, notice.get_objection(objection_id))


@bp.post("/resolutions/<int:resolution_id>/notice")
@bp.doc(**BEARER)
@permission_required(_resolution_manager)
@bp.arguments(NoticeInSchema)
@bp.response(200, NoticeSchema)
@bp.alt_response(
    409,
    description="invalid_transition: not an agreed resolution, its meeting is not over, "
    "or it was put on notice before",
)
def start_notice(data, resolution_id: int):
    """Put an agreed resolution of a meeting that is over on public notice
    for ``days`` days (its meeting's secretary)."""
    resolution = notice.get_resolution(resolution_id)
    return notice.start_notice(current_api_user(), resolution, data["days"])


@bp.post("/resolutions/<int:resolution_id>/objections")
@bp.doc(**BEARER)
@permission_required(_objector)
@bp.arguments(ObjectionInSchema)
@bp.response(201, ObjectionSchema)
@bp.alt_response(409, description="conflict: a second objection; invalid_transition: not in notice")
def object_to(data, resolution_id: int):
    """Object to a resolution in public notice, once, with a reason (a
    member of its community, during the period)."""
    resolution = notice.get_resolution(resolution_id)
    return notice.object_to(current_api_user(), resolution, data["reason"])


@bp.get("/resolutions/<int:resolution_id>/objections")
@bp.doc(**BEARER)
@permission_required(_objections_reader)
@bp.response(200, list_schema(ObjectionSchema, "ObjectionList"))
def list_objections(resolution_id: int):
    """The objections to a resolution: all of them for the secretary, their
    own for a member of the community."""
    resolution = notice.get_resolution(resolution_id)
    items = notice.objections_for(current_api_user(), resolution)
    return {"items": items, "total": len(items)}


@bp.post("/objections/<int:objection_id>/answer")
@bp.doc(**BEARER)
@permission_required(_objection_manager)
@bp.arguments(AnswerInSchema)
@bp.response(200, ObjectionSchema)
@bp.alt_response(409, description="conflict: already answered")
def answer_objection(data, objection_id: int):
    """Record how an objection was handled (the secretary); ``upheld``
    withdraws the resolution. Once the period is over and every objection is
    answered, the resolution becomes ``effective`` (or ``withdrawn``)."""
    objection = notice.get_objection(objection_id)
    return notice.answer_objection(current_api_user(), objection, data["answer"], data["upheld"])
