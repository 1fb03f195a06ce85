"""Attendees (参会): invitations, roles and voting rights; check-in by the
secretary's phone list or by each attendee's QR code; the sign-in sheet."""

from __future__ import annotations

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from meetings.dbtypes import database_id
from meetings.errors import DomainError, NotAllowed
from meetings.main.paging import page_arg
from meetings.meeting import checkin, services
from meetings.meeting.forms import (
    AttendanceForm,
    ConfirmForm,
    CopyChoiceForm,
    CopyConfirmForm,
    InviteForm,
    MemberSearchForm,
    PresenceForm,
)
from meetings.meeting.links import external_url
from meetings.meeting.models import AttendeeRole, Meeting, MeetingStatus, Presence
from meetings.meeting.views.common import bp, by_role, managed_meeting, status_of
from meetings.web import refused

# --- attendees ------------------------------------------------------------------------


def _render_attendees(
    meeting: Meeting, form: InviteForm, search: MemberSearchForm, page, status: int = 200
):
    return render_template(
        "meeting/attendees.html",
        meeting=meeting,
        form=form,
        search=search,
        page=page,
        copy_form=CopyChoiceForm(
            services.earlier_meetings(meeting), services.format_when, formdata=None
        ),
        attendees=by_role(meeting.attendances),
        quorum=services.quorum(meeting),
        # translated once, not once per attendee
        roles=[(role.value, str(role.label)) for role in AttendeeRole],
    ), status


@bp.route("/meetings/<int:meeting_id>/attendees", methods=["GET", "POST"])
@login_required
def attendees(meeting_id: int):
    """The invited, and a page of those who may be invited and are not yet
    (members, the street office's staff, members of units serving the
    community; found by ``?q=``, a name, username or phone) to check and
    invite, each with their usual role pre-filled."""
    meeting = managed_meeting(meeting_id, full=True)
    search = MemberSearchForm(formdata=request.args)
    query = search.q.data if search.validate() else None
    form = InviteForm()
    page = None
    if form.is_submitted():
        # the rows posted: their people, in one query
        form.fill(services.users_by_ids(form.posted_user_ids()))
    else:
        page = services.invitable_members(meeting, query, page_arg())
        form.fill(
            page.items,
            services.default_roles(meeting.community, [user.id for user in page.items]),
        )
    if form.validate_on_submit():
        invitations = _invitations_from(form)
        try:
            services.invite(current_user, meeting, invitations)
        except DomainError as error:
            refused(error, form)
            meeting = managed_meeting(meeting_id, full=True)
            return _render_attendees(meeting, form, search, page, error.status)
        flash(_("%(n)d invited.", n=len(invitations)), "success")
        return redirect(url_for("meeting.attendees", meeting_id=meeting.id))
    return _render_attendees(meeting, form, search, page, status_of(form))


def _invitations_from(form: InviteForm) -> list[services.Invitation]:
    """The checked rows with their roles (none: the person's usual role)."""
    invitations = []
    for row in form.rows:
        if not row.selected.data:
            continue
        user = form.people.get(row.user_id.data or "")
        if user is None:
            continue
        role = form.role_for_all.data or row.role.data or None
        invitations.append(services.Invitation(user=user, role=role))
    return invitations


@bp.route("/meetings/<int:meeting_id>/attendees/copy", methods=["GET", "POST"])
@login_required
def copy_attendees(meeting_id: int):
    """Invite the same people as an earlier meeting: the page lists who will
    be added (with the role they had then) and who not, and asks to confirm."""
    meeting = managed_meeting(meeting_id, full=True)
    source_id = request.values.get("from_meeting_id", 0, type=database_id)
    if not source_id:
        flash(_("Please choose an earlier meeting."), "error")
        return redirect(url_for("meeting.attendees", meeting_id=meeting.id, _anchor="copy"))
    source = services.get_visible_meeting(current_user, source_id)
    form = CopyConfirmForm(from_meeting_id=source.id)
    try:
        if form.validate_on_submit():
            added, skipped = services.copy_invitations(current_user, meeting, source)
            flash(
                _("%(n)d invited, %(m)d left out.", n=len(added), m=len(skipped)),
                "success" if added else "info",
            )
            return redirect(url_for("meeting.attendees", meeting_id=meeting.id))
        plan = services.plan_copy(current_user, meeting, source)
    except DomainError as error:
        refused(error)
        return redirect(url_for("meeting.attendees", meeting_id=meeting.id))
    return render_template("meeting/attendees_copy.html", meeting=meeting, plan=plan, form=form)


@bp.post("/meetings/<int:meeting_id>/attendees/<int:user_id>")
@login_required
def update_attendee(meeting_id: int, user_id: int):
    meeting = managed_meeting(meeting_id)
    attendance = services.get_attendance(meeting, user_id)
    form = AttendanceForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.update_attendance(
            current_user, attendance, role=form.role.data, may_vote=form.may_vote.data
        )
    except DomainError as error:
        refused(error)
    else:
        flash(_("%(name)s: saved.", name=attendance.user.display_name), "success")
    return redirect(url_for("meeting.attendees", meeting_id=meeting.id))


@bp.post("/meetings/<int:meeting_id>/attendees/<int:user_id>/remove")
@login_required
def remove_attendee(meeting_id: int, user_id: int):
    meeting = managed_meeting(meeting_id)
    attendance = services.get_attendance(meeting, user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    name = attendance.user.display_name
    try:
        services.remove_attendance(current_user, attendance)
    except DomainError as error:
        refused(error)
    else:
        flash(_("The invitation of %(name)s is taken back.", name=name), "info")
    return redirect(url_for("meeting.attendees", meeting_id=meeting.id))


# --- check-in -------------------------------------------------------------------------


def _render_checkin(meeting: Meeting, status: int = 200):
    return render_template(
        "meeting/checkin.html",
        meeting=meeting,
        attendees=by_role(meeting.attendances),
        quorum=services.quorum(meeting),
        Presence=Presence,
    ), status


@bp.get("/meetings/<int:meeting_id>/checkin")
@login_required
def checkin_list(meeting_id: int):
    """The secretary's check-in list, made for a phone at the door."""
    return _render_checkin(managed_meeting(meeting_id, full=True))


@bp.post("/meetings/<int:meeting_id>/checkin/<int:user_id>")
@login_required
def mark_presence(meeting_id: int, user_id: int):
    meeting = managed_meeting(meeting_id)
    attendance = services.get_attendance(meeting, user_id)
    form = PresenceForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.mark_presence(current_user, attendance, form.presence.data)
    except DomainError as error:
        refused(error)
        return _render_checkin(managed_meeting(meeting_id, full=True), error.status)
    return redirect(
        url_for("meeting.checkin_list", meeting_id=meeting.id, _anchor=f"attendee-{user_id}")
    )


def _checkin_url(meeting: Meeting, user_id: int) -> str:
    token = checkin.make_token(meeting.id, user_id)
    return external_url("meeting.scan", token=token)


def _require_in_progress(meeting: Meeting) -> None:
    if meeting.status != MeetingStatus.IN_PROGRESS:
        raise NotAllowed(_("QR codes for check-in are shown while the meeting is in progress."))


@bp.get("/meetings/<int:meeting_id>/checkin/codes")
@login_required
def checkin_codes(meeting_id: int):
    """Every attendee's QR code on one page, to show or print at the venue."""
    meeting = managed_meeting(meeting_id, full=True)
    _require_in_progress(meeting)
    return render_template(
        "meeting/checkin_codes.html",
        meeting=meeting,
        attendees=by_role(meeting.attendances),
        refresh_seconds=min(checkin.max_age() // 2, 15 * 60),
    )


@bp.get("/meetings/<int:meeting_id>/checkin/<int:user_id>/qr")
@login_required
def checkin_qr(meeting_id: int, user_id: int):
    """One attendee's QR code, large, for them to scan from the secretary's screen."""
    meeting = managed_meeting(meeting_id)
    attendance = services.get_attendance(meeting, user_id)
    _require_in_progress(meeting)
    return render_template(
        "meeting/checkin_qr.html",
        meeting=meeting,
        attendance=attendance,
        refresh_seconds=min(checkin.max_age() // 2, 15 * 60),
    )


@bp.get("/meetings/<int:meeting_id>/checkin/<int:user_id>/qr.svg")
@login_required
def checkin_qr_svg(meeting_id: int, user_id: int):
    meeting = managed_meeting(meeting_id)
    attendance = services.get_attendance(meeting, user_id)
    _require_in_progress(meeting)
    svg = checkin.qr_svg(
        _checkin_url(meeting, attendance.user_id),
        title=_("Check-in code of %(name)s", name=attendance.user.display_name),
    )
    return Response(svg, mimetype="image/svg+xml", headers={"Cache-Control": "no-store"})


@bp.route("/checkin/<token>", methods=["GET", "POST"])
@login_required
def scan(token: str):
    """Where an attendee's QR code leads: one tap to check in. An expired
    code, someone else's code or a meeting not in progress get a clear page."""
    form = ConfirmForm()
    try:
        attendance = services.check_in_preview(current_user, token)
        if form.validate_on_submit():
            services.check_in_with_token(current_user, token)
            flash(_("You are checked in. Welcome!"), "success")
            return redirect(url_for("meeting.show", meeting_id=attendance.meeting_id))
    except DomainError as error:
        # A page of its own, with a way on to one's meetings; its 4xx status rolls back.
        return render_template("meeting/checkin_refused.html", message=error.message), error.status
    return render_template(
        "meeting/checkin_scan.html", meeting=attendance.meeting, attendance=attendance, form=form
    )


# --- the sign-in sheet ----------------------------------------------------------------


@bp.get("/meetings/<int:meeting_id>/sign-in-sheet")
@login_required
def sign_in_sheet(meeting_id: int):
    """签到表: attendees by role with a column to sign, for printing."""
    meeting = managed_meeting(meeting_id, full=True)
    return render_template(
        "meeting/sign_in_sheet.html",
        meeting=meeting,
        attendees=by_role(meeting.attendances),
        timezone=current_app.config["TIMEZONE"],
    )
