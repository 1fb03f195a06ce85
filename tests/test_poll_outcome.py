"""``outcome.decide``: how counts become an outcome, against results worked
out by hand (the arithmetic is in the comment of each row).

Reminder of the rules (``meetings/polls/outcome.py``):
quorum — 100·cast ≥ quorum%·eligible; yes/no/abstain — simple: yes > no,
absolute: 2·yes > eligible, two_thirds: 3·yes ≥ 2·cast (abstentions are cast);
single/multiple — the options meeting the majority rule (simple: at least one
vote) ranked by votes, the top ``max_choices`` win, equal votes at the last
place all win and make a tie.
"""

from __future__ import annotations

import pytest

from meetings.polls.models import Majority, OptionCode, Outcome, PollKind
from meetings.polls.outcome import Count, decide, quorum_met

SIMPLE, ABSOLUTE, TWO_THIRDS = Majority.SIMPLE, Majority.ABSOLUTE, Majority.TWO_THIRDS
ADOPTED, REJECTED, NO_QUORUM, DECIDED = (
    Outcome.ADOPTED,
    Outcome.REJECTED,
    Outcome.NO_QUORUM,
    Outcome.DECIDED,
)

# Option ids of a yes/no/abstain poll.
YES, NO, ABSTAIN = 11, 12, 13
# Option ids of single / multiple polls.
A, B, C, D = 21, 22, 23, 24


def yes_no(yes: int, no: int, abstain: int) -> list[Count]:
    # Listed out of order on purpose: the codes, not the positions, say which is which.
    return [
        Count(ABSTAIN, abstain, OptionCode.ABSTAIN),
        Count(NO, no, OptionCode.NO),
        Count(YES, yes, OptionCode.YES),
    ]


def ids(names: str) -> list[int]:
    """``"ab"``: the ids of options a and b."""
    return [{"a": A, "b": B, "c": C, "d": D}[name] for name in names]


def choices(votes: str) -> list[Count]:
    """``"a4 b3 c1"``: option a has 4 votes, b 3, c 1."""
    ids = {"a": A, "b": B, "c": C, "d": D}
    return [Count(ids[word[0]], int(word[1:])) for word in votes.split()]


# --- yes / no / abstain ---------------------------------------------------------------

YES_NO_ROWS = [
    # (majority, eligible, (yes, no, abstain), quorum%, expected outcome)
    # -- simple: more yes than no; abstentions count for neither side
    pytest.param(SIMPLE, 10, (5, 3, 2), None, ADOPTED, id="simple-5>3"),
    pytest.param(SIMPLE, 10, (3, 5, 2), None, REJECTED, id="simple-3<5"),
    pytest.param(SIMPLE, 10, (4, 4, 2), None, REJECTED, id="simple-tie-4=4-rejected"),
    pytest.param(SIMPLE, 10, (0, 0, 0), None, REJECTED, id="simple-no-votes-0=0"),
    # 1 yes, 0 no, 8 abstain: 1 > 0 carries — abstentions do not count against
    pytest.param(SIMPLE, 10, (1, 0, 8), None, ADOPTED, id="simple-1-yes-8-abstain"),
    # everybody abstains: 0 > 0 is false
    pytest.param(SIMPLE, 10, (0, 0, 9), None, REJECTED, id="simple-all-abstain"),
    # -- absolute: yes from more than half of the eligible voters
    # eligible 10: 2·5 = 10 > 10? no
    pytest.param(ABSOLUTE, 10, (5, 0, 0), None, REJECTED, id="absolute-5-of-10"),
    # eligible 10: 2·6 = 12 > 10? yes
    pytest.param(ABSOLUTE, 10, (6, 0, 0), None, ADOPTED, id="absolute-6-of-10"),
    # eligible 9: 2·5 = 10 > 9? yes
    pytest.param(ABSOLUTE, 9, (5, 4, 0), None, ADOPTED, id="absolute-5-of-9"),
    # eligible 9: 2·4 = 8 > 9? no — though 4 yes > 1 no among those who voted
    pytest.param(ABSOLUTE, 9, (4, 1, 0), None, REJECTED, id="absolute-4-of-9-beats-no"),
    # eligible 10, 5 yes 0 no 5 abstain: 2·5 = 10 > 10? no (abstentions do not help)
    pytest.param(ABSOLUTE, 10, (5, 0, 5), None, REJECTED, id="absolute-abstain-not-yes"),
    # -- two thirds of the votes cast (abstentions are cast)
    # cast 6: 3·4 = 12 ≥ 2·6 = 12? yes — exactly two thirds carries
    pytest.param(TWO_THIRDS, 10, (4, 2, 0), None, ADOPTED, id="2/3-4-of-6-exact"),
    # cast 5: 3·3 = 9 ≥ 2·5 = 10? no (60 %)
    pytest.param(TWO_THIRDS, 10, (3, 2, 0), None, REJECTED, id="2/3-3-of-5"),
    # cast 6 with 2 abstaining: 3·4 = 12 ≥ 12? yes
    pytest.param(TWO_THIRDS, 10, (4, 0, 2), None, ADOPTED, id="2/3-4-yes-2-abstain"),
    # cast 5 with 2 abstaining: 3·3 = 9 ≥ 10? no — the abstentions weigh against
    pytest.param(TWO_THIRDS, 10, (3, 0, 2), None, REJECTED, id="2/3-abstentions-count-as-cast"),
    # cast 9: 3·6 = 18 ≥ 18? yes
    pytest.param(TWO_THIRDS, 9, (6, 3, 0), None, ADOPTED, id="2/3-6-of-9-exact"),
    # cast 9: 3·5 = 15 ≥ 18? no
    pytest.param(TWO_THIRDS, 9, (5, 4, 0), None, REJECTED, id="2/3-5-of-9"),
    # cast 0: nothing to be two thirds of
    pytest.param(TWO_THIRDS, 10, (0, 0, 0), None, REJECTED, id="2/3-no-votes"),
    # cast 1: 3·1 = 3 ≥ 2? yes
    pytest.param(TWO_THIRDS, 10, (1, 0, 0), None, ADOPTED, id="2/3-one-yes-only"),
    # -- quorum: at least quorum% of the eligible voters voted (abstentions count)
    # eligible 9, quorum 50: cast 4 → 400 ≥ 450? no
    pytest.param(SIMPLE, 9, (4, 0, 0), 50, NO_QUORUM, id="quorum-50-4-of-9"),
    # eligible 9, quorum 50: cast 5 → 500 ≥ 450? yes; then 4 yes > 0 no
    pytest.param(SIMPLE, 9, (4, 0, 1), 50, ADOPTED, id="quorum-50-5-of-9-abstention-counts"),
    # eligible 10, quorum 50: cast 5 → 500 ≥ 500? yes (exactly half is enough)
    pytest.param(SIMPLE, 10, (3, 2, 0), 50, ADOPTED, id="quorum-50-5-of-10"),
    # eligible 10, quorum 50: cast 4 → 400 ≥ 500? no, even if all say yes
    pytest.param(SIMPLE, 10, (4, 0, 0), 50, NO_QUORUM, id="quorum-50-4-of-10"),
    # eligible 3, quorum 34: cast 1 → 100 ≥ 102? no
    pytest.param(SIMPLE, 3, (1, 0, 0), 34, NO_QUORUM, id="quorum-34-1-of-3"),
    # eligible 3, quorum 33: cast 1 → 100 ≥ 99? yes
    pytest.param(SIMPLE, 3, (1, 0, 0), 33, ADOPTED, id="quorum-33-1-of-3"),
    # eligible 5, quorum 100: cast 4 → 400 ≥ 500? no
    pytest.param(SIMPLE, 5, (4, 0, 0), 100, NO_QUORUM, id="quorum-100-4-of-5"),
    # eligible 5, quorum 100: cast 5 → 500 ≥ 500? yes; 3 > 2
    pytest.param(SIMPLE, 5, (3, 2, 0), 100, ADOPTED, id="quorum-100-5-of-5"),
    # eligible 10, quorum 60: cast 6 → 600 ≥ 600 met; two thirds: 3·4 = 12 ≥ 12 adopted
    pytest.param(TWO_THIRDS, 10, (4, 1, 1), 60, ADOPTED, id="quorum-60-and-2/3-both-exact"),
    # eligible 10, quorum 50, nobody voted: 0 ≥ 500? no
    pytest.param(ABSOLUTE, 10, (0, 0, 0), 50, NO_QUORUM, id="quorum-no-votes"),
    # quorum met (cast 8 of 10 ≥ 50 %) but the motion fails: rejected, not no_quorum
    pytest.param(SIMPLE, 10, (3, 3, 2), 50, REJECTED, id="quorum-met-but-tie"),
]


@pytest.mark.parametrize(("majority", "eligible", "votes", "quorum", "expected"), YES_NO_ROWS)
def test_yes_no_abstain(majority, eligible, votes, quorum, expected):
    cast = sum(votes)
    result = decide(
        PollKind.YES_NO_ABSTAIN, majority, eligible, cast, yes_no(*votes), quorum_percent=quorum
    )
    assert result.outcome == expected
    assert result.quorum_met is (expected != NO_QUORUM)
    assert result.winner_option_ids == ([YES] if expected == ADOPTED else [])
    assert result.tie is False


# --- single choice ---------------------------------------------------------------------

SINGLE_ROWS = [
    # (majority, eligible, votes per option, quorum%, outcome, winners, tie)
    # most votes wins: a 4, b 3, c 1
    pytest.param(SIMPLE, 10, "a4 b3 c1", None, DECIDED, "a", False, id="simple-winner"),
    # a 3 = b 3 > c 1: both reported, as a tie
    pytest.param(SIMPLE, 10, "a3 b3 c1", None, DECIDED, "ab", True, id="simple-tie"),
    # all three equal: 2 = 2 = 2
    pytest.param(SIMPLE, 6, "a2 b2 c2", None, DECIDED, "abc", True, id="three-way"),
    # nobody voted: no option has a vote
    pytest.param(SIMPLE, 10, "a0 b0 c0", None, REJECTED, "", False, id="no-votes"),
    # a single vote decides: 1 > 0
    pytest.param(SIMPLE, 10, "a0 b1", None, DECIDED, "b", False, id="one-vote"),
    # absolute, eligible 10: a 6 → 12 > 10 wins
    pytest.param(ABSOLUTE, 10, "a6 b3", None, DECIDED, "a", False, id="absolute-6-of-10"),
    # absolute, eligible 10: a 5 → 10 > 10? no; nobody has more than half
    pytest.param(ABSOLUTE, 10, "a5 b4", None, REJECTED, "", False, id="absolute-5-of-10"),
    # two thirds, cast 6: a 4 → 12 ≥ 12 wins
    pytest.param(TWO_THIRDS, 10, "a4 b2", None, DECIDED, "a", False, id="2/3-4-of-6"),
    # two thirds, cast 5: a 3 → 9 ≥ 10? no
    pytest.param(TWO_THIRDS, 10, "a3 b2", None, REJECTED, "", False, id="2/3-3-of-5"),
    # two thirds, cast 6: 3 = 3 → 9 ≥ 12? no for both
    pytest.param(TWO_THIRDS, 10, "a3 b3", None, REJECTED, "", False, id="2/3-tie"),
    # quorum 50 of 9: cast 4 → 400 ≥ 450? no
    pytest.param(SIMPLE, 9, "a3 b1", 50, NO_QUORUM, "", False, id="quorum-4-of-9"),
    # quorum 50 of 9: cast 5 → 500 ≥ 450; a 3 > b 2
    pytest.param(SIMPLE, 9, "a3 b2", 50, DECIDED, "a", False, id="quorum-5-of-9"),
]


@pytest.mark.parametrize(
    ("majority", "eligible", "votes", "quorum", "expected", "winners", "tie"), SINGLE_ROWS
)
def test_single_choice(majority, eligible, votes, quorum, expected, winners, tie):
    cast = sum(count.votes for count in choices(votes))  # one option per ballot
    result = decide(
        PollKind.SINGLE, majority, eligible, cast, choices(votes), quorum_percent=quorum
    )
    assert result.outcome == expected
    assert result.quorum_met is (expected != NO_QUORUM)
    assert sorted(result.winner_option_ids) == ids(winners)
    assert result.tie is tie


def test_single_ignores_max_choices():
    # a 3 = b 3 > c 1 with max_choices 3 given by mistake: still one place, so a tie
    result = decide(PollKind.SINGLE, SIMPLE, 7, 7, choices("a3 b3 c1"), max_choices=3)
    assert (result.outcome, sorted(result.winner_option_ids), result.tie) == (DECIDED, [A, B], True)


# --- multiple choice -------------------------------------------------------------------

MULTIPLE_ROWS = [
    # (majority, eligible, ballots cast, votes per option, max_choices, quorum%,
    #  outcome, winners, tie)
    # top 2 of a 5, b 4, c 2, d 1
    pytest.param(SIMPLE, 10, 6, "a5 b4 c2 d1", 2, None, DECIDED, "ab", False, id="top-2"),
    # top 2 of a 5, b 3, c 3, d 1: b and c share the 2nd place → three winners, a tie
    pytest.param(SIMPLE, 10, 6, "a5 b3 c3 d1", 2, None, DECIDED, "abc", True, id="tie-at-2nd"),
    # top 2 of a 4, b 4, c 1: equal votes within the places are no tie (2 winners ≤ 2)
    pytest.param(SIMPLE, 10, 5, "a4 b4 c1", 2, None, DECIDED, "ab", False, id="equal-within"),
    # top 3 but only a and b have votes: a 2, b 1, c 0 → two winners, no tie
    pytest.param(SIMPLE, 10, 2, "a2 b1 c0", 3, None, DECIDED, "ab", False, id="few-voted"),
    # absolute, eligible 10: a 6 (12 > 10), b 5 (10 > 10? no), c 4 → only a, though 2 places
    pytest.param(ABSOLUTE, 10, 8, "a6 b5 c4", 2, None, DECIDED, "a", False, id="abs-filters"),
    # absolute, eligible 10: a 6, b 6, c 6 (each 12 > 10), 2 places → three-way tie
    pytest.param(ABSOLUTE, 10, 9, "a6 b6 c6", 2, None, DECIDED, "abc", True, id="abs-tie"),
    # absolute, eligible 10: a 5, b 5 → 10 > 10? no for both → rejected
    pytest.param(ABSOLUTE, 10, 7, "a5 b5 c3", 2, None, REJECTED, "", False, id="abs-none"),
    # two thirds, cast 9: 3·v ≥ 18 needs v ≥ 6: a 6, b 6 win, c 5 does not; 3 places
    pytest.param(TWO_THIRDS, 12, 9, "a6 b6 c5 d2", 3, None, DECIDED, "ab", False, id="2/3-filters"),
    # two thirds, cast 9: a 5 → 15 ≥ 18? no; b 4 → 12 ≥ 18? no → rejected
    pytest.param(TWO_THIRDS, 12, 9, "a5 b4 c3", 2, None, REJECTED, "", False, id="2/3-none"),
    # two thirds, cast 3: a 2 → 6 ≥ 6 yes; b 2 → yes; c 1 → 3 ≥ 6 no; 1 place → tie a, b
    pytest.param(TWO_THIRDS, 5, 3, "a2 b2 c1", 1, None, DECIDED, "ab", True, id="2/3-tie"),
    # nobody voted
    pytest.param(SIMPLE, 10, 0, "a0 b0 c0", 2, None, REJECTED, "", False, id="no-votes"),
    # quorum 50 of 10: cast 4 → 400 ≥ 500? no, whatever the votes
    pytest.param(SIMPLE, 10, 4, "a4 b4 c4", 2, 50, NO_QUORUM, "", False, id="quorum-4-of-10"),
    # quorum 50 of 10: cast 5 → 500 ≥ 500 met; top 1 of a 5, b 2
    pytest.param(SIMPLE, 10, 5, "a5 b2 c0", 1, 50, DECIDED, "a", False, id="quorum-5-of-10"),
]


@pytest.mark.parametrize(
    ("majority", "eligible", "cast", "votes", "places", "quorum", "expected", "winners", "tie"),
    MULTIPLE_ROWS,
)
def test_multiple_choice(majority, eligible, cast, votes, places, quorum, expected, winners, tie):
    result = decide(
        PollKind.MULTIPLE,
        majority,
        eligible,
        cast,
        choices(votes),
        quorum_percent=quorum,
        max_choices=places,
    )
    assert result.outcome == expected
    assert result.quorum_met is (expected != NO_QUORUM)
    assert sorted(result.winner_option_ids) == ids(winners)
    assert result.tie is tie


def test_winners_are_ranked_by_votes():
    # b 5 > c 3 > a 1, top 2: b then c, whatever the order of the options
    result = decide(PollKind.MULTIPLE, SIMPLE, 9, 6, choices("a1 b5 c3"), max_choices=2)
    assert result.winner_option_ids == [B, C]


# --- quorum on its own -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("eligible", "cast", "percent", "met"),
    [
        (9, 4, 50, False),  # 400 < 450
        (9, 5, 50, True),  # 500 ≥ 450
        (10, 5, 50, True),  # 500 ≥ 500
        (10, 4, 50, False),  # 400 < 500
        (3, 2, 67, False),  # 200 < 201
        (3, 2, 66, True),  # 200 ≥ 198
        (7, 0, 1, False),  # 0 < 7
        (7, 0, None, True),  # no quorum asked
    ],
)
def test_quorum_boundaries(eligible, cast, percent, met):
    assert quorum_met(eligible, cast, percent) is met
