"""The agenda editor (议程): add, edit, reorder (up/down buttons, or a
position from the drag-and-drop script) and remove items."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from meetings.errors import DomainError
from meetings.meeting import services
from meetings.meeting.forms import AgendaItemForm, ConfirmForm, MoveForm
from meetings.meeting.models import Meeting
from meetings.meeting.views.common import bp, managed_meeting, status_of
from meetings.web import refused

# --- the agenda -----------------------------------------------------------------------


def _render_agenda(meeting: Meeting, form: AgendaItemForm, status: int = 200):
    return render_template(
        "meeting/agenda.html",
        meeting=meeting,
        form=form,
    ), status


@bp.route("/meetings/<int:meeting_id>/agenda", methods=["GET", "POST"])
@login_required
def agenda(meeting_id: int):
    meeting = managed_meeting(meeting_id, full=True)
    form = AgendaItemForm(meeting.topics)
    if form.validate_on_submit():
        try:
            services.add_agenda_item(current_user, meeting, **form.values())
        except DomainError as error:
            refused(error, form)
            return _render_agenda(managed_meeting(meeting_id, full=True), form, error.status)
        flash(_("Agenda item added."), "success")
        return redirect(url_for("meeting.agenda", meeting_id=meeting.id))
    return _render_agenda(meeting, form, status_of(form))


@bp.route("/meetings/<int:meeting_id>/agenda/<int:item_id>/edit", methods=["GET", "POST"])
@login_required
def edit_item(meeting_id: int, item_id: int):
    meeting = managed_meeting(meeting_id)
    item = services.get_agenda_item(meeting, item_id)
    form = AgendaItemForm(
        meeting.topics,
        data={
            "title": item.title,
            "description": item.description,
            "planned_minutes": item.planned_minutes,
            "request_ids": item.request_ids,
        },
    )
    if form.validate_on_submit():
        try:
            services.update_agenda_item(current_user, item, **form.values())
        except DomainError as error:
            refused(error, form)
        else:
            flash(_("Agenda item saved."), "success")
            return redirect(url_for("meeting.agenda", meeting_id=meeting.id))
    return render_template(
        "meeting/agenda_item_form.html", meeting=meeting, item=item, form=form
    ), status_of(form)


@bp.post("/meetings/<int:meeting_id>/agenda/<int:item_id>/move")
@login_required
def move_item(meeting_id: int, item_id: int):
    meeting = managed_meeting(meeting_id)
    item = services.get_agenda_item(meeting, item_id)
    form = MoveForm()
    if not form.validate_on_submit():
        abort(400)
    if form.position.data:
        position = form.position.data
    elif form.direction.data == "up":
        position = item.position - 1
    elif form.direction.data == "down":
        position = item.position + 1
    else:
        abort(400)
    try:
        services.move_agenda_item(current_user, item, position)
    except DomainError as error:
        refused(error)
        meeting = managed_meeting(meeting_id, full=True)
        return _render_agenda(meeting, AgendaItemForm(meeting.topics, formdata=None), error.status)
    return redirect(url_for("meeting.agenda", meeting_id=meeting.id, _anchor=f"item-{item.id}"))


@bp.post("/meetings/<int:meeting_id>/agenda/<int:item_id>/remove")
@login_required
def remove_item(meeting_id: int, item_id: int):
    meeting = managed_meeting(meeting_id)
    item = services.get_agenda_item(meeting, item_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    title = item.title
    try:
        services.remove_agenda_item(current_user, item)
    except DomainError as error:
        refused(error)
        meeting = managed_meeting(meeting_id, full=True)
        return _render_agenda(meeting, AgendaItemForm(meeting.topics, formdata=None), error.status)
    flash(_("“%(title)s” removed from the agenda.", title=title), "info")
    return redirect(url_for("meeting.agenda", meeting_id=meeting.id))
