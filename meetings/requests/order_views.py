"""Pages of the order workflow: the order panel on a request's page
(``requests/_order.html``, filled by ``order_panel``) and the forms it posts
to, "my orders", and the secretary's orders of a community."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from auth import permissions
from auth.models import Community
from meetings.errors import DomainError
from meetings.extensions import db
from meetings.main.paging import page_arg
from meetings.organisation.models import Grid, Unit, unit_community
from meetings.requests import orders, services
from meetings.requests import photos as request_photos
from meetings.requests.models import RATABLE, RequestRating, RequestStatus, ResidentRequest
from meetings.requests.order_forms import (
    ClaimForm,
    DispatchForm,
    HandBackForm,
    HandledForm,
    OrderRatingForm,
    StepForm,
)
from meetings.requests.views import render_detail
from meetings.web import refused

bp = Blueprint("orders", __name__)


# --- the panel on the request's page ------------------------------------------------------


@dataclass
class OrderPanel:
    """What the order panel shows to the person looking: the order, its
    steps and rating, and the form for their next step, if it is theirs."""

    visible: bool
    assignee: orders.Assignee | None = None
    is_overdue: bool = False
    is_unclaimed: bool = False
    ratings: list[RequestRating] = field(default_factory=list)
    dispatch_form: DispatchForm | None = None
    claim_form: ClaimForm | None = None
    can_hand_back: bool = False
    step_form: StepForm | None = None
    handled_form: HandledForm | None = None
    rating_form: OrderRatingForm | None = None

    @staticmethod
    def photo_url(photo) -> str:
        return request_photos.photo_link(photo)


def _grids_of(community: Community) -> list[Grid]:
    return list(
        db.session.scalars(
            db.select(Grid).where(Grid.community_id == community.id).order_by(Grid.name)
        )
    )


def _units_serving(community: Community) -> list[Unit]:
    return list(
        db.session.scalars(
            db.select(Unit)
            .join(unit_community, unit_community.c.unit_id == Unit.id)
            .where(unit_community.c.community_id == community.id)
            .order_by(Unit.name)
        )
    )


def _dispatch_form(item: ResidentRequest) -> DispatchForm:
    return DispatchForm(item.community, _grids_of(item.community), _units_serving(item.community))


@bp.app_template_global()
def order_panel(item: ResidentRequest) -> OrderPanel:
    """The order panel of a request's page, for the current user. A form
    that was sent and refused (``g.order_forms``) is shown with its errors."""
    user = current_user
    sees_order = orders.can_see_order(user, item)
    may_rate = orders.can_rate(user, item)
    has_order = item.dispatched_at is not None or bool(item.ratings)
    # the request's page is for those who may see the request: each of them
    # sees its order once there is one (the street's staff, the resident)
    if not (sees_order or has_order or (may_rate and item.status in RATABLE)):
        return OrderPanel(visible=False)
    failed = g.get("order_forms", {})
    panel = OrderPanel(
        visible=True,
        assignee=orders.assignee_of(item),
        is_overdue=orders.is_order_overdue(item),
        is_unclaimed=orders.is_unclaimed_late(item),
        ratings=list(item.ratings),
    )
    if orders.can_dispatch(user, item) and item.status in orders.DISPATCHABLE:
        panel.dispatch_form = failed.get("dispatch") or _dispatch_form(item)
    if orders.can_claim(user, item) and item.status == RequestStatus.DISPATCHED:
        panel.claim_form = ClaimForm()
        panel.can_hand_back = True
    if orders.can_handle(user, item) and item.status == RequestStatus.CLAIMED:
        panel.step_form = failed.get("step") or StepForm()
        panel.handled_form = failed.get("handled") or HandledForm()
    if may_rate and item.status in RATABLE:
        panel.rating_form = failed.get("rating") or OrderRatingForm()
    # a refused form stays in view with the reason, though its step has passed
    for name, form in failed.items():
        if getattr(panel, f"{name}_form") is None:
            setattr(panel, f"{name}_form", form)
    return panel


def _request_page(item: ResidentRequest, status: int, **failed: FlaskForm):
    """The request's page again, the refused form showing its errors."""
    g.order_forms = failed
    return render_detail(item, reply_form=None, status=status)


def _back_to(item: ResidentRequest, anchor: str = "order"):
    return redirect(url_for("requests.detail", request_id=item.id, _anchor=anchor))


# --- the steps of the workflow ----------------------------------------------------------------


@bp.post("/requests/<int:request_id>/dispatch")
@login_required
def dispatch(request_id: int):
    item = services.get_request(request_id)
    orders.require_dispatcher(current_user, item)
    form = _dispatch_form(item)
    if form.validate_on_submit():
        try:
            orders.dispatch(current_user, item, form.assignee(), form.due_date.data, form.note.data)
        except DomainError as error:
            refused(error, form, {"assignee": form.assignee_field})
            return _request_page(item, error.status, dispatch=form)
        flash(_("Dispatched to %(assignee)s.", assignee=orders.assignee_of(item).name), "success")
        return _back_to(item)
    return _request_page(item, 422, dispatch=form)


@bp.post("/requests/<int:request_id>/claim")
@login_required
def claim(request_id: int):
    item = services.get_request(request_id)
    orders.require_assignee(current_user, item)
    form = ClaimForm()
    if form.validate_on_submit():
        try:
            orders.claim(current_user, item)
        except DomainError as error:
            refused(error)
            return _back_to(item)
        flash(_("You have taken on this order."), "success")
    return _back_to(item)


@bp.route("/requests/<int:request_id>/hand-back", methods=["GET", "POST"])
@login_required
def hand_back(request_id: int):
    """Handing an order back asks for the reason and a confirmation first."""
    item = services.get_request(request_id)
    orders.require_assignee(current_user, item)
    form = HandBackForm()
    status = 200
    if form.validate_on_submit():
        try:
            orders.hand_back(current_user, item, form.reason.data)
        except DomainError as error:
            refused(error, form)
            status = error.status
        else:
            flash(_("The order was handed back to the secretary."), "success")
            return _back_to(item)
    elif request.method == "POST":
        status = 422
    return render_template("requests/hand_back.html", item=item, form=form), status


@bp.post("/requests/<int:request_id>/steps")
@login_required
def add_step(request_id: int):
    item = services.get_request(request_id)
    orders.require_handler(current_user, item)
    form = StepForm()
    if form.validate_on_submit():
        try:
            orders.add_step(current_user, item, form.note.data, form.streams())
        except DomainError as error:
            refused(error, form)
            return _request_page(item, error.status, step=form)
        flash(_("The step was recorded."), "success")
        return _back_to(item)
    return _request_page(item, 422, step=form)


@bp.post("/requests/<int:request_id>/handled")
@login_required
def mark_handled(request_id: int):
    item = services.get_request(request_id)
    orders.require_handler(current_user, item)
    form = HandledForm()
    if form.validate_on_submit():
        try:
            orders.mark_handled(current_user, item, form.reply.data)
        except DomainError as error:
            refused(error, form)
            return _request_page(item, error.status, handled=form)
        flash(_("Marked handled. The resident has your reply."), "success")
        return _back_to(item)
    return _request_page(item, 422, handled=form)


@bp.post("/requests/<int:request_id>/rating")
@login_required
def rate(request_id: int):
    item = services.get_request(request_id)
    orders.require_rater(current_user, item)
    form = OrderRatingForm()
    if form.validate_on_submit():
        try:
            orders.rate(current_user, item, form.score.data, form.comment.data)
        except DomainError as error:
            refused(error, form)
            return _request_page(item, error.status, rating=form)
        if item.status == RequestStatus.REOPENED:
            flash(_("Thank you. The secretary takes the request up again."), "success")
        else:
            flash(_("Thank you for your rating. The request is closed."), "success")
        return _back_to(item)
    return _request_page(item, 422, rating=form)


# --- lists ----------------------------------------------------------------------------------


@bp.get("/my/orders")
@login_required
def my_orders():
    return render_template(
        "requests/my_orders.html", page=orders.my_orders(current_user, page_arg())
    )


@bp.get("/communities/<int:community_id>/orders")
@login_required
def community_orders(community_id: int):
    community = db.get_or_404(Community, community_id)
    if not permissions.can_manage(current_user, community):
        abort(403)
    wanted = request.args.get("show", "")
    wanted = wanted if wanted in orders.ORDER_FILTERS else ""
    return render_template(
        "requests/community_orders.html",
        community=community,
        page=orders.community_orders(community, page_arg(), wanted or None),
        counts=orders.order_counts(community),
        show=wanted,
    )
