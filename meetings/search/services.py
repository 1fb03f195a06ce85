"""The public search: meetings, answered requests, projects and published
minutes holding every word of the query, newest first, a page at a time.

The index (``models``, ``tokens``) finds the candidates: the documents that
hold every token of the query, one index lookup per token. A word that is a
single token (one character, a two-character Chinese word, a Latin word or
a number) needs nothing more; a longer word (电动自行车, 3号楼) is then
confirmed as a substring of the title or the text, on the candidates only,
so that 电动 … 行车 far apart is not a match. Words apart (``电梯 加装``)
must all be there, anywhere."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from math import ceil

import sqlalchemy as sa
from flask import url_for

from auth.models import Community
from meetings.extensions import db
from meetings.main.people import like_pattern
from meetings.search.index import catch_up, documents, postings
from meetings.search.models import DocumentKind
from meetings.search.tokens import normalise, query_tokens

QUERY_MAX = 100
PER_PAGE = 10
SNIPPET_RADIUS = 40  # characters shown on each side of a match


@dataclass
class Hit:
    kind: DocumentKind
    id: int  # the meeting's, request's or project's id (minutes: the meeting's)
    title: str
    community_id: int | None
    community_name: str | None
    dated_at: datetime
    before: str
    match: str
    after: str

    @property
    def snippet(self) -> str:
        return self.before + self.match + self.after


@dataclass
class SearchPage:
    """A counted page of hits: what ``pagination`` in _macros.html shows."""

    query: str
    items: list[Hit]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int | None:
        return self.page - 1 if self.has_prev else None

    @property
    def next_num(self) -> int | None:
        return self.page + 1 if self.has_next else None

    def iter_pages(self, left_edge=2, left_current=2, right_current=4, right_edge=2):
        """Flask-SQLAlchemy's: page numbers, ``None`` for a gap."""
        last = 0
        for number in range(1, self.pages + 1):
            if (
                number <= left_edge
                or self.page - left_current - 1 < number < self.page + right_current
                or number > self.pages - right_edge
            ):
                if last + 1 != number:
                    yield None
                yield number
                last = number


def clean_query(query: str | None) -> str:
    return " ".join((query or "").split())[:QUERY_MAX]


def _contains(column, word: str):
    """The column holds the word, case aside (ILIKE only for a word with
    letters that have a case: LIKE needs no case folding)."""
    pattern = like_pattern(word)
    if word.lower() == word.upper():
        return column.like(pattern, escape="\\")
    return column.ilike(pattern, escape="\\")


def _confirmations(query: str) -> list:
    """A word of more than one token must be there as written."""
    found = []
    for word in query.split():
        if len(query_tokens(word)) > 1:
            forms = {word, normalise(word)}
            found.append(
                sa.or_(
                    *(_contains(documents.c.title, form) for form in forms),
                    *(_contains(documents.c.body, form) for form in forms),
                )
            )
    return found


def _candidates(tokens: list[str]):
    """The ids of the documents holding every token: an index lookup each."""
    if len(tokens) == 1:
        return sa.select(postings.c.document_id).where(postings.c.token == tokens[0])
    return (
        sa.select(postings.c.document_id)
        .where(postings.c.token.in_(tokens))
        .group_by(postings.c.document_id)
        .having(sa.func.count() == len(tokens))
    )


def _snippet(text: str, query: str) -> tuple[str, str, str]:
    lowered = text.lower()
    at, length = -1, 0
    for word in query.split():
        for form in (word, normalise(word)):
            at = lowered.find(form.lower())
            if at >= 0:
                length = len(form)
                break
        if at >= 0:
            break
    if at < 0:
        cut = 2 * SNIPPET_RADIUS
        return (text[:cut] + ("…" if len(text) > cut else ""), "", "")
    start = max(0, at - SNIPPET_RADIUS)
    end = at + length
    before = ("…" if start > 0 else "") + text[start:at]
    after = text[end : end + SNIPPET_RADIUS] + ("…" if end + SNIPPET_RADIUS < len(text) else "")
    return before, text[at:end], after


def _page(*where) -> sa.Select:
    return (
        sa.select(
            documents.c.kind,
            documents.c.object_id,
            documents.c.title,
            documents.c.body,
            documents.c.community_id,
            documents.c.dated_at,
            Community.name,
        )
        .outerjoin(Community, Community.id == documents.c.community_id)
        .where(*where)
        .order_by(documents.c.dated_at.desc(), documents.c.id.desc())
    )


def _one_pass(candidates, narrowed: list, offset: int, per_page: int) -> tuple[int, list]:
    """The matches, narrowed (a longer word confirmed as written, a
    community, a kind), read once: counted by a window, the page's ids sorted
    from them, then the page's texts read. Speed: 加装电梯 (3,300 of 75,000
    documents at full history) in 30 ms instead of 70, 充电 in one
    community's in 10 instead of 30."""
    # MATERIALIZED: the matches first, then their documents (a hash join);
    # left to itself PostgreSQL walks every document newest first (85 ms)
    found = candidates.cte("found").prefix_with("MATERIALIZED")
    # the ids sorted, not the texts: the page's texts are read after
    ranked = (
        sa.select(documents.c.id, sa.func.count().over().label("total"))
        .join(found, found.c.document_id == documents.c.id)
        .where(*narrowed)
        .order_by(documents.c.dated_at.desc(), documents.c.id.desc())
        .limit(per_page)
        .offset(offset)
        .subquery("ranked")
    )
    statement = _page().join(ranked, ranked.c.id == documents.c.id).add_columns(ranked.c.total)
    rows = db.session.execute(statement).all()
    if rows:
        return rows[0].total, rows
    if not offset:
        return 0, []
    counted = (
        sa.select(sa.func.count())
        .select_from(documents)
        .join(found, found.c.document_id == documents.c.id)
    )
    return db.session.scalar(counted.where(*narrowed)), []


def search(
    query: str | None,
    community_id: int | None = None,
    kind: DocumentKind | str | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> SearchPage:
    """Page ``page`` of the public documents holding the query, newest
    first, with the total. An empty query (or one of punctuation only)
    finds nothing. One or two queries: the count and the page."""
    query = clean_query(query)
    page = max(1, page)
    tokens = sorted(query_tokens(query))
    if not tokens:
        return SearchPage(query, [], 0, page, per_page)
    catch_up(db.session)  # a change of this request not yet flushed shows at once
    candidates = _candidates(tokens)
    narrowed = _confirmations(query)
    if community_id:
        narrowed.append(documents.c.community_id == community_id)
    if kind:
        narrowed.append(documents.c.kind == DocumentKind(kind).value)
    offset = (page - 1) * per_page
    if narrowed:
        total, rows = _one_pass(candidates, narrowed, offset, per_page)
    else:
        # Speed: counted from the postings alone (an index-only scan: 电, in
        # 17,000 of 75,000 documents at full history, in 3 ms instead of 45),
        # and the page read newest first until it is full.
        total = db.session.scalar(sa.select(sa.func.count()).select_from(candidates.subquery()))
        rows = []
        if total > offset:
            # the ids walked newest first from the (dated_at, id) index alone,
            # then the page's texts: a far page (社区, page 1,100) in 15 ms, not 70
            ranked = (
                sa.select(documents.c.id)
                .where(documents.c.id.in_(candidates))
                .order_by(documents.c.dated_at.desc(), documents.c.id.desc())
                .limit(per_page)
                .offset(offset)
                .subquery("ranked")
            )
            rows = db.session.execute(_page().join(ranked, ranked.c.id == documents.c.id)).all()
    items = [
        Hit(
            DocumentKind(row.kind),
            row.object_id,
            row.title,
            row.community_id,
            row.name,
            row.dated_at,
            *_snippet(row.body, query),
        )
        for row in rows
    ]
    return SearchPage(query, items, total, page, per_page)


_URLS: dict[DocumentKind, Callable[[Hit], tuple[str, dict]]] = {
    DocumentKind.MEETING: lambda hit: ("meeting.show", {"meeting_id": hit.id}),
    DocumentKind.REQUEST: lambda hit: ("minutes.answered", {"community_id": hit.community_id}),
    DocumentKind.PROJECT: lambda hit: ("projects.show", {"project_id": hit.id}),
    DocumentKind.MINUTES: lambda hit: ("minutes.public_show", {"meeting_id": hit.id}),
}


def endpoint_of(hit: Hit) -> tuple[str, dict]:
    """Where a hit is read: its page (an answered request: its community's
    answered requests, which show no one's name)."""
    return _URLS[hit.kind](hit)


def url_of(hit: Hit, build=url_for) -> str:
    endpoint, values = endpoint_of(hit)
    return build(endpoint, **values)
