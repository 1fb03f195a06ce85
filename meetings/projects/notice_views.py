"""Pages of 公示 (public notice) of a resolution: putting it on notice,
residents' objections, the secretary's answers, and the community's list of
notices. The verbs and the rules are ``meetings.projects.services.notice``."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange

from auth.models import Community
from meetings.errors import DomainError, NotAllowed
from meetings.extensions import db
from meetings.meeting.permissions import can_manage_meeting, require_manager
from meetings.projects.models import Resolution, ResolutionStatus
from meetings.projects.services import can_see_resolutions, link_to, notice
from meetings.web import refused

bp = Blueprint("notice", __name__)


@bp.app_template_global()
def resolution_notice(resolution: Resolution) -> notice.NoticeView:
    """What the resolution display (``projects/_macros.html``) says of its notice."""
    return notice.notice_view(resolution)


@bp.app_template_global()
def may_start_notice(resolution: Resolution) -> bool:
    """The secretary's "put on public notice" button on the meeting page."""
    return notice.can_start_notice(current_user, resolution)


class NoticeForm(FlaskForm):
    days = IntegerField(
        _l("Notice period (days)"),
        default=notice.DEFAULT_DAYS,
        validators=[
            InputRequired(message=_l("Please give the number of days.")),
            NumberRange(
                min=notice.MIN_DAYS,
                max=notice.MAX_DAYS,
                message=_l("Between %(min)d and %(max)d days."),
            ),
        ],
        description=_l("Residents may object until the period ends; usually 5 days."),
        render_kw={"min": notice.MIN_DAYS, "max": notice.MAX_DAYS, "inputmode": "numeric"},
    )


class ObjectionForm(FlaskForm):
    reason = TextAreaField(
        _l("Your reason"),
        validators=[
            InputRequired(message=_l("Please say why you object.")),
            Length(max=notice.REASON_MAX),
        ],
        description=_l(
            "You can object once. The secretary reads it and records how it was handled."
        ),
        render_kw={"rows": 4, "maxlength": notice.REASON_MAX},
    )


class AnswerForm(FlaskForm):
    answer = TextAreaField(
        _l("How it was handled"),
        validators=[
            InputRequired(message=_l("Please record how the objection was handled.")),
            Length(max=notice.ANSWER_MAX),
        ],
        render_kw={"rows": 3, "maxlength": notice.ANSWER_MAX},
    )
    # the page warns what upholding does, just above the box
    upheld = BooleanField(_l("Uphold the objection (withdraws the resolution)"))


def _visible(resolution_id: int) -> Resolution | None:
    """The resolution, for those who may see its meeting's resolutions; None
    when the visitor should sign in first."""
    resolution = notice.get_resolution(resolution_id)
    if not can_see_resolutions(current_user, resolution.meeting):
        if not current_user.is_authenticated:
            return None
        raise NotAllowed(_("The resolutions are shown to everyone once the meeting has closed."))
    return resolution


def _render_show(
    resolution: Resolution,
    notice_form: NoticeForm | None = None,
    objection_form: ObjectionForm | None = None,
    status: int = 200,
):
    notice.load_display([resolution])
    meeting = resolution.meeting
    may_start = notice.can_start_notice(current_user, resolution)
    if may_start and notice_form is None:
        notice_form = NoticeForm()
    own = notice.objection_of(current_user, resolution)
    may_object = own is None and notice.can_object(current_user, resolution)
    if may_object and objection_form is None:
        objection_form = ObjectionForm()
    return render_template(
        "notice/show.html",
        resolution=resolution,
        meeting=meeting,
        view=notice.notice_view(resolution),
        is_manager=can_manage_meeting(current_user, meeting),
        notice_form=notice_form if may_start else None,
        objection_form=objection_form if may_object else None,
        own=own,
        objection_count=len(resolution.objections),
        project_url=link_to(resolution.project) if resolution.project else None,
    ), status


@bp.get("/resolutions/<int:resolution_id>/notice")
def show(resolution_id: int):
    """The resolution's notice: its status and end date, the resident's
    objection form (or their objection and its answer), the secretary's form
    to put it on notice."""
    resolution = _visible(resolution_id)
    if resolution is None:
        return current_app.login_manager.unauthorized()
    return _render_show(resolution)


@bp.post("/resolutions/<int:resolution_id>/notice")
@login_required
def start(resolution_id: int):
    resolution = notice.get_resolution(resolution_id)
    require_manager(current_user, resolution.meeting)
    form = NoticeForm()
    if not form.validate_on_submit():
        return _render_show(resolution, notice_form=form, status=422)
    try:
        notice.start_notice(current_user, resolution, form.days.data)
    except DomainError as error:
        refused(error, form)
        return _render_show(resolution, notice_form=form, status=error.status)
    flash(_("The resolution is in public notice."), "success")
    return redirect(url_for("notice.show", resolution_id=resolution.id))


@bp.post("/resolutions/<int:resolution_id>/objections")
@login_required
def object_to(resolution_id: int):
    resolution = notice.get_resolution(resolution_id)
    notice.require_objector(current_user, resolution)
    form = ObjectionForm()
    if not form.validate_on_submit():
        return _render_show(resolution, objection_form=form, status=422)
    try:
        notice.object_to(current_user, resolution, form.reason.data)
    except DomainError as error:
        refused(error, form)
        return _render_show(resolution, objection_form=form, status=error.status)
    flash(_("Your objection is recorded. The secretary will answer it."), "success")
    return redirect(url_for("notice.show", resolution_id=resolution.id))


def _render_objections(
    resolution: Resolution, forms: dict[int, AnswerForm] | None = None, status: int = 200
):
    notice.load_display([resolution])
    objections = notice.objections_for(current_user, resolution)
    forms = forms or {}
    for objection in objections:
        if not objection.is_answered and objection.id not in forms:
            forms[objection.id] = AnswerForm(prefix=f"o{objection.id}")
    return render_template(
        "notice/objections.html",
        resolution=resolution,
        meeting=resolution.meeting,
        view=notice.notice_view(resolution),
        objections=objections,
        forms=forms,
        may_answer=resolution.status == ResolutionStatus.IN_NOTICE,
    ), status


@bp.get("/resolutions/<int:resolution_id>/objections")
@login_required
def objections(resolution_id: int):
    """The secretary's page: every objection, with a form to answer each."""
    resolution = notice.get_resolution(resolution_id)
    require_manager(current_user, resolution.meeting)
    return _render_objections(resolution)


@bp.post("/objections/<int:objection_id>/answer")
@login_required
def answer(objection_id: int):
    objection = notice.get_objection(objection_id)
    notice.require_objection_manager(current_user, objection)
    resolution = objection.resolution
    form = AnswerForm(prefix=f"o{objection.id}")
    if not form.validate_on_submit():
        return _render_objections(resolution, {objection.id: form}, status=422)
    try:
        notice.answer_objection(current_user, objection, form.answer.data, form.upheld.data)
    except DomainError as error:
        refused(error, form)
        return _render_objections(resolution, {objection.id: form}, status=error.status)
    flash(_("The answer is recorded and the resident is told."), "success")
    if resolution.status != ResolutionStatus.IN_NOTICE:
        flash(_("The public notice is over: %(status)s.", status=resolution.status.label), "info")
    return redirect(url_for("notice.objections", resolution_id=resolution.id))


@bp.get("/communities/<int:community_id>/notices")
def community_notices(community_id: int):
    """The community's resolutions in public notice, and those whose notice
    is over with their outcome: open to all."""
    community = db.get_or_404(Community, community_id)
    resolutions = [
        resolution
        for resolution in notice.notices_of(community.id)
        if can_see_resolutions(current_user, resolution.meeting)
    ]
    return render_template(
        "notice/community.html",
        community=community,
        items=[(resolution, notice.notice_view(resolution)) for resolution in resolutions],
    )
