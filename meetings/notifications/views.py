"""The in-app inbox: the user's notifications, and the unread count in the nav."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from meetings.notifications import services
from meetings.notifications.forms import ReadAllForm, ReadForm

bp = Blueprint("notifications", __name__)


@bp.app_context_processor
def inject_unread_count() -> dict[str, int]:
    # One COUNT per page, for the badge in base.html; nothing for visitors.
    if not current_user.is_authenticated:
        return {}
    return {"unread_notifications": services.unread_count(current_user)}


@bp.get(services.INBOX_PATH)
@login_required
def inbox():
    page = services.inbox_page(current_user, request.args.get("page", 1, type=int))
    return render_template(
        "notifications/inbox.html", page=page, read_form=ReadForm(), read_all_form=ReadAllForm()
    )


@bp.post(f"{services.INBOX_PATH}/<int:notification_id>/read")
@login_required
def mark_read(notification_id: int):
    form = ReadForm()
    if not form.validate_on_submit():
        abort(400)
    notification = services.mark_read(current_user, notification_id)
    if form.open.data and notification.link:
        return redirect(notification.link)
    return redirect(url_for("notifications.inbox"))


@bp.post(f"{services.INBOX_PATH}/read-all")
@login_required
def mark_all_read():
    if not ReadAllForm().validate_on_submit():
        abort(400)
    if services.mark_all_read(current_user):
        flash(_("All your notifications are marked as read."), "success")
    return redirect(url_for("notifications.inbox"))
