"""API: proxies (委托投票) of a meeting — naming one, the secretary's
confirmation, revoking (or refusing) it, the list. Casting for a principal
is ``POST /polls/{id}/ballots`` with ``on_behalf_of`` (``meetings.polls.api``)."""

from __future__ import annotations

from marshmallow import fields

from auth.models import User
from meetings.api.core import (
    BEARER,
    BaseSchema,
    Id,
    LocalDateTime,
    PageArgs,
    blueprint,
    current_api_user,
    list_schema,
    paginate,
    permission_required,
    token_required,
)
from meetings.extensions import db
from meetings.meeting import services as meeting_services
from meetings.room import proxies
from meetings.room.models import ProxyStatus

bp = blueprint("api_proxies", "Proxies (委托投票): voting for another attendee")


class ProxyCreateSchema(BaseSchema):
    proxy_user_id = Id(required=True, metadata={"description": "the attendee who will vote"})


class ProxySchema(BaseSchema):
    id = fields.Integer()
    meeting_id = fields.Integer()
    principal_id = fields.Integer(metadata={"description": "who gives their vote"})
    principal_name = fields.String(attribute="principal.display_name")
    proxy_user_id = fields.Integer(attribute="proxy_id")
    proxy_name = fields.String(attribute="proxy.display_name")
    status = fields.String(metadata={"enum": [s.value for s in ProxyStatus]})
    has_document = fields.Method("_has_document")
    requested_at = LocalDateTime()
    confirmed_at = LocalDateTime(allow_none=True)
    revoked_at = LocalDateTime(allow_none=True)

    def _has_document(self, proxy) -> bool:
        return proxy.document_id is not None


def _may_name_proxy(user, meeting_id: int) -> None:
    meeting = meeting_services.get_visible_meeting(user, meeting_id)
    proxies.require_may_name_proxy(user, meeting)


@bp.post("/meetings/<int:meeting_id>/proxies")
@bp.doc(**BEARER)
@permission_required(_may_name_proxy)
@bp.arguments(ProxyCreateSchema)
@bp.response(201, ProxySchema)
@bp.alt_response(409, description="conflict: a standing proxy already, or the proxy is at the cap")
def request_proxy(data, meeting_id: int):
    """Name another attendee to vote for the caller (an attendee with a vote,
    where the meeting allows proxies); the secretary confirms it."""
    actor = current_api_user()
    meeting = meeting_services.get_visible_meeting(actor, meeting_id)
    proxy_user = db.session.get(User, data["proxy_user_id"])
    return proxies.request_proxy(actor, meeting, proxy_user)


@bp.get("/meetings/<int:meeting_id>/proxies")
@bp.doc(**BEARER)
@token_required
@bp.arguments(PageArgs, location="query")
@bp.response(200, list_schema(ProxySchema, "ProxyList"))
def list_proxies(args, meeting_id: int):
    """The meeting's proxies: all of them for the secretary, an attendee's own
    (as principal or proxy) for them. Standing ones first."""
    actor = current_api_user()
    meeting = meeting_services.get_visible_meeting(actor, meeting_id)
    return paginate(proxies.visible_proxies(actor, meeting), args)


@bp.post("/proxies/<int:proxy_id>/confirm")
@bp.doc(**BEARER)
@token_required
@bp.response(200, ProxySchema)
@bp.alt_response(409, description="invalid_transition, conflict: the proxy is at the cap")
def confirm_proxy(proxy_id: int):
    """Confirm a requested proxy (the secretary)."""
    return proxies.confirm_proxy(current_api_user(), proxies.get_proxy(proxy_id))


@bp.delete("/proxies/<int:proxy_id>")
@bp.doc(**BEARER)
@token_required
@bp.response(204)
@bp.alt_response(409, description="conflict: in use in an open poll; invalid_transition")
def revoke_proxy(proxy_id: int):
    """Revoke one's proxy (the principal; refused while a poll in which the
    principal has voted is open), or refuse a requested one (the secretary)."""
    proxies.revoke_proxy(current_api_user(), proxies.get_proxy(proxy_id))
