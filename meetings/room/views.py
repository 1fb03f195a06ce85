"""Pages of the meeting room (issue 16): the big screen (投屏) shown by a
link without a login, the secretary's remote control on a phone, and the
attendee's "ask for the floor" (申请发言).

Thin views over ``meetings.room.services`` (the same verbs as the API)."""

from __future__ import annotations

import base64

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from meetings.errors import DomainError
from meetings.extensions import db
from meetings.meeting import checkin
from meetings.meeting import services as meeting_services
from meetings.meeting.links import external_url
from meetings.meeting.models import Meeting, MeetingStatus
from meetings.meeting.permissions import can_manage_meeting, require_manager
from meetings.polls import services as poll_services
from meetings.polls.models import Poll, PollStatus
from meetings.room import services
from meetings.room.forms import (
    ActionForm,
    AddSpeakerForm,
    AgendaItemChoiceForm,
    RoomSettingsForm,
    ScreenLinkForm,
)
from meetings.room.screen import clock, screen_state
from meetings.web import refused, safe_next

bp = Blueprint("room", __name__)

# How often the big screen asks for fresh content without the live stream.
POLL_SECONDS = 3


@bp.app_template_global()
def speakers_queue(meeting: Meeting) -> services.SpeakerQueue:
    """The meeting page's "ask for the floor" card: the queue, to find one's place."""
    return services.speaker_queue(meeting)


bp.add_app_template_filter(clock, "clock")


# --- the big screen -------------------------------------------------------------------


def _screen_meeting(token: str) -> Meeting:
    meeting = services.meeting_for_screen_token(token)
    if meeting is None:
        abort(404)
    return meeting


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.get("/screen/<token>")
def screen(token: str):
    """The room's screen at 1920×1080: no login, names and roles only."""
    meeting = _screen_meeting(token)
    meeting_url = external_url("meeting.show", meeting_id=meeting.id)
    # our own SVG as a data: address (the CSP allows it): no second request
    svg = checkin.qr_svg(meeting_url, scale=8).encode()
    qr = "data:image/svg+xml;base64," + base64.b64encode(svg).decode()
    response = render_template(
        "room/screen.html",
        state=screen_state(meeting.id),
        token=token,
        qr=qr,
        meeting_url=meeting_url,
        poll_seconds=POLL_SECONDS,
    )
    return _no_store(make_response(response))


@bp.get("/screen/<token>/body")
def screen_body(token: str):
    """The screen's changing part, fetched by static/js/screen.js."""
    meeting = _screen_meeting(token)
    return _no_store(
        make_response(render_template("room/_screen_body.html", state=screen_state(meeting.id)))
    )


# --- the secretary's remote control ---------------------------------------------------


def _managed(meeting_id: int) -> Meeting:
    meeting = meeting_services.get_visible_meeting(current_user, meeting_id, full=True)
    require_manager(current_user, meeting)
    return meeting


def _polls_to_drive(meeting: Meeting) -> list[Poll]:
    """The polls of the item under way, and any poll open elsewhere."""
    item_ids = [item.id for item in meeting.agenda_items]
    if not item_ids:
        return []
    polls = db.session.scalars(
        db.select(Poll).where(Poll.agenda_item_id.in_(item_ids)).order_by(Poll.id)
    )
    current = meeting.current_agenda_item_id
    return [p for p in polls if p.agenda_item_id == current or p.status == PollStatus.OPEN]


def _render_room(meeting: Meeting, status: int = 200, **forms):
    attendances = services.attendees_for_picker(meeting)
    context = {
        "meeting": meeting,
        "state": screen_state(meeting.id),
        "queue": services.speaker_queue(meeting),
        "polls": _polls_to_drive(meeting),
        "links": services.active_screen_links(meeting),
        "action_form": ActionForm(formdata=None),
        "link_form": forms.get("link_form") or ScreenLinkForm(formdata=None),
        "speaker_form": forms.get("speaker_form") or AddSpeakerForm(attendances, formdata=None),
        "item_form": forms.get("item_form")
        or AgendaItemChoiceForm(
            meeting.agenda_items,
            formdata=None,
            data={"agenda_item_id": meeting.current_agenda_item_id},
        ),
        "settings_form": forms.get("settings_form")
        or RoomSettingsForm(
            formdata=None,
            data={
                "speaking_limit_seconds": meeting.speaking_limit_seconds,
                "allow_proxies": meeting.allow_proxies,
                "max_proxies_per_person": meeting.max_proxies_per_person,
            },
        ),
        "new_link": forms.get("new_link"),
        "in_progress": meeting.status == MeetingStatus.IN_PROGRESS,
    }
    return render_template("room/remote.html", **context), status


def _back(meeting: Meeting):
    return redirect(url_for("room.remote", meeting_id=meeting.id))


@bp.get("/meetings/<int:meeting_id>/room")
@login_required
def remote(meeting_id: int):
    """The secretary's remote control for the room (a phone, 360 px)."""
    return _render_room(_managed(meeting_id))


def _action(meeting_id: int, verb, targets=None, done: str | None = None):
    """A button of the remote control: check the CSRF token, call one verb
    (with ``targets(meeting)``, or the meeting), say what happened or why
    not, back to the remote."""
    meeting = _managed(meeting_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        verb(current_user, *(targets(meeting) if targets else (meeting,)))
    except DomainError as error:
        refused(error)
    else:
        if done:
            flash(done, "success")
    return _back(meeting)


@bp.post("/meetings/<int:meeting_id>/room/agenda/next")
@login_required
def next_item(meeting_id: int):
    return _action(meeting_id, services.next_agenda_item)


@bp.post("/meetings/<int:meeting_id>/room/agenda")
@login_required
def choose_item(meeting_id: int):
    meeting = _managed(meeting_id)
    form = AgendaItemChoiceForm(meeting.agenda_items)
    if form.validate_on_submit():
        item = meeting_services.get_agenda_item(meeting, form.agenda_item_id.data)
        try:
            services.set_current_item(current_user, meeting, item)
        except DomainError as error:
            refused(error, form)
        else:
            return _back(meeting)
    return _render_room(meeting, 422, item_form=form)


@bp.post("/meetings/<int:meeting_id>/room/polls/<int:poll_id>/open")
@login_required
def open_poll(meeting_id: int, poll_id: int):
    """Opens a poll of this meeting (``polls.open_poll``'s verb), back to the remote."""
    return _action(
        meeting_id,
        poll_services.open_poll,
        lambda meeting: (_poll_of(meeting, poll_id),),
        done=_("Voting is open."),
    )


@bp.post("/meetings/<int:meeting_id>/room/polls/<int:poll_id>/close")
@login_required
def close_poll(meeting_id: int, poll_id: int):
    return _action(
        meeting_id,
        poll_services.close_poll,
        lambda meeting: (_poll_of(meeting, poll_id),),
        done=_("The poll is closed and counted."),
    )


def _poll_of(meeting: Meeting, poll_id: int) -> Poll:
    poll = db.session.get(Poll, poll_id)
    if poll is None or poll.meeting.id != meeting.id:
        abort(404)
    return poll


@bp.post("/meetings/<int:meeting_id>/room/speakers")
@login_required
def add_speaker(meeting_id: int):
    meeting = _managed(meeting_id)
    form = AddSpeakerForm(services.attendees_for_picker(meeting))
    if form.validate_on_submit():
        user = next((a.user for a in meeting.attendances if a.user_id == form.user_id.data), None)
        try:
            services.add_speaker(current_user, meeting, user)
        except DomainError as error:
            refused(error, form)
        else:
            return _back(meeting)
    return _render_room(meeting, 422, speaker_form=form)


@bp.post("/meetings/<int:meeting_id>/room/speakers/next")
@login_required
def next_speaker(meeting_id: int):
    return _action(meeting_id, services.next_speaker)


@bp.post("/meetings/<int:meeting_id>/room/speakers/end")
@login_required
def end_speaker(meeting_id: int):
    return _action(meeting_id, services.end_speaker)


@bp.post("/meetings/<int:meeting_id>/room/screen-links")
@login_required
def create_screen_link(meeting_id: int):
    """A new link; its address is shown on this answer only (never stored)."""
    meeting = _managed(meeting_id)
    form = ScreenLinkForm()
    if form.validate_on_submit():
        try:
            _link, token = services.create_screen_link(current_user, meeting, form.label.data)
        except DomainError as error:
            refused(error, form)
        else:
            new_link = external_url("room.screen", token=token)
            return _render_room(meeting, new_link=new_link)
    return _render_room(meeting, 422, link_form=form)


@bp.post("/meetings/<int:meeting_id>/room/screen-links/<int:link_id>/revoke")
@login_required
def revoke_screen_link(meeting_id: int, link_id: int):
    def link(meeting: Meeting):
        found = services.get_screen_link(link_id)
        if found.meeting_id != meeting.id:
            abort(404)
        return (found,)

    return _action(
        meeting_id,
        services.revoke_screen_link,
        link,
        done=_("The screen link no longer works."),
    )


@bp.post("/meetings/<int:meeting_id>/room/settings")
@login_required
def settings(meeting_id: int):
    meeting = _managed(meeting_id)
    form = RoomSettingsForm()
    if form.validate_on_submit():
        try:
            meeting_services.update_meeting(current_user, meeting, **form.values())
        except DomainError as error:
            refused(error, form)
        else:
            flash(_("Settings saved."), "success")
            return _back(meeting)
    return _render_room(meeting, 422, settings_form=form)


# --- the attendee: ask for the floor --------------------------------------------------


def _to_meeting_page(meeting_id: int):
    target = safe_next(request.form.get("next"))
    return redirect(target or url_for("meeting.show", meeting_id=meeting_id))


@bp.post("/meetings/<int:meeting_id>/speakers")
@login_required
def ask(meeting_id: int):
    """申请发言 from the meeting page."""
    meeting = meeting_services.get_visible_meeting(current_user, meeting_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        services.ask_for_the_floor(current_user, meeting)
    except DomainError as error:
        refused(error)
    else:
        flash(_("You are in the speakers' queue."), "success")
    return _to_meeting_page(meeting.id)


@bp.post("/meetings/<int:meeting_id>/speakers/<int:entry_id>/withdraw")
@login_required
def withdraw(meeting_id: int, entry_id: int):
    meeting = meeting_services.get_visible_meeting(current_user, meeting_id)
    entry = services.get_speaker_entry(entry_id)
    if entry.meeting_id != meeting.id:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        services.withdraw(current_user, entry)
    except DomainError as error:
        refused(error)
    else:
        flash(_("The place in the queue is withdrawn."), "info")
    if can_manage_meeting(current_user, meeting) and not request.form.get("next"):
        return _back(meeting)
    return _to_meeting_page(meeting.id)
