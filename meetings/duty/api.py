"""API: a person's duty record (履职档案)."""

from __future__ import annotations

from typing import Any

from marshmallow import fields

from auth.models import User
from meetings.api.core import (
    BEARER,
    BaseSchema,
    LocalDateTime,
    blueprint,
    current_api_user,
    permission_required,
)
from meetings.duty import services

bp = blueprint("api_duty", "Duty records (履职档案) of CPPCC members and representatives")


class PeriodArgs(BaseSchema):
    # read as text and checked by the service, so that web and API refuse alike
    from_ = fields.String(
        data_key="from",
        load_default=None,
        metadata={"description": "first day, YYYY-MM-DD (default: 1 January of this year)"},
    )
    to = fields.String(
        load_default=None,
        metadata={"description": "last day, YYYY-MM-DD, included (default: 31 December)"},
    )


class DutyPersonSchema(BaseSchema):
    id = fields.Integer()
    display_name = fields.String()


class RecordMeetingSchema(BaseSchema):
    id = fields.Integer()
    title = fields.String()
    starts_at = LocalDateTime()
    community = fields.String()
    role = fields.String(metadata={"description": "attendee role code, e.g. cppcc_member"})
    presence = fields.String(allow_none=True, metadata={"enum": ["present", "absent", "excused"]})
    attended = fields.Boolean()
    speeches = fields.Integer()
    proposals = fields.Integer()
    ballots_cast = fields.Integer(
        metadata={"description": "polls of the meeting the person voted in (never what)"}
    )


class DutyRecordSchema(BaseSchema):
    person = fields.Nested(DutyPersonSchema)
    from_ = fields.Date(data_key="from")
    to = fields.Date()
    meetings_invited = fields.Integer()
    meetings_attended = fields.Integer()
    proposals = fields.Integer()
    comments = fields.Integer()
    speeches = fields.Integer()
    ballots_cast = fields.Integer(
        metadata={"description": "ballots cast: that the person voted, never what they chose"}
    )
    requests_raised = fields.Integer()
    requests_handled = fields.Integer()
    meetings = fields.List(fields.Nested(RecordMeetingSchema))


def _viewer(user: User, person_id: int) -> None:
    services.require_record_viewer(user, services.get_person(person_id))


def record_body(record: services.DutyRecord) -> dict[str, Any]:
    return {
        "person": record.person,
        "from_": record.period.start,
        "to": record.period.end,
        **record.figures.as_dict(),
        "meetings": [
            {
                "id": line.id,
                "title": line.title,
                "starts_at": line.starts_at,
                "community": line.community,
                "role": line.role.value,
                "presence": line.presence.value if line.presence else None,
                "attended": line.attended,
                "speeches": line.speeches,
                "proposals": line.proposals,
                "ballots_cast": line.ballots,
            }
            for line in record.meetings
        ],
    }


@bp.get("/people/<int:person_id>/duty-record")
@bp.doc(**BEARER)
@permission_required(_viewer)
@bp.arguments(PeriodArgs, location="query")
@bp.response(200, DutyRecordSchema)
def duty_record(args, person_id: int):
    """履职档案: what the person did in the period — meetings invited and
    attended, proposals, comments, speeches, ballots cast (never a choice),
    requests raised and handled — with the meetings one by one. For the
    person, the secretaries and street staff where they sit, administrators.
    422 when a date cannot be read or the period ends before it starts."""
    person = services.get_person(person_id)
    services.require_record_viewer(current_api_user(), person)
    return record_body(services.duty_record(person, args["from_"], args["to"]))
