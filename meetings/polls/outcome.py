"""How a poll's counts become its outcome: one pure function, tested by hand.

- Quorum (optional): at least ``quorum_percent`` of the eligible voters voted.
- yes/no/abstain: abstentions count as cast but neither as yes nor as no.
  ``simple``: more yes than no; ``absolute``: yes from more than half of the
  eligible voters; ``two_thirds``: yes from at least two thirds of the votes
  cast (abstentions included).
- single / multiple: the option(s) with most votes win, up to ``max_choices``
  (1 for single); equal votes at the boundary are all reported and ``tie`` is
  set. Each winner must also meet the majority rule: ``absolute`` — chosen by
  more than half of the eligible voters, ``two_thirds`` — by at least two
  thirds of the ballots cast. No option meeting it means ``rejected``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from meetings.polls.models import Majority, OptionCode, Outcome, PollKind


@dataclass(frozen=True)
class Count:
    option_id: int
    votes: int
    code: OptionCode | None = None


@dataclass(frozen=True)
class Result:
    quorum_met: bool
    outcome: Outcome
    winner_option_ids: list[int] = field(default_factory=list)
    tie: bool = False


def quorum_met(eligible: int, cast: int, quorum_percent: int | None) -> bool:
    # Integers only: 100 * cast >= percent * eligible avoids rounding at the boundary.
    return quorum_percent is None or 100 * cast >= quorum_percent * eligible


def meets_majority(votes: int, majority: Majority, eligible: int, cast: int) -> bool:
    if majority == Majority.ABSOLUTE:
        return 2 * votes > eligible
    if majority == Majority.TWO_THIRDS:
        return cast > 0 and 3 * votes >= 2 * cast
    return votes > 0


def decide(
    kind: PollKind,
    majority: Majority,
    eligible: int,
    cast: int,
    counts: list[Count],
    quorum_percent: int | None = None,
    max_choices: int = 1,
) -> Result:
    if not quorum_met(eligible, cast, quorum_percent):
        return Result(quorum_met=False, outcome=Outcome.NO_QUORUM)
    if kind == PollKind.YES_NO_ABSTAIN:
        return _decide_yes_no(majority, eligible, cast, counts)
    return _decide_choice(
        majority, eligible, cast, counts, 1 if kind == PollKind.SINGLE else max_choices
    )


def _decide_yes_no(majority: Majority, eligible: int, cast: int, counts: list[Count]) -> Result:
    by_code = {count.code: count for count in counts}
    yes, no = by_code[OptionCode.YES], by_code[OptionCode.NO]
    if majority == Majority.SIMPLE:
        adopted = yes.votes > no.votes
    else:
        adopted = meets_majority(yes.votes, majority, eligible, cast)
    if adopted:
        return Result(quorum_met=True, outcome=Outcome.ADOPTED, winner_option_ids=[yes.option_id])
    return Result(quorum_met=True, outcome=Outcome.REJECTED)


def _decide_choice(
    majority: Majority, eligible: int, cast: int, counts: list[Count], places: int
) -> Result:
    ranked = sorted(
        (c for c in counts if meets_majority(c.votes, majority, eligible, cast)),
        key=lambda c: c.votes,
        reverse=True,
    )
    if not ranked:
        return Result(quorum_met=True, outcome=Outcome.REJECTED)
    threshold = ranked[min(places, len(ranked)) - 1].votes
    winners = [c.option_id for c in ranked if c.votes >= threshold]
    return Result(
        quorum_met=True,
        outcome=Outcome.DECIDED,
        winner_option_ids=winners,
        tie=len(winners) > places,
    )
