"""The secretary's side: the minutes' overview (versions, confirmations),
the editor with its preview, a version, the difference between two, sending
a draft round, publishing; and the attendees' confirmation page."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from meetings.errors import ConfirmationNeeded, DomainError, NotFound
from meetings.extensions import db
from meetings.meeting.models import MeetingStatus
from meetings.minutes import diff as minutes_diff
from meetings.minutes import services
from meetings.minutes.draft import generate_draft
from meetings.minutes.forms import (
    ConfirmForm,
    DiffForm,
    MinutesForm,
    PreviewForm,
    PublishForm,
    VersionForm,
)
from meetings.minutes.placeholders import placeholders_left
from meetings.minutes.render import render_markdown
from meetings.minutes.views.common import (
    bp,
    managed_meeting,
    not_publishable_reason,
    not_writable_reason,
    visible_meeting,
)
from meetings.web import refused


def _status_of(form) -> int:
    return 422 if form.errors or form.form_errors else 200


def _not_yet(meeting, found, current: str, heading: str, reason: str, **kwargs):
    """A tab that cannot be used yet says why and when, instead of bouncing
    back with an error (200 to look at it; 409 to a form sent anyway)."""
    return render_template(
        "minutes/not_yet.html",
        meeting=meeting,
        history=found,
        current=current,
        heading=heading,
        reason=reason,
        is_manager=services.can_edit(current_user, meeting),
        next_url=kwargs.get("next_url"),
        next_label=kwargs.get("next_label"),
    ), (200 if request.method == "GET" else 409)


# --- the overview -------------------------------------------------------------------------


@bp.get("/meetings/<int:meeting_id>/minutes")
def manage(meeting_id: int):
    """The secretary's overview; others are sent where they can read."""
    meeting = visible_meeting(meeting_id)
    if not services.can_edit(current_user, meeting):
        if meeting.status == MeetingStatus.MINUTES_PUBLISHED:
            return redirect(url_for("minutes.public_show", meeting_id=meeting.id))
        if services.my_confirmation(current_user, meeting) is not None:
            return redirect(url_for("minutes.confirm", meeting_id=meeting.id))
        raise NotFound(_("The minutes of this meeting are not published yet."))
    found = services.history(meeting)
    numbers = [v.number for v in found.versions]
    diff_form = DiffForm(numbers, formdata=None)
    if len(numbers) >= 2:
        diff_form.old.data, diff_form.new.data = numbers[-2], numbers[-1]
    circulated = found.last_circulated
    return render_template(
        "minutes/manage.html",
        meeting=meeting,
        history=found,
        writable=meeting.status in services.WRITABLE,
        circulated=circulated,
        counts=services.confirmation_counts(circulated) if circulated else None,
        recipients=services.circulation_list(meeting, current_user),
        version_form=VersionForm(formdata=None),
        diff_form=diff_form,
        placeholders=placeholders_left(found.draft.body_markdown) if found.draft else [],
    )


# --- the editor ---------------------------------------------------------------------------


@bp.route("/meetings/<int:meeting_id>/minutes/edit", methods=["GET", "POST"])
@login_required
def edit(meeting_id: int):
    meeting = managed_meeting(meeting_id)
    found = services.history(meeting)
    reason = not_writable_reason(meeting)
    if reason is not None:
        return _not_yet(
            meeting,
            found,
            "minutes.edit",
            _("Write the minutes"),
            reason,
            next_url=url_for("meeting.show", meeting_id=meeting.id),
            next_label=_("Go to the meeting page"),
        )
    latest = found.latest
    generated = latest is None or request.args.get("regenerate") == "1"
    form = MinutesForm()
    if request.method == "GET":
        form.body.data = generate_draft(meeting) if generated else latest.body_markdown
        form.base.data = str(latest.number) if latest else ""
    preview = None
    if form.validate_on_submit():
        if form.save.data:
            try:
                version = services.save_version(current_user, meeting, form.body.data)
            except DomainError as error:
                refused(error, form, {"body_markdown": "body"})
            else:
                _flash_saved(version, form.base.data, latest)
                return redirect(url_for("minutes.manage", meeting_id=meeting.id))
        else:
            preview = render_markdown(form.body.data or "")
    elif request.method == "GET":
        preview = render_markdown(form.body.data or "")
    return render_template(
        "minutes/edit.html",
        meeting=meeting,
        history=found,
        form=form,
        preview=preview,
        latest=latest,
        generated=generated and request.method == "GET",
        placeholders=placeholders_left(form.body.data),
    ), _status_of(form)


def _flash_saved(version, base: str, latest) -> None:
    if latest is not None and version.number == latest.number:
        flash(_("Nothing changed: version %(number)d stays the latest.", number=version.number))
        return
    flash(_("Saved as version %(number)d.", number=version.number), "success")
    if latest is not None and base and base != str(latest.number):
        flash(
            _(
                "Someone else saved version %(number)d while you were writing: "
                "compare the two versions.",
                number=latest.number,
            ),
            "error",
        )


@bp.post("/meetings/<int:meeting_id>/minutes/preview")
@login_required
def preview(meeting_id: int):
    """The rendered text, for the editor's live preview (a fragment of HTML)."""
    managed_meeting(meeting_id)
    form = PreviewForm()
    if not form.validate_on_submit():
        abort(400)
    return Response(str(render_markdown(form.body.data or "")), mimetype="text/html")


# --- versions and their differences -------------------------------------------------------


@bp.get("/meetings/<int:meeting_id>/minutes/versions/<int:number>")
def version(meeting_id: int, number: int):
    meeting = visible_meeting(meeting_id)
    shown = services.readable_version(current_user, meeting, number)
    found = services.history(meeting)
    readable = [v for v in found.versions if services.can_read(current_user, v)]
    return render_template(
        "minutes/version.html",
        meeting=meeting,
        version=shown,
        history=found,
        previous=next((v for v in reversed(readable) if v.number < shown.number), None),
        is_manager=services.can_edit(current_user, meeting),
    )


@bp.get("/meetings/<int:meeting_id>/minutes/diff")
def diff(meeting_id: int):
    meeting = visible_meeting(meeting_id)
    found = services.history(meeting)
    readable = [v.number for v in found.versions if services.can_read(current_user, v)]
    if len(readable) < 2 and services.can_edit(current_user, meeting):
        # the secretary is told why there is nothing to compare, not sent to a 404
        if readable:
            reason = _(
                "There is only one version so far: nothing to compare yet. "
                "Each save of the minutes makes a new version; with two, "
                "this page shows what changed between them."
            )
        else:
            reason = _("No version of the minutes is saved yet: there is nothing to compare.")
        return _not_yet(
            meeting,
            found,
            "minutes.diff",
            _("Compare versions"),
            reason,
            next_url=url_for("minutes.version", meeting_id=meeting.id, number=readable[0])
            if readable
            else None,
            next_label=_("Read version %(number)d", number=readable[0]) if readable else None,
        )
    if len(readable) < 2:
        raise NotFound(_("There is only one version: nothing to compare."))
    form = DiffForm(readable, formdata=request.args)
    if not request.args:
        form.old.data, form.new.data = readable[-2], readable[-1]
    elif not form.validate():
        abort(404)
    old = services.readable_version(current_user, meeting, form.old.data)
    new = services.readable_version(current_user, meeting, form.new.data)
    return render_template(
        "minutes/diff.html",
        meeting=meeting,
        form=form,
        old=old,
        new=new,
        history=found,
        lines=minutes_diff.diff_lines(old.body_markdown, new.body_markdown),
        is_manager=services.can_edit(current_user, meeting),
    )


# --- sending round and publishing ---------------------------------------------------------


def _version_from(form, found: services.History):
    version = found.get(form.version.data) if form.validate_on_submit() else None
    if version is None:
        abort(400)
    return version


@bp.post("/meetings/<int:meeting_id>/minutes/circulate")
@login_required
def circulate(meeting_id: int):
    meeting = managed_meeting(meeting_id)
    version = _version_from(VersionForm(), services.history(meeting))
    try:
        sent = services.circulate(current_user, version)
    except DomainError as error:
        refused(error)
    else:
        flash(
            _(
                "Version %(number)d was sent to %(n)d attendees to confirm.",
                number=version.number,
                n=len(sent),
            ),
            "success",
        )
    return redirect(url_for("minutes.manage", meeting_id=meeting.id))


@bp.route("/meetings/<int:meeting_id>/minutes/publish", methods=["GET", "POST"])
@login_required
def publish(meeting_id: int):
    """Publishing asks for a confirmation: the text to publish is shown first,
    with the places still to write; those need "publish anyway" ticked too."""
    meeting = managed_meeting(meeting_id)
    found = services.history(meeting)
    draft = found.draft
    reason = not_publishable_reason(meeting, found)
    if reason is not None or draft is None:
        writable = not_writable_reason(meeting) is None
        return _not_yet(
            meeting,
            found,
            "minutes.publish",
            _("Publish the minutes"),
            reason or _("There is no new version to publish: save the minutes first."),
            next_url=url_for("minutes.edit" if writable else "meeting.show", meeting_id=meeting.id),
            next_label=_("Write the minutes") if writable else _("Go to the meeting page"),
        )
    form = PublishForm()
    left = placeholders_left(draft.body_markdown)
    status = None
    if request.method == "GET":
        form.version.data = draft.number
    elif form.validate_on_submit():
        version = found.get(form.version.data)
        if version is None:
            abort(400)
        # asked before publishing: afterwards this version is the current one
        first = found.current is None
        try:
            services.publish(current_user, version, with_placeholders=bool(form.anyway.data))
        except ConfirmationNeeded as error:
            db.session.rollback()
            form.anyway.errors = [*form.anyway.errors, error.message]
            status = 409
        except DomainError as error:
            refused(error, form)
        else:
            if first:
                flash(
                    _("The minutes are published; the residents who asked have been told."),
                    "success",
                )
            else:
                flash(
                    _("The correction is published as version %(number)d.", number=version.number),
                    "success",
                )
            return redirect(url_for("minutes.public_show", meeting_id=meeting.id))
    return render_template(
        "minutes/publish.html",
        meeting=meeting,
        form=form,
        draft=draft,
        history=found,
        placeholders=left,
        counts=services.confirmation_counts(draft) if draft.circulated_at else None,
        is_correction=found.current is not None,
    ), status or _status_of(form)


# --- the attendees' confirmation (纪要确认) -----------------------------------------------


@bp.route("/meetings/<int:meeting_id>/minutes/confirm", methods=["GET", "POST"])
@login_required
def confirm(meeting_id: int):
    meeting = visible_meeting(meeting_id)
    try:
        mine = services.asked_to_confirm(current_user, meeting)
    except NotFound:
        if meeting.status != MeetingStatus.MINUTES_PUBLISHED:
            raise
        flash(_("The minutes are published: there is nothing left to confirm."), "info")
        return redirect(url_for("minutes.public_show", meeting_id=meeting.id))
    version = mine.version
    form = ConfirmForm()
    if request.method == "GET":
        if mine.answered_at is not None:
            form.answer.data = "confirm" if mine.confirmed_at else "comment"
            form.comment.data = mine.comment
        form.version.data = str(version.number)
    elif form.validate_on_submit():
        if form.version.data != str(version.number):
            form.form_errors.append(
                _("A newer draft has been sent round; please look at that one.")
            )
        else:
            try:
                services.answer(
                    current_user, version, form.answer.data == "confirm", form.comment.data
                )
            except DomainError as error:
                refused(error, form)
            else:
                flash(_("Thank you: the secretary can see your answer."), "success")
                return redirect(url_for("minutes.confirm", meeting_id=meeting.id))
    return render_template(
        "minutes/confirm.html", meeting=meeting, version=version, mine=mine, form=form
    ), _status_of(form)
