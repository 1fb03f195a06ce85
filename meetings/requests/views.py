"""Pages: raise a request, my requests, a request's page with the secretary's
reply form and its photos, the secretary's inbox; the intake form of
secretaries and grid workers (a concern for a resident, with or without an
account) and the grid workers' visit log (走访记录)."""

from __future__ import annotations

import io

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from auth import permissions
from auth.models import Community
from meetings.errors import DomainError, NotAllowed
from meetings.extensions import db
from meetings.main.paging import page_arg, window
from meetings.projects import uploads
from meetings.requests import orders, photos, services, visits
from meetings.requests.forms import (
    InboxFilterForm,
    IntakeForm,
    PhotoForm,
    ReplyForm,
    RequestForm,
    VisitForm,
)
from meetings.requests.models import (
    RATABLE,
    WAITING_FOR_SECRETARY,
    RequestChannel,
    RequestStatus,
    ResidentRequest,
    Visit,
)
from meetings.web import refused

bp = Blueprint("requests", __name__)

# seconds a browser keeps a request's photo (it never changes; private: only
# those who may see the request get it)
PHOTO_MAX_AGE = 7 * 24 * 3600
# the intake form's fields the services name differently
INTAKE_FIELDS = {"requester_id": "on_behalf_of", "file": "photos"}


def _status(form) -> int:
    return 422 if form.errors or form.form_errors else 200


def _draft(form) -> services.RequestDraft:
    return services.RequestDraft(
        title=form.title.data,
        description=form.description.data,
        category=form.category.data,
        location=form.location.data,
        contact=form.contact.data if "contact" in form else None,
    )


def _add_photos(item: ResidentRequest, form) -> int:
    """Store the photos chosen in the form's ``photos`` field on the request."""
    for upload in form.chosen_photos:
        photos.add_request_photo(current_user, item, upload.stream, field="photos")
    return len(form.chosen_photos)


# --- raising a request -----------------------------------------------------------


@bp.route("/requests/new", methods=["GET", "POST"])
@login_required
def new():
    communities = services.communities_for_raising(current_user)
    may_take_in = services.may_take_in_somewhere(current_user)
    if not communities:
        return render_template(
            "requests/new.html",
            form=None,
            reply_days=services.reply_days(),
            may_take_in=may_take_in,
        )
    form = RequestForm(
        communities,
        {m.community_id for m in current_user.memberships},
        services.communities_raising_for_others(current_user, communities),
        current_user.id,
        community_id=request.args.get("community_id", type=int),
    )
    if form.validate_on_submit():
        community = db.get_or_404(Community, form.community_id.data)
        resident = form.resident
        try:
            if resident is not None:
                item = services.raise_on_behalf(current_user, community, resident, _draft(form))
            else:
                item = services.raise_request(current_user, community, _draft(form))
            _add_photos(item, form)
        except DomainError as error:
            refused(error, form, INTAKE_FIELDS)
        else:
            if resident is not None:
                flash(
                    _("The request was raised for %(name)s.", name=item.resident_display),
                    "success",
                )
            else:
                days = services.reply_days()
                flash(
                    _("Sent. The secretary will reply within %(days)d days.", days=days), "success"
                )
            return redirect(url_for("requests.detail", request_id=item.id))
    return render_template(
        "requests/new.html",
        form=form,
        reply_days=services.reply_days(),
        may_take_in=may_take_in,
        max_photos=photos.MAX_PHOTOS,
    ), _status(form)


def _intake_communities() -> list[Community]:
    communities = services.intake_communities(current_user)
    if not communities:
        raise NotAllowed(
            _(
                "Only a community's secretary and its grid workers may raise a request "
                "for a resident."
            )
        )
    return communities


def _raise_from_intake(form: IntakeForm, community: Community, visit: Visit | None = None):
    """The request the intake form describes (raised by the one service
    for its case), with its photos."""
    draft = _draft(form)
    channel = form.channel.data or None
    if visit is not None:
        item = visits.raise_from_visit(
            current_user,
            visit,
            draft,
            requester=form.resident if form.for_account else None,
            resident=None if form.for_account else _resident(form),
            channel=channel,
        )
    elif form.for_account:
        item = services.raise_on_behalf(current_user, community, form.resident, draft, channel)
    else:
        item = services.raise_for_resident(current_user, community, _resident(form), draft, channel)
    _add_photos(item, form)
    return item


def _resident(form: IntakeForm) -> services.ResidentDetails:
    return services.ResidentDetails(
        name=form.resident_name.data, phone=form.resident_phone.data, building=form.building.data
    )


def _render_intake(form: IntakeForm, visit: Visit | None = None):
    return render_template(
        "requests/intake.html", form=form, visit=visit, max_photos=photos.MAX_PHOTOS
    ), _status(form)


@bp.route("/requests/intake", methods=["GET", "POST"])
@login_required
def intake():
    """A secretary or grid worker logs a concern for a resident."""
    communities = _intake_communities()
    form = IntakeForm(
        communities, current_user.id, community_id=request.args.get("community_id", type=int)
    )
    if form.validate_on_submit():
        community = db.get_or_404(Community, form.community_id.data)
        try:
            item = _raise_from_intake(form, community)
        except DomainError as error:
            refused(error, form, INTAKE_FIELDS)
        else:
            flash(_("The concern of %(name)s was logged.", name=item.resident_display), "success")
            return redirect(url_for("requests.detail", request_id=item.id))
    return _render_intake(form)


# --- my requests, a request's page, its photos ----------------------------------


@bp.get("/requests/mine")
@login_required
def mine():
    return render_template(
        "requests/mine.html",
        page=services.my_requests(current_user, page_arg()),
        may_take_in=services.may_take_in_somewhere(current_user),
    )


def render_detail(
    item: ResidentRequest,
    reply_form: ReplyForm | None,
    status: int = 200,
    photo_form: PhotoForm | None = None,
):
    can_add_photos = photos.can_add_photo(current_user, item)
    if photo_form is None and can_add_photos and item.status != RequestStatus.CLOSED:
        photo_form = PhotoForm()
    return render_template(
        "requests/detail.html",
        item=item,
        reply_form=reply_form,
        photo_form=photo_form if can_add_photos else None,
        can_reply=services.can_reply(current_user, item),
        can_handle=services.can_handle(current_user, item),
        can_see_contact=services.can_see_contact(current_user, item),
        is_overdue=services.is_overdue(item),
        due_at=services.reply_due_at(item),
        room_for_photos=photos.room_for_photos(item) if can_add_photos else 0,
        for_the_resident=current_user.id in (item.requester_id, item.raised_by_id),
        may_rate_now=item.status in RATABLE and orders.can_rate(current_user, item),
    ), status


@bp.get("/requests/<int:request_id>")
@login_required
def detail(request_id: int):
    item = services.get_request_in_full(current_user, request_id)
    reply_form = None
    if services.can_reply(current_user, item) and item.status in WAITING_FOR_SECRETARY:
        reply_form = ReplyForm(item.status)
    return render_detail(item, reply_form)


@bp.post("/requests/<int:request_id>/photos")
@login_required
def add_photos(request_id: int):
    item = services.get_visible_request(current_user, request_id)
    photos.require_photo_adder(current_user, item)
    form = PhotoForm()
    if form.validate_on_submit():
        try:
            count = _add_photos(item, form)
        except DomainError as error:
            refused(error, form, {"file": "photos"})
            return render_detail(item, None, error.status, photo_form=form)
        flash(_("%(n)d photo(s) added.", n=count), "success")
        return redirect(url_for("requests.detail", request_id=item.id, _anchor="photos"))
    return render_detail(item, None, _status(form), photo_form=form)


@bp.get("/requests/photos/<int:photo_id>")
@login_required
def photo(photo_id: int):
    """A request's photo, from the database, with the type stored when it
    was checked, never sniffed; for those who may see the request."""
    found = photos.get_visible_photo(current_user, photo_id)
    stored = found.file
    if stored.content_type not in uploads.CONTENT_TYPES:
        abort(404)
    response = send_file(
        io.BytesIO(stored.data),
        mimetype=stored.content_type,
        etag=f"request-photo-{found.id}",
        last_modified=stored.created_at,
        conditional=True,
        max_age=PHOTO_MAX_AGE,
    )
    # not for shared caches: the photo is for those who may see the request
    response.cache_control.public = False
    response.cache_control.private = True
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = (
        f'inline; filename="request-{found.request_id}-{found.id}.'
        f'{uploads.EXTENSIONS[stored.content_type]}"'
    )
    return response


@bp.post("/requests/<int:request_id>/reply")
@login_required
def reply(request_id: int):
    item = services.get_visible_request(current_user, request_id)
    services.require_replier(current_user, item)
    form = ReplyForm(item.status)
    if form.validate_on_submit():
        try:
            services.reply_to_request(current_user, item, form.action.data, form.message.data)
        except DomainError as error:
            refused(error, form)
            return render_detail(item, form, error.status)
        else:
            flash(
                _("Your reply has been sent to %(name)s.", name=item.resident_display),
                "success",
            )
            return redirect(url_for("requests.detail", request_id=item.id))
    return render_detail(item, form, _status(form))


@bp.get("/communities/<int:community_id>/requests")
@login_required
def inbox(community_id: int):
    community = db.get_or_404(Community, community_id)
    if not permissions.can_manage(current_user, community):
        abort(403)
    form = InboxFilterForm(formdata=request.args)
    chosen = form.status.data if form.validate() else ""
    page = services.inbox(
        community,
        status=RequestStatus(chosen) if chosen in set(RequestStatus) else None,
        overdue_only=chosen == "overdue",
        page=page_arg(),
    )
    return render_template(
        "requests/inbox.html",
        community=community,
        form=form,
        page=page,
        status=chosen,
        counts=services.inbox_counts(community),
        reply_days=services.reply_days(),
    )


# --- the visit log (走访记录) ---------------------------------------------------------


@bp.get("/visits")
@login_required
def visit_log():
    """The visits this person sees, newest first, of one grid or all."""
    if not visits.can_keep_a_log(current_user):
        abort(403)
    grids = visits.visible_grids(current_user)
    chosen = request.args.get("grid", type=int)
    if chosen not in {grid.id for grid in grids}:
        chosen = None
    page = window(visits.visits_query(current_user, chosen), page_arg(), visits.VISITS_PAGE)
    return render_template(
        "requests/visits.html",
        grids=grids,
        chosen=chosen,
        page=page,
        may_log=bool(visits.grids_of_visitor(current_user)),
    )


@bp.route("/visits/new", methods=["GET", "POST"])
@login_required
def new_visit():
    grids = visits.grids_of_visitor(current_user)
    if not grids:
        raise NotAllowed(_("Only the grid's leader and members may log visits in it."))
    form = VisitForm(grids, grid_id=request.args.get("grid", type=int))
    if form.validate_on_submit():
        try:
            visit = visits.log_visit(
                current_user,
                form.grids[form.grid_id.data],
                form.visited.data,
                form.notes.data,
                form.follow_up.data,
            )
        except DomainError as error:
            refused(error, form)
        else:
            flash(_("Visit to %(whom)s logged.", whom=visit.visited), "success")
            return redirect(url_for("requests.visit_log", grid=visit.grid_id))
    return render_template("requests/visit_new.html", form=form), _status(form)


@bp.route("/visits/<int:visit_id>/request", methods=["GET", "POST"])
@login_required
def visit_request(visit_id: int):
    """Turn a visit into a request: the intake form, filled in from the visit."""
    visit = visits.get_visible_visit(current_user, visit_id)
    visits.require_raiser_from(current_user, visit)
    community = visit.grid.community
    if request.method == "GET":
        draft = visits.draft_from(visit)
        resident = visits.resident_from(visit)
        form = IntakeForm(
            [community],
            current_user.id,
            community_id=community.id,
            has_account="no",
            resident_name=resident.name,
            channel=RequestChannel.HOME_VISIT.value,
            title=draft.title,
            description=draft.description,
        )
    else:
        form = IntakeForm([community], current_user.id)
    if form.validate_on_submit():
        try:
            item = _raise_from_intake(form, community, visit)
        except DomainError as error:
            refused(error, form, INTAKE_FIELDS)
        else:
            flash(_("The visit became the request “%(title)s”.", title=item.title), "success")
            return redirect(url_for("requests.detail", request_id=item.id))
    return _render_intake(form, visit)
