"""Pages of resolutions and projects: the community's board (挂图作战), a
project's page with its progress timeline, the secretary's progress form and
the residents' rating form, the photos, and the secretary's resolution form
for a meeting (linked from the meeting page, see ``meeting_outcome``)."""

from __future__ import annotations

import io
from dataclasses import dataclass

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from auth import permissions
from auth.models import Community
from meetings.errors import Conflict, DomainError
from meetings.extensions import db
from meetings.main.paging import page_arg
from meetings.main.people import phone_hint
from meetings.meeting import services as meeting_services
from meetings.meeting.models import Meeting
from meetings.meeting.permissions import require_manager
from meetings.projects import services, uploads
from meetings.projects.forms import (
    CONDITION_FIELDS,
    PROJECT_FIELDS,
    RESOLUTION_FIELDS,
    UPDATE_FIELDS,
    ConditionDoneForm,
    ConditionForm,
    ConfirmCompletionForm,
    ProgressForm,
    ProjectForm,
    RatingForm,
    ResolutionForm,
    ResolutionWordingForm,
)
from meetings.projects.models import Project, ProjectStatus, Resolution
from meetings.projects.services import notice
from meetings.requests import services as request_services
from meetings.requests.models import ResidentRequest
from meetings.web import refused, safe_next

bp = Blueprint("projects", __name__)

# seconds browsers keep a progress photo (it never changes)
PHOTO_MAX_AGE = 7 * 24 * 3600


def _status_of(form) -> int:
    """422 for a form shown again with its problems."""
    return 422 if form.errors or form.form_errors else 200


# --- for the meeting and request pages ---------------------------------------------------


@dataclass
class MeetingOutcome:
    visible: bool
    resolutions: list[Resolution]
    can_record: bool
    # may add conditions as tasks (the community's secretary)
    can_assign: bool = False


@bp.app_template_global()
def meeting_outcome(meeting: Meeting) -> MeetingOutcome:
    """The meeting page's resolutions section (``projects/_meeting_resolutions.html``)."""
    if not services.can_see_resolutions(current_user, meeting):
        return MeetingOutcome(False, [], False)
    return MeetingOutcome(
        True,
        services.resolutions_of(meeting),
        services.can_record_resolution(current_user, meeting),
        permissions.can_manage(current_user, meeting.community),
    )


@bp.app_template_global()
def condition_overdue(condition) -> bool:
    return services.is_condition_overdue(condition)


@bp.app_template_global()
def open_task_count() -> int:
    """How many projects and conditions the signed-in person (or their
    units) has open: for a "My tasks" badge in the menu (one query)."""
    return services.open_task_count(current_user)


@bp.app_template_global()
def request_outcome(item: ResidentRequest) -> services.RequestOutcome:
    """The request page's outcome section (``projects/_request_outcome.html``);
    the request page itself is only for the requester and the secretary."""
    return services.outcome_of_request(item)


# --- the board ----------------------------------------------------------------------------


@bp.get("/communities/<int:community_id>/projects")
def board(community_id: int):
    """Every project of the community as a card, filterable by status: open to all."""
    community = db.get_or_404(Community, community_id)
    wanted = request.args.get("status", "")
    status = ProjectStatus(wanted) if wanted in set(ProjectStatus) else None
    return render_template(
        "projects/board.html",
        community=community,
        summary=services.board_summary(community, status, page_arg()),
        status=status,
        can_manage=permissions.can_manage(current_user, community),
    )


# --- a project's page ---------------------------------------------------------------------


def _render_show(
    project: Project,
    update_form: ProgressForm | None = None,
    rating_form: RatingForm | None = None,
    status: int = 200,
    confirm_form: ConfirmCompletionForm | None = None,
):
    can_manage = services.can_manage_project(current_user, project)
    can_report = services.can_report_progress(current_user, project)
    if update_form is None and can_report and not project.is_completed:
        update_form = ProgressForm(project, may_complete=can_manage)
    awaiting = services.awaits_confirmation(project)
    if confirm_form is None and can_manage and awaiting:
        confirm_form = ConfirmCompletionForm()
    if rating_form is None and services.can_rate(current_user, project):
        rating_form = RatingForm()
    card = services.cards_for([project])[0]
    # the polls behind its resolutions with their options, in two queries
    notice.load_display(project.resolutions)
    return render_template(
        "projects/show.html",
        project=project,
        card=card,
        updates=services.updates_of(project),
        ratings=services.ratings_of(project) if project.is_completed else [],
        can_manage=can_manage,
        is_responsible=services.is_responsible(current_user, project),
        awaiting=awaiting,
        confirm_form=confirm_form,
        conditions=[
            condition
            for resolution in project.resolutions
            for condition in resolution.condition_tasks
        ],
        update_form=update_form,
        rating_form=rating_form,
        is_member=permissions.is_member(current_user, project.community),
        has_rated=services.has_rated(current_user, project),
        viewable_request_ids={
            item.id for item in project.requests if request_services.can_view(current_user, item)
        },
        photo_max_mb=f"{uploads.max_bytes() / 1024 / 1024:.1f}".removesuffix(".0"),
    ), status


@bp.get("/projects/<int:project_id>")
def show(project_id: int):
    return _render_show(services.get_project(project_id))


@bp.post("/projects/<int:project_id>/updates")
@login_required
def add_update(project_id: int):
    project = services.get_project(project_id)
    services.require_progress_reporter(current_user, project)
    form = ProgressForm(project, may_complete=services.can_manage_project(current_user, project))
    if not form.validate_on_submit():
        return _render_show(project, update_form=form, status=_status_of(form))
    try:
        photo = uploads.store_photo(form.photo.data.stream) if form.photo.data else None
        update = services.add_progress_update(
            current_user,
            project,
            form.percent.data,
            form.note.data,
            form.status.data or None,
            photo,
            form.on_date.data,
        )
    except DomainError as error:
        refused(error, form, UPDATE_FIELDS)
        return _render_show(project, update_form=form, status=error.status)
    if update.status == ProjectStatus.COMPLETED:
        flash(_("The project is completed. Residents can now rate it."), "success")
    elif services.awaits_confirmation(project) and not services.can_manage_project(
        current_user, project
    ):
        flash(
            _("Progress recorded: 100%%. The secretary is asked to confirm the completion."),
            "success",
        )
    else:
        flash(_("Progress recorded: %(percent)d%%.", percent=update.percent), "success")
    return redirect(url_for("projects.show", project_id=project.id, _anchor="updates"))


@bp.post("/projects/<int:project_id>/complete")
@login_required
def confirm_completion(project_id: int):
    """The secretary confirms the completion, after the work is reported done."""
    project = services.get_project(project_id)
    services.require_project_manager(current_user, project)
    form = ConfirmCompletionForm()
    if not form.validate_on_submit():
        return _render_show(project, confirm_form=form, status=_status_of(form))
    try:
        services.confirm_completion(current_user, project, form.note.data)
    except DomainError as error:
        refused(error, form)
        return _render_show(project, confirm_form=form, status=error.status)
    flash(_("The project is completed. Residents can now rate it."), "success")
    return redirect(url_for("projects.show", project_id=project.id))


@bp.route("/projects/<int:project_id>/edit", methods=["GET", "POST"])
@login_required
def edit(project_id: int):
    """The secretary edits a project and names who answers for it."""
    project = services.get_project(project_id)
    services.require_project_manager(current_user, project)
    form = ProjectForm(project, services.units_serving(project.community))
    status = 200
    if form.validate_on_submit():
        try:
            services.edit_project(current_user, project, form.changes())
        except DomainError as error:
            refused(error, form, PROJECT_FIELDS)
            status = error.status
        else:
            flash(_("The project is saved."), "success")
            return redirect(url_for("projects.show", project_id=project.id))
    elif form.is_submitted():
        status = _status_of(form)
    return render_template(
        "projects/project_form.html",
        project=project,
        form=form,
        units=services.RESPONSIBLE_UNITS,
    ), status


@bp.get("/communities/<int:community_id>/responsible-people")
@login_required
def responsible_people(community_id: int):
    """The responsible-person picker's search (``static/js/picker.js``): the
    community's members, its street office's staff and the members of the
    units serving it; for those who run the community."""
    community = db.get_or_404(Community, community_id)
    if not permissions.can_manage(current_user, community):
        abort(403)
    found, more = services.find_eligible(community, request.args.get("q"))
    return jsonify(
        items=[
            {
                "id": user.id,
                "username": user.username,
                "display_name": user.display_name,
                "phone_hint": phone_hint(user.phone),
            }
            for user in found
        ],
        more=more,
    )


@bp.post("/projects/<int:project_id>/ratings")
@login_required
def rate(project_id: int):
    project = services.get_project(project_id)
    services.require_resident(current_user, project)
    if not project.is_completed:
        # there is no rating form on its page: the error page says why
        raise Conflict(_("A project can be rated once it is completed."))
    form = RatingForm()
    if not form.validate_on_submit():
        return _render_show(project, rating_form=form, status=_status_of(form))
    try:
        services.rate_project(current_user, project, form.score.data, form.comment.data)
    except DomainError as error:
        refused(error, form)
        return _render_show(project, rating_form=form, status=error.status)
    flash(_("Thank you for your rating."), "success")
    return redirect(url_for("projects.show", project_id=project.id, _anchor="ratings"))


@bp.get("/projects/<int:project_id>/updates/<int:update_id>/photo")
def photo(project_id: int, update_id: int):
    """A progress photo, from the database, with the type stored when it was
    checked, never sniffed. It never changes: browsers keep it a week."""
    update = services.get_update(update_id)
    stored = update.photo
    if (
        update.project_id != project_id
        or stored is None
        or stored.content_type not in uploads.CONTENT_TYPES
    ):
        abort(404)
    response = send_file(
        io.BytesIO(stored.data),
        mimetype=stored.content_type,
        etag=f"photo-{stored.id}",
        last_modified=stored.created_at,
        conditional=True,
        max_age=PHOTO_MAX_AGE,
    )
    extension = uploads.EXTENSIONS[stored.content_type]
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = (
        f'inline; filename="project-{project_id}-{update.id}.{extension}"'
    )
    return response


# --- the secretary's resolution form -----------------------------------------------------


@bp.route("/meetings/<int:meeting_id>/resolutions/new", methods=["GET", "POST"])
@login_required
def new_resolution(meeting_id: int):
    meeting = meeting_services.get_visible_meeting(current_user, meeting_id, full=True)
    require_manager(current_user, meeting)
    form = ResolutionForm(
        meeting.agenda_items,
        services.closed_polls(meeting),
        services.open_projects(meeting.community),
        meeting.community,
        services.units_serving(meeting.community),
    )
    if request.method == "GET":
        form.poll_id.data = request.args.get("poll_id", 0, type=int)
        form.agenda_item_id.data = request.args.get("agenda_item_id", 0, type=int)
    status = 200
    if form.validate_on_submit():
        try:
            resolution = services.record_resolution(current_user, meeting, form.spec())
        except DomainError as error:
            refused(error, form, RESOLUTION_FIELDS)
            status = error.status
        else:
            if resolution.project is not None:
                flash(
                    _(
                        "The resolution is recorded, with the project “%(title)s”.",
                        title=resolution.project.title,
                    ),
                    "success",
                )
            else:
                flash(_("The resolution is recorded."), "success")
            return redirect(url_for("meeting.show", meeting_id=meeting.id, _anchor="resolutions"))
    elif form.is_submitted():
        status = _status_of(form)
    return render_template(
        "projects/resolution_form.html",
        meeting=meeting,
        form=form,
        can_record=services.can_record_resolution(current_user, meeting),
        units=services.RESPONSIBLE_UNITS,
    ), status


@bp.route("/resolutions/<int:resolution_id>/edit", methods=["GET", "POST"])
@login_required
def correct_resolution(resolution_id: int):
    """Correct a resolution's wording until the minutes are published."""
    resolution = services.get_resolution(resolution_id)
    meeting = meeting_services.get_visible_meeting(current_user, resolution.meeting_id)
    require_manager(current_user, meeting)
    form = ResolutionWordingForm(obj=resolution)
    status = 200
    if form.validate_on_submit():
        try:
            services.correct_resolution(
                current_user, resolution, form.text.data or "", form.conditions.data or ""
            )
        except DomainError as error:
            refused(error, form)
            status = error.status
        else:
            flash(_("The resolution is corrected."), "success")
            return redirect(url_for("meeting.show", meeting_id=meeting.id, _anchor="resolutions"))
    elif form.is_submitted():
        status = _status_of(form)
    return render_template(
        "projects/resolution_edit.html",
        meeting=meeting,
        resolution=resolution,
        form=form,
        can_correct=services.can_record_resolution(current_user, meeting),
    ), status


# --- conditions as tasks, my tasks ----------------------------------------------------


@bp.route("/resolutions/<int:resolution_id>/conditions/new", methods=["GET", "POST"])
@login_required
def new_condition(resolution_id: int):
    """The secretary makes a condition of the resolution a task."""
    resolution = services.get_resolution(resolution_id)
    services.require_condition_manager(current_user, resolution)
    community = resolution.meeting.community
    form = ConditionForm(community, services.units_serving(community))
    status = 200
    if form.validate_on_submit():
        user_id, unit_id = form.assignee_ids()
        try:
            services.add_condition(
                current_user,
                resolution,
                form.text.data,
                form.due_date.data,
                assignee_user_id=user_id,
                assignee_unit_id=unit_id,
            )
        except DomainError as error:
            refused(error, form, CONDITION_FIELDS)
            status = error.status
        else:
            flash(_("The condition is assigned."), "success")
            if resolution.project_id:
                return redirect(
                    url_for("projects.show", project_id=resolution.project_id, _anchor="tasks")
                )
            return redirect(
                url_for("meeting.show", meeting_id=resolution.meeting_id, _anchor="resolutions")
            )
    elif form.is_submitted():
        status = _status_of(form)
    return render_template(
        "projects/condition_form.html",
        resolution=resolution,
        community=community,
        form=form,
    ), status


def _render_condition(condition, form: ConditionDoneForm | None = None, status: int = 200):
    if form is None and not condition.is_done and services.can_mark_done(current_user, condition):
        form = ConditionDoneForm()
    return render_template(
        "projects/condition.html",
        condition=condition,
        resolution=condition.resolution,
        form=form,
        is_assignee=services.is_assignee(current_user, condition),
        overdue=services.is_condition_overdue(condition),
    ), status


@bp.get("/conditions/<int:condition_id>")
@login_required
def condition(condition_id: int):
    """A condition as a task: what, who, by when, done or not; the assignee's
    "mark done" form."""
    found = services.get_condition(condition_id)
    services.require_condition_viewer(current_user, found)
    return _render_condition(found)


@bp.post("/conditions/<int:condition_id>/done")
@login_required
def condition_done(condition_id: int):
    found = services.get_condition(condition_id)
    services.require_condition_assignee(current_user, found)
    form = ConditionDoneForm()
    if not form.validate_on_submit():
        return _render_condition(found, form, _status_of(form))
    try:
        services.mark_condition_done(current_user, found, form.note.data)
    except DomainError as error:
        refused(error, form)
        return _render_condition(found, form, error.status)
    flash(_("The condition is marked done. The secretary is told."), "success")
    back = safe_next(form.next.data)
    return redirect(back or url_for("projects.condition", condition_id=found.id))


@bp.get("/my/tasks")
@login_required
def my_tasks():
    """The projects and conditions I, or one of my units, answer for: open
    ones first, the overdue flagged, each linking to where I act."""
    return render_template(
        "projects/my_tasks.html",
        tasks=services.my_tasks(current_user, page_arg(), MY_TASKS_PAGE),
    )


MY_TASKS_PAGE = 20
