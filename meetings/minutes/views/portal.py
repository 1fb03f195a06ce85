"""The public side, no login needed: a community's portal page, its published
minutes (newest first), one meeting's minutes with their earlier published
versions, the PDF for the notice board, the Atom feed, the answered
requests and the search (over ``meetings.search``)."""

from __future__ import annotations

from pathlib import Path

from flask import Response, abort, current_app, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from auth.models import Community
from auth.services import list_communities
from meetings.dbtypes import utcnow
from meetings.extensions import db, limiter
from meetings.main.paging import page_arg
from meetings.meeting.links import external_url
from meetings.minutes import public, services
from meetings.minutes.facts import outcome_of, outcomes_of
from meetings.minutes.feed import minutes_feed
from meetings.minutes.forms import SearchForm
from meetings.minutes.pdf import PdfUnavailable, html_to_pdf
from meetings.minutes.views.common import bp, published_version
from meetings.search import services as search_services

PAGE_SIZE = 10
FEED_SIZE = 50
PRINT_STYLESHEET = "css/print.css"


def project_board_url(community_id: int) -> str:
    """The community's project board (挂图作战), served by the projects' pages."""
    return url_for("projects.board", community_id=community_id)


@bp.get("/communities/<int:community_id>")
def portal(community_id: int):
    community = db.get_or_404(Community, community_id)
    latest = list(db.session.scalars(public.published_minutes(community.id).limit(3)))
    answered = public.answered_count(community)
    return render_template(
        "public/portal.html",
        community=community,
        latest=latest,
        answered_count=answered,
        board_url=project_board_url(community.id),
        search_form=SearchForm([community], formdata=None, community=community.id),
    )


@bp.get("/communities/<int:community_id>/minutes")
def community_minutes(community_id: int):
    community = db.get_or_404(Community, community_id)
    page = db.paginate(
        public.published_minutes(community.id), page=page_arg(), per_page=PAGE_SIZE, error_out=False
    )
    return render_template(
        "public/minutes_list.html",
        community=community,
        page=page,
        outcomes=outcomes_of([version.meeting_id for version in page.items]),
        board_url=project_board_url(community.id),
    )


@bp.get("/minutes/<int:meeting_id>")
def public_show(meeting_id: int):
    number = request.args.get("version", type=int)
    version, found = published_version(meeting_id, number)
    meeting = version.meeting
    return render_template(
        "public/minutes.html",
        meeting=meeting,
        version=version,
        history=found,
        superseded_by=found.superseded_by(version),
        outcome=outcome_of(meeting),
        board_url=project_board_url(meeting.community_id),
        is_manager=services.can_edit(current_user, meeting),
    )


def _pdf_limit() -> str:
    return current_app.config.get("PDF_RATE_LIMIT", "30 per minute")


@bp.get("/minutes/<int:meeting_id>.pdf")
@limiter.limit(_pdf_limit)
def pdf(meeting_id: int):
    number = request.args.get("version", type=int)
    version, found = published_version(meeting_id, number)
    etag = f"minutes-{version.id}-{get_locale()}"
    if request.if_none_match.contains(etag):
        return Response(status=304, headers={"ETag": f'"{etag}"'})
    html = render_template(
        "minutes/pdf.html",
        meeting=version.meeting,
        version=version,
        history=found,
        superseded_by=found.superseded_by(version),
        page_url=external_url("minutes.public_show", meeting_id=meeting_id, version=version.number),
    )
    try:
        body = html_to_pdf(html, Path(current_app.static_folder) / PRINT_STYLESHEET)
    except PdfUnavailable:
        current_app.logger.exception("PDF minutes unavailable")
        abort(503)
    filename = f"minutes-{meeting_id}-v{version.number}.pdf"
    return Response(
        body,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{filename}"',
            "ETag": f'"{etag}"',
            "Cache-Control": "public, max-age=300",
        },
    )


@bp.get("/communities/<int:community_id>/minutes.atom")
def feed(community_id: int):
    community = db.get_or_404(Community, community_id)
    versions = list(
        db.session.scalars(public.published_minutes(community.id, order="updated").limit(FEED_SIZE))
    )
    locale = get_locale()
    body = minutes_feed(
        community,
        versions,
        title=_feed_title(community),
        feed_url=external_url("minutes.feed", community_id=community.id),
        page_url=external_url("minutes.community_minutes", community_id=community.id),
        minutes_url=lambda v: external_url(
            "minutes.public_show", meeting_id=v.meeting_id, version=v.number
        ),
        language=str(locale).replace("_", "-") if locale else "zh-CN",
        now=utcnow(),
    )
    return Response(body, mimetype="application/atom+xml")


def _feed_title(community: Community) -> str:
    return _("Minutes of %(community)s", community=community.name)


@bp.get("/communities/<int:community_id>/answered")
def answered(community_id: int):
    community = db.get_or_404(Community, community_id)
    page = db.paginate(
        public.answered_requests(community), page=page_arg(), per_page=PAGE_SIZE, error_out=False
    )
    ids = [item.id for item in page.items]
    return render_template(
        "public/answered.html",
        community=community,
        page=page,
        projects=public.projects_of_requests(ids),
        board_url=project_board_url(community.id),
    )


@bp.get("/search")
def search():
    """Meetings, answered requests, projects and minutes holding the words
    (``meetings.search``): one list, newest first, counted and paged."""
    communities = list_communities()
    form = SearchForm(communities, formdata=request.args if request.args else None)
    result = None
    status = 200
    if request.args:
        if form.validate():
            result = search_services.search(
                form.q.data,
                form.community.data or None,
                kind=form.kind.data or None,
                page=page_arg(),
            )
        else:
            status = 422
    return render_template(
        "public/search.html", form=form, result=result, url_of=search_services.url_of
    ), status
