"""What the minutes pages share: the blueprint and lookups."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, url_for
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


# --- the secretary's tabs ----------------------------------------------------------------


@dataclass
class MinutesTab:
    """One tab of the secretary's minutes pages: a link, or (``reason``) a
    tab shown but not usable yet, saying why and when it will be."""

    endpoint: str
    label: str
    url: str
    reason: str | None = None

    @property
    def usable(self) -> bool:
        return self.reason is None


def not_writable_reason(meeting: Meeting) -> str | None:
    """Why the minutes cannot be written yet (None once the meeting is over)."""
    if meeting.status in services.WRITABLE:
        return None
    if meeting.status == MeetingStatus.CANCELLED:
        return _("The meeting was cancelled: it has no minutes.")
    if meeting.status == MeetingStatus.IN_PROGRESS:
        return _(
            "Available once the meeting is closed: it is under way now. "
            "Close it on the meeting page when it ends."
        )
    return _(
        "Available once the meeting is closed: it is planned for %(when)s.",
        when=meeting_services.format_when(meeting),
    )


def not_publishable_reason(meeting: Meeting, history: services.History) -> str | None:
    """Why there is nothing to publish (None when there is a draft to publish)."""
    reason = not_writable_reason(meeting)
    if reason is not None:
        return reason
    if history.draft is not None:
        return None
    if history.latest is None:
        return _("Available once a version of the minutes is saved.")
    return _("Available once a correction is saved: the latest version is published.")


@bp.app_template_global()
def minutes_tabs(meeting: Meeting, history: services.History) -> list[MinutesTab]:
    """The secretary's tabs. "Compare versions" appears with a second version."""
    here = {"meeting_id": meeting.id}
    tabs = [
        MinutesTab("meeting.show", _("Meeting page"), url_for("meeting.show", **here)),
        MinutesTab("minutes.manage", _("Minutes"), url_for("minutes.manage", **here)),
        MinutesTab(
            "minutes.edit",
            _("Write"),
            url_for("minutes.edit", meeting_id=meeting.id),
            not_writable_reason(meeting),
        ),
    ]
    if len(history.versions) >= 2:
        tabs.append(
            MinutesTab(
                "minutes.diff",
                _("Compare versions"),
                url_for("minutes.diff", meeting_id=meeting.id),
            )
        )
    tabs.append(
        MinutesTab(
            "minutes.publish",
            _("Publish"),
            url_for("minutes.publish", meeting_id=meeting.id),
            not_publishable_reason(meeting, history),
        )
    )
    return tabs
