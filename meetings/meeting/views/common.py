"""What the meeting pages share: the blueprint, lookups with their
permission checks, and small helpers."""

from __future__ import annotations

from flask import Blueprint, abort
from flask_login import current_user

from auth import permissions
from auth.models import Community
from meetings.extensions import db
from meetings.meeting import services
from meetings.meeting.models import AttendeeRole, Meeting
from meetings.meeting.permissions import require_manager

bp = Blueprint("meeting", __name__)

ROLE_ORDER = {role: index for index, role in enumerate(AttendeeRole)}


@bp.app_template_global()
def meeting_when(meeting: Meeting) -> str:
    """Date and time of a meeting in the reader's language and the community's zone."""
    return services.format_when(meeting)


def status_of(form) -> int:
    """422 for a form shown again with its problems."""
    return 422 if form.errors or form.form_errors else 200


def by_role(attendances):
    """In the order of DESIGN.md's roles (CPPCC members first, observers last), then by name."""
    return sorted(attendances, key=lambda a: (ROLE_ORDER[a.role], a.user.display_name, a.id))


def visible_meeting(meeting_id: int, full: bool = False) -> Meeting:
    """The meeting, or 404 for those who may not see it (a draft, to outsiders)."""
    return services.get_visible_meeting(current_user, meeting_id, full=full)


def managed_meeting(meeting_id: int, full: bool = False) -> Meeting:
    """The meeting, for its secretary only (403 for others who may see it)."""
    meeting = visible_meeting(meeting_id, full=full)
    require_manager(current_user, meeting)
    return meeting


def managed_community(community_id: int) -> Community:
    community = db.get_or_404(Community, community_id)
    if not permissions.can_manage(current_user, community):
        abort(403)
    return community
