"""Who may see and do what with a meeting, for the views and the API alike."""

from __future__ import annotations

from auth import permissions
from auth.models import User
from meetings.meeting.models import Meeting


def can_manage_meeting(user: User | None, meeting: Meeting) -> bool:
    """The community's secretary (or an administrator) runs the meeting."""
    return permissions.can_manage(user, meeting.community)


def is_attendee(user: User | None, meeting: Meeting) -> bool:
    return meeting.attendance_of(user) is not None


def is_insider(user: User | None, meeting: Meeting) -> bool:
    """Secretary, attendee, host or recorder: sees everything about the meeting."""
    if can_manage_meeting(user, meeting) or is_attendee(user, meeting):
        return True
    return permissions.is_authenticated(user) and user.id in (
        meeting.host_id,
        meeting.recorder_id,
    )


def can_view_meeting(user: User | None, meeting: Meeting) -> bool:
    """Insiders always; everyone else (even without an account) once announced."""
    return is_insider(user, meeting) or meeting.is_public
