"""order indexes: issue 15's pages find their rows by index at five years of history

Revision ID: 0014_order_indexes
Revises: 0013_organisation_orders
Create Date: 2026-12-06 12:10:00

Measured on PostgreSQL with bench/history.py at scale 1.0 (50,000 requests,
34,000 visits, 690,000 notifications, 20,000 memberships; bench/README.md,
issue 15):

- ``notification (user_id) WHERE read_at IS NULL``: the unread badge of every
  page counted a secretary's 9,000 notifications on 7,000 heap blocks
  (14 ms); the partial index holds the unread alone.
- ``resident_request.claimed_by_id``: one of the ways of seeing a request
  (``requests.services.can_view_condition``): without it the OR of the
  indexed columns could not be answered by index at all.
- ``visit (grid_id, visited_at)``: a grid's visit log, newest first.
- ``membership.community_id``: a community's members and secretaries (every
  order's notifications); the unique key leads with the user.
- ``project_request.request_id``: a request's projects (its page, the API);
  the primary key leads with the project.

Plain indexes, built in moments at that size; the partial one is a partial
index on both PostgreSQL and SQLite.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0014_order_indexes"
down_revision = "0013_organisation_orders"
branch_labels = None
depends_on = None

INDEXES = [
    ("ix_resident_request_claimed_by_id", "resident_request", ["claimed_by_id"]),
    ("ix_visit_grid_visited_at", "visit", ["grid_id", "visited_at"]),
    ("ix_membership_community_id", "membership", ["community_id"]),
    ("ix_project_request_request_id", "project_request", ["request_id"]),
]
UNREAD = "read_at IS NULL"


def upgrade():
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)
    op.create_index(
        "ix_notification_unread",
        "notification",
        ["user_id"],
        postgresql_where=sa.text(UNREAD),
        sqlite_where=sa.text(UNREAD),
    )


def downgrade():
    op.drop_index("ix_notification_unread", table_name="notification")
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
