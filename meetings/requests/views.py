"""Pages: raise a request, my requests, a request's page with the secretary's
reply form, and the secretary's inbox."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from auth import permissions
from auth.models import Community
from meetings.errors import DomainError
from meetings.extensions import db
from meetings.main.paging import page_arg
from meetings.requests import services
from meetings.requests.forms import InboxFilterForm, ReplyForm, RequestForm
from meetings.requests.models import RequestStatus, ResidentRequest
from meetings.web import refused

bp = Blueprint("requests", __name__)


def _status(form) -> int:
    return 422 if form.errors or form.form_errors else 200


@bp.route("/requests/new", methods=["GET", "POST"])
@login_required
def new():
    communities = services.communities_for_raising(current_user)
    if not communities:
        return render_template("requests/new.html", form=None, reply_days=services.reply_days())
    form = RequestForm(
        communities,
        {m.community_id for m in current_user.memberships},
        services.communities_raising_for_others(current_user, communities),
        current_user.id,
        community_id=request.args.get("community_id", type=int),
    )
    if form.validate_on_submit():
        community = db.get_or_404(Community, form.community_id.data)
        draft = services.RequestDraft(
            title=form.title.data,
            description=form.description.data,
            category=form.category.data,
            location=form.location.data,
            contact=form.contact.data,
        )
        resident = form.resident
        try:
            if resident is not None:
                item = services.raise_on_behalf(current_user, community, resident, draft)
            else:
                item = services.raise_request(current_user, community, draft)
        except DomainError as error:
            refused(error, form, {"requester_id": "on_behalf_of"})
        else:
            if resident is not None:
                flash(
                    _("The request was raised for %(name)s.", name=item.requester.display_name),
                    "success",
                )
            else:
                days = services.reply_days()
                flash(
                    _("Sent. The secretary will reply within %(days)d days.", days=days), "success"
                )
            return redirect(url_for("requests.detail", request_id=item.id))
    return render_template(
        "requests/new.html", form=form, reply_days=services.reply_days()
    ), _status(form)


@bp.get("/requests/mine")
@login_required
def mine():
    return render_template(
        "requests/mine.html", page=services.my_requests(current_user, page_arg())
    )


def _render_detail(item: ResidentRequest, reply_form: ReplyForm | None, status: int = 200):
    return render_template(
        "requests/detail.html",
        item=item,
        reply_form=reply_form,
        can_reply=services.can_reply(current_user, item),
        is_overdue=services.is_overdue(item),
        due_at=services.reply_due_at(item),
    ), status


@bp.get("/requests/<int:request_id>")
@login_required
def detail(request_id: int):
    item = services.get_visible_request(current_user, request_id)
    reply_form = None
    if services.can_reply(current_user, item) and item.status == RequestStatus.SUBMITTED:
        reply_form = ReplyForm()
    return _render_detail(item, reply_form)


@bp.post("/requests/<int:request_id>/reply")
@login_required
def reply(request_id: int):
    item = services.get_visible_request(current_user, request_id)
    services.require_replier(current_user, item)
    form = ReplyForm()
    if form.validate_on_submit():
        try:
            services.reply_to_request(current_user, item, form.action.data, form.message.data)
        except DomainError as error:
            refused(error, form)
            return _render_detail(item, form, error.status)
        else:
            flash(
                _("Your reply has been sent to %(name)s.", name=item.requester.display_name),
                "success",
            )
            return redirect(url_for("requests.detail", request_id=item.id))
    return _render_detail(item, form, _status(form))


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
