"""Pages of the duty records (履职档案): a person's, and a street's summary,
each with its export as .xlsx and .csv (meetings/documents/tables.py)."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from meetings.documents.tables import Sheet, csv_response, xlsx_response
from meetings.duty import services
from meetings.duty.forms import PeriodForm, StreetSummaryForm
from meetings.errors import ValidationFailed
from meetings.main.paging import Window, page_arg
from meetings.web import show_errors_on

bp = Blueprint("duty", __name__)

FIELD_MAP = {"from": "start", "to": "end"}
# People on a page of the street's summary (a street's year at scale 1.0: 5,700
# people, a page of 3.4 MB that took 2.3 s to render).
PEOPLE_PER_PAGE = 100


def _period_or_form(form: PeriodForm) -> services.Period | None:
    """The period asked for, or None with the errors next to the form's fields."""
    try:
        span = services.period(request.args.get("from"), request.args.get("to"))
    except ValidationFailed as error:
        show_errors_on(form, error, FIELD_MAP)
        return None
    form.start.data, form.end.data = span.start, span.end
    return span


def _period_or_422() -> services.Period:
    """The exports have no form: a bad period is the error page's (422)."""
    return services.period(request.args.get("from"), request.args.get("to"))


# --- a person's record ----------------------------------------------------------------


def _viewed_person(person_id: int):
    person = services.get_person(person_id)
    services.require_record_viewer(current_user, person)
    return person


@bp.get("/people/<int:person_id>/duty-record")
@login_required
def record(person_id: int):
    """履职档案 of one person, printable."""
    person = _viewed_person(person_id)
    form = PeriodForm(formdata=None)
    span = _period_or_form(form)
    duty = services.duty_record(person, span) if span else None
    return render_template(
        "duty/record.html",
        person=person,
        form=form,
        record=duty,
        labels=services.figure_labels(),
        figures=services.FIGURES,
        made_on=services.local_today(),
    ), (200 if duty else 422)


def _record_sheets(duty: services.DutyRecord) -> list[Sheet]:
    labels = services.figure_labels()
    caption = [
        _("Duty record of %(name)s", name=duty.person.display_name),
        _(
            "%(start)s to %(end)s",
            start=duty.period.start.isoformat(),
            end=duty.period.end.isoformat(),
        ),
    ]
    figures = Sheet(
        _("Figures"),
        [_("Figure"), _("Number")],
        [(labels[name], getattr(duty.figures, name)) for name in services.FIGURES],
        caption,
    )
    meetings = Sheet(
        _("Meetings"),
        [
            _("Date"),
            _("Meeting"),
            _("Community"),
            _("Role"),
            _("Attendance"),
            _("Speeches"),
            _("Proposals tabled"),
            _("Ballots cast"),
        ],
        [
            (
                line.local_start.strftime("%Y-%m-%d %H:%M"),
                line.title,
                line.community,
                line.role.label,
                line.presence.label if line.presence else _("Not marked"),
                line.speeches,
                line.proposals,
                line.ballots,
            )
            for line in duty.meetings
        ],
        caption,
    )
    return [figures, meetings]


def _record_filename(duty: services.DutyRecord, extension: str) -> str:
    return (
        f"履职档案-{duty.person.display_name}-"
        f"{duty.period.start.isoformat()}-{duty.period.end.isoformat()}.{extension}"
    )


@bp.get("/people/<int:person_id>/duty-record.xlsx")
@login_required
def record_xlsx(person_id: int):
    duty = services.duty_record(_viewed_person(person_id), _period_or_422())
    return xlsx_response(_record_filename(duty, "xlsx"), _record_sheets(duty))


@bp.get("/people/<int:person_id>/duty-record.csv")
@login_required
def record_csv(person_id: int):
    """The figures (the meetings one by one are in the .xlsx)."""
    duty = services.duty_record(_viewed_person(person_id), _period_or_422())
    return csv_response(_record_filename(duty, "csv"), _record_sheets(duty)[0])


# --- a street's summary ---------------------------------------------------------------


def _viewed_street(street_id: int):
    street = services.get_street(street_id)
    services.require_street_summary_viewer(current_user, street)
    return street


@bp.get("/streets/<int:street_id>/duty-records")
@login_required
def street(street_id: int):
    """The duty records of everyone in the street's meetings, side by side,
    a page of people at a time (the export holds them all)."""
    street = _viewed_street(street_id)
    form = StreetSummaryForm(formdata=None)
    span = _period_or_form(form)
    summary = page = None
    if span is not None:
        try:
            role = services.street_role(request.args.get("role"))
        except ValidationFailed as error:
            show_errors_on(form, error)
        else:
            form.role.data = role.value if role else ""
            summary = services.street_summary(street, span, role=role)
            number = page_arg()
            shown = summary.rows[(number - 1) * PEOPLE_PER_PAGE : number * PEOPLE_PER_PAGE]
            more = len(summary.rows) > number * PEOPLE_PER_PAGE
            page = Window(shown, number, PEOPLE_PER_PAGE, more)
    return render_template(
        "duty/street.html",
        street=street,
        form=form,
        summary=summary,
        page=page,
        labels=services.figure_labels(),
        short_labels=services.figure_short_labels(),
        figures=services.FIGURES,
    ), (200 if summary else 422)


def _street_summary(street_id: int) -> services.StreetSummary:
    street = _viewed_street(street_id)
    span = _period_or_422()
    return services.street_summary(
        street, span, role=services.street_role(request.args.get("role"))
    )


def _street_sheet(summary: services.StreetSummary) -> Sheet:
    labels = services.figure_labels()
    rows = [
        (
            row.name,
            "、".join(str(role.label) for role in row.roles),
            "、".join(row.communities),
            *(getattr(row.figures, name) for name in services.FIGURES),
        )
        for row in summary.rows
    ]
    totals = summary.totals
    rows.append((_("Total"), "", "", *(getattr(totals, name) for name in services.FIGURES)))
    return Sheet(
        _("Duty records"),
        [_("Name"), _("Roles"), _("Communities"), *(labels[name] for name in services.FIGURES)],
        rows,
        [
            _("Duty records of %(street)s", street=summary.street.name)
            + (f" · {summary.role.label}" if summary.role else ""),
            _(
                "%(start)s to %(end)s",
                start=summary.period.start.isoformat(),
                end=summary.period.end.isoformat(),
            ),
        ],
    )


def _street_filename(summary: services.StreetSummary, extension: str) -> str:
    return (
        f"履职汇总-{summary.street.name}-"
        f"{summary.period.start.isoformat()}-{summary.period.end.isoformat()}.{extension}"
    )


@bp.get("/streets/<int:street_id>/duty-records.xlsx")
@login_required
def street_xlsx(street_id: int):
    summary = _street_summary(street_id)
    return xlsx_response(_street_filename(summary, "xlsx"), [_street_sheet(summary)])


@bp.get("/streets/<int:street_id>/duty-records.csv")
@login_required
def street_csv(street_id: int):
    summary = _street_summary(street_id)
    return csv_response(_street_filename(summary, "csv"), _street_sheet(summary))
