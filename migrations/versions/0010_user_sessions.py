"""user sessions: a row per login, which logout and "sign out everywhere" end

Revision ID: 0010_user_sessions
Revises: 0009_ballot_box
Create Date: 2026-12-08 09:00:00

A browser's session cookie and its remember-me cookie carry a random token
whose SHA-256 is ``user_session.token_hash`` (see ``auth.sessions``). Logout
ends the row; a password change, deactivation and "sign out everywhere" end
all the user's rows. Sessions signed before this migration carried the bare
user id; they match no row, so everyone logs in once more after the upgrade.
"""

import sqlalchemy as sa
from alembic import op

import meetings.dbtypes

# revision identifiers, used by Alembic.
revision = "0010_user_sessions"
down_revision = "0009_ballot_box"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "user_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("remember", sa.Boolean(), nullable=False),
        sa.Column("created_at", meetings.dbtypes.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", meetings.dbtypes.UTCDateTime(), nullable=False),
        sa.Column("ended_at", meetings.dbtypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_user_session_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_user_session_token_hash")),
    )
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_session_user_id"), ["user_id"], unique=False)


def downgrade():
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_session_user_id"))
    op.drop_table("user_session")
