"""statistics indexes: orders and attendances as the statistics read them

Revision ID: 0018_statistics_indexes
Revises: 0017_notice_search
Create Date: 2026-12-06 14:30:00

The statistics (issue 17) count the orders dispatched in a period, by date,
and the attendances of a meeting by role and presence, read without the
table (``meetings/statistics/indexes.py`` has the figures).
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0018_statistics_indexes"
down_revision = "0017_notice_search"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_resident_request_dispatched_at", "resident_request", ["dispatched_at"])
    op.create_index("ix_attendance_meeting_role", "attendance", ["meeting_id", "role", "presence"])


def downgrade():
    op.drop_index("ix_attendance_meeting_role", table_name="attendance")
    op.drop_index("ix_resident_request_dispatched_at", table_name="resident_request")
