"""Verbs over attendances (参会): invitations with a role and voting right,
RSVP, check-in (by the secretary or by QR code) and the quorum."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from auth import permissions
from auth.models import Community, User
from meetings.audit.services import record
from meetings.dbtypes import utcnow
from meetings.errors import Conflict, NotAllowed, ValidationFailed
from meetings.extensions import db
from meetings.meeting import checkin
from meetings.meeting.models import (
    PLANNING_STATUSES,
    Attendance,
    AttendeeRole,
    Meeting,
    MeetingStatus,
    Presence,
    Rsvp,
)
from meetings.meeting.permissions import (
    require_attendee,
    require_attendee_or_manager,
    require_manager,
)
from meetings.meeting.services.common import get_meeting, require_status
from meetings.meeting.services.meetings import send_invitation
from meetings.organisation import roles
from meetings.organisation.models import UnitKind
from meetings.room.live import attendance_counts, publish

# Invitations can be made until the meeting ends (walk-ins are invited at the door).
INVITING_STATUSES = {MeetingStatus.DRAFT, MeetingStatus.SCHEDULED, MeetingStatus.IN_PROGRESS}
# Presence is marked at the meeting, and corrected afterwards until the minutes are out.
PRESENCE_STATUSES = {MeetingStatus.IN_PROGRESS, MeetingStatus.CLOSED}
RSVP_STATUSES = {MeetingStatus.SCHEDULED, MeetingStatus.IN_PROGRESS}


@dataclass(frozen=True)
class Invitation:
    user: User
    role: AttendeeRole | str | None = None  # None: the person's usual role (``default_roles``)
    may_vote: bool | None = None  # None: every role but observer votes


def _role_or_error(role: AttendeeRole | str) -> AttendeeRole:
    try:
        return AttendeeRole(role)
    except ValueError:
        message = _("Please choose a role.")
        raise ValidationFailed(message, {"role": [message]}) from None


def default_role(places: roles.Places) -> AttendeeRole:
    """The role an invitation pre-fills: the standing role in the community;
    else street official for the street office's staff, property
    representative for a property company's member; else resident
    representative."""
    if places.standing_role:
        try:
            return AttendeeRole(places.standing_role)
        except ValueError:
            pass
    if places.street_staff:
        return AttendeeRole.STREET_OFFICIAL
    if UnitKind.PROPERTY_COMPANY in places.unit_kinds:
        return AttendeeRole.PROPERTY_REP
    return AttendeeRole.RESIDENT_REP


def default_roles(community: Community, user_ids: Iterable[int]) -> dict[int, AttendeeRole]:
    """``default_role`` of each of these people in the community (three queries)."""
    return {
        user_id: default_role(places)
        for user_id, places in roles.places_in(community, user_ids).items()
    }


def _not_invitable(user: User, community: Community) -> str:
    return _(
        "%(name)s is not a member of %(community)s, of its street office or of a unit serving it.",
        name=user.display_name,
        community=community.name,
    )


def invite(actor: User, meeting: Meeting, invitations: Iterable[Invitation]) -> list[Attendance]:
    """Invite people, each with a role: members of the community, the staff
    of its street's office, members of the units serving it. Without a role,
    their usual one (``default_role``). Invitees of an announced meeting are
    told at once; those of a draft when it is scheduled."""
    require_manager(actor, meeting)
    require_status(
        meeting,
        INVITING_STATUSES,
        _("Invitations can be made only until the meeting has ended."),
    )
    invitations = list(invitations)
    if not invitations:
        message = _("Please choose at least one person.")
        raise ValidationFailed(message, {"user_id": [message]})
    already = {a.user_id for a in meeting.attendances}
    community = meeting.community
    places = roles.places_in(community, [i.user.id for i in invitations])
    problems: list[str] = []
    chosen: list[AttendeeRole] = []
    for invitation in invitations:
        user = invitation.user
        place = places[user.id]
        if invitation.role is None or invitation.role == "":
            chosen.append(default_role(place))
        else:
            chosen.append(_role_or_error(invitation.role))
        if not place.invitable or not user.is_active:
            problems.append(_not_invitable(user, community))
    if problems:
        raise ValidationFailed(problems[0], {"user_id": problems})
    duplicates = [i.user for i in invitations if i.user.id in already]
    if duplicates or len({i.user.id for i in invitations}) != len(invitations):
        names = ", ".join(user.display_name for user in duplicates) or _("the same person twice")
        message = _("Already invited: %(names)s.", names=names)
        raise Conflict(message, {"user_id": [message]})

    attendances = []
    announced = meeting.status != MeetingStatus.DRAFT
    for invitation, role in zip(invitations, chosen, strict=True):
        may_vote = role.votes_by_default if invitation.may_vote is None else invitation.may_vote
        attendance = Attendance(
            meeting=meeting,
            user=invitation.user,
            role=role,
            may_vote=may_vote,
            rsvp=Rsvp.INVITED,
            invited_at=utcnow(),
            invited_by_id=actor.id,
        )
        db.session.add(attendance)
        attendances.append(attendance)
    db.session.flush()
    for attendance in attendances:
        record(
            actor,
            "attendance.invited",
            attendance,
            meeting_id=meeting.id,
            user_id=attendance.user_id,
            role=attendance.role.value,
            may_vote=attendance.may_vote,
        )
        if announced:
            send_invitation(attendance)
    db.session.flush()
    return attendances


# --- the same people as an earlier meeting ----------------------------------------------


@dataclass(frozen=True)
class Skipped:
    user: User
    reason: str  # "already_invited" | "not_invitable"


@dataclass
class CopyPlan:
    """Who an earlier meeting's invitations would add (with the role they had
    then) and who would be left out, and why."""

    source: Meeting
    invitations: list[Invitation]
    skipped: list[Skipped]


def earlier_meetings(meeting: Meeting, limit: int = 20) -> list[Meeting]:
    """The community's other meetings that invited someone, latest first: the
    choice of "invite the same people as"."""
    has_attendees = db.select(Attendance.id).where(Attendance.meeting_id == Meeting.id).exists()
    return list(
        db.session.scalars(
            db.select(Meeting)
            .where(
                Meeting.community_id == meeting.community_id,
                Meeting.id != meeting.id,
                has_attendees,
            )
            .order_by(Meeting.starts_at.desc(), Meeting.id.desc())
            .limit(limit)
        )
    )


def plan_copy(actor: User, meeting: Meeting, source: Meeting) -> CopyPlan:
    """What ``copy_invitations`` would do, without doing it (the page that
    asks to confirm)."""
    require_manager(actor, meeting)
    if source.community_id != meeting.community_id or source.id == meeting.id:
        message = _("Please choose an earlier meeting of the same community.")
        raise ValidationFailed(message, {"from_meeting_id": [message]})
    already = {a.user_id for a in meeting.attendances}
    earlier = db.session.scalars(
        db.select(Attendance)
        .where(Attendance.meeting_id == source.id)
        .order_by(Attendance.id)
        .options(selectinload(Attendance.user))
    ).all()
    places = roles.places_in(meeting.community, [a.user_id for a in earlier])
    invitations, skipped = [], []
    for attendance in earlier:
        user = attendance.user
        if user.id in already:
            skipped.append(Skipped(user, "already_invited"))
        elif not user.is_active or not places[user.id].invitable:
            skipped.append(Skipped(user, "not_invitable"))
        else:
            invitations.append(Invitation(user, attendance.role, attendance.may_vote))
    return CopyPlan(source, invitations, skipped)


def copy_invitations(
    actor: User, meeting: Meeting, source: Meeting
) -> tuple[list[Attendance], list[Skipped]]:
    """Invite the people of an earlier meeting of the community, each with
    the role and voting right they had then; those already invited, or no
    longer a member, street staff or unit member of the community, are
    skipped."""
    require_manager(actor, meeting)
    require_status(
        meeting,
        INVITING_STATUSES,
        _("Invitations can be made only until the meeting has ended."),
    )
    plan = plan_copy(actor, meeting, source)
    added = invite(actor, meeting, plan.invitations) if plan.invitations else []
    if added:
        record(
            actor,
            "attendance.copied",
            meeting,
            from_meeting_id=source.id,
            added=[a.user_id for a in added],
            skipped=[s.user.id for s in plan.skipped],
        )
    return added, plan.skipped


def update_attendance(
    actor: User,
    attendance: Attendance,
    role: AttendeeRole | str | None = None,
    may_vote: bool | None = None,
) -> Attendance:
    """The secretary changes an attendee's role or voting right."""
    meeting = attendance.meeting
    require_manager(actor, meeting)
    require_status(
        meeting,
        INVITING_STATUSES,
        _("Roles and voting rights can be changed only until the meeting has ended."),
    )
    changed = {}
    if role is not None:
        role = _role_or_error(role)
        if role != attendance.role:
            changed["role"] = role.value
            attendance.role = role
    if may_vote is not None and may_vote != attendance.may_vote:
        changed["may_vote"] = may_vote
        attendance.may_vote = may_vote
    if changed:
        db.session.flush()
        record(actor, "attendance.updated", attendance, meeting_id=meeting.id, **changed)
    return attendance


def remove_attendance(actor: User, attendance: Attendance) -> None:
    """Take back an invitation while the meeting is still being planned."""
    meeting = attendance.meeting
    require_manager(actor, meeting)
    require_status(
        meeting,
        set(PLANNING_STATUSES),
        _("An invitation can be taken back only before the meeting begins."),
    )
    record(
        actor, "attendance.removed", attendance, meeting_id=meeting.id, user_id=attendance.user_id
    )
    meeting.attendances.remove(attendance)
    db.session.flush()


def set_rsvp(actor: User, attendance: Attendance, rsvp: Rsvp | str) -> Attendance:
    """The attendee answers their invitation (the secretary may record a reply
    given by phone)."""
    meeting = attendance.meeting
    require_attendee_or_manager(actor, meeting, attendance.user_id)
    try:
        rsvp = Rsvp(rsvp)
    except ValueError:
        rsvp = None
    if rsvp not in (Rsvp.ACCEPTED, Rsvp.DECLINED):
        message = _("Please answer “accepted” or “declined”.")
        raise ValidationFailed(message, {"rsvp": [message]})
    require_status(
        meeting,
        RSVP_STATUSES,
        _("Invitations can be answered only once the meeting is scheduled and until it ends."),
    )
    if attendance.rsvp != rsvp:
        attendance.rsvp = rsvp
        attendance.rsvp_at = utcnow()
        db.session.flush()
        record(actor, "attendance.rsvp", attendance, meeting_id=meeting.id, rsvp=rsvp.value)
    return attendance


def mark_presence(actor: User, attendance: Attendance, presence: Presence | str) -> Attendance:
    """The secretary marks an attendee present, absent or excused (请假)."""
    meeting = attendance.meeting
    require_manager(actor, meeting)
    try:
        presence = Presence(presence)
    except ValueError:
        message = _("Please choose present, absent or excused.")
        raise ValidationFailed(message, {"presence": [message]})
    require_status(
        meeting,
        PRESENCE_STATUSES,
        _("Presence is marked once the meeting has begun."),
    )
    if attendance.presence == presence:
        return attendance
    attendance.presence = presence
    if presence == Presence.PRESENT:
        attendance.checked_in_at = attendance.checked_in_at or utcnow()
        attendance.checked_in_by_id = attendance.checked_in_by_id or actor.id
    else:
        attendance.checked_in_at = None
        attendance.checked_in_by_id = None
    db.session.flush()
    record(
        actor,
        "attendance.checked_in" if presence == Presence.PRESENT else "attendance.presence",
        attendance,
        meeting_id=meeting.id,
        user_id=attendance.user_id,
        presence=presence.value,
        method="secretary",
    )
    _publish_checkin(meeting)
    return attendance


def check_in_preview(user: User | None, token: str) -> Attendance:
    """Everything ``check_in_with_token`` checks, without checking in: for the
    page that asks the attendee to confirm. Refused: an expired or forged
    code, someone else's code, a meeting that is not in progress."""
    claim = checkin.read_token(token)
    if not permissions.is_authenticated(user) or user.id != claim.user_id:
        raise NotAllowed(
            _(
                "This check-in code belongs to another attendee. Please scan the code "
                "shown next to your own name, logged in with your own account."
            )
        )
    meeting = get_meeting(claim.meeting_id)
    require_attendee(user, meeting)
    attendance = meeting.attendance_of(user)
    if meeting.status != MeetingStatus.IN_PROGRESS:
        raise Conflict(_("Check-in is open only while the meeting is in progress."))
    return attendance


def check_in_with_token(user: User, token: str) -> Attendance:
    """The attendee scanned their QR code: check them in, from their own
    account only, while the meeting is in progress."""
    attendance = check_in_preview(user, token)
    if attendance.presence == Presence.PRESENT:
        return attendance
    attendance.presence = Presence.PRESENT
    attendance.checked_in_at = utcnow()
    attendance.checked_in_by_id = user.id
    db.session.flush()
    record(
        user,
        "attendance.checked_in",
        attendance,
        meeting_id=attendance.meeting_id,
        user_id=user.id,
        presence=Presence.PRESENT.value,
        method="qr",
    )
    _publish_checkin(attendance.meeting)
    return attendance


def _publish_checkin(meeting: Meeting) -> None:
    """The room's attendance moved: its counts to the live stream."""
    publish(meeting.id, "checkin", attendance_counts(meeting.id))


# --- the quorum -----------------------------------------------------------------------


@dataclass(frozen=True)
class Quorum:
    """法定人数: voting attendees present out of voting attendees invited."""

    voting_present: int
    voting_invited: int
    present: int
    invited: int
    accepted: int
    declined: int

    @property
    def percent(self) -> int:
        if not self.voting_invited:
            return 0
        return round(100 * self.voting_present / self.voting_invited)

    @property
    def has_majority(self) -> bool:
        """More than half of the voting attendees are present."""
        return self.voting_present * 2 > self.voting_invited


def quorum(meeting: Meeting) -> Quorum:
    """Counted over the meeting's (loaded) attendances."""
    attendances = meeting.attendances
    voting = [a for a in attendances if a.may_vote]
    return Quorum(
        voting_present=sum(1 for a in voting if a.presence == Presence.PRESENT),
        voting_invited=len(voting),
        present=sum(1 for a in attendances if a.presence == Presence.PRESENT),
        invited=len(attendances),
        accepted=sum(1 for a in attendances if a.rsvp == Rsvp.ACCEPTED),
        declined=sum(1 for a in attendances if a.rsvp == Rsvp.DECLINED),
    )
