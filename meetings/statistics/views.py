"""Pages of the statistics: a community's, a street's, all streets'; each
table as .xlsx (all of them, a sheet each) and .csv (one, ``?table=``)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from meetings.documents.tables import csv_response, xlsx_response
from meetings.errors import ValidationFailed
from meetings.statistics import report, services
from meetings.statistics.forms import PeriodForm
from meetings.statistics.services import Scope, ScopeKind
from meetings.web import show_errors_on

bp = Blueprint("statistics", __name__)

PERIOD_FIELDS = {"from": "start", "to": "end"}


def _scope(kind: ScopeKind, scope_id: int | None) -> Scope:
    scope = services.find_scope(kind, scope_id)
    services.require_viewer(current_user, scope)
    return scope


def _urls(scope: Scope) -> dict[str, str]:
    """The page's own endpoint and arguments, for the links."""
    if scope.kind == ScopeKind.COMMUNITY:
        return {"community_id": scope.id}
    if scope.kind == ScopeKind.STREET:
        return {"street_id": scope.id}
    return {}


def _endpoint(scope: Scope, suffix: str = "") -> str:
    return f"statistics.{scope.kind.value}{suffix}"


def _page(scope: Scope):
    form = PeriodForm(request.args)
    period = None
    if form.validate():
        try:
            period = services.make_period(form.start.data, form.end.data)
        except ValidationFailed as error:
            show_errors_on(form, error, PERIOD_FIELDS)
    if period:
        # the form shows the period the figures are for (the current month
        # when none was asked for), so one date can be changed from there
        form.start.data, form.end.data = period.start, period.end
    stats = services.statistics_for(scope, period) if period else None
    args = _urls(scope)
    names = {
        "this_month": _("This month"),
        "last_month": _("Last month"),
        "this_year": _("This year"),
        "last_year": _("Last year"),
    }
    shortcuts = [
        (
            names[key],
            url_for(_endpoint(scope), **args, **_period_args(shortcut)),
            shortcut == period,
        )
        for key, shortcut in services.shortcuts(services.local_today()).items()
    ]
    return render_template(
        "statistics/show.html",
        scope=scope,
        form=form,
        stats=stats,
        tables=report.tables(stats) if stats else [],
        shortcuts=shortcuts,
        endpoint=_endpoint(scope),
        file_args={**args, **_period_args(period)} if period else {},
        period=period,
    ), (200 if stats else 422)


def _period_args(period: services.Period) -> dict[str, str]:
    return {"from": period.start.isoformat(), "to": period.end.isoformat()}


def _period_or_404():
    form = PeriodForm(request.args)
    if not form.validate():
        abort(422)
    try:
        return services.make_period(form.start.data, form.end.data)
    except ValidationFailed:
        abort(422)


def _file_name(scope: Scope, period: services.Period, suffix: str) -> str:
    dates = f"{period.start.isoformat()}-{period.end.isoformat()}"
    return f"{_('Statistics')}-{scope.name}-{dates}{suffix}"


def _xlsx(scope: Scope):
    period = _period_or_404()
    stats = services.statistics_for(scope, period)
    caption = report.caption(stats)
    sheets = [table.sheet(caption) for table in report.tables(stats)]
    return xlsx_response(_file_name(scope, period, ".xlsx"), sheets)


def _csv(scope: Scope):
    period = _period_or_404()
    stats = services.statistics_for(scope, period)
    table = report.table_named(stats, request.args.get("table", "requests"))
    if table is None:
        abort(404)
    return csv_response(
        _file_name(scope, period, f"-{table.name}.csv"), table.sheet(report.caption(stats))
    )


@bp.get("/communities/<int:community_id>/statistics")
@login_required
def community(community_id: int):
    return _page(_scope(ScopeKind.COMMUNITY, community_id))


@bp.get("/communities/<int:community_id>/statistics.xlsx")
@login_required
def community_xlsx(community_id: int):
    return _xlsx(_scope(ScopeKind.COMMUNITY, community_id))


@bp.get("/communities/<int:community_id>/statistics.csv")
@login_required
def community_csv(community_id: int):
    return _csv(_scope(ScopeKind.COMMUNITY, community_id))


@bp.get("/streets/<int:street_id>/statistics")
@login_required
def street(street_id: int):
    return _page(_scope(ScopeKind.STREET, street_id))


@bp.get("/streets/<int:street_id>/statistics.xlsx")
@login_required
def street_xlsx(street_id: int):
    return _xlsx(_scope(ScopeKind.STREET, street_id))


@bp.get("/streets/<int:street_id>/statistics.csv")
@login_required
def street_csv(street_id: int):
    return _csv(_scope(ScopeKind.STREET, street_id))


@bp.get("/statistics")
@login_required
def all():  # noqa: A001 - the endpoint's name is the scope's
    return _page(_scope(ScopeKind.ALL, None))


@bp.get("/statistics.xlsx")
@login_required
def all_xlsx():
    return _xlsx(_scope(ScopeKind.ALL, None))


@bp.get("/statistics.csv")
@login_required
def all_csv():
    return _csv(_scope(ScopeKind.ALL, None))
