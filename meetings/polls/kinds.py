"""What each kind of poll takes, described once. Creating a poll, the ballot
form and the ballot verb all read these rules; counting is ``outcome``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import gettext as _

from meetings.errors import ValidationFailed
from meetings.polls.models import Poll, PollKind


@dataclass(frozen=True)
class KindRules:
    # The options are 赞成 / 反对 / 弃权, made with the poll.
    fixed_options: bool
    # A voter may choose more than one option (up to the poll's max_choices).
    several_choices: bool


RULES = {
    PollKind.YES_NO_ABSTAIN: KindRules(fixed_options=True, several_choices=False),
    PollKind.SINGLE: KindRules(fixed_options=False, several_choices=False),
    PollKind.MULTIPLE: KindRules(fixed_options=False, several_choices=True),
}


def choices_allowed(poll: Poll) -> int:
    return poll.max_choices if RULES[poll.kind].several_choices else 1


def check_choice(poll: Poll, option_ids: Sequence[int]) -> list[int]:
    """The chosen option ids, in order, if they make a valid ballot in this
    poll; else ``ValidationFailed`` on the field ``option_ids``."""

    def invalid(message: str) -> ValidationFailed:
        return ValidationFailed(_("Please correct the marked fields."), {"option_ids": [message]})

    chosen = list(dict.fromkeys(option_ids))
    if len(chosen) != len(option_ids):
        raise invalid(_("The same option was chosen twice."))
    if not chosen:
        raise invalid(_("Please choose an option."))
    valid = {option.id for option in poll.options}
    if any(option_id not in valid for option_id in chosen):
        raise invalid(_("That is not an option of this poll."))
    if not RULES[poll.kind].several_choices and len(chosen) != 1:
        raise invalid(_("Please choose exactly one option."))
    allowed = choices_allowed(poll)
    if len(chosen) > allowed:
        raise invalid(_("Choose at most %(n)d options.", n=allowed))
    return chosen
