"""Proposals (方案) under an agenda item, and the discussion under them."""

from __future__ import annotations

from flask_babel import gettext as _

from auth.models import User
from meetings.audit.services import record
from meetings.dbtypes import utcnow
from meetings.errors import Conflict, InvalidTransition, NotAllowed
from meetings.extensions import db
from meetings.meeting.models import AgendaItem
from meetings.meeting.permissions import require_insider, require_manager
from meetings.polls.models import Comment, Proposal, ProposalStatus
from meetings.polls.services.common import (
    BODY_MAX,
    COMMENT_MAX,
    TITLE_MAX,
    checked_text,
    require_active,
)


def table_proposal(actor: User, item: AgendaItem, title: str, body: str = "") -> Proposal:
    """Table a proposal under an agenda item, before or during the meeting."""
    meeting = item.meeting
    require_insider(actor, meeting)
    require_active(meeting)
    proposal = Proposal(
        agenda_item=item,
        author=actor,
        title=checked_text(title, "title", TITLE_MAX),
        body=checked_text(body, "body", BODY_MAX, required=False),
    )
    db.session.add(proposal)
    db.session.flush()
    record(actor, "proposal.tabled", proposal, agenda_item_id=item.id)
    return proposal


def withdraw_proposal(actor: User, proposal: Proposal) -> Proposal:
    if proposal.author_id != actor.id:
        raise NotAllowed(_("Only its author may withdraw a proposal."))
    if proposal.is_withdrawn:
        raise InvalidTransition(_("This proposal has already been withdrawn."))
    require_active(proposal.agenda_item.meeting)
    proposal.status = ProposalStatus.WITHDRAWN
    proposal.withdrawn_at = utcnow()
    db.session.flush()
    record(actor, "proposal.withdrawn", proposal)
    return proposal


def add_comment(actor: User, proposal: Proposal, body: str) -> Comment:
    meeting = proposal.agenda_item.meeting
    require_insider(actor, meeting)
    require_active(meeting)
    if proposal.is_withdrawn:
        raise Conflict(_("This proposal has been withdrawn."))
    comment = Comment(proposal=proposal, author=actor, body=checked_text(body, "body", COMMENT_MAX))
    db.session.add(comment)
    db.session.flush()
    record(actor, "comment.added", comment, proposal_id=proposal.id)
    return comment


def hide_comment(actor: User, comment: Comment) -> Comment:
    """The secretary hides an abusive comment: kept, marked hidden, shown as hidden."""
    require_manager(actor, comment.proposal.agenda_item.meeting)
    if comment.is_hidden:
        raise InvalidTransition(_("This comment is already hidden."))
    comment.hidden_at = utcnow()
    comment.hidden_by = actor
    db.session.flush()
    record(actor, "comment.hidden", comment)
    return comment


def proposals_of(item: AgendaItem) -> list[Proposal]:
    return list(
        db.session.scalars(
            db.select(Proposal)
            .where(Proposal.agenda_item_id == item.id)
            .order_by(Proposal.id)
            .options(
                db.joinedload(Proposal.author),
                db.selectinload(Proposal.comments).joinedload(Comment.author),
            )
        )
    )
