"""What the database holds of a poll's ballots, wherever they are: in the
ballot box (``pending_ballot``) while the poll is open, in ``ballot`` and
``ballot_choice`` once it has closed."""

from __future__ import annotations

import sqlalchemy as sa

from meetings.polls.models import Ballot, BallotChoice, PendingBallot

# receipt -> (voter id on named polls, chosen option ids in order)
Ballots = dict[str, tuple[int | None, tuple[int, ...]]]


def stored_ballots(executor: sa.Connection | sa.orm.Session, poll_id: int) -> Ballots:
    """``executor``: a connection or a session."""
    box, ballot, choice = PendingBallot.__table__, Ballot.__table__, BallotChoice.__table__
    found: Ballots = {
        receipt: (voter_id, tuple(sorted(option_ids)))
        for receipt, voter_id, option_ids in executor.execute(
            sa.select(box.c.receipt, box.c.voter_id, box.c.option_ids).where(
                box.c.poll_id == poll_id
            )
        )
    }
    rows = executor.execute(
        sa.select(ballot.c.receipt, ballot.c.voter_id, choice.c.option_id)
        .outerjoin(
            choice,
            sa.and_(choice.c.poll_id == ballot.c.poll_id, choice.c.receipt == ballot.c.receipt),
        )
        .where(ballot.c.poll_id == poll_id)
        .order_by(ballot.c.receipt, choice.c.option_id)
    )
    for receipt, voter_id, option_id in rows:
        _voter, options = found.get(receipt, (voter_id, ()))
        found[receipt] = (voter_id, options if option_id is None else (*options, option_id))
    return found
