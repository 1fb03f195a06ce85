"""What the minutes pages share: the blueprint and lookups."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint
from flask_babel import gettext as _
from flask_login import current_user

from meetings.errors import NotFound
from meetings.meeting import services as meeting_services
from meetings.meeting.models import Meeting, MeetingStatus
from meetings.minutes import services
from meetings.minutes.models import MinutesVersion
from meetings.minutes.render import render_markdown

bp = Blueprint("minutes", __name__)

bp.add_app_template_filter(render_markdown, "markdown")


@bp.app_template_global()
def minutes_status(history: services.History, version: MinutesVersion) -> services.VersionStatus:
    return history.status(version)


def visible_meeting(meeting_id: int) -> Meeting:
    return meeting_services.get_visible_meeting(current_user, meeting_id, full=True)


def managed_meeting(meeting_id: int) -> Meeting:
    """The meeting, for its secretary only (403 for others who may see it)."""
    meeting = visible_meeting(meeting_id)
    services.require_editor(current_user, meeting)
    return meeting


def published_version(
    meeting_id: int, number: int | None
) -> tuple[MinutesVersion, services.History]:
    """A published version (the current one by default), for everyone."""
    meeting = meeting_services.get_visible_meeting(current_user, meeting_id, full=True)
    found = services.history(meeting)
    if meeting.status != MeetingStatus.MINUTES_PUBLISHED or found.current is None:
        raise NotFound(_("The minutes of this meeting are not published yet."))
    version = found.current if number is None else found.get(number)
    if version is None or version.published_at is None:
        raise NotFound(_("No such version of the minutes."))
    return version, found


@dataclass
class MinutesPanel:
    published: bool
    can_write: bool
    to_confirm: bool


@bp.app_template_global()
def minutes_panel(meeting: Meeting) -> MinutesPanel:
    """Where the meeting's minutes stand, for the meeting page's reader."""
    published = meeting.status == MeetingStatus.MINUTES_PUBLISHED
    mine = None if published else services.my_confirmation(current_user, meeting)
    return MinutesPanel(
        published=published,
        can_write=meeting.status == MeetingStatus.CLOSED
        and services.can_edit(current_user, meeting),
        to_confirm=mine is not None,
    )
