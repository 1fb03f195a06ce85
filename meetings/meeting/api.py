"""API: meetings, their agenda and attendances (API.md "Meetings").

Times go out as ISO 8601 with the community's offset; a time without an
offset coming in is read in the community's time zone (config TIMEZONE).
"""

from __future__ import annotations

from typing import Any

from flask import Response, request
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
from meetings.dbtypes import MAX_ID
from meetings.errors import ValidationFailed
from meetings.extensions import db
from meetings.meeting import calendar, services
from meetings.meeting.links import external_url
from meetings.meeting.models import (
    AgendaItem,
    Attendance,
    AttendeeRole,
    Meeting,
    MeetingStatus,
    Presence,
    Rsvp,
)
from meetings.meeting.permissions import (
    can_view_meeting,
    is_insider,
    require_attendee_or_manager,
    require_manager,
    require_meeting_creator,
)
from meetings.meeting.services import agenda as agenda_services
from meetings.meeting.services import meetings as meeting_services

bp = blueprint("api_meetings", "Meetings (协商议事会): agenda, attendances, check-in, calendar")

STATUS_CODES = [status.value for status in MeetingStatus]
ROLE_CODES = [role.value for role in AttendeeRole]
TRANSITION_CODES = [
    MeetingStatus.SCHEDULED.value,
    MeetingStatus.IN_PROGRESS.value,
    MeetingStatus.CLOSED.value,
    MeetingStatus.CANCELLED.value,
]
TIME_HELP = "ISO 8601; without an offset, the community's time zone"


def _optional_user() -> User | None:
    """The token's user; none without a token (announced meetings are public),
    but a token that does not work is refused (401), not ignored."""
    if request.headers.get("Authorization"):
        return current_api_user()
    return None


# --- schemas --------------------------------------------------------------------------


class PersonSchema(BaseSchema):
    id = fields.Integer()
    display_name = fields.String()


class AgendaItemSchema(BaseSchema):
    id = fields.Integer()
    meeting_id = fields.Integer()
    position = fields.Integer(metadata={"description": "1 is first"})
    title = fields.String()
    description = fields.String()
    planned_minutes = fields.Integer(allow_none=True)
    request_ids = fields.List(fields.Integer())


class AgendaItemCreateSchema(BaseSchema):
    title = fields.String(
        required=True, validate=validate.Length(min=1, max=agenda_services.TITLE_MAX)
    )
    description = fields.String(
        load_default="", validate=validate.Length(max=agenda_services.DESCRIPTION_MAX)
    )
    planned_minutes = fields.Integer(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=1, max=agenda_services.MINUTES_MAX),
    )
    request_ids = fields.List(
        Id(),
        load_default=list,
        metadata={"description": "requests this item deals with, among the meeting's topics"},
    )


class AgendaItemPatchSchema(BaseSchema):
    """Any of the fields of an agenda item; those left out stay as they are."""

    title = fields.String(validate=validate.Length(min=1, max=agenda_services.TITLE_MAX))
    description = fields.String(validate=validate.Length(max=agenda_services.DESCRIPTION_MAX))
    planned_minutes = fields.Integer(
        allow_none=True, validate=validate.Range(min=1, max=agenda_services.MINUTES_MAX)
    )
    request_ids = fields.List(Id())


class AgendaMoveSchema(BaseSchema):
    position = fields.Integer(
        required=True,
        validate=validate.Range(min=1, max=10_000),
        metadata={"description": "the new place, 1 is first; past the end means last"},
    )


class AttendanceSchema(BaseSchema):
    user_id = fields.Integer()
    display_name = fields.String(attribute="user.display_name")
    role = fields.String(metadata={"enum": ROLE_CODES})
    role_label = fields.String(attribute="role.label")
    may_vote = fields.Boolean()
    rsvp = fields.String(metadata={"enum": [r.value for r in Rsvp]})
    rsvp_at = LocalDateTime(allow_none=True)
    presence = fields.String(
        allow_none=True,
        metadata={"enum": [p.value for p in Presence], "description": "null until marked"},
    )
    checked_in_at = LocalDateTime(allow_none=True)


class AttendanceCreateSchema(BaseSchema):
    user_id = Id(required=True)
    role = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(ROLE_CODES),
        metadata={
            "description": "default: the person's standing role in the community; else "
            "street_official for its street office's staff, property_rep for a property "
            "company's member, resident_rep"
        },
    )
    may_vote = fields.Boolean(
        load_default=None,
        allow_none=True,
        metadata={"description": "default: every role but observer votes"},
    )


class CopyAttendancesSchema(BaseSchema):
    from_meeting_id = Id(required=True, metadata={"description": "a meeting of the same community"})


class SkippedSchema(BaseSchema):
    user_id = fields.Integer(attribute="user.id")
    display_name = fields.String(attribute="user.display_name")
    reason = fields.String(metadata={"enum": ["already_invited", "not_invitable"]})


class CopyResultSchema(BaseSchema):
    added = fields.List(fields.Nested(AttendanceSchema))
    skipped = fields.List(fields.Nested(SkippedSchema))


class AttendancePatchSchema(BaseSchema):
    rsvp = fields.String(
        validate=validate.OneOf([Rsvp.ACCEPTED.value, Rsvp.DECLINED.value]),
        metadata={"description": "the attendee (or the secretary)"},
    )
    presence = fields.String(
        validate=validate.OneOf([p.value for p in Presence]),
        metadata={"description": "the secretary"},
    )
    role = fields.String(
        validate=validate.OneOf(ROLE_CODES), metadata={"description": "the secretary"}
    )
    may_vote = fields.Boolean(metadata={"description": "the secretary"})


class QuorumSchema(BaseSchema):
    voting_present = fields.Integer()
    voting_invited = fields.Integer()
    present = fields.Integer()
    invited = fields.Integer()
    accepted = fields.Integer()
    declined = fields.Integer()
    has_majority = fields.Boolean(metadata={"description": "more than half of the voters present"})


class MeetingSummarySchema(BaseSchema):
    id = fields.Integer()
    community_id = fields.Integer()
    community_name = fields.String(attribute="community.name")
    title = fields.String()
    description = fields.String()
    status = fields.String(metadata={"enum": STATUS_CODES})
    status_label = fields.String(attribute="status.label")
    starts_at = LocalDateTime()
    ends_at = LocalDateTime()
    location = fields.String()
    request_ids = fields.List(fields.Integer())
    cancel_reason = fields.String(allow_none=True)


class MeetingSchema(MeetingSummarySchema):
    online_url = fields.String(
        allow_none=True, metadata={"description": "left out for those not invited"}
    )
    host = fields.Nested(PersonSchema, allow_none=True)
    recorder = fields.Nested(PersonSchema, allow_none=True)
    host_id = fields.Integer(allow_none=True)
    recorder_id = fields.Integer(allow_none=True)
    sequence = fields.Integer(metadata={"description": "goes up when the time or place changes"})
    next_statuses = fields.List(
        fields.String(), metadata={"description": "where POST …/transitions can take it"}
    )
    total_planned_minutes = fields.Integer()
    agenda_items = fields.List(fields.Nested(AgendaItemSchema))
    attendances = fields.List(
        fields.Nested(AttendanceSchema),
        metadata={"description": "names and roles only for those not invited"},
    )
    quorum = fields.Nested(QuorumSchema, metadata={"description": "left out for outsiders"})
    allow_proxies = fields.Boolean()
    max_proxies_per_person = fields.Integer()
    speaking_limit_seconds = fields.Integer()
    current_agenda_item_id = fields.Integer(
        allow_none=True, metadata={"description": "the item under way (the big screen's)"}
    )
    current_item_started_at = LocalDateTime(allow_none=True)
    created_at = LocalDateTime()
    updated_at = LocalDateTime()


class MeetingCreateSchema(BaseSchema):
    community_id = Id(required=True)
    title = fields.String(
        required=True, validate=validate.Length(min=1, max=meeting_services.TITLE_MAX)
    )
    starts_at = LocalDateTime(required=True, metadata={"description": TIME_HELP})
    ends_at = LocalDateTime(required=True, metadata={"description": TIME_HELP})
    location = fields.String(
        load_default="",
        validate=validate.Length(max=meeting_services.LOCATION_MAX),
        metadata={"description": "the place; or give online_url"},
    )
    online_url = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=meeting_services.ONLINE_URL_MAX),
    )
    description = fields.String(
        load_default="", validate=validate.Length(max=meeting_services.DESCRIPTION_MAX)
    )
    request_ids = fields.List(
        Id(), load_default=list, metadata={"description": "the topics: accepted requests"}
    )
    host_id = Id(load_default=None, allow_none=True)
    recorder_id = Id(load_default=None, allow_none=True)


class JsonBoolean(fields.Boolean):
    """``true`` or ``false`` only: not 1, "yes" or "on"."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class MeetingPatchSchema(BaseSchema):
    """Any of the fields given at creation; those left out stay as they are."""

    community_id = Id(metadata={"description": "cannot change"})
    title = fields.String(validate=validate.Length(min=1, max=meeting_services.TITLE_MAX))
    starts_at = LocalDateTime(metadata={"description": TIME_HELP})
    ends_at = LocalDateTime(metadata={"description": TIME_HELP})
    location = fields.String(validate=validate.Length(max=meeting_services.LOCATION_MAX))
    online_url = fields.String(
        allow_none=True, validate=validate.Length(max=meeting_services.ONLINE_URL_MAX)
    )
    description = fields.String(validate=validate.Length(max=meeting_services.DESCRIPTION_MAX))
    request_ids = fields.List(Id())
    host_id = Id(allow_none=True)
    recorder_id = Id(allow_none=True)
    allow_proxies = JsonBoolean(
        metadata={"description": "委托投票 allowed in this meeting's polls"},
    )
    max_proxies_per_person = fields.Integer(
        strict=True,
        validate=validate.Range(*meeting_services.PROXIES_PER_PERSON),
        metadata={"description": "how many principals one proxy may hold"},
    )
    speaking_limit_seconds = fields.Integer(
        strict=True,
        validate=validate.Range(*meeting_services.SPEAKING_LIMIT_SECONDS),
        metadata={"description": "each speaker's time, shown on the big screen"},
    )


class MeetingListArgs(PageArgs):
    # not Id(): a query string's number is text, so no strict integer here
    community_id = fields.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_ID))
    status = fields.String(load_default=None, validate=validate.OneOf(STATUS_CODES))


class TransitionSchema(BaseSchema):
    to = fields.String(required=True, validate=validate.OneOf(TRANSITION_CODES))
    reason = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=meeting_services.REASON_MAX),
        metadata={"description": "required to cancel; sent to the invitees"},
    )
    confirm = fields.Boolean(
        load_default=False,
        metadata={
            "description": "to start a meeting far from its planned time "
            "(else 409 confirmation_needed)"
        },
    )
    unmarked = fields.String(
        load_default="absent",
        validate=validate.OneOf(["absent"]),
        metadata={"description": "closing marks the attendees not marked absent"},
    )


class CheckInSchema(BaseSchema):
    token = fields.String(
        required=True,
        validate=validate.Length(min=1, max=500),
        metadata={"description": "the code from the attendee's QR link (/checkin/<token>)"},
    )


# --- what each viewer sees ------------------------------------------------------------


class _PublicAttendance:
    """Names and roles only."""

    def __init__(self, attendance: Attendance):
        self.user = attendance.user
        self.role = attendance.role


class _MeetingView:
    """The meeting as a viewer may see it: insiders everything (and the
    quorum), others no online link and only names and roles of attendees."""

    _HIDDEN_FROM_PUBLIC = frozenset({"online_url", "quorum"})

    def __init__(self, meeting: Meeting, insider: bool):
        self._meeting = meeting
        self._insider = insider

    def __getattr__(self, name: str) -> Any:
        if not self._insider and name in self._HIDDEN_FROM_PUBLIC:
            raise AttributeError(name)
        if name == "quorum":
            return services.quorum(self._meeting)
        if name == "attendances" and not self._insider:
            return [_PublicAttendance(a) for a in self._meeting.attendances]
        return getattr(self._meeting, name)


def _view(meeting: Meeting, user: User | None) -> _MeetingView:
    return _MeetingView(meeting, is_insider(user, meeting))


def _managed_view(meeting_id: int) -> _MeetingView:
    """After a change: the meeting as its secretary sees it."""
    meeting = services.get_meeting(meeting_id, full=True)
    return _MeetingView(meeting, insider=True)


def _community(community_id: int) -> Community:
    community = db.session.get(Community, community_id)
    if community is None:
        message = _("No such community.")
        raise ValidationFailed(message, {"community_id": [message]})
    return community


# Who may call, asked before the body is read (``permission_required``): the
# rules of ``meetings.meeting.permissions``, for the meeting in the path.


def _manager(user: User, meeting_id: int, **_path: int) -> None:
    require_manager(user, services.get_visible_meeting(user, meeting_id))


def _attendee_or_manager(user: User, meeting_id: int, user_id: int) -> None:
    meeting = services.get_visible_meeting(user, meeting_id)
    require_attendee_or_manager(user, meeting, user_id)


# --- meetings -------------------------------------------------------------------------


@bp.post("/meetings")
@bp.doc(**BEARER)
@permission_required(require_meeting_creator)
@bp.arguments(MeetingCreateSchema)
@bp.response(201, MeetingSchema)
def create_meeting(data):
    """Create a draft meeting (the community's secretary)."""
    actor = current_api_user()
    community = _community(data.pop("community_id"))
    meeting = services.create_meeting(actor, community, **data)
    return _managed_view(meeting.id)


@bp.get("/meetings")
@bp.doc(**BEARER)
@token_required
@bp.arguments(MeetingListArgs, location="query")
@bp.response(200, list_schema(MeetingSummarySchema, "MeetingList"))
def list_meetings(args):
    """The meetings the caller may see, newest first: all of the communities
    they run, those they are invited to, and announced ones."""
    statement = services.visible_meetings(current_api_user(), args["community_id"], args["status"])
    return paginate(statement, args)


@bp.get("/meetings/<int:meeting_id>")
@bp.doc(**BEARER)
@bp.response(200, MeetingSchema)
def get_meeting(meeting_id: int):
    """A meeting with its agenda and attendances. Drafts: the secretary and
    the invited only; announced meetings: anyone, without a token too."""
    user = _optional_user()
    return _view(services.get_visible_meeting(user, meeting_id, full=True), user)


@bp.patch("/meetings/<int:meeting_id>")
@bp.doc(**BEARER)
@permission_required(_manager)
@bp.arguments(MeetingPatchSchema)
@bp.response(200, MeetingSchema)
def update_meeting(data, meeting_id: int):
    """Change any of the fields given at creation. A change of time or place of
    a scheduled meeting is sent to everyone invited."""
    actor = current_api_user()
    meeting = services.get_visible_meeting(actor, meeting_id)
    community_id = data.pop("community_id", None)
    if community_id is not None and community_id != meeting.community_id:
        message = _("A meeting stays in its community.")
        raise ValidationFailed(message, {"community_id": [message]})
    services.update_meeting(actor, meeting, **data)
    return _managed_view(meeting.id)


@bp.post("/meetings/<int:meeting_id>/transitions")
@bp.doc(**BEARER)
@permission_required(_manager)
@bp.arguments(TransitionSchema)
@bp.response(200, MeetingSchema)
@bp.alt_response(409, description="invalid_transition, poll_still_open, confirmation_needed")
def transition_meeting(data, meeting_id: int):
    """Schedule, start, close or cancel (with a reason) the meeting. Starting
    it more than an hour before its start or after its end needs
    ``confirm: true``; closing marks the attendees not marked absent."""
    actor = current_api_user()
    meeting = services.get_visible_meeting(actor, meeting_id)
    # The close's question is answered by ``unmarked`` ("absent", the default).
    confirmed = data["confirm"] or data["to"] == MeetingStatus.CLOSED
    services.transition_meeting(actor, meeting, data["to"], data["reason"], confirmed=confirmed)
    return _managed_view(meeting.id)


@bp.get("/meetings/<int:meeting_id>/calendar.ics")
@bp.doc(**BEARER)
@bp.response(200, description="An iCalendar file with the meeting", content_type="text/calendar")
def meeting_calendar(meeting_id: int):
    """The meeting as an .ics file (same access as the meeting)."""
    user = _optional_user()
    meeting = services.get_visible_meeting(user, meeting_id, full=True)
    body = calendar.meeting_ics(
        meeting,
        external_url("meeting.show", meeting_id=meeting.id),
        show_online_link=is_insider(user, meeting),
    )
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="meeting-{meeting.id}.ics"'},
    )


# --- agenda items ---------------------------------------------------------------------


def _agenda_item(meeting_id: int, item_id: int) -> tuple[User, AgendaItem]:
    actor = current_api_user()
    meeting = services.get_visible_meeting(actor, meeting_id)
    return actor, services.get_agenda_item(meeting, item_id)


@bp.post("/meetings/<int:meeting_id>/agenda-items")
@bp.doc(**BEARER)
@permission_required(_manager)
@bp.arguments(AgendaItemCreateSchema)
@bp.response(201, AgendaItemSchema)
def add_agenda_item(data, meeting_id: int):
    """Add an item at the end of the agenda (draft or scheduled meetings)."""
    actor = current_api_user()
    meeting = services.get_visible_meeting(actor, meeting_id)
    item = services.add_agenda_item(actor, meeting, **data)
    return item


@bp.patch("/meetings/<int:meeting_id>/agenda-items/<int:item_id>")
@bp.doc(**BEARER)
@permission_required(_manager)
@bp.arguments(AgendaItemPatchSchema)
@bp.response(200, AgendaItemSchema)
def update_agenda_item(data, meeting_id: int, item_id: int):
    """Change an agenda item's title, description, planned minutes or requests."""
    actor, item = _agenda_item(meeting_id, item_id)
    services.update_agenda_item(actor, item, **data)
    return item


@bp.post("/meetings/<int:meeting_id>/agenda-items/<int:item_id>/move")
@bp.doc(**BEARER)
@permission_required(_manager)
@bp.arguments(AgendaMoveSchema)
@bp.response(200, list_schema(AgendaItemSchema, "Agenda"))
def move_agenda_item(data, meeting_id: int, item_id: int):
    """Move an item to another place; answers the whole agenda in its new order."""
    actor, item = _agenda_item(meeting_id, item_id)
    services.move_agenda_item(actor, item, data["position"])
    items = services.get_meeting(meeting_id, full=True).agenda_items
    return {"items": items, "total": len(items)}


@bp.delete("/meetings/<int:meeting_id>/agenda-items/<int:item_id>")
@bp.doc(**BEARER)
@permission_required(_manager)
@bp.response(204)
def remove_agenda_item(meeting_id: int, item_id: int):
    """Remove an item; those after it move up."""
    actor, item = _agenda_item(meeting_id, item_id)
    services.remove_agenda_item(actor, item)


# --- attendances ----------------------------------------------------------------------


@bp.post("/meetings/<int:meeting_id>/attendances")
@bp.doc(**BEARER)
@permission_required(_manager)
@bp.arguments(AttendanceCreateSchema)
@bp.response(201, AttendanceSchema)
def invite(data, meeting_id: int):
    """Invite a member of the community, of its street office's staff or of a
    unit serving it (the secretary); without a role, their usual one."""
    actor = current_api_user()
    meeting = services.get_visible_meeting(actor, meeting_id)
    user = db.session.get(User, data["user_id"])
    if user is None:
        message = _("No such user.")
        raise ValidationFailed(message, {"user_id": [message]})
    [attendance] = services.invite(
        actor, meeting, [services.Invitation(user, data["role"], data["may_vote"])]
    )
    return attendance


@bp.post("/meetings/<int:meeting_id>/attendances/copy")
@bp.doc(**BEARER)
@permission_required(_manager)
@bp.arguments(CopyAttendancesSchema)
@bp.response(201, CopyResultSchema)
def copy_attendances(data, meeting_id: int):
    """Invite the same people as an earlier meeting of the community, each
    with the role and voting right they had then (the secretary). Those
    already invited or no longer invitable are skipped."""
    actor = current_api_user()
    meeting = services.get_visible_meeting(actor, meeting_id, full=True)
    source = db.session.get(Meeting, data["from_meeting_id"])
    if source is None or not can_view_meeting(actor, source):
        message = _("No such meeting.")
        raise ValidationFailed(message, {"from_meeting_id": [message]})
    added, skipped = services.copy_invitations(actor, meeting, source)
    return {"added": added, "skipped": skipped}


@bp.patch("/meetings/<int:meeting_id>/attendances/<int:user_id>")
@bp.doc(**BEARER)
@permission_required(_attendee_or_manager)
@bp.arguments(AttendancePatchSchema)
@bp.response(200, AttendanceSchema)
def update_attendance(data, meeting_id: int, user_id: int):
    """The attendee answers (``rsvp``); the secretary marks ``presence`` and
    may change ``role`` and ``may_vote``."""
    actor = current_api_user()
    meeting = services.get_visible_meeting(actor, meeting_id)
    attendance = services.get_attendance(meeting, user_id)
    if not data:
        message = _("Nothing to change: give rsvp, presence, role or may_vote.")
        raise ValidationFailed(message, {"_schema": [message]})
    if "rsvp" in data:
        services.set_rsvp(actor, attendance, data["rsvp"])
    if "role" in data or "may_vote" in data:
        services.update_attendance(
            actor, attendance, role=data.get("role"), may_vote=data.get("may_vote")
        )
    if "presence" in data:
        services.mark_presence(actor, attendance, data["presence"])
    return attendance


@bp.delete("/meetings/<int:meeting_id>/attendances/<int:user_id>")
@bp.doc(**BEARER)
@permission_required(_manager)
@bp.response(204)
def remove_attendance(meeting_id: int, user_id: int):
    """Take back an invitation (before the meeting begins)."""
    actor = current_api_user()
    meeting = services.get_visible_meeting(actor, meeting_id)
    services.remove_attendance(actor, services.get_attendance(meeting, user_id))


@bp.post("/checkin")
@bp.doc(**BEARER)
@token_required
@bp.arguments(CheckInSchema)
@bp.response(200, AttendanceSchema)
@bp.alt_response(404, description="checkin_code_invalid")
@bp.alt_response(409, description="conflict: the meeting is not in progress")
@bp.alt_response(410, description="checkin_code_expired")
def check_in(data):
    """Check in with the code of one's own QR link, while the meeting is in
    progress (for apps that scan the code themselves)."""
    attendance = services.check_in_with_token(current_api_user(), data["token"])
    return attendance
