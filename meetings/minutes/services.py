"""Verbs over the minutes (会议纪要): save a version, send a draft round to the
attendees (纪要确认), confirm or comment on it, publish, correct. They check
permissions and state, flush, audit and notify; the caller commits.

Versions are never edited: each save is a new one. Publishing freezes a
version and makes it public; the first publication moves the meeting to
``minutes_published`` and answers the residents whose requests were on the
agenda (件件有回音). A correction is a later version published in its turn;
the earlier one stays readable, marked superseded.

Notifications on publication, exactly once per publication: the first tells
each requester the outcome of their requests (one notification per
requester, however many of their requests were on the agenda); a correction
tells them that the minutes were corrected. A version is published at most
once (a guarded UPDATE), so a repeated or concurrent click notifies nobody
twice.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from flask import current_app
from flask_babel import LazyString, force_locale, format_date, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from auth.models import User
from meetings.audit.services import record
from meetings.dbtypes import utcnow
from meetings.errors import (
    ConfirmationNeeded,
    Conflict,
    InvalidTransition,
    NotAllowed,
    NotFound,
    ValidationFailed,
)
from meetings.extensions import db
from meetings.meeting import services as meeting_services
from meetings.meeting.models import Meeting, MeetingStatus, Presence, Rsvp
from meetings.meeting.permissions import (
    can_manage_meeting,
    can_view_meeting,
    is_insider,
    require_manager,
)
from meetings.minutes.draft import is_chinese
from meetings.minutes.facts import agenda_requests, resolutions_for, resolutions_of
from meetings.minutes.models import MinutesConfirmation, MinutesVersion
from meetings.minutes.placeholders import descriptions as placeholder_descriptions
from meetings.notifications.services import notify
from meetings.projects.models import Decision, Project, Resolution
from meetings.requests import services as request_services
from meetings.requests.models import RequestStatus, ResidentRequest

BODY_MAX = 100_000
COMMENT_MAX = 4_000
# Minutes are written once the meeting is over, and corrected after publication.
WRITABLE = frozenset({MeetingStatus.CLOSED, MeetingStatus.MINUTES_PUBLISHED})

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class VersionStatus(enum.StrEnum):
    DRAFT = "draft"  # saved, seen by the secretary only
    CIRCULATED = "circulated"  # sent to the attendees to confirm
    PUBLISHED = "published"  # the public text
    SUPERSEDED = "superseded"  # published, then corrected by a later version

    @property
    def label(self):
        return VERSION_STATUS_LABELS[self]


VERSION_STATUS_LABELS = {
    VersionStatus.DRAFT: _l("Draft"),
    VersionStatus.CIRCULATED: _l("Sent to the attendees"),
    VersionStatus.PUBLISHED: _l("Published"),
    VersionStatus.SUPERSEDED: _l("Superseded"),
}


# --- reading ----------------------------------------------------------------------------


@dataclass
class History:
    """All versions of one meeting's minutes, oldest first."""

    meeting: Meeting
    versions: list[MinutesVersion]

    @property
    def latest(self) -> MinutesVersion | None:
        return self.versions[-1] if self.versions else None

    @property
    def published(self) -> list[MinutesVersion]:
        return [v for v in self.versions if v.published_at is not None]

    @property
    def current(self) -> MinutesVersion | None:
        """The public text: the latest published version."""
        published = self.published
        return published[-1] if published else None

    @property
    def draft(self) -> MinutesVersion | None:
        """The latest version, if it is not published yet."""
        latest = self.latest
        return latest if latest is not None and latest.published_at is None else None

    @property
    def circulated(self) -> MinutesVersion | None:
        """The draft the attendees were last asked to confirm, while unpublished."""
        for version in reversed(self.versions):
            if version.published_at is not None:
                return None
            if version.circulated_at is not None:
                return version
        return None

    @property
    def last_circulated(self) -> MinutesVersion | None:
        """The latest version ever sent round, published since or not."""
        return next((v for v in reversed(self.versions) if v.circulated_at is not None), None)

    def get(self, number: int) -> MinutesVersion | None:
        return next((v for v in self.versions if v.number == number), None)

    def status(self, version: MinutesVersion) -> VersionStatus:
        if version.published_at is not None:
            current = self.current
            if current is not None and current.number > version.number:
                return VersionStatus.SUPERSEDED
            return VersionStatus.PUBLISHED
        if version.circulated_at is not None:
            return VersionStatus.CIRCULATED
        return VersionStatus.DRAFT

    def superseded_by(self, version: MinutesVersion) -> MinutesVersion | None:
        """The published version that replaced this published one."""
        if version.published_at is None:
            return None
        return next((v for v in self.published if v.number > version.number), None)


def history(meeting: Meeting) -> History:
    versions = db.session.scalars(
        db.select(MinutesVersion)
        .where(MinutesVersion.meeting_id == meeting.id)
        .order_by(MinutesVersion.number)
        .options(
            joinedload(MinutesVersion.created_by),
            joinedload(MinutesVersion.published_by),
            selectinload(MinutesVersion.confirmations).joinedload(MinutesConfirmation.user),
        )
    ).unique()
    return History(meeting, list(versions))


def can_edit(user: User | None, meeting: Meeting) -> bool:
    """The minutes are the secretary's to write, send round and publish."""
    return can_manage_meeting(user, meeting)


def require_editor(user: User | None, meeting: Meeting) -> None:
    """``can_edit``, or NotAllowed (the secretary's rule for the meeting)."""
    require_manager(user, meeting)


def can_read(user: User | None, version: MinutesVersion) -> bool:
    """Published versions (current or superseded) are public; drafts are the
    secretary's, and a draft sent round is also its attendees'."""
    meeting = version.meeting
    if can_manage_meeting(user, meeting):
        return True
    if version.published_at is not None:
        return can_view_meeting(user, meeting)
    return version.circulated_at is not None and is_insider(user, meeting)


def readable_version(user: User | None, meeting: Meeting, number: int) -> MinutesVersion:
    """Version ``number``, or NotFound for those who may not read it."""
    version = db.session.scalar(
        db.select(MinutesVersion).where(
            MinutesVersion.meeting_id == meeting.id, MinutesVersion.number == number
        )
    )
    if version is None or not can_read(user, version):
        raise NotFound(_("No such version of the minutes."))
    return version


def minutes_for(user: User | None, meeting: Meeting) -> MinutesVersion | None:
    """What this reader gets as "the minutes": the secretary the latest
    version, everyone else the published text."""
    found = history(meeting)
    if can_edit(user, meeting):
        return found.latest
    return found.current


# --- saving -----------------------------------------------------------------------------


def _require_writable(meeting: Meeting) -> None:
    if meeting.status not in WRITABLE:
        raise Conflict(_("The minutes are written once the meeting has closed."))


def clean_body(body: str | None) -> str:
    """Line endings made plain, control characters dropped, trailing space cut."""
    text = (body or "").replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text).rstrip() + "\n"


def _checked_body(body: str | None) -> str:
    text = clean_body(body)
    if not text.strip():
        message = _("Please write the minutes.")
        raise ValidationFailed(message, {"body_markdown": [message]})
    if len(text) > BODY_MAX:
        message = _("At most %(n)d characters.", n=BODY_MAX)
        raise ValidationFailed(message, {"body_markdown": [message]})
    return text


def save_version(actor: User, meeting: Meeting, body: str | None) -> MinutesVersion:
    """A new version with this text. Saving the text of the latest draft
    unchanged makes no new version: that draft is returned."""
    require_editor(actor, meeting)
    _require_writable(meeting)
    text = _checked_body(body)
    latest = history(meeting).latest
    if latest is not None and latest.published_at is None and latest.body_markdown == text:
        return latest
    version = MinutesVersion(
        meeting=meeting,
        number=(latest.number if latest else 0) + 1,
        body_markdown=text,
        created_by=actor,
        created_at=utcnow(),
    )
    try:
        with db.session.begin_nested():
            db.session.add(version)
            db.session.flush()
    except IntegrityError:
        raise Conflict(
            _("Someone else saved the minutes just now. Please look at them again.")
        ) from None
    record(actor, "minutes.saved", version, meeting_id=meeting.id, number=version.number)
    return version


# --- sending round and confirming (纪要确认) -------------------------------------------


def circulation_list(meeting: Meeting, actor: User | None = None) -> list[User]:
    """Who is asked to confirm: the attendees who were there (everyone
    invited who did not decline and was not excused, if nobody was marked
    present: the close marks those not marked absent, and a meeting held
    with a paper sign-in sheet has none marked present), not the secretary
    sending it."""
    attendances = meeting.attendances
    chosen = [a for a in attendances if a.presence == Presence.PRESENT] or [
        a for a in attendances if a.rsvp != Rsvp.DECLINED and a.presence in (None, Presence.ABSENT)
    ]
    return [a.user for a in chosen if actor is None or a.user_id != actor.id]


def confirm_link(meeting: Meeting) -> str:
    return f"/meetings/{meeting.id}/minutes/confirm"


def public_link(meeting: Meeting) -> str:
    return f"/minutes/{meeting.id}"


def circulate(actor: User, version: MinutesVersion) -> list[MinutesConfirmation]:
    """Send the draft to the attendees to confirm or comment on."""
    meeting = version.meeting
    require_editor(actor, meeting)
    _require_writable(meeting)
    found = history(meeting)
    if version.published_at is not None:
        raise InvalidTransition(_("This version is already published."))
    if found.latest is not None and found.latest.id != version.id:
        raise Conflict(_("There is a newer version; send that one round."))
    if version.circulated_at is not None:
        raise InvalidTransition(_("This version has already been sent round."))
    people = circulation_list(meeting, actor)
    if not people:
        raise Conflict(_("There is nobody to send the minutes to: no attendee was present."))
    now = utcnow()
    version.circulated_at = now
    confirmations = [MinutesConfirmation(version=version, user=user) for user in people]
    db.session.add_all(confirmations)
    db.session.flush()
    record(actor, "minutes.circulated", version, number=version.number, to=len(people))
    for user in people:
        notify(
            user,
            "minutes.circulated",
            _l("Please check the draft minutes of “%(title)s”", title=meeting.title),
            _l(
                "The secretary has sent round the draft minutes (version %(number)d). "
                "Please confirm them, or say what should change.",
                number=version.number,
            ),
            confirm_link(meeting),
        )
    return confirmations


def my_confirmation(user: User | None, meeting: Meeting) -> MinutesConfirmation | None:
    """The user's place on the latest draft sent round, if they were asked."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    version = history(meeting).circulated
    if version is None:
        return None
    return next((c for c in version.confirmations if c.user_id == user.id), None)


def asked_to_confirm(user: User | None, meeting: Meeting) -> MinutesConfirmation:
    """``my_confirmation``, or NotFound for those not asked (nothing to see there)."""
    mine = my_confirmation(user, meeting)
    if mine is None:
        raise NotFound(_("You have not been asked to confirm minutes of this meeting."))
    return mine


def answer(
    actor: User, version: MinutesVersion, confirmed: bool, comment: str | None = None
) -> MinutesConfirmation:
    """An attendee confirms the draft (with an optional remark), or comments
    on it without confirming. The answer can be changed until publication."""
    confirmation = next((c for c in version.confirmations if c.user_id == actor.id), None)
    if confirmation is None:
        raise NotAllowed(_("You were not asked to confirm these minutes."))
    if version.published_at is not None:
        raise InvalidTransition(_("These minutes are already published."))
    if history(version.meeting).circulated is not version:
        raise Conflict(_("A newer draft has been sent round; please look at that one."))
    comment = (comment or "").strip() or None
    if not confirmed and comment is None:
        message = _("Please say what should change.")
        raise ValidationFailed(message, {"comment": [message]})
    if comment is not None and len(comment) > COMMENT_MAX:
        message = _("At most %(n)d characters.", n=COMMENT_MAX)
        raise ValidationFailed(message, {"comment": [message]})
    now = utcnow()
    confirmation.confirmed_at = now if confirmed else None
    confirmation.comment = comment
    confirmation.answered_at = now
    db.session.flush()
    record(
        actor,
        "minutes.confirmed" if confirmed else "minutes.commented",
        version,
        number=version.number,
    )
    author = version.created_by
    if comment is not None and author is not None and author.id != actor.id:
        meeting = version.meeting
        notify(
            author,
            "minutes.commented",
            _l(
                "%(name)s commented on the draft minutes of “%(title)s”",
                name=actor.display_name,
                title=meeting.title,
            ),
            comment,
            f"/meetings/{meeting.id}/minutes",
        )
    return confirmation


@dataclass
class ConfirmationCounts:
    asked: int
    confirmed: int
    commented: int

    @property
    def waiting(self) -> int:
        return self.asked - self.confirmed - self.commented


def confirmation_counts(version: MinutesVersion) -> ConfirmationCounts:
    rows = version.confirmations
    confirmed = sum(1 for c in rows if c.confirmed_at is not None)
    commented = sum(1 for c in rows if c.confirmed_at is None and c.comment)
    return ConfirmationCounts(len(rows), confirmed, commented)


# --- publishing --------------------------------------------------------------------------


def placeholder_refusal(left: list[str]) -> ConfirmationNeeded:
    """Why a text with places still to write is not published without a word."""
    return ConfirmationNeeded(
        ngettext(
            "%(num)d place in these minutes is still to write: %(places)s. "
            "Write it, or confirm that the minutes are published anyway.",
            "%(num)d places in these minutes are still to write: %(places)s. "
            "Write them, or confirm that the minutes are published anyway.",
            len(left),
            places=("、" if is_chinese() else "; ").join(left),
        ),
        {"placeholders": left},
    )


def publish(
    actor: User, version: MinutesVersion, *, with_placeholders: bool = False
) -> MinutesVersion:
    """Freeze this version and make it public. The first publication moves
    the meeting to ``minutes_published`` and answers the requesters; a later
    one is a correction and tells them the text changed.

    A text that still has places marked as to write (the draft's
    ``【待填写：…】``) is refused with ConfirmationNeeded unless the secretary
    confirms (``with_placeholders``); the history then records what was left."""
    meeting = version.meeting
    require_editor(actor, meeting)
    _require_writable(meeting)
    if version.published_at is not None:
        raise InvalidTransition(_("This version is already published."))
    latest = history(meeting).latest
    if latest is not None and latest.id != version.id:
        raise Conflict(
            _("There is a newer version (%(number)d); publish that one.", number=latest.number)
        )
    left = placeholder_descriptions(version.body_markdown)
    if left and not with_placeholders:
        raise placeholder_refusal(left)
    first = meeting.status == MeetingStatus.CLOSED
    now = utcnow()
    result = db.session.execute(
        db.update(MinutesVersion)
        .where(MinutesVersion.id == version.id, MinutesVersion.published_at.is_(None))
        .values(published_at=now, published_by_id=actor.id)
        .execution_options(synchronize_session="evaluate")
    )
    if result.rowcount != 1:
        raise InvalidTransition(_("Someone else published these minutes just now."))
    # The row is frozen from now on (a trigger refuses updates of published
    # minutes): the session learns the new values without a change to flush.
    db.session.expire(version, ["published_by"])
    if first:
        meeting_services.mark_minutes_published(actor, meeting)
    db.session.flush()
    record(
        actor,
        "minutes.published" if first else "minutes.corrected",
        version,
        meeting_id=meeting.id,
        number=version.number,
    )
    if left:
        record(
            actor,
            "minutes.published_with_placeholders",
            version,
            meeting_id=meeting.id,
            number=version.number,
            placeholders=left,
        )
    if first:
        answer_requesters(actor, meeting)
    else:
        _notify_correction(meeting, version)
    return version


def correct(
    actor: User, meeting: Meeting, body: str | None, *, with_placeholders: bool = False
) -> MinutesVersion:
    """After publication: save the corrected text and publish it at once."""
    if meeting.status != MeetingStatus.MINUTES_PUBLISHED:
        raise InvalidTransition(_("Only published minutes can be corrected."))
    return publish(actor, save_version(actor, meeting, body), with_placeholders=with_placeholders)


# --- answering the residents (件件有回音) ------------------------------------------------


def _plain_project(project: Project) -> str:
    parts = [
        _("Project: %(title)s", title=project.title),
        _("responsible: %(unit)s", unit=project.responsible_unit),
    ]
    if project.due_date is not None:
        parts.append(_("due %(date)s", date=format_date(project.due_date, "long")))
    return ("；" if is_chinese() else "; ").join(parts)


def outcome_text(resolutions: list[Resolution]) -> str:
    """The resolutions as one line each, in the current language."""
    lines = []
    for resolution in resolutions:
        line = _(
            "%(decision)s: %(text)s",
            decision=Decision(resolution.decision).label,
            text=resolution.text,
        )
        if resolution.conditions:
            line += " " + _("Conditions: %(text)s", text=resolution.conditions)
        if resolution.project is not None:
            line += " " + _plain_project(resolution.project)
        lines.append(line)
    return "\n".join(lines)


def _projects(resolutions: list[Resolution]) -> list[Project]:
    found: dict[int, Project] = {}
    for resolution in resolutions:
        if resolution.project is not None and resolution.decision == Decision.ADOPTED:
            found.setdefault(resolution.project.id, resolution.project)
    return list(found.values())


def _public_reply(meeting: Meeting, resolutions: list[Resolution], follows: bool) -> str:
    """The request's public reply, in the community's language."""
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        text = _(
            "The consultation meeting “%(title)s” decided:\n%(outcome)s",
            title=meeting.title,
            outcome=outcome_text(resolutions),
        )
        if follows:
            text += "\n" + _("The request is closed when the project is completed.")
        return text


def _settle(actor: User, meeting: Meeting, item: ResidentRequest, resolutions: list[Resolution]):
    """A deliberated request that the meeting decided on becomes resolved,
    with the decision as its public reply; it is handled at once (waiting for
    the resident's rating) unless a project follows (the project's
    completion hands it over)."""
    if not resolutions or item.status not in (RequestStatus.DELIBERATED, RequestStatus.RESOLVED):
        return
    projects = _projects(resolutions)
    reply = _public_reply(meeting, resolutions, follows=bool(projects))
    if item.status == RequestStatus.DELIBERATED:
        request_services.transition(item, RequestStatus.RESOLVED, actor, reply)
    item.reply = reply
    item.replied_at = utcnow()
    item.replied_by = actor
    for project in projects:
        if item not in project.requests:
            project.requests.append(item)
    db.session.flush()
    if not projects:
        with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
            message = _("Answered by the minutes of “%(title)s”.", title=meeting.title)
        item.handled_at = item.replied_at
        request_services.transition(item, RequestStatus.HANDLED, actor, message)


def _requester_body(meeting_title: str, entries: list[tuple[str, list[Resolution]]]) -> str:
    """The notification's text, rendered in the requester's language."""
    parts = [
        _(
            "The minutes of the consultation meeting “%(title)s” are published.",
            title=meeting_title,
        )
    ]
    for title, resolutions in entries:
        if resolutions:
            parts.append(
                _("Your request “%(title)s”:", title=title) + "\n" + outcome_text(resolutions)
            )
            if _projects(resolutions):
                parts.append(_("It is closed when the project is completed."))
        else:
            parts.append(
                _(
                    "Your request “%(title)s” was discussed; the minutes say what follows.",
                    title=title,
                )
            )
    return "\n\n".join(parts)


def answer_requesters(actor: User, meeting: Meeting) -> None:
    """Settle each request that was on the agenda and tell each requester,
    once, the outcome of theirs, with a link to the minutes."""
    resolutions = resolutions_of(meeting)
    by_requester: dict[int, list[ResidentRequest]] = {}
    outcomes: dict[int, list[Resolution]] = {}
    for item in agenda_requests(meeting):
        outcomes[item.id] = resolutions_for(item, meeting, resolutions)
        _settle(actor, meeting, item, outcomes[item.id])
        if item.requester_id is not None:  # a resident without an account is not told here
            by_requester.setdefault(item.requester_id, []).append(item)
    for items in by_requester.values():
        entries = [(item.title, outcomes[item.id]) for item in items]
        notify(
            items[0].requester,
            "minutes.published",
            _l(
                "Your request has an answer: minutes of “%(title)s” published",
                title=meeting.title,
            ),
            LazyString(_requester_body, meeting.title, entries),
            public_link(meeting),
        )


def _notify_correction(meeting: Meeting, version: MinutesVersion) -> None:
    requesters = {
        item.requester_id: item.requester
        for item in agenda_requests(meeting)
        if item.requester is not None
    }
    for user in requesters.values():
        notify(
            user,
            "minutes.corrected",
            _l("Corrected minutes: “%(title)s”", title=meeting.title),
            _l(
                "The minutes of the consultation meeting “%(title)s”, which dealt with your "
                "request, were corrected (version %(number)d). The earlier text stays readable.",
                title=meeting.title,
                number=version.number,
            ),
            public_link(meeting),
        )
