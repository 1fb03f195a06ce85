"""list indexes: the lists that grow with five years of history find their rows by index

Revision ID: 0012_list_indexes
Revises: 0011_stored_files
Create Date: 2026-12-08 15:00:00

Measured on PostgreSQL at issue 14's full size (50,000 requests, 10,000
meetings, 36,000 polls):

- ``resident_request.raised_by_id``: the requests API filters on requester,
  raiser or community; without it the filter read the whole table (30 ms).
- ``resident_request (created_at, id)``: the API's list newest first, for an
  administrator: a sort of every request on disk (50 ms), now the index's order.
- ``meeting_topic.request_id``, ``agenda_item_request.request_id``: a
  request's meetings and agenda items (the requests API, a request's page,
  its outcome); the primary keys lead with the meeting or the item.
- ``poll.status``: the open polls, few at any time, that "my meetings"
  looks up on the voter roll (a read of every poll before).

Plain indexes only: nothing is rewritten, and each builds in moments at
that size (``CREATE INDEX`` holds writes to its table while it runs).
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0012_list_indexes"
down_revision = "0011_stored_files"
branch_labels = None
depends_on = None

INDEXES = [
    ("ix_resident_request_raised_by_id", "resident_request", ["raised_by_id"]),
    ("ix_resident_request_created_at", "resident_request", ["created_at", "id"]),
    ("ix_meeting_topic_request_id", "meeting_topic", ["request_id"]),
    ("ix_agenda_item_request_request_id", "agenda_item_request", ["request_id"]),
    ("ix_poll_status", "poll", ["status"]),
]


def upgrade():
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade():
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
