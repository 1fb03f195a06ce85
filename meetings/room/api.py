"""API: the meeting in the room (API.md "The live meeting"): the big screen's
links, the speakers' queue and the agenda item under way."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from marshmallow import fields, validate

from auth.models import User
from meetings.api.core import (
    BEARER,
    BaseSchema,
    Id,
    LocalDateTime,
    blueprint,
    current_api_user,
    list_schema,
    permission_required,
)
from meetings.errors import NotAllowed
from meetings.extensions import db
from meetings.meeting import services as meeting_services
from meetings.meeting.links import external_url
from meetings.meeting.models import Meeting
from meetings.meeting.permissions import (
    can_manage_meeting,
    is_attendee,
    require_insider,
    require_manager,
)
from meetings.room import services
from meetings.room.models import SpeakerEntry

bp = blueprint("api_room", "The meeting in the room: big-screen links, speakers, agenda under way")

ROOM_409 = "conflict: the meeting is not in progress, or the queue does not allow it"


# --- schemas --------------------------------------------------------------------------


class ScreenLinkInSchema(BaseSchema):
    label = fields.String(
        load_default="",
        validate=validate.Length(max=services.LABEL_MAX),
        metadata={"description": "where it is shown, e.g. 活动室电视"},
    )


class ScreenLinkListedSchema(BaseSchema):
    id = fields.Integer()
    meeting_id = fields.Integer()
    label = fields.String()
    created_at = LocalDateTime()


class ScreenLinkSchema(ScreenLinkListedSchema):
    url = fields.String(
        metadata={"description": "the screen's address, with its secret token: given once"}
    )


class SpeakerInSchema(BaseSchema):
    user_id = Id(
        load_default=None,
        allow_none=True,
        metadata={"description": "the secretary: the attendee to add; others leave it out"},
    )


class SpeakerSchema(BaseSchema):
    id = fields.Integer()
    meeting_id = fields.Integer()
    user_id = fields.Integer()
    display_name = fields.String()
    role = fields.String(allow_none=True)
    role_label = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": ["waiting", "speaking"]})
    place = fields.Integer(metadata={"description": "0 while speaking, 1 for the first waiting"})
    requested_at = LocalDateTime()
    started_at = LocalDateTime(allow_none=True)


class QueueSchema(BaseSchema):
    current = fields.Nested(SpeakerSchema, allow_none=True)
    waiting = fields.List(fields.Nested(SpeakerSchema))
    speaking_limit_seconds = fields.Integer()


class CurrentItemInSchema(BaseSchema):
    agenda_item_id = Id(required=True)


class AgendaStateSchema(BaseSchema):
    meeting_id = fields.Integer(attribute="id")
    current_agenda_item_id = fields.Integer(allow_none=True)
    current_item_started_at = LocalDateTime(allow_none=True)


# --- what the answers say -------------------------------------------------------------


def _speaker(meeting: Meeting, entry: SpeakerEntry, place: int) -> dict[str, Any]:
    attendance = meeting.attendance_of(entry.user)
    return {
        "id": entry.id,
        "meeting_id": entry.meeting_id,
        "user_id": entry.user_id,
        "display_name": entry.user.display_name,
        "role": attendance.role.value if attendance else None,
        "role_label": str(attendance.role.label) if attendance else None,
        "status": "speaking" if place == 0 else "waiting",
        "place": place,
        "requested_at": entry.requested_at,
        "started_at": entry.started_at,
    }


def _queue(meeting: Meeting) -> dict[str, Any]:
    queue = services.speaker_queue(meeting)
    return {
        "current": _speaker(meeting, queue.current, 0) if queue.current else None,
        "waiting": [
            _speaker(meeting, entry, place) for place, entry in enumerate(queue.waiting, start=1)
        ],
        "speaking_limit_seconds": meeting.speaking_limit_seconds,
    }


# Who may call, before the body is read (``permission_required``).


def _meeting(user: User | None, meeting_id: int) -> Meeting:
    return meeting_services.get_visible_meeting(user, meeting_id)


def _manager(user: User, meeting_id: int) -> None:
    require_manager(user, _meeting(user, meeting_id))


def _insider(user: User, meeting_id: int) -> None:
    require_insider(user, _meeting(user, meeting_id))


def _attendee_or_manager(user: User, meeting_id: int) -> None:
    meeting = _meeting(user, meeting_id)
    if not is_attendee(user, meeting) and not can_manage_meeting(user, meeting):
        raise NotAllowed(_("Only the meeting's attendees and its secretary may do this."))


def _link_manager(user: User, link_id: int) -> None:
    link = services.get_screen_link(link_id)
    require_manager(user, _meeting(user, link.meeting_id))


def _speaker_or_manager(user: User, entry_id: int) -> None:
    entry = services.get_speaker_entry(entry_id)
    _meeting(user, entry.meeting_id)
    services.require_speaker_or_manager(user, entry)


# --- screen links ---------------------------------------------------------------------


@bp.post("/meetings/<int:meeting_id>/screen-links")
@bp.doc(**BEARER)
@permission_required(_manager)
@bp.arguments(ScreenLinkInSchema)
@bp.response(201, ScreenLinkSchema)
def create_screen_link(data, meeting_id: int):
    """A link for the room's screen (投屏), shown without a login; its
    address (``url``, with the secret token) is given this once."""
    actor = current_api_user()
    link, token = services.create_screen_link(actor, _meeting(actor, meeting_id), data["label"])
    return {
        "id": link.id,
        "meeting_id": link.meeting_id,
        "label": link.label,
        "created_at": link.created_at,
        "url": external_url("room.screen", token=token),
    }


@bp.get("/meetings/<int:meeting_id>/screen-links")
@bp.doc(**BEARER)
@permission_required(_manager)
@bp.response(200, list_schema(ScreenLinkListedSchema, "ScreenLinks"))
def list_screen_links(meeting_id: int):
    """The meeting's links still working (without their addresses)."""
    links = services.active_screen_links(_meeting(current_api_user(), meeting_id))
    return {"items": links, "total": len(links)}


@bp.delete("/screen-links/<int:link_id>")
@bp.doc(**BEARER)
@permission_required(_link_manager)
@bp.response(204)
def revoke_screen_link(link_id: int):
    """The link stops working: its page is gone, its live stream refused."""
    services.revoke_screen_link(current_api_user(), services.get_screen_link(link_id))


# --- the speakers' queue --------------------------------------------------------------


@bp.get("/meetings/<int:meeting_id>/speakers")
@bp.doc(**BEARER)
@permission_required(_insider)
@bp.response(200, QueueSchema)
def get_speakers(meeting_id: int):
    """Who speaks now and who waits, in order."""
    return _queue(meeting_services.get_meeting(meeting_id, full=True))


@bp.post("/meetings/<int:meeting_id>/speakers")
@bp.doc(**BEARER)
@permission_required(_attendee_or_manager)
@bp.arguments(SpeakerInSchema)
@bp.response(201, SpeakerSchema)
@bp.alt_response(409, description=ROOM_409)
def add_speaker(data, meeting_id: int):
    """An attendee asks for the floor (申请发言, no body); the secretary adds
    an attendee (``user_id``). Once in the queue at a time; while the
    meeting is in progress."""
    actor = current_api_user()
    meeting = meeting_services.get_meeting(meeting_id, full=True)
    user_id = data["user_id"]
    if user_id is None or (user_id == actor.id and not can_manage_meeting(actor, meeting)):
        entry = services.ask_for_the_floor(actor, meeting)
    else:
        entry = services.add_speaker(actor, meeting, db.session.get(User, user_id))
    queue = services.speaker_queue(meeting)
    return _speaker(meeting, entry, queue.place_of(entry.user) or 0)


@bp.post("/meetings/<int:meeting_id>/speakers/next")
@bp.doc(**BEARER)
@permission_required(_manager)
@bp.response(200, QueueSchema)
@bp.alt_response(409, description=ROOM_409 + " (nobody waiting or speaking)")
def next_speaker(meeting_id: int):
    """The current speaker ends and the first waiting one starts."""
    meeting = meeting_services.get_meeting(meeting_id, full=True)
    services.next_speaker(current_api_user(), meeting)
    return _queue(meeting)


@bp.delete("/speakers/<int:entry_id>")
@bp.doc(**BEARER)
@permission_required(_speaker_or_manager)
@bp.response(204)
@bp.alt_response(409, description=ROOM_409 + " (only a waiting place is withdrawn)")
def withdraw_speaker(entry_id: int):
    """The speaker (or the secretary) withdraws a place still waiting."""
    services.withdraw(current_api_user(), services.get_speaker_entry(entry_id))


# --- the agenda item under way --------------------------------------------------------


@bp.post("/meetings/<int:meeting_id>/agenda/next")
@bp.doc(**BEARER)
@permission_required(_manager)
@bp.response(200, AgendaStateSchema)
@bp.alt_response(409, description=ROOM_409 + " (no agenda, or its last item)")
def next_agenda_item(meeting_id: int):
    """On to the next agenda item (the first when none is under way); the
    big screen's countdown starts again."""
    meeting = meeting_services.get_meeting(meeting_id, full=True)
    return services.next_agenda_item(current_api_user(), meeting)


@bp.post("/meetings/<int:meeting_id>/agenda/current")
@bp.doc(**BEARER)
@permission_required(_manager)
@bp.arguments(CurrentItemInSchema)
@bp.response(200, AgendaStateSchema)
@bp.alt_response(409, description=ROOM_409)
def set_current_item(data, meeting_id: int):
    """Show this agenda item as the one under way (any item of the meeting)."""
    meeting = meeting_services.get_meeting(meeting_id, full=True)
    item = next((i for i in meeting.agenda_items if i.id == data["agenda_item_id"]), None)
    return services.set_current_item(current_api_user(), meeting, item)
