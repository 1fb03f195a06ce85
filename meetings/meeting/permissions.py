"""Who may see and do what with a meeting and its polls, for the views, the
API and the services alike.

``can_*`` and ``is_*`` answer yes or no (for templates and menus); each
``require_*`` raises ``NotAllowed`` with the one message for that rule. The
web views and the API handlers call the same ``require_*`` before they read a
form or a body, and the services call them again inside, so a rule and its
message live here once.
"""

from __future__ import annotations

from flask_babel import gettext as _

from auth import permissions
from auth.models import Community, User
from meetings.errors import NotAllowed
from meetings.meeting.models import Meeting, MeetingStatus


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


def can_see_deliberation(user: User | None, meeting: Meeting) -> bool:
    """Proposals, comments and polls: insiders; everyone once the minutes are out."""
    if is_insider(user, meeting):
        return True
    return meeting.status == MeetingStatus.MINUTES_PUBLISHED and can_view_meeting(user, meeting)


def require_manager(user: User | None, meeting: Meeting) -> None:
    if not can_manage_meeting(user, meeting):
        raise NotAllowed(_("Only the community's secretary may do this."))


def require_insider(user: User | None, meeting: Meeting) -> None:
    """Attendees and the secretary take part in the deliberation."""
    if not is_insider(user, meeting):
        raise NotAllowed(_("Only the meeting's attendees and its secretary may do this."))


def require_deliberation_visible(user: User | None, meeting: Meeting) -> None:
    if not can_see_deliberation(user, meeting):
        raise NotAllowed(_("Only the meeting's attendees and its secretary may see this."))


def require_meeting_creator(user: User | None, community: Community | None = None) -> None:
    """Creating a meeting in this community (its secretary, or an
    administrator); without a community (the API, before the body names it),
    in some community."""
    allowed = (
        permissions.can_manage(user, community)
        if community is not None
        else permissions.manages_any_community(user)
    )
    if not allowed:
        raise NotAllowed(_("Only the community's secretary may create meetings."))


def require_attendee(user: User | None, meeting: Meeting) -> None:
    """Answering one's invitation, checking in: the invited only."""
    if not is_attendee(user, meeting):
        raise NotAllowed(_("You are not invited to this meeting."))


def require_attendee_or_manager(user: User | None, meeting: Meeting, attendee_id: int) -> None:
    """An attendance is changed by the person invited or by the secretary."""
    is_self = permissions.is_authenticated(user) and user.id == attendee_id
    if not is_self and not can_manage_meeting(user, meeting):
        raise NotAllowed(_("Only the invited person and the secretary may change this."))
