"""The secretary's dashboard, the public and participant lists, the meeting
page and its .ics file, creating, editing and moving a meeting through its states."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from auth import permissions
from auth.models import Community
from auth.services import managed_communities
from meetings.errors import DomainError
from meetings.extensions import db
from meetings.meeting import calendar, services
from meetings.meeting.forms import CancelForm, MeetingForm, RsvpForm, TransitionForm
from meetings.meeting.links import external_url
from meetings.meeting.models import Meeting, MeetingStatus
from meetings.meeting.permissions import (
    can_manage_meeting,
    is_insider,
    require_attendee,
    require_meeting_creator,
)
from meetings.meeting.views.common import (
    bp,
    by_role,
    managed_community,
    managed_meeting,
    status_of,
    visible_meeting,
)
from meetings.polls import queries as poll_queries
from meetings.requests import services as request_services
from meetings.requests.models import RequestStatus
from meetings.web import refused

# --- the secretary's dashboard --------------------------------------------------------


@bp.get("/dashboard")
@login_required
def dashboard_index():
    communities = managed_communities(current_user)
    if not communities:
        abort(403)
    if len(communities) == 1:
        return redirect(url_for("meeting.dashboard", community_id=communities[0].id))
    return render_template("meeting/dashboard_index.html", communities=communities)


@bp.get("/communities/<int:community_id>/dashboard")
@login_required
def dashboard(community_id: int):
    community = managed_community(community_id)
    waiting = request_services.inbox(community, status=RequestStatus.SUBMITTED)
    return render_template(
        "meeting/dashboard.html",
        community=community,
        waiting=waiting[:10],
        waiting_count=len(waiting),
        overdue_count=sum(1 for item in waiting if item.is_overdue),
        upcoming=services.community_meetings(
            community,
            [MeetingStatus.DRAFT, MeetingStatus.SCHEDULED, MeetingStatus.IN_PROGRESS],
        ),
        minutes_due=services.community_meetings(community, [MeetingStatus.CLOSED]),
        recent=services.recent_meetings(community),
        quorum=services.quorum,
    )


# --- public and participant lists -----------------------------------------------------


@bp.get("/communities/<int:community_id>/meetings")
def public_list(community_id: int):
    """Announced meetings of a community that have not ended: open to all."""
    community = db.get_or_404(Community, community_id)
    return render_template(
        "meeting/public_list.html",
        community=community,
        meetings=services.upcoming_public(community),
        can_manage=permissions.can_manage(current_user, community),
    )


@bp.get("/my/meetings")
@login_required
def my_meetings():
    return render_template(
        "meeting/my_meetings.html",
        attendances=services.my_attendances(current_user),
        waiting_polls=poll_queries.polls_waiting_for(current_user),
    )


@bp.post("/meetings/<int:meeting_id>/rsvp")
@login_required
def rsvp(meeting_id: int):
    meeting = visible_meeting(meeting_id)
    require_attendee(current_user, meeting)
    attendance = meeting.attendance_of(current_user)
    form = RsvpForm()
    if form.validate_on_submit():
        try:
            services.set_rsvp(current_user, attendance, form.rsvp.data)
        except DomainError as error:
            refused(error)
        else:
            if form.rsvp.data == "accepted":
                flash(
                    _("Thank you: you are coming to “%(title)s”.", title=meeting.title), "success"
                )
            else:
                flash(
                    _("Thank you: you are not coming to “%(title)s”.", title=meeting.title), "info"
                )
    return redirect(url_for("meeting.show", meeting_id=meeting.id))


# --- the meeting page -----------------------------------------------------------------


def _render_show(meeting: Meeting, status: int = 200):
    insider = is_insider(current_user, meeting)
    return render_template(
        "meeting/show.html",
        meeting=meeting,
        is_manager=can_manage_meeting(current_user, meeting),
        insider=insider,
        mine=meeting.attendance_of(current_user),
        attendees=by_role(meeting.attendances),
        quorum=services.quorum(meeting),
        deliberation=poll_queries.meeting_deliberation(current_user, meeting),
    ), status


@bp.get("/meetings/<int:meeting_id>")
def show(meeting_id: int):
    return _render_show(visible_meeting(meeting_id, full=True))


@bp.get("/meetings/<int:meeting_id>/calendar.ics")
def ics(meeting_id: int):
    meeting = visible_meeting(meeting_id, full=True)
    body = calendar.meeting_ics(
        meeting,
        external_url("meeting.show", meeting_id=meeting.id),
        show_online_link=is_insider(current_user, meeting),
    )
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="meeting-{meeting.id}.ics"'},
    )


# --- creating and editing -------------------------------------------------------------


@bp.route("/communities/<int:community_id>/meetings/new", methods=["GET", "POST"])
@login_required
def new(community_id: int):
    community = db.get_or_404(Community, community_id)
    require_meeting_creator(current_user, community)
    form = MeetingForm(services.members_for_choice(community), services.candidate_topics(community))
    if form.validate_on_submit():
        try:
            meeting = services.create_meeting(current_user, community, **form.values())
        except DomainError as error:
            refused(error, form)
        else:
            flash(_("Meeting “%(title)s” created as a draft.", title=meeting.title), "success")
            return redirect(url_for("meeting.agenda", meeting_id=meeting.id))
    return render_template(
        "meeting/form.html", form=form, community=community, meeting=None
    ), status_of(form)


@bp.route("/meetings/<int:meeting_id>/edit", methods=["GET", "POST"])
@login_required
def edit(meeting_id: int):
    meeting = managed_meeting(meeting_id)
    community = meeting.community
    form = MeetingForm(
        services.members_for_choice(community),
        services.candidate_topics(community, meeting),
        data={
            "title": meeting.title,
            "request_ids": meeting.request_ids,
            "starts_at": services.as_local(meeting.starts_at),
            "ends_at": services.as_local(meeting.ends_at),
            "location": meeting.location,
            "online_url": meeting.online_url,
            "description": meeting.description,
            "host_id": meeting.host_id or 0,
            "recorder_id": meeting.recorder_id or 0,
        },
    )
    if form.validate_on_submit():
        try:
            services.update_meeting(current_user, meeting, **form.values())
        except DomainError as error:
            refused(error, form)
        else:
            flash(_("Meeting saved."), "success")
            return redirect(url_for("meeting.show", meeting_id=meeting.id))
    return render_template(
        "meeting/form.html", form=form, community=community, meeting=meeting
    ), status_of(form)


@bp.post("/meetings/<int:meeting_id>/transition")
@login_required
def transition(meeting_id: int):
    """Schedule, start or close (cancelling asks for a reason: ``cancel``)."""
    meeting = managed_meeting(meeting_id)
    form = TransitionForm()
    if not form.validate_on_submit():
        abort(400)
    if form.to.data == MeetingStatus.CANCELLED:
        return redirect(url_for("meeting.cancel", meeting_id=meeting.id))
    try:
        services.transition_meeting(current_user, meeting, form.to.data)
    except DomainError as error:
        refused(error)
        return _render_show(visible_meeting(meeting_id, full=True), error.status)
    flash(
        _("The meeting is now “%(status)s”.", status=meeting.status.label),
        "success",
    )
    return redirect(url_for("meeting.show", meeting_id=meeting.id))


@bp.route("/meetings/<int:meeting_id>/cancel", methods=["GET", "POST"])
@login_required
def cancel(meeting_id: int):
    meeting = managed_meeting(meeting_id)
    form = CancelForm()
    if form.validate_on_submit():
        try:
            services.transition_meeting(
                current_user, meeting, MeetingStatus.CANCELLED, form.reason.data
            )
        except DomainError as error:
            refused(error, form)
            return render_template("meeting/cancel.html", meeting=meeting, form=form), error.status
        flash(_("The meeting is cancelled; everyone invited has been told."), "info")
        return redirect(url_for("meeting.show", meeting_id=meeting.id))
    return render_template("meeting/cancel.html", meeting=meeting, form=form), status_of(form)
