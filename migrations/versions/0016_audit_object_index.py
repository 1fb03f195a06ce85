"""audit object index: an object's audit entries by index

Revision ID: 0016_audit_object_index
Revises: 0015_meeting_room
Create Date: 2026-12-06 13:00:00

"You voted at HH:MM" (issue 16) reads the voter's ``ballot.cast`` entry of
the poll; with only the action indexed that is a scan of every ballot ever
cast (a million at five years). An index on (object_type, object_id) finds a
poll's entries at once. A plain CREATE INDEX: the append-only table is not
rebuilt, its triggers stay.
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0016_audit_object_index"
down_revision = "0015_meeting_room"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_audit_entry_object", "audit_entry", ["object_type", "object_id"])


def downgrade():
    op.drop_index("ix_audit_entry_object", table_name="audit_entry")
