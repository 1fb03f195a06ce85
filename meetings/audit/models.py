"""The append-only audit log: who did what, when.

An entry is written unsealed and linked into the hash chain soon after: it
then gets ``seq``, its place in the chain, ``prev_hash``, the ``hash`` of the
entry before it (sixty-four zeros for the first), and its own ``hash`` over
that and its content, so an entry changed, removed or slipped in afterwards
breaks the chain at that point (``flask --app wsgi audit verify``). ``seq``
and ``prev_hash`` are unique: two entries claiming the same place or the same
predecessor, a fork, cannot both be written. Database triggers (migrations
``0007_integrity`` and ``0008_audit_seq``) refuse DELETE, and every UPDATE
but the one that links an unsealed entry. See :mod:`meetings.audit.services`
for how entries are appended and linked.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from meetings.dbtypes import UTCDateTime, utcnow
from meetings.extensions import db

# prev_hash of the first entry
GENESIS_HASH = "0" * 64


class AuditEntry(db.Model):
    __tablename__ = "audit_entry"
    __table_args__ = (
        # an object's entries: "you voted at HH:MM" reads the voter's entry of the poll
        Index("ix_audit_entry_object", "object_type", "object_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    action: Mapped[str] = mapped_column(String(60), index=True)
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int | None]
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The place in the chain, from 1, and hex SHA-256 digests (see
    # meetings.audit.services.entry_hash): all three NULL until it is linked.
    seq: Mapped[int | None] = mapped_column(unique=True, index=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    hash: Mapped[str | None] = mapped_column(String(64))
