"""audit_entry.seq: the audit chain in the order entries are linked

Revision ID: 0008_audit_seq
Revises: 0007_integrity
Create Date: 2026-11-26 09:00:00

Entries are now written unsealed and linked later, in the order they are
sealed, which need not be their id order (``meetings.audit.services``).
``seq`` (unique) is an entry's place in the chain, NULL until it is linked.
Until now linked entries were chained in id order, so the upgrade numbers
them by id.

The audit_entry UPDATE trigger is replaced: the one UPDATE it lets through is
the sealing one, from ``seq``, ``prev_hash`` and ``hash`` all NULL to all
three set, nothing else changed. Same messages as in ``0007_integrity``
(``meetings.integrity`` recognises them). ``audit_entry`` is altered without
``batch_alter_table``: a SQLite table rebuilt by a batch would lose its
triggers.

The downgrade goes back to a chain in id order. It refuses when entries were
linked out of id order (PostgreSQL, concurrent writers) or an unsealed entry
has a lower id than a linked one: the code of 0007 could neither verify nor
extend such a chain, and a hash chain is not rewritten.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0008_audit_seq"
down_revision = "0007_integrity"
branch_labels = None
depends_on = None

MESSAGE = "audit_entry is append-only"
TRIGGER = "audit_entry_no_update"
POSTGRES_FUNCTION = "shangliang_audit_entry_update"
INDEX = "ix_audit_entry_seq"

# The one UPDATE of an audit entry allowed from this revision on: sealing.
UNCHANGED_SQLITE = (
    " AND NEW.id IS OLD.id AND NEW.at IS OLD.at AND NEW.actor_id IS OLD.actor_id"
    " AND NEW.action IS OLD.action AND NEW.object_type IS OLD.object_type"
    " AND NEW.object_id IS OLD.object_id AND NEW.data IS OLD.data"
)
UNCHANGED_POSTGRES = (
    " AND NEW.id = OLD.id AND NEW.at = OLD.at"
    " AND NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id"
    " AND NEW.action = OLD.action AND NEW.object_type = OLD.object_type"
    " AND NEW.object_id IS NOT DISTINCT FROM OLD.object_id"
    " AND NEW.data::text = OLD.data::text"
)
SEALING = (
    "OLD.seq IS NULL AND OLD.prev_hash IS NULL AND OLD.hash IS NULL"
    " AND NEW.seq IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL"
)
# The one allowed in 0007 (for the downgrade).
SEALING_0007 = (
    "OLD.hash IS NULL AND OLD.prev_hash IS NULL"
    " AND NEW.hash IS NOT NULL AND NEW.prev_hash IS NOT NULL"
)

audit = sa.table(
    "audit_entry",
    sa.column("id", sa.Integer()),
    sa.column("seq", sa.Integer()),
    sa.column("hash", sa.String()),
)


def _sqlite_trigger(sealing: str) -> str:
    return (
        f"CREATE TRIGGER {TRIGGER} BEFORE UPDATE ON audit_entry "
        f"WHEN NOT ({sealing}{UNCHANGED_SQLITE}) "
        f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
    )


def _postgres_function(sealing: str) -> str:
    return (
        f"CREATE OR REPLACE FUNCTION {POSTGRES_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN IF {sealing}{UNCHANGED_POSTGRES} THEN RETURN NEW; END IF; "
        f"RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'restrict_violation'; END $$"
    )


POSTGRES_TRIGGER = (
    f"CREATE TRIGGER {TRIGGER} BEFORE UPDATE ON audit_entry "
    f"FOR EACH ROW EXECUTE FUNCTION {POSTGRES_FUNCTION}()"
)


def _drop_trigger(postgres: bool) -> None:
    op.execute(f"DROP TRIGGER {TRIGGER} ON audit_entry" if postgres else f"DROP TRIGGER {TRIGGER}")


def _create_trigger(postgres: bool, sealing: str) -> None:
    if postgres:
        op.execute(_postgres_function(sealing))
        op.execute(POSTGRES_TRIGGER)
    else:
        op.execute(_sqlite_trigger(sealing))


def upgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    _drop_trigger(postgres)  # it would refuse numbering the linked entries
    op.add_column("audit_entry", sa.Column("seq", sa.Integer(), nullable=True))
    ranked = (
        sa.select(audit.c.id, sa.func.row_number().over(order_by=audit.c.id).label("position"))
        .where(audit.c.hash.is_not(None))
        .subquery()
    )
    op.execute(audit.update().where(audit.c.id == ranked.c.id).values(seq=ranked.c.position))
    op.create_index(op.f(INDEX), "audit_entry", ["seq"], unique=True)
    _create_trigger(postgres, SEALING)


def downgrade():
    connection = op.get_bind()
    postgres = connection.dialect.name == "postgresql"
    ranked = (
        sa.select(audit.c.seq, sa.func.row_number().over(order_by=audit.c.id).label("position"))
        .where(audit.c.seq.is_not(None))
        .subquery()
    )
    out_of_order = connection.execute(
        sa.select(sa.func.count()).select_from(ranked).where(ranked.c.seq != ranked.c.position)
    ).scalar_one()
    last_linked = sa.select(sa.func.max(audit.c.id)).where(audit.c.seq.is_not(None))
    unsealed_before = connection.execute(
        sa.select(sa.func.count())
        .select_from(audit)
        .where(audit.c.seq.is_(None), audit.c.id < last_linked.scalar_subquery())
    ).scalar_one()
    if out_of_order or unsealed_before:
        raise RuntimeError(
            "The audit chain is not in id order (entries linked out of id order, or "
            "waiting before linked ones): revision 0007_integrity could not verify or "
            "extend it. Not downgrading."
        )
    _drop_trigger(postgres)
    op.drop_index(op.f(INDEX), table_name="audit_entry")
    op.drop_column("audit_entry", "seq")
    _create_trigger(postgres, SEALING_0007)
