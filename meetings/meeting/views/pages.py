"""The secretary's dashboard, the public and participant lists, the meeting
page and its .ics file, creating, editing and moving a meeting through its states."""

from __future__ import annotations

from flask import Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from auth import permissions
from auth.models import Community
from auth.services import managed_communities
from meetings.dbtypes import utcnow
from meetings.errors import ConfirmationNeeded, DomainError
from meetings.extensions import db
from meetings.main.paging import page_arg
from meetings.meeting import calendar, services
from meetings.meeting.forms import (
    CancelForm,
    MeetingForm,
    RsvpForm,
    TransitionForm,
    topic_choices,
)
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
from meetings.requests import orders
from meetings.requests import services as request_services
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


DASHBOARD_WAITING = 10


@bp.get("/communities/<int:community_id>/dashboard")
@login_required
def dashboard(community_id: int):
    """The secretary's desk: the first requests waiting for a reply (the rest
    in the inbox), the meetings coming up and those whose minutes are due,
    and the past meetings a page at a time."""
    community = managed_community(community_id)
    waiting = request_services.inbox(community, waiting_only=True, per_page=DASHBOARD_WAITING)
    upcoming, more_upcoming = services.community_meetings(
        community, [MeetingStatus.DRAFT, MeetingStatus.SCHEDULED, MeetingStatus.IN_PROGRESS]
    )
    minutes_due, more_minutes_due = services.community_meetings(community, [MeetingStatus.CLOSED])
    return render_template(
        "meeting/dashboard.html",
        community=community,
        waiting=waiting.items,
        counts=request_services.inbox_counts(community),
        order_counts=orders.order_counts(community),
        upcoming=upcoming,
        more_upcoming=more_upcoming,
        minutes_due=minutes_due,
        more_minutes_due=more_minutes_due,
        recent=services.recent_meetings(community, page_arg()),
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
    """The participant's meetings still to come (all of them), the polls
    waiting for their vote, and their past meetings a page at a time."""
    page = page_arg()
    return render_template(
        "meeting/my_meetings.html",
        upcoming=services.my_upcoming(current_user) if page == 1 else [],
        past=services.my_past(current_user, page),
        waiting_polls=poll_queries.polls_waiting_for(current_user) if page == 1 else [],
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


def _meeting_form(community: Community, meeting: Meeting | None = None, **kwargs) -> MeetingForm:
    """The meeting form, its topic checkboxes the meeting's topics and the
    first candidates; topics checked in the posted form (found by the topic
    search) are listed too, should the form come back with errors."""
    topics, more = services.candidate_topics(community, meeting)
    form = MeetingForm(community, topics, more, **kwargs)
    listed = {topic.id for topic in topics}
    posted = [i for i in form.request_ids.data or [] if isinstance(i, int) and i not in listed]
    if posted:
        form.request_ids.choices += topic_choices(services.topics_by_ids(community, posted))
    return form


@bp.route("/communities/<int:community_id>/meetings/new", methods=["GET", "POST"])
@login_required
def new(community_id: int):
    community = db.get_or_404(Community, community_id)
    require_meeting_creator(current_user, community)
    form = _meeting_form(community)
    if form.validate_on_submit():
        try:
            meeting = services.create_meeting(current_user, community, **form.values())
        except DomainError as error:
            refused(error, form, PERSON_FIELDS)
        else:
            flash(_("Meeting “%(title)s” created as a draft.", title=meeting.title), "success")
            return redirect(url_for("meeting.agenda", meeting_id=meeting.id))
    return render_template(
        "meeting/form.html", form=form, community=community, meeting=None
    ), status_of(form)


# The services name the people by id; the form's fields take what was typed.
PERSON_FIELDS = {"host_id": "host", "recorder_id": "recorder"}


@bp.route("/meetings/<int:meeting_id>/edit", methods=["GET", "POST"])
@login_required
def edit(meeting_id: int):
    meeting = managed_meeting(meeting_id)
    community = meeting.community
    form = _meeting_form(
        community,
        meeting,
        data={
            "title": meeting.title,
            "request_ids": meeting.request_ids,
            "starts_at": services.as_local(meeting.starts_at),
            "ends_at": services.as_local(meeting.ends_at),
            "location": meeting.location,
            "online_url": meeting.online_url,
            "description": meeting.description,
            "host": meeting.host.username if meeting.host else "",
            "recorder": meeting.recorder.username if meeting.recorder else "",
        },
    )
    if form.validate_on_submit():
        try:
            services.update_meeting(current_user, meeting, **form.values())
        except DomainError as error:
            refused(error, form, PERSON_FIELDS)
        else:
            flash(_("Meeting saved."), "success")
            return redirect(url_for("meeting.show", meeting_id=meeting.id))
    return render_template(
        "meeting/form.html", form=form, community=community, meeting=meeting
    ), status_of(form)


@bp.get("/communities/<int:community_id>/topics")
@login_required
def find_topics(community_id: int):
    """The topic picker's search (``static/js/picker.js``): requests of the
    community that may become topics, by title or number (``?q=``)."""
    community = managed_community(community_id)
    found, more = services.find_topics(community, request.args.get("q"))
    return jsonify(
        items=[
            {"id": item.id, "title": item.title, "status_label": str(item.status.label)}
            for item in found
        ],
        more=more,
    )


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
        services.transition_meeting(
            current_user, meeting, form.to.data, confirmed=form.confirm.data == "1"
        )
    except ConfirmationNeeded as error:
        return render_template(
            "meeting/transition_confirm.html",
            meeting=meeting,
            to=MeetingStatus(form.to.data),
            question=error.message,
            unmarked=services.unmarked_attendances(meeting),
            now=utcnow(),
        )
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
