from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectChoice, SelectField

from auth import permissions
from auth import services as auth_services
from auth.models import Community
from meetings.dbtypes import database_id
from meetings.extensions import db
from meetings.i18n import LANGUAGE_COOKIE, LANGUAGE_NAMES
from meetings.main import needs as needs_queries
from meetings.main import people as people_search
from meetings.organisation import roles
from meetings.organisation.roles import Posts, posts_of
from meetings.polls import queries as poll_queries
from meetings.web import safe_next

bp = Blueprint("main", __name__)


class LanguageForm(FlaskForm):
    lang = SelectField(choices=[SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()])
    next = HiddenField()


@bp.app_context_processor
def inject_language_form():
    return {"language_form": LanguageForm(formdata=None, next=request.full_path.rstrip("?"))}


@bp.app_context_processor
def inject_posts():
    """The signed-in person's posts (grid, unit, street, orders by name): the
    menu shows the pages of each (one query per page rendered)."""
    if not current_user.is_authenticated:
        return {"posts": Posts()}
    return {"posts": posts_of(current_user)}


@bp.get("/welcome")
@login_required
def landing():
    """Where a person lands after logging in: a vote waiting for them comes
    first (its ballot, or "my meetings" when several wait), else the home page."""
    waiting = poll_queries.polls_waiting_for(current_user)
    if len(waiting) == 1:
        return redirect(url_for("polls.vote", poll_id=waiting[0].id))
    if waiting:
        return redirect(url_for("meeting.my_meetings"))
    return redirect(url_for("main.index"))


@bp.get("/")
def index():
    """The introduction; for a signed-in person first what needs them now
    (``meetings.main.needs``): a vote waiting, invitations, ratings, orders."""
    communities = auth_services.list_communities()
    needs = None
    if current_user.is_authenticated:
        needs = needs_queries.needs_of(current_user, posts_of(current_user))
    return render_template("main/index.html", communities=communities, needs=needs)


@bp.post("/language")
def set_language():
    form = LanguageForm()
    if not form.validate_on_submit():
        abort(400)
    response = redirect(safe_next(form.next.data) or url_for("main.index"))
    response.set_cookie(
        LANGUAGE_COOKIE,
        form.lang.data,
        max_age=60 * 60 * 24 * 365,
        httponly=True,
        samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
    )
    if current_user.is_authenticated:
        auth_services.set_locale(current_user, form.lang.data)
    return response


@bp.get("/people")
@login_required
def people():
    """The person pickers' search (``static/js/picker.js``): active members
    of ``?community=`` whose name, username or phone contains ``?q=``, at
    most ``PICK_LIMIT``; for those who run that community and its grid
    workers (who log concerns for its residents)."""
    community = db.get_or_404(Community, request.args.get("community", 0, type=database_id))
    if not (
        permissions.can_manage(current_user, community)
        or roles.is_grid_worker(current_user, community)
    ):
        abort(403)
    found, more = people_search.find_members(community.id, request.args.get("q"))
    return jsonify(
        items=[
            {
                "id": user.id,
                "username": user.username,
                "display_name": user.display_name,
                "phone_hint": people_search.phone_hint(user.phone),
            }
            for user in found
        ],
        more=more,
    )
