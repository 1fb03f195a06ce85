"""Pages of proxies (委托投票): the principal names a proxy from the meeting
page (with an optional photo of the written authorisation) and may revoke
it; the secretary confirms or refuses requests from the attendees page.
Casting for a principal is on the ballot pages (``meetings.polls.views``).

Thin views over ``meetings.room.proxies`` (the same verbs as the API)."""

from __future__ import annotations

import io

from flask import Blueprint, abort, flash, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from auth.models import User
from meetings.errors import DomainError, NotAllowed
from meetings.extensions import db
from meetings.meeting import services as meeting_services
from meetings.meeting.models import Meeting
from meetings.meeting.permissions import can_manage_meeting, require_manager
from meetings.projects import uploads
from meetings.projects.models import StoredFile
from meetings.room import proxies
from meetings.room.models import Proxy, ProxyStatus
from meetings.room.proxy_forms import ProxyActionForm, ProxyForm
from meetings.web import refused

bp = Blueprint("proxies", __name__)


# --- what the meeting pages show ------------------------------------------------------


@bp.app_template_global()
def proxy_panel(meeting: Meeting) -> dict | None:
    """For the meeting page: the reader's own proxy (as principal) and the
    principals they vote for; None where proxies play no part."""
    if not meeting.allow_proxies or not current_user.is_authenticated:
        return None
    mine = meeting.attendance_of(current_user)
    if mine is None:
        return None
    own = proxies.proxies_of(meeting, current_user)
    return {
        "may_name": mine.may_vote and meeting.status in proxies.PROXY_MEETING,
        "given": next(
            (p for p in own if p.principal_id == current_user.id and p.status != "revoked"), None
        ),
        "held": [p for p in own if p.proxy_id == current_user.id and p.status == "confirmed"],
        "form": ProxyActionForm(formdata=None),
    }


@bp.app_template_global()
def meeting_proxies(meeting: Meeting) -> list[Proxy]:
    """For the secretary's attendees page: the meeting's proxies, standing first."""
    if not can_manage_meeting(current_user, meeting):
        return []
    return proxies.proxies_of(meeting)


@bp.app_template_global()
def proxy_action_form() -> ProxyActionForm:
    return ProxyActionForm(formdata=None)


# --- naming a proxy -------------------------------------------------------------------


def _candidates(meeting: Meeting):
    others = [a for a in meeting.attendances if a.user_id != current_user.id]
    return sorted(others, key=lambda a: (a.user.display_name, a.user_id))


@bp.route("/meetings/<int:meeting_id>/proxy", methods=["GET", "POST"])
@login_required
def name_proxy(meeting_id: int):
    meeting = meeting_services.get_visible_meeting(current_user, meeting_id, full=True)
    proxies.require_may_name_proxy(current_user, meeting)
    form = ProxyForm(_candidates(meeting))
    status = 200
    if form.validate_on_submit():
        document = form.document.data.stream if form.document.data else None
        try:
            proxy = proxies.request_proxy(
                current_user, meeting, db.session.get(User, form.proxy_user_id.data), document
            )
        except DomainError as error:
            refused(error, form)
            status = error.status
            meeting = meeting_services.get_visible_meeting(current_user, meeting_id, full=True)
            form.proxy_user_id.choices = ProxyForm(_candidates(meeting)).proxy_user_id.choices
        else:
            flash(
                _(
                    "You have named %(name)s as your proxy. The secretary confirms it.",
                    name=proxy.proxy.display_name,
                ),
                "success",
            )
            return redirect(url_for("meeting.show", meeting_id=meeting.id, _anchor="proxy"))
    elif form.errors:
        status = 422
    return render_template("room/proxies_name.html", meeting=meeting, form=form), status


# --- confirm, refuse, revoke ----------------------------------------------------------


def _proxy_of_party(proxy_id: int) -> Proxy:
    proxy = proxies.get_proxy(proxy_id)
    proxies.require_proxy_party(current_user, proxy)
    return proxy


@bp.post("/proxies/<int:proxy_id>/confirm")
@login_required
def confirm(proxy_id: int):
    proxy = proxies.get_proxy(proxy_id)
    require_manager(current_user, proxy.meeting)
    if not ProxyActionForm().validate_on_submit():
        abort(400)
    try:
        proxies.confirm_proxy(current_user, proxy)
    except DomainError as error:
        refused(error)
    else:
        flash(
            _(
                "Confirmed: %(proxy)s votes for %(principal)s.",
                proxy=proxy.proxy.display_name,
                principal=proxy.principal.display_name,
            ),
            "success",
        )
    return redirect(url_for("meeting.attendees", meeting_id=proxy.meeting_id, _anchor="proxies"))


@bp.route("/proxies/<int:proxy_id>/revoke", methods=["GET", "POST"])
@login_required
def revoke(proxy_id: int):
    """The principal revokes (the secretary refuses), after a confirmation page."""
    proxy = _proxy_of_party(proxy_id)
    is_principal = proxy.principal_id == current_user.id
    if not is_principal and not can_manage_meeting(current_user, proxy.meeting):
        raise NotAllowed(_("Only the principal and the secretary may do this."))
    back = (
        url_for("meeting.show", meeting_id=proxy.meeting_id, _anchor="proxy")
        if is_principal
        else url_for("meeting.attendees", meeting_id=proxy.meeting_id, _anchor="proxies")
    )
    form = ProxyActionForm()
    if form.validate_on_submit():
        try:
            proxies.revoke_proxy(current_user, proxy)
        except DomainError as error:
            refused(error)
        else:
            flash(
                _("The proxy is revoked.") if is_principal else _("The proxy is refused."), "info"
            )
        return redirect(back)
    if proxy.status == ProxyStatus.REVOKED:
        return redirect(back)
    return render_template(
        "room/proxies_revoke.html",
        proxy=proxy,
        meeting=proxy.meeting,
        form=form,
        is_principal=is_principal,
        back=back,
    )


@bp.get("/proxies/<int:proxy_id>/document")
@login_required
def document(proxy_id: int):
    """The written authorisation's photo, for the principal, the proxy and the secretary."""
    proxy = _proxy_of_party(proxy_id)
    stored = db.session.get(StoredFile, proxy.document_id) if proxy.document_id else None
    if stored is None or stored.content_type not in uploads.CONTENT_TYPES:
        abort(404)
    response = send_file(
        io.BytesIO(stored.data),
        mimetype=stored.content_type,
        download_name=f"proxy-{proxy.id}.{uploads.EXTENSIONS[stored.content_type]}",
    )
    response.cache_control.private = True
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
