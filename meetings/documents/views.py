"""Downloads of the documents, with the same permissions as their pages:

- ``/meetings/<id>/minutes.docx``: the minutes as Word. The published text
  for everyone who may see the meeting (as the PDF); before publication the
  latest draft for the meeting's secretary, marked 草稿 / Draft; an earlier
  version (``?version=N``) for whoever may read that version.
- ``/meetings/<id>/sign-in.xlsx``: the sign-in sheet (签到表), for the
  meeting's secretary (as the printable sheet).
- ``/polls/<id>/result.xlsx``: a closed poll's result, for whoever sees the
  result page; the named votes sheet only where the poll page shows them
  (the secretary, a named online poll — never a secret one).
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, request
from flask_babel import gettext as _
from flask_babel import to_user_timezone
from flask_login import current_user, login_required

from meetings.documents import minutes_docx
from meetings.documents.tables import Sheet, csv_response, docx_response, xlsx_response
from meetings.errors import NotAllowed, NotFound
from meetings.extensions import login_manager
from meetings.http import handle_domain_error
from meetings.meeting import services as meeting_services
from meetings.meeting.models import Meeting, MeetingStatus
from meetings.meeting.permissions import can_manage_meeting, can_view_meeting, require_manager
from meetings.meeting.views.common import by_role
from meetings.minutes import services as minutes_services
from meetings.minutes.draft import poll_method
from meetings.minutes.models import MinutesVersion
from meetings.polls import services as poll_services
from meetings.polls.models import Poll, PollStatus

bp = Blueprint("documents", __name__)


@bp.errorhandler(NotAllowed)
def _log_in_first(error: NotAllowed):
    """Someone not logged in is asked to log in (as on the pages); others get the refusal."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return handle_domain_error(error)


def _safe_name(*parts: str) -> str:
    return "-".join(minutes_docx.clean(part) for part in parts).replace("/", "_").replace("\\", "_")


def _person(user) -> str:
    return user.display_name if user is not None else "—"


def _local(moment: datetime | None) -> datetime | None:
    """A stored moment (UTC) in the site's time zone, as Excel shows it (no zone)."""
    return to_user_timezone(moment).replace(tzinfo=None) if moment is not None else None


# --- the minutes as Word ----------------------------------------------------------------


def minutes_version_for(meeting: Meeting) -> tuple[MinutesVersion, bool]:
    """The version this reader downloads, and whether it is a draft; NotFound
    where the PDF and the pages would say there are no minutes to read."""
    number = request.args.get("version", type=int)
    if number is not None:
        version = minutes_services.readable_version(current_user, meeting, number)
        return version, version.published_at is None
    found = minutes_services.history(meeting)
    if meeting.status == MeetingStatus.MINUTES_PUBLISHED and found.current is not None:
        return found.current, False
    if minutes_services.can_edit(current_user, meeting) and found.latest is not None:
        return found.latest, True
    raise NotFound(_("The minutes of this meeting are not published yet."))


@bp.get("/meetings/<int:meeting_id>/minutes.docx")
def minutes_word(meeting_id: int):
    meeting = meeting_services.get_visible_meeting(current_user, meeting_id, full=True)
    version, draft = minutes_version_for(meeting)
    facts = minutes_docx.gather(meeting, version, draft)
    response = docx_response(
        minutes_docx.filename(meeting, version, draft), minutes_docx.build(facts)
    )
    # Cache-Control: the site's default, no-store (a draft is nobody's to keep)
    return response


# --- the sign-in sheet ------------------------------------------------------------------


def sign_in_sheet(meeting: Meeting) -> Sheet:
    attendees = by_role(meeting.attendances)
    caption = [
        f"{meeting.title} · {_('Sign-in sheet (签到表)')}",
        f"{_('Community (社区)')}: {meeting.community.name}",
        f"{_('When')}: {meeting_services.format_when(meeting)}",
        f"{_('Where')}: {meeting.location or _('Online')}",
        f"{_('Host (主持人)')}: {_person(meeting.host)}"
        f" · {_('Recorder (记录人)')}: {_person(meeting.recorder)}",
    ]
    headers = [
        _("No."),
        _("Role"),
        _("Name"),
        _("Vote"),
        _("Answer"),
        _("Presence"),
        _("Check-in time"),
        _("Signature"),
    ]
    rows = [
        [
            number,
            attendance.role.chinese,
            attendance.user.display_name,
            "✓" if attendance.may_vote else "",
            str(attendance.rsvp.label),
            str(attendance.presence.label) if attendance.presence else "",
            _local(attendance.checked_in_at),
            "",
        ]
        for number, attendance in enumerate(attendees, start=1)
    ]
    # room to sign by hand: a wide signature column, tall rows
    return Sheet(_("Sign-in sheet"), headers, rows, caption, widths={7: 18}, row_height=30)


# (xlsx registered first: url_for without a kind builds it)
@bp.get("/meetings/<int:meeting_id>/sign-in.csv", defaults={"kind": "csv"})
@bp.get("/meetings/<int:meeting_id>/sign-in.xlsx", defaults={"kind": "xlsx"})
@login_required
def sign_in_xlsx(meeting_id: int, kind: str):
    """The sign-in sheet as Excel, or as CSV (UTF-8 with a BOM, for Excel in Chinese)."""
    meeting = meeting_services.get_visible_meeting(current_user, meeting_id, full=True)
    require_manager(current_user, meeting)
    name = _safe_name(meeting.community.name, meeting.title, "签到表")
    sheet = sign_in_sheet(meeting)
    if kind == "csv":
        response = csv_response(f"{name}.csv", sheet)
    else:
        response = xlsx_response(f"{name}.xlsx", [sheet])
    return response


# --- a poll's result --------------------------------------------------------------------


def result_poll(poll_id: int) -> Poll:
    """The closed poll whose result page this user may see (404 for a meeting
    they may not see, 403 where the poll is not theirs to see, 409 before it
    has closed), as the result page decides."""
    poll = poll_services.get_poll(poll_id)
    if not can_view_meeting(current_user, poll.meeting):
        raise NotFound(_("No such meeting."))
    poll_services.require_result_visible(current_user, poll)
    return poll


def shows_named_votes(poll: Poll) -> bool:
    """Exactly where the poll page lists who voted what."""
    return (
        poll.status == PollStatus.CLOSED
        and not poll.secret
        and not poll.in_room
        and can_manage_meeting(current_user, poll.meeting)
    )


def result_sheets(poll: Poll) -> list[Sheet]:
    meeting = poll.meeting
    turnout = poll_services.turnout(poll)
    caption = [
        f"{_('Result: %(title)s', title=poll.title)}",
        f"{meeting.title} · {meeting_services.format_when(meeting)}",
        f"{_('Method')}: {poll_method(poll)}",
        f"{_('Eligible')}: {turnout.eligible} · {_('Voted')}: {turnout.cast}",
        f"{_('Result')}: {minutes_docx.outcome_text(poll)}",
    ]
    if turnout.by_proxy or turnout.assisted:
        caption.append(
            _(
                "Of the ballots: %(proxy)d by a proxy, %(assisted)d recorded by the secretary.",
                proxy=turnout.by_proxy,
                assisted=turnout.assisted,
            )
        )
    cast = poll.cast_count or 0
    rows = [
        [
            option.shown_label,
            option.votes or 0,
            round(100 * (option.votes or 0) / cast, 1) if cast else 0.0,
            "✓" if option.won else "",
        ]
        for option in poll.options
    ]
    sheets = [
        Sheet(_("Result"), [_("Option"), _("Votes"), _("Percent"), _("Chosen")], rows, caption)
    ]
    if shows_named_votes(poll):
        labels = {option.id: option.shown_label for option in poll.options}
        named = [
            [user.display_name, "、".join(labels[i] for i in option_ids)]
            for user, option_ids in poll_services.named_votes(current_user, poll)
        ]
        sheets.append(Sheet(_("Named votes"), [_("Name"), _("Choice")], named))
    return sheets


@bp.get("/polls/<int:poll_id>/result.csv", defaults={"kind": "csv"})
@bp.get("/polls/<int:poll_id>/result.xlsx", defaults={"kind": "xlsx"})
def poll_result_xlsx(poll_id: int, kind: str):
    """The result as Excel (with the named votes where the poll page shows
    them), or its counts as CSV."""
    poll = result_poll(poll_id)
    name = _safe_name(poll.meeting.title, poll.title, "表决结果")
    sheets = result_sheets(poll)
    if kind == "csv":
        response = csv_response(f"{name}.csv", sheets[0])
    else:
        response = xlsx_response(f"{name}.xlsx", sheets)
    return response
