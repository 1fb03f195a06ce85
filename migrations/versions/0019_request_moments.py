"""request moments: a request's first reply, first close and last reopening on its row

Revision ID: 0019_request_moments
Revises: 0018_statistics_indexes
Create Date: 2026-12-06 15:10:00

The statistics (issue 17) count, for the requests received in a period, how
soon each was first replied to, closed, and whether it was reopened. Read
from the events, that was a grouping of every request's events: 190 ms for
all streets over five years (bench/statistics_pages.py). ``services.transition``
now keeps the three moments on the request as it writes the event; here they
are filled in from the events already there.
"""

import sqlalchemy as sa
from alembic import op

import meetings.dbtypes

# revision identifiers, used by Alembic.
revision = "0019_request_moments"
down_revision = "0018_statistics_indexes"
branch_labels = None
depends_on = None

# The same moments the events tell (bench/history.py runs this after its load).
BACKFILL = """
UPDATE resident_request SET
  first_replied_at = (SELECT min(e.at) FROM request_event e
                      WHERE e.request_id = resident_request.id AND e.from_status = 'submitted'),
  closed_at = (SELECT min(e.at) FROM request_event e
               WHERE e.request_id = resident_request.id AND e.to_status = 'closed'),
  reopened_at = (SELECT max(e.at) FROM request_event e
                 WHERE e.request_id = resident_request.id AND e.to_status = 'reopened')
"""


def upgrade():
    with op.batch_alter_table("resident_request", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("first_replied_at", meetings.dbtypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(sa.Column("closed_at", meetings.dbtypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("reopened_at", meetings.dbtypes.UTCDateTime(), nullable=True))
    op.execute(BACKFILL)


def downgrade():
    with op.batch_alter_table("resident_request", schema=None) as batch_op:
        batch_op.drop_column("reopened_at")
        batch_op.drop_column("closed_at")
        batch_op.drop_column("first_replied_at")
