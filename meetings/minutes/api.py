"""API: minutes (API.md "Resolutions, projects, minutes"), and a few
extensions — versions, differences, sending round, confirmations."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_babel import gettext as _
from marshmallow import fields, validate

from auth.models import User
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
)
from meetings.dbtypes import MAX_ID
from meetings.errors import InvalidTransition, NotFound
from meetings.meeting import services as meeting_services
from meetings.meeting.links import external_url
from meetings.meeting.models import Meeting
from meetings.minutes import diff as minutes_diff
from meetings.minutes import placeholders, public, services
from meetings.minutes.draft import generate_draft
from meetings.minutes.models import MinutesConfirmation, MinutesVersion
from meetings.minutes.render import render_markdown

bp = blueprint("api_minutes", "Minutes (会议纪要): versions, confirmation, publication")

STATUS_CODES = [status.value for status in services.VersionStatus]


# --- schemas --------------------------------------------------------------------------


class MinutesBodySchema(BaseSchema):
    body_markdown = fields.String(
        required=True, validate=validate.Length(min=1, max=services.BODY_MAX)
    )


class MinutesSchema(BaseSchema):
    meeting_id = fields.Integer()
    version = fields.Integer(
        allow_none=True, metadata={"description": "null: not saved yet, a generated draft"}
    )
    status = fields.String(allow_none=True, metadata={"enum": STATUS_CODES})
    body_markdown = fields.String()
    body_html = fields.String(metadata={"description": "sanitised HTML"})
    created_at = LocalDateTime(allow_none=True)
    circulated_at = LocalDateTime(allow_none=True)
    published_at = LocalDateTime(allow_none=True)
    generated = fields.Boolean(metadata={"description": "a draft written from the meeting's data"})
    placeholders = fields.List(
        fields.String(),
        metadata={"description": "the places still marked as to write (【待填写：…】), in order"},
    )


class PublicMinutesSchema(MinutesSchema):
    meeting_title = fields.String()
    community_id = fields.Integer()
    community_name = fields.String()
    starts_at = LocalDateTime()
    first_published_at = LocalDateTime(allow_none=True)
    url = fields.String(metadata={"description": "the public page"})


def _query_id(**kwargs: Any) -> fields.Integer:
    """A number in the query string (text there, so not a strict ``Id``)."""
    return fields.Integer(validate=validate.Range(min=1, max=MAX_ID), **kwargs)


class VersionArgs(BaseSchema):
    version = _query_id(
        load_default=None, metadata={"description": "a version number; default: latest"}
    )


class PublishSchema(BaseSchema):
    version = Id(
        load_default=None,
        metadata={"description": "the version seen; 409 if a newer one was saved since"},
    )
    confirm = fields.Boolean(
        load_default=False,
        metadata={
            "description": "publish although places are still marked as to write "
            "(【待填写：…】); without it such a text is refused with 409 "
            "confirmation_needed, its ``fields.placeholders`` listing them"
        },
    )


class PublicListArgs(PageArgs):
    community_id = _query_id(load_default=None)


class DiffArgs(BaseSchema):
    old = _query_id(required=True, data_key="from")
    new = _query_id(required=True, data_key="to")


class DiffSchema(BaseSchema):
    old = fields.Integer(data_key="from")
    new = fields.Integer(data_key="to")
    unified = fields.String(metadata={"description": "a unified diff of the Markdown"})


class ConfirmationSchema(BaseSchema):
    user_id = fields.Integer()
    display_name = fields.String(attribute="user.display_name")
    confirmed = fields.Boolean()
    comment = fields.String(allow_none=True)
    answered_at = LocalDateTime(allow_none=True)


class ConfirmationListSchema(BaseSchema):
    version = fields.Integer()
    items = fields.List(fields.Nested(ConfirmationSchema))
    total = fields.Integer()
    confirmed = fields.Integer()
    commented = fields.Integer()


class AnswerSchema(BaseSchema):
    confirmed = fields.Boolean(required=True)
    comment = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=services.COMMENT_MAX)
    )


# --- helpers --------------------------------------------------------------------------


def _optional_user() -> User | None:
    """The token's user; none without a token, but a bad token is refused."""
    if request.headers.get("Authorization"):
        return current_api_user()
    return None


def _view(version: MinutesVersion, found: services.History) -> dict[str, Any]:
    return _fields(version, found.status(version))


def _fields(version: MinutesVersion, status: services.VersionStatus) -> dict[str, Any]:
    return {
        "meeting_id": version.meeting_id,
        "version": version.number,
        "status": status.value,
        "body_markdown": version.body_markdown,
        "body_html": str(render_markdown(version.body_markdown)),
        "created_at": version.created_at,
        "circulated_at": version.circulated_at,
        "published_at": version.published_at,
        "generated": False,
        "placeholders": placeholders.descriptions(version.body_markdown),
    }


def _meeting(user: User | None, meeting_id: int) -> Meeting:
    return meeting_services.get_visible_meeting(user, meeting_id, full=True)


# Who may call, asked before the body is read (``permission_required``).


def _editor(user: User, meeting_id: int) -> None:
    services.require_editor(user, meeting_services.get_visible_meeting(user, meeting_id))


def _asked_to_confirm(user: User, meeting_id: int) -> None:
    services.asked_to_confirm(user, meeting_services.get_visible_meeting(user, meeting_id))


# --- the contract ---------------------------------------------------------------------


@bp.put("/meetings/<int:meeting_id>/minutes")
@bp.doc(**BEARER)
@permission_required(_editor)
@bp.arguments(MinutesBodySchema)
@bp.response(200, MinutesSchema)
@bp.alt_response(409, description="conflict: the meeting has not closed")
def save_minutes(data, meeting_id: int):
    """Save the text as a new draft version (the secretary). The same text as
    the latest draft makes no new version."""
    actor = current_api_user()
    meeting = _meeting(actor, meeting_id)
    version = services.save_version(actor, meeting, data["body_markdown"])
    return _view(version, services.history(meeting))


@bp.get("/meetings/<int:meeting_id>/minutes")
@bp.doc(**BEARER)
@bp.arguments(VersionArgs, location="query")
@bp.response(200, MinutesSchema)
def get_minutes(args, meeting_id: int):
    """The secretary: the latest version (before any is saved, the draft
    written from the meeting's data, ``version: null``). Anyone, without a
    token too: the published text (404 before publication). ``?version=``
    picks an earlier one the caller may read."""
    user = _optional_user()
    meeting = _meeting(user, meeting_id)
    found = services.history(meeting)
    if args["version"] is not None:
        return _view(services.readable_version(user, meeting, args["version"]), found)
    version = services.minutes_for(user, meeting)
    if version is not None:
        return _view(version, found)
    if services.can_edit(user, meeting):
        text = generate_draft(meeting)
        return {
            "meeting_id": meeting.id,
            "version": None,
            "status": None,
            "body_markdown": text,
            "body_html": str(render_markdown(text)),
            "generated": True,
            "placeholders": placeholders.descriptions(text),
        }
    raise NotFound(_("The minutes of this meeting are not published yet."))


@bp.post("/meetings/<int:meeting_id>/minutes/publish")
@bp.doc(**BEARER)
@permission_required(_editor)
@bp.arguments(PublishSchema, required=False)
@bp.response(200, MinutesSchema)
@bp.alt_response(409, description="invalid_transition, conflict, confirmation_needed")
def publish_minutes(data, meeting_id: int):
    """Publish the latest version (the secretary): the meeting becomes
    ``minutes_published`` and the requesters are told the outcome. After
    that, publishing a newer version is a correction. A text with places
    still to write is published only with ``confirm: true`` (else 409
    ``confirmation_needed``); the history records what was left."""
    actor = current_api_user()
    meeting = _meeting(actor, meeting_id)
    found = services.history(meeting)
    latest = found.latest
    if latest is None:
        raise InvalidTransition(_("Nothing to publish: save the minutes first."))
    wanted = (data or {}).get("version")
    version = found.get(wanted) if wanted is not None else latest
    if version is None:
        raise NotFound(_("No such version of the minutes."))
    services.publish(actor, version, with_placeholders=bool((data or {}).get("confirm")))
    return _view(version, services.history(meeting))


@bp.get("/public/minutes")
@bp.arguments(PublicListArgs, location="query")
@bp.response(200, list_schema(PublicMinutesSchema, "PublicMinutesList"))
def list_public_minutes(args):
    """Published minutes, newest first (by first publication), for anyone,
    without a token; ``?community_id=`` for one community."""
    page = paginate(public.published_minutes(args["community_id"]), args)
    page["items"] = [_public_view(version) for version in page["items"]]
    return page


def _public_view(version: MinutesVersion) -> dict[str, Any]:
    """A current published version from ``public.published_minutes``, which
    brings its meeting, community and first publication along: nothing more
    is read per item."""
    meeting = version.meeting
    return {
        **_fields(version, services.VersionStatus.PUBLISHED),
        "meeting_title": meeting.title,
        "community_id": meeting.community_id,
        "community_name": meeting.community.name,
        "starts_at": meeting.starts_at,
        "first_published_at": version.first_published_at or version.published_at,
        "url": external_url("minutes.public_show", meeting_id=meeting.id),
    }


# --- extensions -----------------------------------------------------------------------


@bp.get("/meetings/<int:meeting_id>/minutes/versions")
@bp.doc(**BEARER)
@bp.response(200, list_schema(MinutesSchema, "MinutesVersionList"))
def list_versions(meeting_id: int):
    """The versions the caller may read, oldest first: all for the secretary,
    the published ones (current and superseded) for everyone."""
    user = _optional_user()
    meeting = _meeting(user, meeting_id)
    found = services.history(meeting)
    items = [_view(v, found) for v in found.versions if services.can_read(user, v)]
    return {"items": items, "total": len(items)}


@bp.get("/meetings/<int:meeting_id>/minutes/diff")
@bp.doc(**BEARER)
@bp.arguments(DiffArgs, location="query")
@bp.response(200, DiffSchema)
def diff_versions(args, meeting_id: int):
    """The difference between two versions the caller may read (``?from=&to=``)."""
    user = _optional_user()
    meeting = _meeting(user, meeting_id)
    old = services.readable_version(user, meeting, args["old"])
    new = services.readable_version(user, meeting, args["new"])
    unified = minutes_diff.unified_text(
        old.body_markdown, new.body_markdown, f"version {old.number}", f"version {new.number}"
    )
    return {"old": old.number, "new": new.number, "unified": unified}


@bp.post("/meetings/<int:meeting_id>/minutes/circulate")
@bp.doc(**BEARER)
@permission_required(_editor)
@bp.response(200, ConfirmationListSchema)
@bp.alt_response(409, description="invalid_transition, conflict")
def circulate_minutes(meeting_id: int):
    """Send the latest draft to the attendees to confirm (the secretary)."""
    actor = current_api_user()
    meeting = _meeting(actor, meeting_id)
    latest = services.history(meeting).latest
    if latest is None:
        raise InvalidTransition(_("Nothing to publish: save the minutes first."))
    services.circulate(actor, latest)
    return _confirmations(latest)


def _confirmations(version: MinutesVersion) -> dict[str, Any]:
    counts = services.confirmation_counts(version)
    rows: list[MinutesConfirmation] = sorted(
        version.confirmations, key=lambda c: (c.user.display_name, c.user_id)
    )
    return {
        "version": version.number,
        "items": [
            {
                "user_id": c.user_id,
                "user": c.user,
                "confirmed": c.confirmed_at is not None,
                "comment": c.comment,
                "answered_at": c.answered_at,
            }
            for c in rows
        ],
        "total": counts.asked,
        "confirmed": counts.confirmed,
        "commented": counts.commented,
    }


@bp.get("/meetings/<int:meeting_id>/minutes/confirmations")
@bp.doc(**BEARER)
@permission_required(_editor)
@bp.response(200, ConfirmationListSchema)
def list_confirmations(meeting_id: int):
    """Who has confirmed the draft sent round last, and their comments (the secretary)."""
    actor = current_api_user()
    meeting = _meeting(actor, meeting_id)
    found = services.history(meeting)
    version = found.last_circulated
    if version is None:
        raise NotFound(_("No draft of these minutes has been sent round."))
    return _confirmations(version)


@bp.post("/meetings/<int:meeting_id>/minutes/confirmation")
@bp.doc(**BEARER)
@permission_required(_asked_to_confirm)
@bp.arguments(AnswerSchema)
@bp.response(200, ConfirmationSchema)
@bp.alt_response(404, description="not_found: not asked to confirm")
def answer_minutes(data, meeting_id: int):
    """An attendee asked to confirm: ``{confirmed: true}``, or
    ``{confirmed: false, comment}`` to say what should change."""
    actor = current_api_user()
    meeting = _meeting(actor, meeting_id)
    mine = services.asked_to_confirm(actor, meeting)
    confirmation = services.answer(actor, mine.version, data["confirmed"], data["comment"])
    return {
        "user_id": confirmation.user_id,
        "user": confirmation.user,
        "confirmed": confirmation.confirmed_at is not None,
        "comment": confirmation.comment,
        "answered_at": confirmation.answered_at,
    }
