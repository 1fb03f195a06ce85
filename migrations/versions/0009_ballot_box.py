"""ballot box: ballots of an open poll wait in pending_ballot until the close

Revision ID: 0009_ballot_box
Revises: 0008_audit_seq
Create Date: 2026-12-06 09:00:00

A ballot cast in an open poll goes into ``pending_ballot`` (receipt, chosen
option ids, the voter on named polls only); the close moves the poll's
ballots into ``ballot`` and ``ballot_choice`` in a random order and deletes
them from the box. Triggers refuse every UPDATE of the box, and a DELETE
unless the ballot's poll is closed (on PostgreSQL also TRUNCATE), with the
message ``meetings.integrity`` recognises.

Ballots of polls still open when this migration runs were written straight
into ``ballot`` by the earlier code; they stay there and are counted with the
box at the close.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0009_ballot_box"
down_revision = "0008_audit_seq"
branch_labels = None
depends_on = None

MESSAGE = "pending_ballot is append-only"
POSTGRES_FUNCTION = "shangliang_pending_ballot_delete"
# Whose poll is not closed (or gone: a cascade from the poll).
NOT_COUNTED = "(SELECT status FROM poll WHERE poll.id = OLD.poll_id) IS DISTINCT FROM 'closed'"
SQLITE_NOT_COUNTED = "(SELECT status FROM poll WHERE poll.id = OLD.poll_id) IS NOT 'closed'"


def upgrade():
    op.create_table(
        "pending_ballot",
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("receipt", sa.String(length=16), nullable=False),
        sa.Column("voter_id", sa.Integer(), nullable=True),
        sa.Column("option_ids", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["poll_id"],
            ["poll.id"],
            name=op.f("fk_pending_ballot_poll_id_poll"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["voter_id"], ["user_account.id"], name=op.f("fk_pending_ballot_voter_id_user_account")
        ),
        sa.PrimaryKeyConstraint("poll_id", "receipt", name=op.f("pk_pending_ballot")),
        sqlite_with_rowid=False,
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE FUNCTION {POSTGRES_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN IF {NOT_COUNTED} THEN RAISE EXCEPTION '{MESSAGE}' "
            "USING ERRCODE = 'restrict_violation'; END IF; RETURN OLD; END $$"
        )
        op.execute(
            "CREATE TRIGGER pending_ballot_no_update BEFORE UPDATE ON pending_ballot "
            f"FOR EACH ROW EXECUTE FUNCTION shangliang_refuse_change('{MESSAGE}')"
        )
        op.execute(
            "CREATE TRIGGER pending_ballot_no_delete BEFORE DELETE ON pending_ballot "
            f"FOR EACH ROW EXECUTE FUNCTION {POSTGRES_FUNCTION}()"
        )
        op.execute(
            "CREATE TRIGGER pending_ballot_no_truncate BEFORE TRUNCATE ON pending_ballot "
            f"FOR EACH STATEMENT EXECUTE FUNCTION shangliang_refuse_change('{MESSAGE}')"
        )
    else:
        op.execute(
            "CREATE TRIGGER pending_ballot_no_update BEFORE UPDATE ON pending_ballot "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        )
        op.execute(
            "CREATE TRIGGER pending_ballot_no_delete BEFORE DELETE ON pending_ballot "
            f"WHEN {SQLITE_NOT_COUNTED} BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for name in ("update", "delete", "truncate"):
            op.execute(f"DROP TRIGGER IF EXISTS pending_ballot_no_{name} ON pending_ballot")
        op.execute(f"DROP FUNCTION IF EXISTS {POSTGRES_FUNCTION}()")
    else:
        for name in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS pending_ballot_no_{name}")
    op.drop_table("pending_ballot")
