"""A period of local days, both included, as reports ask for one (the
statistics, the duty records): "from 1 March to 31 March" means from
00:00 on 1 March to 00:00 on 1 April in the communities' time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from meetings.dbtypes import utcnow
from meetings.meeting.services.common import zone


@dataclass(frozen=True)
class Period:
    """From one local date to another, both included."""

    start: date
    end: date

    @property
    def starts_at(self) -> datetime:
        """The first instant, in UTC (the columns' time)."""
        return datetime.combine(self.start, time(), zone()).astimezone(UTC)

    @property
    def ends_at(self) -> datetime:
        """The first instant after the last day, in UTC."""
        return datetime.combine(self.end + timedelta(days=1), time(), zone()).astimezone(UTC)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def holds(self, column) -> sa.ColumnElement[bool]:
        """The column's moment falls in the period."""
        return sa.and_(column >= self.starts_at, column < self.ends_at)


def local_today(now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(zone()).date()


def month_of(day: date) -> Period:
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return Period(first, following - timedelta(days=1))


def year_of(day: date) -> Period:
    return Period(date(day.year, 1, 1), date(day.year, 12, 31))
