"""The indexes the statistics need (migration 0018), declared here beside
the statements they serve rather than in the models' modules.

Figures: bench/statistics.py's database (bench/history.py at scale 1.0,
PostgreSQL, five years: 50,000 requests, 263,045 request events, 376,353
attendances), each statement timed by EXPLAIN ANALYZE on a machine under a
load of about 8 on 2 cores (other test runs), so the times are high but
comparable:

- ``ix_request_event_telling``: the events telling when a request was first
  replied to, closed or reopened, a partial index on (request_id, at,
  from_status, to_status) read without the table: the requests' statement
  for all streets over five years 480 → 175 ms, over a month 60 → 20 ms.
- ``ix_resident_request_dispatched_at``: the orders dispatched in a period:
  all streets over a year 101 → 51 ms.
- ``ix_attendance_meeting_role``: the attendances of the meetings held, by
  role, read without the table: all streets over a year 148 → 67 ms.
"""

from __future__ import annotations

import sqlalchemy as sa

from meetings.meeting.models import Attendance
from meetings.requests.models import RequestEvent, ResidentRequest

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
resident_request_dispatched_at = sa.Index(
    "ix_resident_request_dispatched_at", ResidentRequest.__table__.c.dispatched_at
)
_attendance = Attendance.__table__
attendance_meeting_role = sa.Index(
    "ix_attendance_meeting_role",
    _attendance.c.meeting_id,
    _attendance.c.role,
    _attendance.c.presence,
)
