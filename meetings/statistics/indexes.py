"""The index the statistics need (migration 0018), declared here beside the
statements it serves rather than in ``requests.models``.

``ix_request_event_telling``: the events that tell when a request was first
replied to, closed or reopened — a partial index on (request_id, at,
from_status, to_status), read without the table. At the five years of
bench/history.py (263,045 events, 98,470 of them telling) the statistics'
request statement for all streets over five years goes from 480 to 175 ms,
for a month from 60 to 20 ms (bench/statistics.py, PostgreSQL, under load)."""

from __future__ import annotations

import sqlalchemy as sa

from meetings.requests.models import RequestEvent

TELLING = "from_status = 'submitted' OR to_status IN ('closed', 'reopened')"

_events = RequestEvent.__table__
request_event_telling = sa.Index(
    "ix_request_event_telling",
    _events.c.request_id,
    _events.c.at,
    _events.c.from_status,
    _events.c.to_status,
    postgresql_where=sa.text(TELLING),
    sqlite_where=sa.text(TELLING),
)
