"""The statistics as tables (the page's, the .xlsx's sheets, each .csv) and
the charts drawn from them: one description serves all three."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import ngettext
from markupsafe import Markup

from meetings.documents.tables import Sheet
from meetings.statistics.charts import Bar, bar_chart
from meetings.statistics.services import ScopeKind, Statistics


@dataclass
class Table:
    name: str  # the key of its .csv (``?table=``)
    title: str
    headers: list[str]
    rows: list[list[object]]
    chart: Markup = field(default_factory=Markup)
    # how many leading columns are row headers (``th scope="row"``)
    row_headers: int = 1
    # the rows the page shows, when not all of them (the files have every row)
    shown_rows: list[list[object]] | None = None

    @property
    def page_rows(self) -> list[list[object]]:
        return self.rows if self.shown_rows is None else self.shown_rows

    @property
    def rows_left_out(self) -> int:
        return len(self.rows) - len(self.page_rows)

    def sheet(self, caption: list[str]) -> Sheet:
        return Sheet(self.title, self.headers, self.rows, [self.title, *caption])


# assignees of each kind the page lists (the busiest); the .xlsx/.csv list all
ORDERS_SHOWN = 20


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:g}%"


def _figure(value: float | None) -> object:
    return "—" if value is None else value


def _share(part: int, whole: int) -> str:
    return "—" if not whole else f"{round(100.0 * part / whole, 1):g}%"


def caption(stats: Statistics) -> list[str]:
    period = stats.period
    return [
        stats.scope.name,
        _(
            "Period: %(start)s to %(end)s",
            start=period.start.isoformat(),
            end=period.end.isoformat(),
        ),
    ]


def tables(stats: Statistics) -> list[Table]:
    found = [
        _requests(stats),
        _counts("categories", _("Requests by category"), _("Category"), stats.requests.by_category),
        _counts("channels", _("Requests by channel"), _("Channel"), stats.requests.by_channel),
        _satisfaction(stats),
        _orders(stats),
        _meetings(stats),
        _attendance(stats),
        _polls(stats),
        _projects(stats),
    ]
    if stats.scope.kind != ScopeKind.COMMUNITY:
        found.append(
            _side_by_side("communities", _("Communities side by side"), stats.communities, True)
        )
    if stats.scope.kind == ScopeKind.ALL:
        found.append(_side_by_side("streets", _("Streets side by side"), stats.streets, False))
    return found


def table_named(stats: Statistics, name: str) -> Table | None:
    return next((table for table in tables(stats) if table.name == name), None)


def _requests(stats: Statistics) -> Table:
    figures = stats.requests
    days = figures.reply_days
    received = figures.received
    states = [
        (_("Answered within %(days)d days", days=days), figures.answered_in_time, "chart-good"),
        (_("Answered later"), figures.answered_late, "chart-late"),
        (_("Overdue: no reply after %(days)d days", days=days), figures.overdue, "chart-bad"),
        (_("Waiting, within the limit"), figures.waiting, "chart-bar"),
    ]
    rows = [[_("Received"), received, ""]]
    rows += [[label, value, _share(value, received)] for label, value, _css in states]
    rows += [
        [_("Requests closed"), figures.closed, _share(figures.closed, received)],
        [_("Reopened after a low rating"), figures.reopened, _share(figures.reopened, received)],
        [_("Median hours to the first reply"), _figure(figures.median_first_reply_hours), ""],
        [_("Median hours to the close"), _figure(figures.median_close_hours), ""],
    ]
    chart = bar_chart(
        _("Requests received, by reply"),
        [
            Bar(str(label), value, f"{value} ({_share(value, received)})")
            for label, value, _c in states
        ],
        maximum=received or None,
    )
    return Table(
        "requests", _("Requests received"), [_("Figure"), _("Number"), _("Share")], rows, chart
    )


def _counts(name: str, title: str, heading: str, counts) -> Table:
    total = sum(line.count for line in counts)
    rows = [[line.label, line.count, _share(line.count, total)] for line in counts]
    chart = bar_chart(title, [Bar(line.label, line.count) for line in counts])
    return Table(name, title, [heading, _("Requests"), _("Share")], rows, chart)


def _satisfaction(stats: Statistics) -> Table:
    figures = stats.satisfaction
    rows = [
        [
            ngettext("%(num)d star", "%(num)d stars", score),
            figures.distribution[score],
            _share(figures.distribution[score], figures.ratings),
        ]
        for score in sorted(figures.distribution, reverse=True)
    ]
    rows.append([_("All ratings"), figures.ratings, ""])
    rows.append([_("Average (1 to 5)"), _figure(figures.average), ""])
    rows.append([_("Satisfied (4 or 5)"), figures.satisfied, _percent(figures.satisfied_percent)])
    chart = bar_chart(
        _("Residents' ratings of their requests"),
        [
            Bar(ngettext("%(num)d star", "%(num)d stars", score), figures.distribution[score])
            for score in sorted(figures.distribution, reverse=True)
        ],
    )
    return Table(
        "satisfaction",
        _("Satisfaction (群众满意度)"),
        [_("Rating"), _("Ratings"), _("Share")],
        rows,
        chart,
    )


def _orders(stats: Statistics) -> Table:
    figures = stats.orders
    kinds = (
        (_("Grid"), figures.by_grid),
        (_("Person"), figures.by_person),
        (_("Unit"), figures.by_unit),
    )

    def row(kind, line):
        share = _share(line.on_time, line.on_time + line.late)
        return [kind, line.name, line.count, line.on_time, line.late, line.other, share]

    total = [
        _("All orders"),
        "",
        figures.dispatched,
        figures.on_time,
        figures.late,
        figures.other,
        _percent(figures.on_time_percent),
    ]
    rows = [row(kind, line) for kind, lines in kinds for line in lines] + [total]
    # A street's five years have a thousand people with orders: the page shows
    # the busiest of each kind (readable on a phone), the files every one.
    shown = [
        row(kind, line)
        for kind, lines in kinds
        for line in sorted(lines, key=lambda line: -line.count)[:ORDERS_SHOWN]
    ] + [total]
    busiest = sorted((line for _k, lines in kinds for line in lines), key=lambda line: -line.count)[
        :12
    ]
    chart = bar_chart(
        _("Orders by assignee: on time, late, other"),
        [
            Bar(
                line.name,
                line.count,
                f"{line.on_time} / {line.late} / {line.other}",
                parts=[
                    (line.on_time, "chart-good"),
                    (line.late, "chart-bad"),
                    (line.other, "chart-bar"),
                ],
            )
            for line in busiest
        ],
        legend=[
            (_("On time"), "chart-good"),
            (_("Late"), "chart-bad"),
            (_("Other: open, not yet due, or handed back"), "chart-bar"),
        ],
    )
    return Table(
        "orders",
        _("Orders (派单) by assignee"),
        [
            _("Assignee"),
            _("Name"),
            _("Orders"),
            _("On time"),
            _("Late"),
            _("Other"),
            _("On time (share of done)"),
        ],
        rows,
        chart,
        row_headers=2,
        shown_rows=shown if len(shown) < len(rows) else None,
    )


def _meetings(stats: Statistics) -> Table:
    figures = stats.meetings
    rows = [
        [_("Held"), figures.held],
        [_("Minutes published"), figures.with_minutes],
        [_("Planned, not yet held"), figures.planned],
        [_("Cancelled"), figures.cancelled],
    ]
    return Table(
        "meetings", _("Meetings starting in the period"), [_("Meetings"), _("Number")], rows
    )


def _attendance(stats: Statistics) -> Table:
    lines = stats.attendance_by_role
    rows = [
        [line.label, line.invited, line.present, line.excused, _percent(line.rate)]
        for line in lines
    ]
    invited = sum(line.invited for line in lines)
    present = sum(line.present for line in lines)
    rows.append(
        [
            _("Everyone"),
            invited,
            present,
            sum(line.excused for line in lines),
            _share(present, invited),
        ]
    )
    chart = bar_chart(
        _("Attendance rate by role"),
        [Bar(line.label, line.rate or 0, _percent(line.rate)) for line in lines],
        maximum=100,
    )
    return Table(
        "attendance",
        _("Attendance by role at the meetings held"),
        [_("Role"), _("Invited"), _("Present"), _("Excused"), _("Attendance rate")],
        rows,
        chart,
    )


def _polls(stats: Statistics) -> Table:
    figures = stats.polls
    rows = [
        [_("Polls closed"), figures.polls],
        [_("Eligible voters"), figures.eligible],
        [_("Ballots cast"), figures.cast],
        [_("Turnout"), _percent(figures.turnout)],
        [_("Adopted"), figures.adopted],
        [_("Not adopted"), figures.rejected],
        [_("Decided (a choice)"), figures.decided],
        [_("No quorum"), figures.no_quorum],
    ]
    return Table("polls", _("Polls at the meetings held"), [_("Polls"), _("Number")], rows)


def _projects(stats: Statistics) -> Table:
    figures = stats.projects
    rows = [
        [_("Resolutions recorded"), figures.resolutions],
        [_("Resolutions agreed"), figures.resolutions_agreed],
        [_("Resolutions in public notice"), figures.resolutions_in_notice],
        [_("Projects completed on time"), figures.completed_on_time],
        [_("Projects completed late"), figures.completed_late],
        [_("Projects overdue, not completed"), figures.overdue],
        [_("Projects in progress"), figures.in_progress],
        [_("Projects suspended"), figures.suspended],
        [_("Project ratings"), figures.ratings],
        [_("Average project rating (1 to 5)"), _figure(figures.rating_average)],
    ]
    done = [
        (_("Completed on time"), figures.completed_on_time, "chart-good"),
        (_("Completed late"), figures.completed_late, "chart-late"),
        (_("Overdue, not completed"), figures.overdue, "chart-bad"),
        (_("Suspended"), figures.suspended, "chart-bar"),
    ]
    chart = bar_chart(_("Projects"), [Bar(label, value) for label, value, _c in done])
    return Table("projects", _("Resolutions and projects"), [_("Figure"), _("Number")], rows, chart)


def _side_by_side(name: str, title: str, lines, with_street: bool) -> Table:
    headers = [_("Community") if with_street else _("Street")]
    if with_street:
        headers.append(_("Street"))
    headers += [
        _("Requests received"),
        _("Answered in time"),
        _("In time"),
        _("Overdue"),
        _("Ratings"),
        _("Average rating"),
        _("Meetings held"),
    ]
    rows = []
    for line in lines:
        row: list[object] = [line.name]
        if with_street:
            row.append(line.street_name or "—")
        row += [
            line.received,
            line.answered_in_time,
            _percent(line.in_time_percent),
            line.overdue,
            line.ratings,
            _figure(line.rating_average),
            line.meetings_held,
        ]
        rows.append(row)
    return Table(name, title, headers, rows)
