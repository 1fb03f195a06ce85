"""API: the public search (API.md "Reports, 公示, search"), for anyone,
without a token: ``GET /api/v1/public/search?q=&page=``."""

from __future__ import annotations

from typing import Any

from flask import current_app
from marshmallow import fields, validate

from meetings.api.core import BaseSchema, LocalDateTime, blueprint
from meetings.dbtypes import MAX_ID
from meetings.extensions import limiter
from meetings.main.paging import MAX_PAGE
from meetings.meeting.links import external_url
from meetings.search import services
from meetings.search.models import DocumentKind

bp = blueprint("api_search", "Public search over meetings, answered requests, projects, minutes")

KINDS = [kind.value for kind in DocumentKind]


def _search_limit() -> str:
    return current_app.config.get("SEARCH_RATE_LIMIT", "120 per minute")


class SearchArgs(BaseSchema):
    q = fields.String(
        required=True,
        validate=validate.Length(min=1, max=services.QUERY_MAX),
        metadata={"description": "the words, e.g. 充电 or 电梯 加装 (every word must be there)"},
    )
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    per_page = fields.Integer(
        load_default=services.PER_PAGE, validate=validate.Range(min=1, max=50)
    )
    community = fields.Integer(
        load_default=None,
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={"description": "only this community's (its id)"},
    )
    kind = fields.String(
        load_default=None,
        validate=validate.OneOf(KINDS),
        metadata={"description": "only this kind"},
    )


class HitSchema(BaseSchema):
    kind = fields.String(metadata={"enum": KINDS})
    id = fields.Integer(
        metadata={"description": "the meeting's, request's or project's id; minutes: the meeting's"}
    )
    title = fields.String()
    snippet = fields.String(metadata={"description": "the text around the first match"})
    url = fields.String(metadata={"description": "the public page that shows it"})
    community_id = fields.Integer(allow_none=True)
    community_name = fields.String(allow_none=True)
    dated_at = LocalDateTime(metadata={"description": "when it became public, or took place"})


class SearchPageSchema(BaseSchema):
    items = fields.List(fields.Nested(HitSchema))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


@bp.get("/public/search")
@limiter.limit(_search_limit)
@bp.arguments(SearchArgs, location="query")
@bp.response(200, SearchPageSchema)
def public_search(args) -> dict[str, Any]:
    """Meetings the public may see, answered requests (their title and the
    public reply, nothing about who raised them), projects and published
    minutes that hold every word of ``q``, newest first, with the total.
    A ``q`` without letters, digits or Chinese characters (``?!``) finds
    nothing; a missing or empty ``q`` is 422."""
    found = services.search(
        args["q"], args["community"], args["kind"], page=args["page"], per_page=args["per_page"]
    )
    return {
        "items": [
            {
                "kind": hit.kind.value,
                "id": hit.id,
                "title": hit.title,
                "snippet": hit.snippet,
                "url": services.url_of(hit, external_url),
                "community_id": hit.community_id,
                "community_name": hit.community_name,
                "dated_at": hit.dated_at,
            }
            for hit in found.items
        ],
        "total": found.total,
        "page": found.page,
        "per_page": found.per_page,
    }
