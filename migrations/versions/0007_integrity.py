"""integrity: audit hash chain; append-only ballots, audit log and published minutes

Revision ID: 0007_integrity
Revises: 0006_outcomes
Create Date: 2026-11-24 09:00:00

Adds ``prev_hash`` and ``hash`` to ``audit_entry`` and fills them for the
entries already written (the same chain ``meetings.audit.services`` extends),
then installs triggers that refuse:

* UPDATE and DELETE of ``audit_entry`` rows, except the one UPDATE that links
  an entry written unsealed (both hashes NULL, as PostgreSQL writers under
  concurrency insert them) and changes nothing else;
* UPDATE and DELETE of ``ballot``, ``ballot_choice`` and ``poll_vote`` rows
  (so a poll, agenda item or meeting with ballots cannot be deleted either:
  the cascade reaches the ballots and is refused);
* UPDATE and DELETE of a ``minutes_version`` whose ``published_at`` is set
  (publishing, setting it from NULL, is still an UPDATE of an unpublished row);
* on PostgreSQL also TRUNCATE of those tables.

SQLite aborts with RAISE(ABORT, …) (an IntegrityError), PostgreSQL raises
``restrict_violation`` (23001, an IntegrityError too), with the same messages,
which ``meetings.integrity`` recognises.

Note for later migrations: on SQLite, ``batch_alter_table`` rebuilds a table
by copying it, and the copy has no triggers. A migration that rebuilds one of
these five tables must create its triggers again (copy the statements below).
"""

import hashlib
import json
from datetime import UTC

import sqlalchemy as sa
from alembic import op

import meetings.dbtypes

# revision identifiers, used by Alembic.
revision = "0007_integrity"
down_revision = "0006_outcomes"
branch_labels = None
depends_on = None

GENESIS_HASH = "0" * 64

APPEND_ONLY = {
    "audit_entry": "audit_entry is append-only",
    "ballot": "ballot is append-only",
    "ballot_choice": "ballot_choice is append-only",
    "poll_vote": "poll_vote is append-only",
}
PUBLISHED_MINUTES = "published minutes_version is frozen"
POSTGRES_FUNCTION = "shangliang_refuse_change"
POSTGRES_AUDIT_FUNCTION = "shangliang_audit_entry_update"

# The one UPDATE of an audit entry allowed: linking an unsealed one, nothing else changed.
SQLITE_SEALING = (
    "OLD.hash IS NULL AND OLD.prev_hash IS NULL"
    " AND NEW.hash IS NOT NULL AND NEW.prev_hash IS NOT NULL"
    " AND NEW.id IS OLD.id AND NEW.at IS OLD.at AND NEW.actor_id IS OLD.actor_id"
    " AND NEW.action IS OLD.action AND NEW.object_type IS OLD.object_type"
    " AND NEW.object_id IS OLD.object_id AND NEW.data IS OLD.data"
)
POSTGRES_SEALING = (
    "OLD.hash IS NULL AND OLD.prev_hash IS NULL"
    " AND NEW.hash IS NOT NULL AND NEW.prev_hash IS NOT NULL"
    " AND NEW.id = OLD.id AND NEW.at = OLD.at"
    " AND NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id"
    " AND NEW.action = OLD.action AND NEW.object_type = OLD.object_type"
    " AND NEW.object_id IS NOT DISTINCT FROM OLD.object_id"
    " AND NEW.data::text = OLD.data::text"
)


def _sqlite_triggers() -> list[tuple[str, str]]:
    """(name, CREATE TRIGGER statement) for SQLite."""
    triggers = []
    for table, message in APPEND_ONLY.items():
        for event in ("update", "delete"):
            name = f"{table}_no_{event}"
            when = (
                f"WHEN NOT ({SQLITE_SEALING}) "
                if (table, event) == ("audit_entry", "update")
                else ""
            )
            triggers.append(
                (
                    name,
                    f"CREATE TRIGGER {name} BEFORE {event.upper()} ON {table} "
                    f"{when}BEGIN SELECT RAISE(ABORT, '{message}'); END",
                )
            )
    for event in ("update", "delete"):
        name = f"minutes_version_no_{event}"
        triggers.append(
            (
                name,
                f"CREATE TRIGGER {name} BEFORE {event.upper()} ON minutes_version "
                "WHEN OLD.published_at IS NOT NULL "
                f"BEGIN SELECT RAISE(ABORT, '{PUBLISHED_MINUTES}'); END",
            )
        )
    return triggers


def _postgres_triggers() -> list[tuple[str, str, str]]:
    """(name, table, CREATE TRIGGER statement) for PostgreSQL."""
    triggers = []
    tables = {**APPEND_ONLY, "minutes_version": PUBLISHED_MINUTES}
    for table, message in tables.items():
        when = " WHEN (OLD.published_at IS NOT NULL)" if table == "minutes_version" else ""
        for event in ("update", "delete"):
            name = f"{table}_no_{event}"
            function = (
                f"{POSTGRES_AUDIT_FUNCTION}()"
                if (table, event) == ("audit_entry", "update")
                else f"{POSTGRES_FUNCTION}('{message}')"
            )
            triggers.append(
                (
                    name,
                    table,
                    f"CREATE TRIGGER {name} BEFORE {event.upper()} ON {table} "
                    f"FOR EACH ROW{when} EXECUTE FUNCTION {function}",
                )
            )
        name = f"{table}_no_truncate"
        triggers.append(
            (
                name,
                table,
                f"CREATE TRIGGER {name} BEFORE TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {POSTGRES_FUNCTION}('{message}')",
            )
        )
    return triggers


# A frozen copy of meetings.audit.services.canonical_content / entry_hash: the
# format of the chain. tests/test_audit_chain.py checks that both agree.
def _canonical(row) -> str:
    return json.dumps(
        {
            "id": row.id,
            "at": row.at.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor_id": row.actor_id,
            "action": row.action,
            "object_type": row.object_type,
            "object_id": row.object_id,
            "data": row.data,
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )


def _hash(prev_hash: str, content: str) -> str:
    return hashlib.sha256((prev_hash + content).encode("utf-8", "surrogatepass")).hexdigest()


def _fill_chain() -> None:
    audit = sa.table(
        "audit_entry",
        sa.column("id", sa.Integer()),
        sa.column("at", meetings.dbtypes.UTCDateTime()),
        sa.column("actor_id", sa.Integer()),
        sa.column("action", sa.String()),
        sa.column("object_type", sa.String()),
        sa.column("object_id", sa.Integer()),
        sa.column("data", sa.JSON()),
        sa.column("prev_hash", sa.String()),
        sa.column("hash", sa.String()),
    )
    connection = op.get_bind()
    rows = connection.execute(sa.select(audit).order_by(audit.c.id)).all()
    links = []
    prev_hash = GENESIS_HASH
    for row in rows:
        digest = _hash(prev_hash, _canonical(row))
        links.append({"entry_id": row.id, "prev": prev_hash, "digest": digest})
        prev_hash = digest
    if links:
        connection.execute(
            audit.update()
            .where(audit.c.id == sa.bindparam("entry_id"))
            .values(prev_hash=sa.bindparam("prev"), hash=sa.bindparam("digest")),
            links,
        )


def upgrade():
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("hash", sa.String(length=64), nullable=True))

    _fill_chain()

    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f("uq_audit_entry_prev_hash"), ["prev_hash"])

    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE FUNCTION {POSTGRES_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'restrict_violation'; END $$"
        )
        op.execute(
            f"CREATE FUNCTION {POSTGRES_AUDIT_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN IF {POSTGRES_SEALING} THEN RETURN NEW; END IF; "
            f"RAISE EXCEPTION '{APPEND_ONLY['audit_entry']}' "
            "USING ERRCODE = 'restrict_violation'; END $$"
        )
        for _name, _table, statement in _postgres_triggers():
            op.execute(statement)
    else:
        for _name, statement in _sqlite_triggers():
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for name, table, _statement in _postgres_triggers():
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {POSTGRES_FUNCTION}()")
        op.execute(f"DROP FUNCTION IF EXISTS {POSTGRES_AUDIT_FUNCTION}()")
    else:
        for name, _statement in _sqlite_triggers():
            op.execute(f"DROP TRIGGER IF EXISTS {name}")

    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_audit_entry_prev_hash"), type_="unique")
        batch_op.drop_column("hash")
        batch_op.drop_column("prev_hash")
