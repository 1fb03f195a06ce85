"""Pages of the deliberation: tabling and withdrawing proposals (方案), their
discussion, the secretary's polls (表决) — creating, opening, closing,
entering a show of hands —, the ballot on a phone with its confirmation step
and receipt, the result and the receipts list.

Thin views over ``meetings.polls.services`` (the same verbs as the API):
they read the form, call one service, and show its refusal.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from auth.models import User
from meetings.errors import (
    AlreadyVoted,
    DomainError,
    NotAllowed,
    NotEligible,
    NotFound,
    PollNotOpen,
)
from meetings.extensions import db, login_manager
from meetings.http import handle_domain_error
from meetings.meeting.models import AgendaItem, Meeting
from meetings.meeting.permissions import (
    can_manage_meeting,
    can_view_meeting,
    is_insider,
    require_insider,
    require_manager,
)
from meetings.polls import queries, services
from meetings.polls.forms import (
    BallotForm,
    CommentForm,
    ConfirmForm,
    InRoomForm,
    PollForm,
    ProposalForm,
    assisted_form,
    in_room_counts,
    in_room_form,
)
from meetings.polls.models import Poll, PollOption, PollStatus, Proposal
from meetings.room import proxies
from meetings.web import refused

bp = Blueprint("polls", __name__)

# The receipts of the ballots cast in this browser session, by poll id; the
# most recent ones only, so that the session cookie stays small.
RECEIPTS_KEPT = 20


def _status(form) -> int:
    """422 for a form shown again with its problems."""
    return 422 if form.errors or form.form_errors else 200


@bp.app_template_filter("receipt")
def receipt_groups(code: str) -> str:
    """A receipt in groups of four (XXXX-XXXX-XX), easier to read out and note down."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


@bp.errorhandler(NotAllowed)
def _log_in_first(error: NotAllowed):
    """Someone not logged in is asked to log in; others get the refusal."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return handle_domain_error(error)


# --- lookups with their permission checks ---------------------------------------------


def _announced(meeting: Meeting) -> None:
    """A meeting the user may not see at all (a draft) is as missing as a wrong id."""
    if not can_view_meeting(current_user, meeting):
        raise NotFound(_("No such meeting."))


def _visible_item(item_id: int) -> AgendaItem:
    item = services.get_agenda_item(item_id)
    _announced(item.meeting)
    services.require_item_visible(current_user, item)
    return item


def _visible_proposal(proposal_id: int) -> Proposal:
    proposal = queries.proposal_page(proposal_id)
    _announced(proposal.agenda_item.meeting)
    services.require_item_visible(current_user, proposal.agenda_item)
    return proposal


def _visible_poll(poll_id: int) -> Poll:
    poll = services.get_poll(poll_id)
    _announced(poll.meeting)
    services.require_visible(current_user, poll)
    return poll


def _managed_poll(poll_id: int) -> Poll:
    poll = _visible_poll(poll_id)
    require_manager(current_user, poll.meeting)
    return poll


# --- proposals and their discussion ---------------------------------------------------


@bp.route("/agenda-items/<int:item_id>/proposals/new", methods=["GET", "POST"])
@login_required
def new_proposal(item_id: int):
    item = _visible_item(item_id)
    require_insider(current_user, item.meeting)
    form = ProposalForm()
    if form.validate_on_submit():
        try:
            proposal = services.table_proposal(
                current_user, item, form.title.data or "", form.body.data or ""
            )
        except DomainError as error:
            refused(error, form)
        else:
            flash(_("Your proposal “%(title)s” is tabled.", title=proposal.title), "success")
            return redirect(url_for("polls.proposal", proposal_id=proposal.id))
    return render_template(
        "polls/proposal_new.html", item=item, meeting=item.meeting, form=form
    ), _status(form)


def _render_proposal(proposal: Proposal, form: CommentForm, status: int = 200):
    meeting = proposal.agenda_item.meeting
    return render_template(
        "polls/proposal.html",
        proposal=proposal,
        item=proposal.agenda_item,
        meeting=meeting,
        form=form,
        is_manager=can_manage_meeting(current_user, meeting),
        is_author=current_user.is_authenticated and proposal.author_id == current_user.id,
        may_comment=is_insider(current_user, meeting)
        and meeting.status in services.ACTIVE_MEETING
        and not proposal.is_withdrawn,
        meeting_active=meeting.status in services.ACTIVE_MEETING,
    ), status


@bp.get("/proposals/<int:proposal_id>")
def proposal(proposal_id: int):
    return _render_proposal(_visible_proposal(proposal_id), CommentForm(formdata=None))


@bp.post("/proposals/<int:proposal_id>/comments")
@login_required
def add_comment(proposal_id: int):
    proposal = _visible_proposal(proposal_id)
    form = CommentForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        comment = services.add_comment(current_user, proposal, form.body.data or "")
    except DomainError as error:
        refused(error, form)
        return _render_proposal(_visible_proposal(proposal_id), form, error.status)
    flash(_("Your comment is added."), "success")
    return redirect(
        url_for("polls.proposal", proposal_id=proposal_id, _anchor=f"comment-{comment.id}")
    )


@bp.route("/proposals/<int:proposal_id>/withdraw", methods=["GET", "POST"])
@login_required
def withdraw_proposal(proposal_id: int):
    proposal = _visible_proposal(proposal_id)
    if proposal.author_id != current_user.id:
        abort(403)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            services.withdraw_proposal(current_user, proposal)
        except DomainError as error:
            refused(error)
        else:
            flash(_("Your proposal is withdrawn; it stays on the page, marked so."), "info")
        return redirect(url_for("polls.proposal", proposal_id=proposal_id))
    return render_template(
        "polls/proposal_withdraw.html", proposal=proposal, meeting=proposal.agenda_item.meeting
    ), (409 if proposal.is_withdrawn else 200)


@bp.route("/comments/<int:comment_id>/hide", methods=["GET", "POST"])
@login_required
def hide_comment(comment_id: int):
    comment = services.get_comment(comment_id)
    proposal = comment.proposal
    meeting = proposal.agenda_item.meeting
    _announced(meeting)
    require_manager(current_user, meeting)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            services.hide_comment(current_user, comment)
        except DomainError as error:
            refused(error)
        else:
            flash(_("The comment is hidden. It is kept, and shown as hidden."), "info")
        return redirect(
            url_for("polls.proposal", proposal_id=proposal.id, _anchor=f"comment-{comment_id}")
        )
    return render_template(
        "polls/comment_hide.html", comment=comment, proposal=proposal, meeting=meeting
    ), (409 if comment.is_hidden else 200)


# --- polls: the secretary's pages -----------------------------------------------------


@bp.route("/agenda-items/<int:item_id>/polls/new", methods=["GET", "POST"])
@login_required
def new_poll(item_id: int):
    item = services.get_agenda_item(item_id)
    _announced(item.meeting)
    require_manager(current_user, item.meeting)
    form = PollForm(queries.active_proposals(item))
    if form.validate_on_submit():
        try:
            poll = services.create_poll(current_user, item, form.spec())
        except DomainError as error:
            refused(error, form)
        else:
            flash(_("Poll “%(title)s” created. Open it when the vote begins.", title=poll.title))
            return redirect(url_for("polls.show", poll_id=poll.id))
    return render_template(
        "polls/poll_new.html", item=item, meeting=item.meeting, form=form
    ), _status(form)


@dataclass(frozen=True)
class OptionRow:
    """One option's line in a result: its votes, share of the ballots cast and bar."""

    option: PollOption
    votes: int
    percent: float  # of the ballots cast (or hands counted), 0–100

    @property
    def percent_text(self) -> str:
        return f"{self.percent:.1f}".removesuffix(".0") + "%"

    @property
    def won(self) -> bool:
        return self.option.won


def result_rows(poll: Poll) -> list[OptionRow]:
    cast = poll.cast_count or 0
    rows = []
    for option in poll.options:
        votes = option.votes or 0
        rows.append(OptionRow(option, votes, 100 * votes / cast if cast else 0.0))
    return rows


def _named_votes(poll: Poll) -> list[tuple[str, list[str]]]:
    """Who voted what on a closed named poll, with the options' labels."""
    labels = {option.id: option.shown_label for option in poll.options}
    return [
        (user.display_name, [labels[i] for i in option_ids])
        for user, option_ids in services.named_votes(current_user, poll)
    ]


def _render_poll(poll: Poll, form: InRoomForm | None = None, status: int = 200):
    meeting = poll.meeting
    is_manager = can_manage_meeting(current_user, meeting)
    context = {
        "poll": poll,
        "item": poll.agenda_item,
        "meeting": meeting,
        "is_manager": is_manager,
        "action_form": ConfirmForm(formdata=None),
        "has_voted": services.has_voted(current_user, poll),
        "is_eligible": services.is_eligible(current_user, poll),
        "turnout": None,
        "will_vote": None,
        "in_room_form": None,
        "rows": None,
        "named": None,
    }
    if poll.status == PollStatus.DRAFT and is_manager and not poll.in_room:
        context["will_vote"] = len(services.eligible_attendances(poll))
    if poll.status != PollStatus.DRAFT and not poll.in_room:
        context["turnout"] = services.turnout(poll)
    if poll.status == PollStatus.OPEN and poll.in_room and is_manager:
        context["in_room_form"] = form or in_room_form(poll, formdata=None)
    if poll.status == PollStatus.CLOSED:
        context["rows"] = result_rows(poll)
        if is_manager and not poll.secret and not poll.in_room:
            context["named"] = _named_votes(poll)
    return render_template("polls/poll.html", **context), status


@bp.get("/polls/<int:poll_id>")
def show(poll_id: int):
    return _render_poll(_visible_poll(poll_id))


@bp.post("/polls/<int:poll_id>/open")
@login_required
def open_poll(poll_id: int):
    poll = _visible_poll(poll_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        poll = services.open_poll(current_user, poll)
    except DomainError as error:
        refused(error)
        return _render_poll(_visible_poll(poll_id), status=error.status)
    if poll.in_room:
        flash(_("The poll is open: count the hands, then enter the counts below."), "success")
    else:
        eligible = services.turnout(poll).eligible
        flash(
            ngettext(
                "Voting is open: %(num)d person may vote now.",
                "Voting is open: %(num)d people may vote now.",
                eligible,
            ),
            "success",
        )
    return redirect(url_for("polls.show", poll_id=poll_id))


@bp.route("/polls/<int:poll_id>/close", methods=["GET", "POST"])
@login_required
def close_poll(poll_id: int):
    poll = _managed_poll(poll_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            services.close_poll(current_user, poll)
        except DomainError as error:
            refused(error)
            return _render_poll(_visible_poll(poll_id), status=error.status)
        flash(_("The poll is closed and counted."), "success")
        return redirect(url_for("polls.show", poll_id=poll_id))
    if poll.status != PollStatus.OPEN or poll.in_room:
        return redirect(url_for("polls.show", poll_id=poll_id))
    return render_template(
        "polls/poll_close.html",
        poll=poll,
        meeting=poll.meeting,
        form=form,
        turnout=services.turnout(poll),
    )


@bp.post("/polls/<int:poll_id>/in-room")
@login_required
def in_room(poll_id: int):
    """举手表决: the secretary enters the counts, which closes the poll."""
    poll = _managed_poll(poll_id)
    form = in_room_form(poll)
    if not form.validate_on_submit():
        return _render_poll(poll, form, 422)
    try:
        services.record_in_room_result(current_user, poll, form.present.data, in_room_counts(form))
    except DomainError as error:
        refused(error, form if error.fields else None)
        return _render_poll(_visible_poll(poll_id), form, error.status)
    flash(_("The counts are entered and the poll is closed."), "success")
    return redirect(url_for("polls.show", poll_id=poll_id))


# --- the ballot -----------------------------------------------------------------------


def receipts_kept() -> dict[int, str]:
    """Receipts of the ballots cast in this browser session, by poll id."""
    kept = session.get("poll_receipts")
    if not isinstance(kept, list):
        return {}
    return {pair[0]: pair[1] for pair in kept if isinstance(pair, list) and len(pair) == 2}


def remember_receipt(poll: Poll, receipt: str) -> None:
    # A list, oldest first: the session's JSON keeps a list's order (not a dict's).
    kept = [(k, v) for k, v in receipts_kept().items() if k != poll.id]
    kept.append((poll.id, receipt))
    session["poll_receipts"] = [list(pair) for pair in kept[-RECEIPTS_KEPT:]]
    session["poll_just_voted"] = poll.id


def _refused(poll: Poll, reason: str, message: str, status: int):
    return render_template(
        "polls/refused.html",
        poll=poll,
        meeting=poll.meeting,
        reason=reason,
        message=message,
        receipt=receipts_kept().get(poll.id),
        has_voted=services.has_voted(current_user, poll),
    ), status


def _refusal(poll: Poll, posting: bool):
    """Why this person cannot vote in this poll now, as a page; or None.
    (A refusal shown early: ``cast_ballot`` decides in the end.)"""
    if poll.in_room:
        message = _("This is a show of hands in the room: raise your hand when the host asks.")
        return _refused(poll, "in_room", message, 409)
    if poll.status == PollStatus.DRAFT:
        message = _("Voting has not started yet. The secretary opens it during the meeting.")
        return _refused(poll, "not_open", message, 409)
    if poll.status == PollStatus.CLOSED:
        return _refused(poll, "closed", _("This poll is closed: no more votes are taken."), 409)
    if services.has_voted(current_user, poll):
        if posting:
            return _refused(poll, "already_voted", _("You have already voted in this poll."), 409)
        return None
    if not services.is_eligible(current_user, poll):
        return _refused(poll, "not_eligible", _("You are not among the voters of this poll."), 403)
    return None


_REFUSAL_REASONS = {
    NotEligible: "not_eligible",
    AlreadyVoted: "already_voted",
    PollNotOpen: "not_open",
}


def _render_ballot(poll: Poll, form: BallotForm, status: int = 200):
    return render_template("polls/ballot.html", poll=poll, meeting=poll.meeting, form=form), status


@bp.get("/polls/<int:poll_id>/vote")
@login_required
def vote(poll_id: int):
    """One screen to choose; a second to confirm (``confirm=1`` casts);
    then the receipt. Works without JavaScript."""
    poll = _visible_poll(poll_id)
    refusal = _refusal(poll, posting=False)
    if refusal is not None:
        return refusal
    if services.has_voted(current_user, poll):
        return render_template(
            "polls/voted.html",
            poll=poll,
            meeting=poll.meeting,
            receipt=receipts_kept().get(poll.id),
            just_voted=session.pop("poll_just_voted", None) == poll.id,
            voted_at=queries.voted_at(current_user, poll),
        )
    return _render_ballot(poll, BallotForm.for_poll(poll, formdata=None))


@bp.post("/polls/<int:poll_id>/vote")
@login_required
def cast(poll_id: int):
    poll = _visible_poll(poll_id)
    refusal = _refusal(poll, posting=True)
    if refusal is not None:
        return refusal
    form = BallotForm.for_poll(poll)
    if form.change.data:
        return _render_ballot(poll, form)
    if not form.validate_on_submit():
        return _render_ballot(poll, form, 422)
    if form.confirm.data != "1":
        chosen = set(form.chosen)
        return render_template(
            "polls/ballot_confirm.html",
            poll=poll,
            meeting=poll.meeting,
            form=form,
            chosen=[option for option in poll.options if option.id in chosen],
        )
    try:
        receipt = services.cast_ballot(current_user, poll, form.chosen)
    except DomainError as error:
        refused(error, form)
        poll = _visible_poll(poll_id)
        reason = _REFUSAL_REASONS.get(type(error))
        if reason is None:  # the choice: its problem is shown next to it
            return _render_ballot(poll, form, error.status)
        if reason == "not_open" and poll.status == PollStatus.CLOSED:
            reason = "closed"
        return _refused(poll, reason, error.message, error.status)
    remember_receipt(poll, receipt)
    return redirect(url_for("polls.vote", poll_id=poll_id))


# --- ballots for another: a proxy's (委托投票), the secretary's assisted ones ----------


def proxy_receipts_kept() -> dict[tuple[int, int], str]:
    """Receipts of the ballots cast as a proxy in this browser session, by
    (poll id, principal id)."""
    kept = session.get("proxy_receipts")
    if not isinstance(kept, list):
        return {}
    return {
        (entry[0], entry[1]): entry[2]
        for entry in kept
        if isinstance(entry, list) and len(entry) == 3
    }


def remember_proxy_receipt(poll: Poll, principal: User, receipt: str) -> None:
    kept = [
        [poll_id, principal_id, code]
        for (poll_id, principal_id), code in proxy_receipts_kept().items()
        if (poll_id, principal_id) != (poll.id, principal.id)
    ]
    kept.append([poll.id, principal.id, receipt])
    session["proxy_receipts"] = kept[-RECEIPTS_KEPT:]


@dataclass(frozen=True)
class ProxyBallot:
    """A principal the reader votes for in an open poll: voted yet, and the receipt."""

    principal: User
    voted: bool
    receipt: str | None


@bp.app_template_global()
def proxy_ballots(poll: Poll) -> list[ProxyBallot]:
    """For the ballot pages: the principals the reader is a confirmed proxy of."""
    if poll.status != PollStatus.OPEN or poll.in_room:
        return []
    kept = proxy_receipts_kept()
    return [
        ProxyBallot(
            proxy.principal,
            services.has_voted(proxy.principal, poll),
            kept.get((poll.id, proxy.principal_id)),
        )
        for proxy in proxies.proxies_held_by(current_user, poll.meeting)
    ]


def _principal_of(poll: Poll, principal_id: int) -> User:
    principal = proxies.get_principal(principal_id)
    proxies.require_proxy_for(current_user, poll, principal)
    return principal


def _render_proxy_ballot(poll: Poll, principal: User, form: BallotForm, status: int = 200):
    return render_template(
        "polls/ballot.html",
        poll=poll,
        meeting=poll.meeting,
        form=form,
        principal=principal,
        action=url_for("polls.cast_for", poll_id=poll.id, principal_id=principal.id),
    ), status


def _proxy_refusal(poll: Poll, principal: User, posting: bool):
    if poll.in_room or poll.status != PollStatus.OPEN:
        return _refusal(poll, posting)
    if services.has_voted(principal, poll) and posting:
        message = _("%(name)s has already voted in this poll.", name=principal.display_name)
        return _refused(poll, "already_voted", message, 409)
    return None


@bp.get("/polls/<int:poll_id>/vote-for/<int:principal_id>")
@login_required
def vote_for(poll_id: int, principal_id: int):
    """A confirmed proxy's ballot for their principal: the same steps as one's own."""
    poll = _visible_poll(poll_id)
    principal = _principal_of(poll, principal_id)
    refusal = _proxy_refusal(poll, principal, posting=False)
    if refusal is not None:
        return refusal
    if services.has_voted(principal, poll):
        return render_template(
            "polls/_proxy_receipt.html",
            poll=poll,
            meeting=poll.meeting,
            principal=principal,
            receipt=proxy_receipts_kept().get((poll.id, principal.id)),
        )
    return _render_proxy_ballot(poll, principal, BallotForm.for_poll(poll, formdata=None))


@bp.post("/polls/<int:poll_id>/vote-for/<int:principal_id>")
@login_required
def cast_for(poll_id: int, principal_id: int):
    poll = _visible_poll(poll_id)
    principal = _principal_of(poll, principal_id)
    refusal = _proxy_refusal(poll, principal, posting=True)
    if refusal is not None:
        return refusal
    form = BallotForm.for_poll(poll)
    if form.change.data:
        return _render_proxy_ballot(poll, principal, form)
    if not form.validate_on_submit():
        return _render_proxy_ballot(poll, principal, form, 422)
    if form.confirm.data != "1":
        chosen = set(form.chosen)
        return render_template(
            "polls/ballot_confirm.html",
            poll=poll,
            meeting=poll.meeting,
            form=form,
            chosen=[option for option in poll.options if option.id in chosen],
            principal=principal,
            action=url_for("polls.cast_for", poll_id=poll.id, principal_id=principal.id),
        )
    try:
        receipt = services.cast_ballot(current_user, poll, form.chosen, on_behalf_of=principal)
    except DomainError as error:
        refused(error, form)
        poll = _visible_poll(poll_id)
        reason = _REFUSAL_REASONS.get(type(error))
        if reason is None:
            return _render_proxy_ballot(poll, principal, form, error.status)
        if reason == "not_open" and poll.status == PollStatus.CLOSED:
            reason = "closed"
        return _refused(poll, reason, error.message, error.status)
    remember_proxy_receipt(poll, principal, receipt)
    return redirect(url_for("polls.vote_for", poll_id=poll_id, principal_id=principal_id))


def _assisted_voters(poll: Poll) -> list[User]:
    """The poll's eligible voters who have not voted (the secretary's list)."""
    return services.voters_not_voted(poll)


@bp.route("/polls/<int:poll_id>/assisted", methods=["GET", "POST"])
@login_required
def assisted(poll_id: int):
    """The secretary records the ballot of an attendee without a phone, with
    a named witness; the receipt is shown to hand to the voter."""
    poll = _managed_poll(poll_id)
    if poll.status != PollStatus.OPEN or poll.in_room:
        return redirect(url_for("polls.show", poll_id=poll_id))
    form = assisted_form(poll, _assisted_voters(poll))
    status = 200
    if form.validate_on_submit():
        voter = db.session.get(User, form.voter_id.data)
        try:
            receipt = services.cast_assisted_ballot(
                current_user, poll, voter, form.witness.data, form.chosen
            )
        except DomainError as error:
            refused(error, form)
            status = error.status
            poll = _managed_poll(poll_id)
            form.voter_id.choices = assisted_form(
                poll, _assisted_voters(poll), formdata=None
            ).voter_id.choices
        else:
            return render_template(
                "polls/_proxy_receipt.html",
                poll=poll,
                meeting=poll.meeting,
                principal=voter,
                receipt=receipt,
                assisted=True,
            )
    elif form.is_submitted():
        status = 422
    return render_template(
        "polls/_proxy_assisted.html", poll=poll, meeting=poll.meeting, form=form
    ), status


# --- results --------------------------------------------------------------------------


def _closed_poll(poll_id: int) -> Poll | tuple[str, int]:
    """The poll whose result this user may see, or the page saying it is not counted yet."""
    poll = services.get_poll(poll_id)
    _announced(poll.meeting)
    try:
        services.require_result_visible(current_user, poll)
    except PollNotOpen as error:
        return render_template(
            "polls/not_closed.html", poll=poll, meeting=poll.meeting, message=error.message
        ), 409
    return poll


@bp.get("/polls/<int:poll_id>/result")
def result(poll_id: int):
    poll = _closed_poll(poll_id)
    if not isinstance(poll, Poll):
        return poll
    return render_template(
        "polls/result.html",
        poll=poll,
        meeting=poll.meeting,
        item=poll.agenda_item,
        rows=result_rows(poll),
        is_manager=can_manage_meeting(current_user, poll.meeting),
        receipt=receipts_kept().get(poll.id),
    )


@bp.get("/polls/<int:poll_id>/receipts")
def receipts(poll_id: int):
    poll = _closed_poll(poll_id)
    if not isinstance(poll, Poll):
        return poll
    labels = {option.id: option.shown_label for option in poll.options}
    lines = [
        (line.receipt, [labels[i] for i in line.option_ids]) for line in services.receipts(poll)
    ]
    return render_template(
        "polls/receipts.html",
        poll=poll,
        meeting=poll.meeting,
        lines=lines,
        mine=receipts_kept().get(poll.id),
    )
