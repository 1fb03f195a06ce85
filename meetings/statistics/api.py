"""API: statistics (API.md "Reports, 公示, search")."""

from __future__ import annotations

from marshmallow import fields, validate

from meetings.api.core import BEARER, BaseSchema, blueprint, current_api_user, token_required
from meetings.dbtypes import MAX_ID
from meetings.statistics import services

bp = blueprint("api_statistics", "Statistics of a community, a street or all streets")


class StatisticsArgs(BaseSchema):
    scope = fields.String(
        required=True, metadata={"description": "community, street or all (administrators)"}
    )
    id = fields.Integer(
        load_default=None,
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={"description": "the community's or street's id (not for all)"},
    )
    start = fields.Date(
        data_key="from",
        load_default=None,
        metadata={"description": "YYYY-MM-DD, the first day (default: this month's first)"},
    )
    end = fields.Date(
        data_key="to",
        load_default=None,
        metadata={"description": "YYYY-MM-DD, the last day, included; at most five years"},
    )


def _number(description: str, **kwargs) -> fields.Field:
    return fields.Integer(metadata={"description": description}, **kwargs)


def _decimal(description: str) -> fields.Field:
    return fields.Float(allow_none=True, metadata={"description": description})


class CountSchema(BaseSchema):
    code = fields.String()
    label = fields.String()
    count = fields.Integer()


class RequestsSchema(BaseSchema):
    received = _number("requests received in the period")
    answered_in_time = _number(
        "of those, first replied to (accepted, answered, declined or dispatched) within"
        " reply_days of receipt"
    )
    answered_late = _number("first replied to after reply_days")
    overdue = _number("still waiting for a reply after reply_days (the inbox's overdue rule)")
    waiting = _number("still waiting, within reply_days")
    closed = _number("closed since")
    reopened = _number("reopened at least once by a rating of 2 or less")
    in_time_percent = _decimal("answered_in_time / received, in percent; null without requests")
    median_first_reply_hours = _decimal("median hours from receipt to the first reply")
    median_close_hours = _decimal("median hours from receipt to the close")
    reply_days = _number("the reply limit, days (REQUEST_REPLY_DAYS)")
    by_category = fields.List(fields.Nested(CountSchema))
    by_channel = fields.List(fields.Nested(CountSchema))


class SatisfactionSchema(BaseSchema):
    ratings = _number("residents' ratings of requests given in the period")
    average = _decimal("their average, 1 to 5; null without ratings")
    distribution = fields.Dict(
        keys=fields.String(), values=fields.Integer(), metadata={"description": "score → ratings"}
    )
    satisfied = _number("ratings of 4 or 5")
    satisfied_percent = _decimal("satisfied / ratings, in percent")


class OrderLineSchema(BaseSchema):
    kind = fields.String(metadata={"description": "grid, user or unit"})
    id = fields.Integer()
    name = fields.String()
    count = fields.Integer()
    on_time = fields.Integer()
    late = fields.Integer()
    other = fields.Integer()


class OrdersSchema(BaseSchema):
    dispatched = _number("requests dispatched (派单) in the period")
    on_time = _number("handled on or before the due date (local dates)")
    late = _number("handled after the due date, or still open past it")
    other = _number("open within the due date, or handed back")
    on_time_percent = _decimal("on_time / (on_time + late), in percent")
    by_grid = fields.List(fields.Nested(OrderLineSchema))
    by_person = fields.List(fields.Nested(OrderLineSchema))
    by_unit = fields.List(fields.Nested(OrderLineSchema))


class MeetingsSchema(BaseSchema):
    held = _number("meetings starting in the period, in progress, closed or with minutes")
    with_minutes = _number("of those, with published minutes")
    planned = _number("starting in the period, draft or scheduled")
    cancelled = _number("starting in the period, cancelled")


class RoleAttendanceSchema(BaseSchema):
    role = fields.String()
    label = fields.String()
    invited = _number("invitations to the meetings held")
    present = _number("marked or checked in present")
    excused = _number("excused (请假)")
    rate = _decimal("present / invited, in percent")


class PollsSchema(BaseSchema):
    polls = _number("closed polls at the meetings starting in the period")
    eligible = _number("their eligible voters")
    cast = _number("their ballots cast")
    turnout = _decimal("cast / eligible, in percent")
    adopted = fields.Integer()
    rejected = fields.Integer()
    decided = fields.Integer()
    no_quorum = fields.Integer()


class ProjectsSchema(BaseSchema):
    resolutions = _number("resolutions recorded at meetings starting in the period")
    resolutions_agreed = fields.Integer()
    resolutions_in_notice = _number("of those, in public notice (公示中)")
    completed_on_time = _number("projects completed in the period, by their due date")
    completed_late = _number("projects completed in the period, after their due date")
    overdue = _number("not completed, due in the period before today")
    in_progress = fields.Integer()
    suspended = _number("projects suspended now (created before the period's end)")
    ratings = _number("residents' ratings of projects given in the period")
    rating_average = _decimal("their average, 1 to 5")


class LineSchema(BaseSchema):
    id = fields.Integer()
    name = fields.String()
    street_id = fields.Integer(allow_none=True)
    received = fields.Integer()
    answered_in_time = fields.Integer()
    overdue = fields.Integer()
    ratings = fields.Integer()
    rating_average = fields.Float(allow_none=True)
    meetings_held = fields.Integer()


class StatisticsSchema(BaseSchema):
    scope = fields.Function(lambda stats: stats.scope.kind.value)
    id = fields.Function(lambda stats: stats.scope.id)
    name = fields.Function(lambda stats: stats.scope.name)
    start = fields.Function(lambda stats: stats.period.start.isoformat(), data_key="from")
    end = fields.Function(lambda stats: stats.period.end.isoformat(), data_key="to")
    requests = fields.Nested(RequestsSchema)
    orders = fields.Nested(OrdersSchema)
    meetings = fields.Nested(MeetingsSchema)
    attendance_by_role = fields.List(fields.Nested(RoleAttendanceSchema))
    polls = fields.Nested(PollsSchema)
    projects = fields.Nested(ProjectsSchema)
    satisfaction = fields.Nested(SatisfactionSchema)
    communities = fields.List(
        fields.Nested(LineSchema),
        metadata={"description": "a line per community (street and all scopes)"},
    )
    streets = fields.List(
        fields.Nested(LineSchema), metadata={"description": "a line per street (all scope)"}
    )


@bp.get("/statistics")
@bp.doc(**BEARER)
@token_required
@bp.arguments(StatisticsArgs, location="query", as_kwargs=True)
@bp.response(200, StatisticsSchema)
@bp.alt_response(
    422, description="a bad scope, no id, a period ending before it starts or over five years"
)
def statistics(scope, id, start, end):  # noqa: A002 - the contract's parameter
    """The figures of a community (its secretaries, its street's staff), a
    street (its staff) or all streets (administrators) over a period."""
    found = services.find_scope(scope, id)
    services.require_viewer(current_api_user(), found)
    period = services.make_period(start, end)
    return services.statistics_for(found, period)
