"""The indexes the statistics need (migration 0018), declared here beside
the statements they serve rather than in the models' modules.

Figures: bench/statistics_pages.py's database (bench/history.py at scale 1.0,
PostgreSQL, five years: 50,000 requests, 263,045 request events, 376,353
attendances), each statement timed by EXPLAIN ANALYZE on a machine under a
load of about 8 on 2 cores (other test runs), so the times are high but
comparable:

- ``ix_resident_request_dispatched_at``: the orders dispatched in a period:
  all streets over a year 101 → 51 ms.
- ``ix_attendance_meeting_role``: the attendances of the meetings held, by
  role, read without the table: all streets over a year 148 → 67 ms.
"""

from __future__ import annotations

import sqlalchemy as sa

from meetings.meeting.models import Attendance
from meetings.requests.models import ResidentRequest

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
