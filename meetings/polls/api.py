"""API: proposals, comments, polls and ballots (API.md "Proposals and polls")."""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _
from marshmallow import fields, validate, validates_schema
from marshmallow.exceptions import ValidationError

from auth.models import User
from meetings.api.core import (
    BEARER,
    BaseSchema,
    Id,
    LocalDateTime,
    blueprint,
    current_api_user,
    permission_required,
    token_required,
)
from meetings.errors import NotAllowed
from meetings.extensions import db
from meetings.meeting.permissions import require_insider, require_manager
from meetings.polls import queries, services
from meetings.polls.models import Majority, OptionCode, Outcome, PollKind, PollStatus
from meetings.room import proxies

bp = blueprint("api_polls", "Proposals (方案), discussion, polls (表决) and ballots")


# --- schemas --------------------------------------------------------------------------


class ProposalCreateSchema(BaseSchema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=services.TITLE_MAX))
    body = fields.String(load_default="", validate=validate.Length(max=services.BODY_MAX))


class CommentSchema(BaseSchema):
    id = fields.Integer()
    proposal_id = fields.Integer()
    author_id = fields.Integer()
    author_name = fields.String(attribute="author.display_name")
    body = fields.Method("_body")
    hidden = fields.Boolean(attribute="is_hidden")
    created_at = LocalDateTime()

    def _body(self, comment):
        # A hidden comment is kept, but its text is no longer shown.
        return None if comment.is_hidden else comment.body


class ProposalSchema(BaseSchema):
    id = fields.Integer()
    agenda_item_id = fields.Integer()
    author_id = fields.Integer()
    author_name = fields.String(attribute="author.display_name")
    title = fields.String()
    body = fields.String()
    status = fields.String(metadata={"enum": ["active", "withdrawn"]})
    created_at = LocalDateTime()
    withdrawn_at = LocalDateTime(allow_none=True)
    comments = fields.List(fields.Nested(CommentSchema))


class CommentCreateSchema(BaseSchema):
    body = fields.String(required=True, validate=validate.Length(min=1, max=services.COMMENT_MAX))


class OptionInSchema(BaseSchema):
    label = fields.String(load_default="", validate=validate.Length(max=services.TITLE_MAX))
    proposal_id = Id(load_default=None, allow_none=True)


class PollCreateSchema(BaseSchema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=services.TITLE_MAX))
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in PollKind]))
    options = fields.List(
        fields.Nested(OptionInSchema),
        load_default=list,
        validate=validate.Length(max=services.OPTIONS_MAX),
        metadata={"description": "single/multiple: two or more; yes_no_abstain makes its own"},
    )
    max_choices = fields.Integer(
        load_default=None, allow_none=True, validate=validate.Range(min=1, max=services.OPTIONS_MAX)
    )
    secret = fields.Boolean(load_default=False)
    majority = fields.String(
        load_default=Majority.SIMPLE.value, validate=validate.OneOf([m.value for m in Majority])
    )
    quorum_percent = fields.Integer(
        load_default=None, allow_none=True, validate=validate.Range(min=1, max=100)
    )
    present_only = fields.Boolean(
        load_default=False, metadata={"description": "only attendees checked in as present vote"}
    )
    in_room = fields.Boolean(
        load_default=False, metadata={"description": "show of hands: the secretary enters counts"}
    )


class OptionSchema(BaseSchema):
    id = fields.Integer()
    label = fields.String()
    code = fields.String(allow_none=True, metadata={"enum": [c.value for c in OptionCode]})
    proposal_id = fields.Integer(allow_none=True)


class PollSchema(BaseSchema):
    id = fields.Integer()
    agenda_item_id = fields.Integer()
    meeting_id = fields.Integer(attribute="agenda_item.meeting_id")
    title = fields.String()
    status = fields.String(metadata={"enum": [s.value for s in PollStatus]})
    kind = fields.String(metadata={"enum": [k.value for k in PollKind]})
    max_choices = fields.Integer()
    secret = fields.Boolean()
    majority = fields.String(metadata={"enum": [m.value for m in Majority]})
    quorum_percent = fields.Integer(allow_none=True)
    present_only = fields.Boolean()
    in_room = fields.Boolean()
    options = fields.List(fields.Nested(OptionSchema))
    opened_at = LocalDateTime(allow_none=True)
    closed_at = LocalDateTime(allow_none=True)


class PollStateSchema(PollSchema):
    eligible = fields.Integer(metadata={"description": "eligible voters (fixed at opening)"})
    cast = fields.Integer(metadata={"description": "ballots cast so far"})
    by_proxy = fields.Integer(metadata={"description": "of the ballots cast, cast by a proxy"})
    assisted = fields.Integer(
        metadata={"description": "of the ballots cast, recorded by the secretary with a witness"}
    )
    has_voted = fields.Boolean()
    voted_at = LocalDateTime(
        allow_none=True,
        metadata={"description": "when the caller voted (null if they have not); never what"},
    )
    is_eligible = fields.Boolean()


class PollOpenedSchema(BaseSchema):
    id = fields.Integer()
    status = fields.String(metadata={"enum": [s.value for s in PollStatus]})


class OptionResultSchema(BaseSchema):
    id = fields.Integer()
    label = fields.String()
    code = fields.String(allow_none=True)
    votes = fields.Integer()
    won = fields.Boolean()


class ResultSchema(BaseSchema):
    id = fields.Integer()
    status = fields.String()
    kind = fields.String()
    majority = fields.String()
    quorum_percent = fields.Integer(allow_none=True)
    eligible = fields.Integer(attribute="eligible_count")
    cast = fields.Integer(attribute="cast_count")
    quorum_met = fields.Boolean()
    outcome = fields.String(metadata={"enum": [o.value for o in Outcome]})
    tie = fields.Boolean()
    winner_option_ids = fields.List(fields.Integer())
    options = fields.List(fields.Nested(OptionResultSchema))
    in_room = fields.Boolean()
    closed_at = LocalDateTime()
    entered_by = fields.String(attribute="result_entered_by.display_name", allow_none=True)
    entered_at = LocalDateTime(attribute="result_entered_at", allow_none=True)


class BallotCreateSchema(BaseSchema):
    option_ids = fields.List(
        Id(), required=True, validate=validate.Length(min=1, max=services.OPTIONS_MAX)
    )
    on_behalf_of = Id(
        load_default=None,
        allow_none=True,
        metadata={"description": "a confirmed proxy: the user id of the principal voted for"},
    )


class AssistedBallotSchema(BaseSchema):
    voter_id = Id(required=True)
    witness = fields.String(required=True, validate=validate.Length(max=services.WITNESS_MAX))
    option_ids = fields.List(
        Id(), required=True, validate=validate.Length(min=1, max=services.OPTIONS_MAX)
    )


class ReceiptSchema(BaseSchema):
    receipt = fields.String()
    poll_id = fields.Integer()
    on_behalf_of = fields.Integer(
        allow_none=True, metadata={"description": "the principal's user id; null for one's own"}
    )


class ReceiptLineSchema(BaseSchema):
    receipt = fields.String()
    option_ids = fields.List(fields.Integer())


class ReceiptListSchema(BaseSchema):
    items = fields.List(fields.Nested(ReceiptLineSchema))
    total = fields.Integer()


class InRoomCountSchema(BaseSchema):
    option_id = Id(required=True)
    votes = fields.Integer(required=True, validate=validate.Range(min=0, max=1_000_000))


class InRoomResultSchema(BaseSchema):
    present = fields.Integer(required=True, validate=validate.Range(min=0, max=1_000_000))
    counts = fields.List(fields.Nested(InRoomCountSchema), required=True)

    @validates_schema
    def _one_count_per_option(self, data, **kwargs):
        ids = [count["option_id"] for count in data.get("counts", [])]
        if len(ids) != len(set(ids)):
            raise ValidationError(_("One count per option."), "counts")


# --- who may call, asked before the body is read (``permission_required``) ----------------


def _item_participant(user, item_id: int) -> None:
    require_insider(user, services.get_agenda_item(item_id).meeting)


def _proposal_participant(user, proposal_id: int) -> None:
    require_insider(user, services.get_proposal(proposal_id).agenda_item.meeting)


def _item_manager(user, item_id: int) -> None:
    require_manager(user, services.get_agenda_item(item_id).meeting)


def _poll_manager(user, poll_id: int) -> None:
    require_manager(user, services.get_poll(poll_id).agenda_item.meeting)


# --- proposals and comments ----------------------------------------------------------


@bp.get("/agenda-items/<int:item_id>/proposals")
@bp.doc(**BEARER)
@token_required
@bp.response(200, ProposalSchema(many=True))
def list_proposals(item_id: int):
    """The proposals under an agenda item, with their comments."""
    item = services.get_agenda_item(item_id)
    services.require_item_visible(current_api_user(), item)
    return services.proposals_of(item)


@bp.post("/agenda-items/<int:item_id>/proposals")
@bp.doc(**BEARER)
@permission_required(_item_participant)
@bp.arguments(ProposalCreateSchema)
@bp.response(201, ProposalSchema)
def table_proposal(data, item_id: int):
    """Table a proposal under an agenda item (attendees, the secretary)."""
    item = services.get_agenda_item(item_id)
    proposal = services.table_proposal(current_api_user(), item, data["title"], data["body"])
    return proposal


@bp.post("/proposals/<int:proposal_id>/withdraw")
@bp.doc(**BEARER)
@token_required
@bp.response(200, ProposalSchema)
def withdraw_proposal(proposal_id: int):
    """Withdraw one's own proposal."""
    proposal = services.withdraw_proposal(current_api_user(), services.get_proposal(proposal_id))
    return proposal


@bp.post("/proposals/<int:proposal_id>/comments")
@bp.doc(**BEARER)
@permission_required(_proposal_participant)
@bp.arguments(CommentCreateSchema)
@bp.response(201, CommentSchema)
def add_comment(data, proposal_id: int):
    """Comment under a proposal (attendees, the secretary)."""
    comment = services.add_comment(
        current_api_user(), services.get_proposal(proposal_id), data["body"]
    )
    return comment


@bp.post("/comments/<int:comment_id>/hide")
@bp.doc(**BEARER)
@token_required
@bp.response(200, CommentSchema)
def hide_comment(comment_id: int):
    """Hide an abusive comment (the secretary); it is kept and shown as hidden."""
    comment = services.hide_comment(current_api_user(), services.get_comment(comment_id))
    return comment


# --- polls ----------------------------------------------------------------------------


@bp.post("/agenda-items/<int:item_id>/polls")
@bp.doc(**BEARER)
@permission_required(_item_manager)
@bp.arguments(PollCreateSchema)
@bp.response(201, PollSchema)
def create_poll(data, item_id: int):
    """Create a poll in draft (the secretary)."""
    item = services.get_agenda_item(item_id)
    spec = services.PollSpec(
        title=data["title"],
        kind=data["kind"],
        options=[services.OptionSpec(o["label"], o["proposal_id"]) for o in data["options"]],
        max_choices=data["max_choices"],
        secret=data["secret"],
        majority=data["majority"],
        quorum_percent=data["quorum_percent"],
        present_only=data["present_only"],
        in_room=data["in_room"],
    )
    poll = services.create_poll(current_api_user(), item, spec)
    return poll


@bp.get("/agenda-items/<int:item_id>/polls")
@bp.doc(**BEARER)
@token_required
@bp.response(200, PollSchema(many=True))
def list_polls(item_id: int):
    """The polls of an agenda item."""
    item = services.get_agenda_item(item_id)
    services.require_item_visible(current_api_user(), item)
    return services.polls_of(item)


class _PollState:
    """The poll, with the caller's view of its turnout, for ``PollStateSchema``."""

    def __init__(self, poll, **numbers):
        self._poll = poll
        self.__dict__.update(numbers)

    def __getattr__(self, name):
        return getattr(self._poll, name)


def _state(poll) -> _PollState:
    actor = current_api_user()
    numbers = services.turnout(poll)
    return _PollState(
        poll,
        eligible=numbers.eligible,
        cast=numbers.cast,
        by_proxy=numbers.by_proxy,
        assisted=numbers.assisted,
        has_voted=services.has_voted(actor, poll),
        voted_at=queries.voted_at(actor, poll),
        is_eligible=services.is_eligible(actor, poll),
    )


@bp.get("/polls/<int:poll_id>")
@bp.doc(**BEARER)
@token_required
@bp.response(200, PollStateSchema)
def get_poll(poll_id: int):
    """A poll with its live turnout (never the choices before it closes)."""
    poll = services.get_poll(poll_id)
    services.require_visible(current_api_user(), poll)
    return _state(poll)


@bp.post("/polls/<int:poll_id>/open")
@bp.doc(**BEARER)
@token_required
@bp.response(200, PollOpenedSchema)
@bp.alt_response(409, description="invalid_transition")
def open_poll(poll_id: int):
    """Open the poll (the secretary); the eligible voters are fixed now."""
    poll = services.open_poll(current_api_user(), services.get_poll(poll_id))
    return poll


@bp.post("/polls/<int:poll_id>/close")
@bp.doc(**BEARER)
@token_required
@bp.response(200, ResultSchema)
@bp.alt_response(409, description="invalid_transition")
def close_poll(poll_id: int):
    """Close the poll and count it (the secretary); returns the stored result."""
    poll = services.close_poll(current_api_user(), services.get_poll(poll_id))
    return poll


@bp.post("/polls/<int:poll_id>/in-room-result")
@bp.doc(**BEARER)
@permission_required(_poll_manager)
@bp.arguments(InRoomResultSchema)
@bp.response(200, ResultSchema)
def record_in_room_result(data, poll_id: int):
    """举手表决: enter the number present and the hands per option; closes the poll."""
    counts = {count["option_id"]: count["votes"] for count in data["counts"]}
    poll = services.record_in_room_result(
        current_api_user(), services.get_poll(poll_id), data["present"], counts
    )
    return poll


@bp.post("/polls/<int:poll_id>/ballots")
@bp.doc(**BEARER)
@token_required
@bp.arguments(BallotCreateSchema())
@bp.response(201, ReceiptSchema)
@bp.alt_response(403, description="not_eligible")
@bp.alt_response(409, description="already_voted, poll_not_open")
def cast_ballot(data, poll_id: int):
    """Cast one's ballot, or as a confirmed proxy the principal's
    (``on_behalf_of``, each ballot separately); the receipt lets the voter
    find it in the receipts list."""
    poll = services.get_poll(poll_id)
    principal = None
    if data["on_behalf_of"] is not None:
        principal = proxies.get_principal(data["on_behalf_of"])
    receipt = services.cast_ballot(current_api_user(), poll, data["option_ids"], principal)
    return {"receipt": receipt, "poll_id": poll_id, "on_behalf_of": data["on_behalf_of"]}


@bp.post("/polls/<int:poll_id>/assisted-ballots")
@bp.doc(**BEARER)
@permission_required(_poll_manager)
@bp.arguments(AssistedBallotSchema())
@bp.response(201, ReceiptSchema)
@bp.alt_response(409, description="already_voted, poll_not_open")
def cast_assisted_ballot(data, poll_id: int):
    """Record the ballot of an attendee without a phone, with a named
    witness (the secretary); audited."""
    poll = services.get_poll(poll_id)
    voter = db.session.get(User, data["voter_id"])
    receipt = services.cast_assisted_ballot(
        current_api_user(), poll, voter, data["witness"], data["option_ids"]
    )
    return {"receipt": receipt, "poll_id": poll_id, "on_behalf_of": data["voter_id"]}


def _readable_result(poll_id: int):
    """The closed poll, if the caller may read its result. No token is needed
    once the minutes are published; before that, a caller without one is
    asked for it (401). A token that does not work is refused, not ignored."""
    poll = services.get_poll(poll_id)
    reader = current_api_user() if request.headers.get("Authorization") else None
    try:
        services.require_result_visible(reader, poll)
    except NotAllowed:
        if reader is None:
            current_api_user()  # 401: a token is needed to see this
        raise
    return poll


@bp.get("/polls/<int:poll_id>/result")
@bp.doc(**BEARER)
@bp.response(200, ResultSchema)
@bp.alt_response(409, description="poll_not_open: not closed yet")
def get_result(poll_id: int):
    """The stored result (attendees, the secretary; everyone once minutes are published)."""
    return _readable_result(poll_id)


@bp.get("/polls/<int:poll_id>/receipts")
@bp.doc(**BEARER)
@bp.response(200, ReceiptListSchema)
@bp.alt_response(409, description="poll_not_open: not closed yet")
def list_receipts(poll_id: int):
    """Every counted ballot by receipt code, once the poll has closed."""
    lines = services.receipts(_readable_result(poll_id))
    return {"items": lines, "total": len(lines)}
