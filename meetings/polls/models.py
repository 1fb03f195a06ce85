"""Proposals, comments, polls, options, the voter roll and ballots.

Ballot secrecy: a poll keeps *who has voted* (``poll_vote``) apart from *what
was chosen*. While the poll is open, each ballot waits in the ballot box
(``pending_ballot``), keyed by its random receipt, with no voter on a secret
poll. The close empties the box into ``ballot`` and ``ballot_choice`` in a
random order, in a transaction of its own, so that after it no column,
serial id, row order, timestamp or shared transaction links a voter to a
ballot. Ballots are keyed by their receipt (and on SQLite stored WITHOUT
ROWID, so their physical order is the random key's order); the audit log
records that someone voted and when, never which ballot is theirs. What
someone with the database's own rights can still see while a poll is open
is written down in ``docs/ballot-secrecy.md``.
"""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from auth.models import User
from meetings.dbtypes import StrEnumType, UTCDateTime, enum_check, utcnow
from meetings.extensions import db
from meetings.meeting.models import AgendaItem

# --- proposals and their discussion ---------------------------------------------------


class ProposalStatus(enum.StrEnum):
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"  # by its author; kept, shown as withdrawn


class Proposal(db.Model):
    """A 方案 tabled under an agenda item by an attendee or the secretary."""

    __tablename__ = "proposal"
    __table_args__ = (enum_check("status", ProposalStatus),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agenda_item_id: Mapped[int] = mapped_column(
        ForeignKey("agenda_item.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[ProposalStatus] = mapped_column(
        StrEnumType(ProposalStatus, 10), default=ProposalStatus.ACTIVE
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    agenda_item: Mapped[AgendaItem] = relationship()
    author: Mapped[User] = relationship()
    comments: Mapped[list[Comment]] = relationship(
        back_populates="proposal", order_by=lambda: Comment.id, cascade="all, delete-orphan"
    )

    @property
    def is_withdrawn(self) -> bool:
        return self.status == ProposalStatus.WITHDRAWN


class Comment(db.Model):
    """讨论: a comment under a proposal. Hidden ones are kept and shown as hidden."""

    __tablename__ = "proposal_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposal.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    proposal: Mapped[Proposal] = relationship(back_populates="comments")
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    hidden_by: Mapped[User | None] = relationship(foreign_keys=[hidden_by_id])

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None


# --- polls ----------------------------------------------------------------------------


class PollKind(enum.StrEnum):
    YES_NO_ABSTAIN = "yes_no_abstain"  # 赞成/反对/弃权
    SINGLE = "single"  # choose one option
    MULTIPLE = "multiple"  # choose up to max_choices

    @property
    def label(self):
        return KIND_LABELS[self]


KIND_LABELS = {
    PollKind.YES_NO_ABSTAIN: _l("For / against / abstain"),
    PollKind.SINGLE: _l("Choose one"),
    PollKind.MULTIPLE: _l("Choose several"),
}


class Majority(enum.StrEnum):
    SIMPLE = "simple"  # more yes than no among the votes cast
    ABSOLUTE = "absolute"  # more than half of the eligible voters
    TWO_THIRDS = "two_thirds"  # at least two thirds of the votes cast

    @property
    def label(self):
        return MAJORITY_LABELS[self]


MAJORITY_LABELS = {
    Majority.SIMPLE: _l("Simple majority of votes cast"),
    Majority.ABSOLUTE: _l("More than half of all eligible voters"),
    Majority.TWO_THIRDS: _l("Two thirds of votes cast"),
}


class PollStatus(enum.StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"

    @property
    def label(self):
        return POLL_STATUS_LABELS[self]


POLL_STATUS_LABELS = {
    PollStatus.DRAFT: _l("Not yet open"),
    PollStatus.OPEN: _l("Voting open"),
    PollStatus.CLOSED: _l("Closed"),
}


class Outcome(enum.StrEnum):
    ADOPTED = "adopted"  # yes/no/abstain: carried
    REJECTED = "rejected"  # yes/no/abstain: not carried; single/multiple: no option won
    NO_QUORUM = "no_quorum"  # too few of the eligible voters voted
    DECIDED = "decided"  # single/multiple: winner(s) — see ``tie``

    @property
    def label(self):
        return OUTCOME_LABELS[self]


OUTCOME_LABELS = {
    Outcome.ADOPTED: _l("Adopted"),
    Outcome.REJECTED: _l("Not adopted"),
    Outcome.NO_QUORUM: _l("No quorum"),
    Outcome.DECIDED: _l("Decided"),
}


class OptionCode(enum.StrEnum):
    YES = "yes"
    NO = "no"
    ABSTAIN = "abstain"

    @property
    def gloss(self):
        """The meaning of 赞成/反对/弃权 for a reader of another language:
        the options are stored in Chinese, as the minutes print them."""
        return OPTION_GLOSSES[self]


OPTION_GLOSSES = {
    OptionCode.YES: _l("For"),
    OptionCode.NO: _l("Against"),
    OptionCode.ABSTAIN: _l("Abstain"),
}


class Poll(db.Model):
    """A 表决 on an agenda item. Its result is computed once, at close, and stored."""

    __tablename__ = "poll"
    __table_args__ = (
        enum_check("kind", PollKind),
        enum_check("majority", Majority),
        enum_check("status", PollStatus),
        enum_check("outcome", Outcome),
        CheckConstraint("max_choices >= 1", name="max_choices_positive"),
        CheckConstraint(
            "quorum_percent IS NULL OR (quorum_percent >= 1 AND quorum_percent <= 100)",
            name="quorum_percent_range",
        ),
        # the open polls, few at any time ("my meetings": the polls waiting for a vote)
        Index("ix_poll_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agenda_item_id: Mapped[int] = mapped_column(
        ForeignKey("agenda_item.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[PollKind] = mapped_column(StrEnumType(PollKind, 20))
    max_choices: Mapped[int] = mapped_column(default=1)
    secret: Mapped[bool] = mapped_column(default=False)
    majority: Mapped[Majority] = mapped_column(StrEnumType(Majority, 12), default=Majority.SIMPLE)
    quorum_percent: Mapped[int | None]
    # eligible voters: every voting attendance, or only those checked in as present
    present_only: Mapped[bool] = mapped_column(default=False)
    # 举手表决: the secretary enters the counts instead of ballots
    in_room: Mapped[bool] = mapped_column(default=False)
    status: Mapped[PollStatus] = mapped_column(
        StrEnumType(PollStatus, 10), default=PollStatus.DRAFT
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # The stored result, written once when the poll closes.
    eligible_count: Mapped[int | None]
    cast_count: Mapped[int | None]
    quorum_met: Mapped[bool | None]
    outcome: Mapped[Outcome | None] = mapped_column(StrEnumType(Outcome, 12))
    tie: Mapped[bool | None]
    # in-room polls: who entered the counts, and when
    result_entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    result_entered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    agenda_item: Mapped[AgendaItem] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    result_entered_by: Mapped[User | None] = relationship(foreign_keys=[result_entered_by_id])
    options: Mapped[list[PollOption]] = relationship(
        back_populates="poll", order_by=lambda: PollOption.position, cascade="all, delete-orphan"
    )

    @property
    def meeting(self):
        return self.agenda_item.meeting

    @property
    def winner_option_ids(self) -> list[int]:
        return [option.id for option in self.options if option.won]


class PollOption(db.Model):
    __tablename__ = "poll_option"
    __table_args__ = (
        UniqueConstraint("poll_id", "position"),
        enum_check("code", OptionCode),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"))
    position: Mapped[int]
    label: Mapped[str] = mapped_column(String(200))
    # yes / no / abstain on a yes_no_abstain poll, else None
    code: Mapped[OptionCode | None] = mapped_column(StrEnumType(OptionCode, 10))
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposal.id", ondelete="SET NULL"))
    # stored at close
    votes: Mapped[int | None]
    won: Mapped[bool] = mapped_column(default=False)

    poll: Mapped[Poll] = relationship(back_populates="options")
    proposal: Mapped[Proposal | None] = relationship()

    @property
    def shown_label(self) -> str:
        """The label with its meaning beside it for readers of other languages
        than Chinese: "赞成 (For)"."""
        if self.code is None or str(get_locale()).startswith("zh"):
            return self.label
        return f"{self.label} ({self.code.gloss})"


class PollVoter(db.Model):
    """The eligible voters, fixed when the poll opens."""

    __tablename__ = "poll_voter"
    __table_args__ = {"sqlite_with_rowid": False}

    poll_id: Mapped[int] = mapped_column(
        ForeignKey("poll.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), primary_key=True)


class PollVote(db.Model):
    """The voter roll: *that* a person has voted. Its primary key is the rule
    "one ballot per voter per poll", enforced by the database; its foreign key
    to ``poll_voter`` lets only eligible voters in."""

    __tablename__ = "poll_vote"
    __table_args__ = (
        ForeignKeyConstraint(
            ["poll_id", "user_id"], ["poll_voter.poll_id", "poll_voter.user_id"], ondelete="CASCADE"
        ),
        {"sqlite_with_rowid": False},
    )

    poll_id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(primary_key=True)


class OnBehalfKind(enum.StrEnum):
    PROXY = "proxy"  # a confirmed proxy (委托投票) cast it
    ASSISTED = "assisted"  # the secretary recorded it, with a named witness


class VoteOnBehalf(db.Model):
    """A roll line whose ballot someone else cast: a confirmed proxy, or the
    secretary for an attendee without a phone, with a witness. The roll says
    whose hand it was; the ballot stays as secret as the poll is."""

    __tablename__ = "vote_on_behalf"
    __table_args__ = (
        ForeignKeyConstraint(
            ["poll_id", "user_id"], ["poll_vote.poll_id", "poll_vote.user_id"], ondelete="CASCADE"
        ),
        enum_check("kind", OnBehalfKind),
        CheckConstraint("kind <> 'assisted' OR witness IS NOT NULL", name="assisted_has_a_witness"),
        CheckConstraint("kind <> 'proxy' OR proxy_id IS NOT NULL", name="proxy_names_it"),
    )

    poll_id: Mapped[int] = mapped_column(primary_key=True)
    # the voter on the roll (the principal)
    user_id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[OnBehalfKind] = mapped_column(StrEnumType(OnBehalfKind, 10))
    cast_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    proxy_id: Mapped[int | None] = mapped_column(ForeignKey("proxy.id"))
    witness: Mapped[str | None] = mapped_column(String(100))

    cast_by: Mapped[User] = relationship()


class PendingBallot(db.Model):
    """A ballot cast in an open poll, waiting in the box for the count: its
    receipt, the chosen option ids and, on a named poll only, its voter. The
    close moves it into ``ballot`` (see the module's docstring); nothing else
    changes or removes it (triggers, migration ``0009_ballot_box``)."""

    __tablename__ = "pending_ballot"
    __table_args__ = (
        ForeignKeyConstraint(["poll_id"], ["poll.id"], ondelete="CASCADE"),
        {"sqlite_with_rowid": False},
    )

    poll_id: Mapped[int] = mapped_column(primary_key=True)
    receipt: Mapped[str] = mapped_column(String(16), primary_key=True)
    voter_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    option_ids: Mapped[list[int]] = mapped_column(JSON)


class Ballot(db.Model):
    """*What* was chosen, under a random receipt code, once the poll has
    closed. ``voter_id`` is filled only on named polls; a secret ballot
    carries nothing that leads to its voter."""

    __tablename__ = "ballot"
    __table_args__ = (
        ForeignKeyConstraint(["poll_id"], ["poll.id"], ondelete="CASCADE"),
        {"sqlite_with_rowid": False},
    )

    poll_id: Mapped[int] = mapped_column(primary_key=True)
    receipt: Mapped[str] = mapped_column(String(16), primary_key=True)
    voter_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    choices: Mapped[list[BallotChoice]] = relationship(
        back_populates="ballot",
        cascade="all, delete-orphan",
        order_by=lambda: BallotChoice.option_id,
    )
    voter: Mapped[User | None] = relationship()


class BallotChoice(db.Model):
    __tablename__ = "ballot_choice"
    __table_args__ = (
        ForeignKeyConstraint(
            ["poll_id", "receipt"], ["ballot.poll_id", "ballot.receipt"], ondelete="CASCADE"
        ),
        Index("ix_ballot_choice_option_id", "option_id"),
        {"sqlite_with_rowid": False},
    )

    poll_id: Mapped[int] = mapped_column(primary_key=True)
    receipt: Mapped[str] = mapped_column(String(16), primary_key=True)
    option_id: Mapped[int] = mapped_column(
        ForeignKey("poll_option.id", ondelete="CASCADE"), primary_key=True
    )

    ballot: Mapped[Ballot] = relationship(back_populates="choices")


# ``VoteOnBehalf.proxy_id`` names a ``meetings.room.models.Proxy``: loaded
# with this module so that the polls' mappers configure on their own.
from meetings.room import models as _room_models  # noqa: E402, F401
