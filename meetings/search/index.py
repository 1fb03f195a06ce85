"""What the public search holds, and keeping it in step with every write.

One document per public object (``models``' docstring):

* a meeting the public may see (announced, under way, held, minutes
  published; not a draft, not a cancelled one): its title, place,
  description, the agenda's items and the topics' titles, as its page shows
  them;
* an answered request (``public.ANSWERED_STATUSES`` with a reply): its title
  and the public reply — what the answered-requests page shows, never the
  requester's name, phone, building, contact or own description;
* a project (every project is on the public board): title, description,
  responsible unit;
* published minutes: the current published version's plain text.

In step on every write: the session's ``after_flush`` notes the meetings,
agenda items, requests, projects and minutes versions that were added,
changed in something the document shows, or deleted, and
``after_flush_postexec`` writes their documents in the same transaction.
Guarded status changes (``UPDATE … WHERE status = …`` through
``db.session.execute``) change no attribute the flush would see:
``do_orm_execute`` notes the rows such an UPDATE or DELETE touches. A
document is rewritten only when its text changed, and only the tokens that
changed are deleted and inserted.

``flask --app wsgi search reindex`` rebuilds all of it (after an upgrade,
or a bulk load such as ``bench/history.py``)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import click
import sqlalchemy as sa
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import BinaryExpression, BindParameter, BooleanClauseList

from meetings.extensions import db
from meetings.meeting.models import (
    PUBLIC_STATUSES,
    AgendaItem,
    Meeting,
    MeetingStatus,
    meeting_topic,
)
from meetings.minutes.models import MinutesVersion
from meetings.minutes.public import ANSWERED_STATUSES
from meetings.minutes.render import plain_text
from meetings.projects.models import Project
from meetings.requests.models import ResidentRequest
from meetings.search.models import DocumentKind, SearchDocument, SearchToken
from meetings.search.tokens import tokenize

documents = SearchDocument.__table__
postings = SearchToken.__table__

# Requests with a public answer: the answered-requests page's rule.
ANSWERED = frozenset(ANSWERED_STATUSES)
# What each document shows: a change elsewhere (a check-in, an order's
# claim) leaves the index alone.
SHOWN = {
    Meeting: ("title", "description", "location", "status", "starts_at", "community_id", "topics"),
    AgendaItem: ("title", "meeting_id"),
    ResidentRequest: ("title", "reply", "status", "replied_at", "community_id"),
    Project: ("title", "description", "responsible_unit", "community_id", "created_at"),
    MinutesVersion: ("published_at", "body_markdown"),
}
_PENDING = "search_pending"
_NEW = "search_new"
REINDEX_BATCH = 500


@dataclass(frozen=True)
class Document:
    kind: DocumentKind
    object_id: int
    community_id: int | None
    title: str
    body: str
    dated_at: datetime

    @property
    def tokens(self) -> set[str]:
        # title and body apart: no bigram made of the title's end and the body's start
        return tokenize(self.title) | tokenize(self.body)


# --- the documents ---------------------------------------------------------------------


def _lines(*parts: str | None) -> str:
    return "\n".join(part.strip() for part in parts if part and part.strip())


def meeting_document(meeting: Meeting) -> Document | None:
    if meeting.status not in PUBLIC_STATUSES:
        return None
    return Document(
        DocumentKind.MEETING,
        meeting.id,
        meeting.community_id,
        meeting.title,
        _lines(
            meeting.location,
            meeting.description,
            *(item.title for item in meeting.agenda_items),
            *(topic.title for topic in meeting.topics),
        ),
        meeting.starts_at,
    )


def request_document(item: ResidentRequest) -> Document | None:
    if item.status not in ANSWERED or not item.reply:
        return None
    return Document(
        DocumentKind.REQUEST,
        item.id,
        item.community_id,
        item.title,
        item.reply,
        item.replied_at or item.created_at,
    )


def project_document(project: Project) -> Document:
    return Document(
        DocumentKind.PROJECT,
        project.id,
        project.community_id,
        project.title,
        _lines(project.description, project.responsible_unit),
        project.created_at,
    )


def minutes_document(meeting: Meeting, version: MinutesVersion | None) -> Document | None:
    if meeting.status != MeetingStatus.MINUTES_PUBLISHED or version is None:
        return None
    return Document(
        DocumentKind.MINUTES,
        meeting.id,
        meeting.community_id,
        meeting.title,
        plain_text(version.body_markdown),
        version.published_at,
    )


def current_published(session: Session, meeting_id: int) -> MinutesVersion | None:
    return session.scalars(
        sa.select(MinutesVersion)
        .where(MinutesVersion.meeting_id == meeting_id, MinutesVersion.published_at.is_not(None))
        .order_by(MinutesVersion.number.desc())
        .limit(1)
    ).first()


def document_for(session: Session, kind: DocumentKind, object_id: int) -> Document | None:
    """The document the object should have now (None: not public, or gone)."""
    if kind == DocumentKind.REQUEST:
        item = session.get(ResidentRequest, object_id)
        return request_document(item) if item is not None else None
    if kind == DocumentKind.PROJECT:
        project = session.get(Project, object_id)
        return project_document(project) if project is not None else None
    meeting = session.get(Meeting, object_id)
    if meeting is None:
        return None
    if kind == DocumentKind.MEETING:
        return meeting_document(meeting)
    if meeting.status != MeetingStatus.MINUTES_PUBLISHED:
        return None
    return minutes_document(meeting, current_published(session, object_id))


# --- writing ---------------------------------------------------------------------------


def write(connection: sa.Connection, kind: DocumentKind, object_id: int, doc: Document | None):
    """Make the stored document (and its tokens) what ``doc`` says."""
    old = connection.execute(
        sa.select(
            documents.c.id,
            documents.c.community_id,
            documents.c.title,
            documents.c.body,
            documents.c.dated_at,
        ).where(documents.c.kind == kind.value, documents.c.object_id == object_id)
    ).first()
    if old is None:
        if doc is not None:
            _insert(connection, [doc])
        return
    if doc is None:
        connection.execute(sa.delete(postings).where(postings.c.document_id == old.id))
        connection.execute(sa.delete(documents).where(documents.c.id == old.id))
        return
    if (old.community_id, old.title, old.body, old.dated_at) == (
        doc.community_id,
        doc.title,
        doc.body,
        doc.dated_at,
    ):
        return
    connection.execute(
        sa.update(documents)
        .where(documents.c.id == old.id)
        .values(
            community_id=doc.community_id,
            title=doc.title,
            body=doc.body,
            dated_at=doc.dated_at,
            indexed_at=sa.func.now(),
        )
    )
    before = tokenize(old.title) | tokenize(old.body)
    after = doc.tokens
    gone = before - after
    if gone:
        connection.execute(
            sa.delete(postings).where(
                postings.c.document_id == old.id, postings.c.token.in_(sorted(gone))
            )
        )
    added = after - before
    if added:
        connection.execute(
            sa.insert(postings), [{"token": t, "document_id": old.id} for t in sorted(added)]
        )


def _insert(connection: sa.Connection, docs: list[Document], copy: bool = False) -> None:
    """New documents and their tokens: one INSERT … RETURNING, one of tokens
    (``copy``: with COPY on PostgreSQL, for the rebuild)."""
    if not docs:
        return
    ids = connection.execute(
        sa.insert(documents).returning(documents.c.id, sort_by_parameter_order=True),
        [
            {
                "kind": doc.kind.value,
                "object_id": doc.object_id,
                "community_id": doc.community_id,
                "title": doc.title,
                "body": doc.body,
                "dated_at": doc.dated_at,
            }
            for doc in docs
        ],
    ).scalars()
    pairs = [
        (token, document_id)
        for doc, document_id in zip(docs, ids, strict=True)
        for token in sorted(doc.tokens)
    ]
    if not pairs:
        return
    if copy and connection.dialect.name == "postgresql":
        # Speed: the full history's 4 million tokens by COPY, not INSERT (with
        # the TRUNCATE below, its rebuild took 143 s instead of 264 s on the
        # same busy machine; 47 s on a quiet one)
        cursor = connection.connection.driver_connection.cursor()
        with cursor.copy("COPY search_token (token, document_id) FROM STDIN") as copying:
            for pair in pairs:
                copying.write_row(pair)
        return
    connection.execute(
        sa.insert(postings), [{"token": token, "document_id": d} for token, d in pairs]
    )


# --- in step with every write ----------------------------------------------------------


def _keys(obj) -> Iterator[tuple[DocumentKind, int]]:
    """The documents an added, changed or deleted object may change."""
    if isinstance(obj, Meeting):
        yield DocumentKind.MEETING, obj.id
        yield DocumentKind.MINUTES, obj.id
    elif isinstance(obj, AgendaItem):
        if obj.meeting_id is not None:
            yield DocumentKind.MEETING, obj.meeting_id
    elif isinstance(obj, ResidentRequest):
        yield DocumentKind.REQUEST, obj.id
    elif isinstance(obj, Project):
        yield DocumentKind.PROJECT, obj.id
    elif isinstance(obj, MinutesVersion):
        yield DocumentKind.MINUTES, obj.meeting_id


def _shows_a_change(obj) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in SHOWN[type(obj)])


def _pending(session: Session) -> set[tuple[DocumentKind, int]]:
    return session.info.setdefault(_PENDING, set())


@event.listens_for(Session, "after_flush")
def _note_changes(session: Session, flush_context) -> None:
    pending = _pending(session)
    fresh = session.info.setdefault(_NEW, set())
    for obj in session.new:
        if type(obj) in SHOWN:
            if isinstance(obj, MinutesVersion) and obj.published_at is None:
                continue  # a draft version changes nothing public
            keys = set(_keys(obj))
            pending |= keys
            if not isinstance(obj, AgendaItem):
                fresh |= keys
    for obj in session.dirty:
        if type(obj) in SHOWN and _shows_a_change(obj):
            pending.update(_keys(obj))
            if isinstance(obj, ResidentRequest) and inspect(obj).attrs.title.history.has_changes():
                # the request is a topic of these meetings: their documents show its title
                pending.update(
                    (DocumentKind.MEETING, meeting_id)
                    for meeting_id in session.execute(
                        sa.select(meeting_topic.c.meeting_id).where(
                            meeting_topic.c.request_id == obj.id
                        )
                    ).scalars()
                )
    for obj in session.deleted:
        if type(obj) in SHOWN:
            pending.update(_keys(obj))


@event.listens_for(Session, "after_flush_postexec")
def _write_noted(session: Session, flush_context) -> None:
    catch_up(session)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    catch_up(session)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_NEW, None)


def catch_up(session: Session) -> None:
    """Write the documents noted since the last time (the search calls it
    first, so that a guarded UPDATE not yet flushed shows at once)."""
    pending = session.info.pop(_PENDING, None)
    fresh = session.info.pop(_NEW, set())
    if not pending:
        return
    connection = session.connection()
    for kind, object_id in sorted(pending):
        doc = document_for(session, kind, object_id)
        if doc is None and (kind, object_id) in fresh:
            continue  # never indexed: nothing to delete
        write(connection, kind, object_id, doc)


def _ids_in_criteria(statement, column: sa.Column) -> list[int] | None:
    """``x`` of ``WHERE column = x AND …``, without asking the database."""
    where = statement.whereclause
    terms = where.clauses if isinstance(where, BooleanClauseList) else [where]
    if isinstance(where, BooleanClauseList) and where.operator is not operators.and_:
        return None
    for term in terms:
        if (
            isinstance(term, BinaryExpression)
            and term.operator is operators.eq
            and isinstance(term.right, BindParameter)
            and getattr(term.left, "table", None) is column.table
            and term.left.key == column.key
        ):
            return [term.right.effective_value]
    return None


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_writes(state) -> None:
    """A guarded ``UPDATE … WHERE id = x AND status = …`` of a meeting,
    request, project or minutes version: its document may change."""
    if not (state.is_update or state.is_delete) or state.bind_mapper is None:
        return
    model = state.bind_mapper.class_
    if model not in SHOWN or state.statement.whereclause is None:
        return
    table = model.__table__
    ids = _ids_in_criteria(state.statement, table.c.id)
    session = state.session
    if ids is None:
        found = session.execute(sa.select(table.c.id).where(state.statement.whereclause))
        ids = list(found.scalars())
    # noted once it ran: the autoflush it starts writes what was noted before
    result = state.invoke_statement()
    pending = _pending(session)
    for object_id in ids:
        if model is MinutesVersion:
            version = session.get(MinutesVersion, object_id)
            if version is not None:
                pending.add((DocumentKind.MINUTES, version.meeting_id))
        elif model is AgendaItem:
            item = session.get(AgendaItem, object_id)
            if item is not None:
                pending.add((DocumentKind.MEETING, item.meeting_id))
        else:
            obj = session.get(model, object_id)
            if obj is not None:
                pending.update(_keys(obj))
            elif model is Meeting:
                pending.add((DocumentKind.MEETING, object_id))
                pending.add((DocumentKind.MINUTES, object_id))
    return result


# --- rebuilding everything -------------------------------------------------------------


def _batches(session: Session, statement, size: int) -> Iterator[list]:
    """The objects of ``statement`` (ordered by id), ``size`` at a time."""
    entity = statement.column_descriptions[0]["entity"]
    last = 0
    while True:
        batch = list(
            session.scalars(statement.where(entity.id > last).order_by(entity.id).limit(size))
        )
        if not batch:
            return
        yield batch
        last = batch[-1].id
        session.expunge_all()


def all_documents(session: Session, size: int = REINDEX_BATCH) -> Iterator[list[Document]]:
    """Every public document, in batches."""
    meetings = (
        sa.select(Meeting)
        .where(Meeting.status.in_([s.value for s in PUBLIC_STATUSES]))
        .options(selectinload(Meeting.agenda_items), selectinload(Meeting.topics))
    )
    for batch in _batches(session, meetings, size):
        yield [doc for m in batch if (doc := meeting_document(m)) is not None]
    requests = sa.select(ResidentRequest).where(
        ResidentRequest.status.in_([s.value for s in ANSWERED]),
        ResidentRequest.reply.is_not(None),
    )
    for batch in _batches(session, requests, size):
        yield [doc for r in batch if (doc := request_document(r)) is not None]
    for batch in _batches(session, sa.select(Project), size):
        yield [project_document(p) for p in batch]
    published = sa.select(Meeting).where(Meeting.status == MeetingStatus.MINUTES_PUBLISHED)
    for batch in _batches(session, published, size):
        versions = _current_versions(session, [m.id for m in batch])
        yield [doc for m in batch if (doc := minutes_document(m, versions.get(m.id))) is not None]


def _current_versions(session: Session, meeting_ids: list[int]) -> dict[int, MinutesVersion]:
    found: dict[int, MinutesVersion] = {}
    for version in session.scalars(
        sa.select(MinutesVersion)
        .where(MinutesVersion.meeting_id.in_(meeting_ids), MinutesVersion.published_at.is_not(None))
        .order_by(MinutesVersion.meeting_id, MinutesVersion.number)
    ):
        found[version.meeting_id] = version  # the highest number wins
    return found


def reindex(session: Session, size: int = REINDEX_BATCH, log=None) -> tuple[int, int]:
    """Empty the index and build it again, committing each batch (a CLI's
    work, never a request's). Returns (documents, tokens)."""
    if session.get_bind().dialect.name == "postgresql":
        # Speed: 4 million tokens gone at once, no dead rows left (see _insert)
        session.execute(sa.text("TRUNCATE search_token, search_document"))
    else:
        session.execute(sa.delete(postings))
        session.execute(sa.delete(documents))
    session.commit()
    count = 0
    for docs in all_documents(session, size):
        _insert(session.connection(), docs, copy=True)
        session.commit()
        count += len(docs)
        if log is not None:
            log(count)
    tokens = session.scalar(sa.select(sa.func.count()).select_from(postings))
    session.commit()
    _vacuum(session)
    return count, tokens


def _vacuum(session: Session) -> None:
    """PostgreSQL: fresh statistics for the planner, and the visibility map
    that lets a token's postings be counted from the index alone."""
    engine = session.get_bind()
    if not isinstance(engine, sa.Engine) or engine.dialect.name != "postgresql":
        return  # SQLite; or a session bound to a connection of its own (the tests')
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in ("search_document", "search_token"):
            connection.exec_driver_sql(f"VACUUM ANALYZE {table}")


def register_cli(group: click.Group) -> None:
    @group.command("reindex")
    @click.option("--batch", default=REINDEX_BATCH, show_default=True, help="Objects per commit.")
    def reindex_command(batch: int) -> None:
        """Rebuild the public search's index (after an upgrade or a bulk load)."""
        started = time.perf_counter()
        docs, tokens = reindex(db.session, batch)
        click.echo(
            f"Indexed {docs} documents, {tokens} tokens in {time.perf_counter() - started:.1f} s."
        )
