"""The public search index: one row per public document, and its tokens.

Chinese has no spaces, so a document's text is cut into tokens: each Chinese
character and each pair of neighbouring characters (bigrams), and each run of
letters or digits as a word. A query is cut the same way; a document that
holds every token of the query is a candidate, and the candidates are checked
for the query as a substring. ``(token, document_id)`` is a plain B-tree
primary key, so a one- or two-character word is one index lookup on SQLite
and on PostgreSQL alike (``LIKE '%…%'`` reads every row; a trigram index
cannot serve words shorter than three characters).

Only public documents are indexed: a meeting the public may see, an answered
request's public text (never the requester), a project, published minutes."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from meetings.dbtypes import StrEnumType, UTCDateTime, enum_check, utcnow
from meetings.extensions import db

TOKEN_MAX = 20


class DocumentKind(enum.StrEnum):
    MEETING = "meeting"
    REQUEST = "request"
    PROJECT = "project"
    MINUTES = "minutes"


class SearchDocument(db.Model):
    """What the public search shows of one object: its title and plain text."""

    __tablename__ = "search_document"
    __table_args__ = (
        UniqueConstraint("kind", "object_id"),
        enum_check("kind", DocumentKind),
        # newest first, the order of the results
        Index("ix_search_document_dated", "dated_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[DocumentKind] = mapped_column(StrEnumType(DocumentKind, 10))
    # the meeting, request or project id; for minutes, the meeting's id
    object_id: Mapped[int]
    community_id: Mapped[int | None] = mapped_column(
        ForeignKey("community.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    # when it became public (meeting's start, answer, publication …)
    dated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    indexed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    tokens: Mapped[list[SearchToken]] = relationship(
        back_populates="document", cascade="all, delete-orphan", passive_deletes=True
    )


class SearchToken(db.Model):
    """One token of a document (a posting of the inverted index)."""

    __tablename__ = "search_token"

    token: Mapped[str] = mapped_column(String(TOKEN_MAX), primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("search_document.id", ondelete="CASCADE"), primary_key=True, index=True
    )

    document: Mapped[SearchDocument] = relationship(back_populates="tokens")
