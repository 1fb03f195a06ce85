"""The first draft of the minutes, written from what the system knows about
the meeting: time, place, host, recorder, attendees by role with their
presence, topics, agenda, proposals, poll results (online and show of hands
in one table), resolutions with their responsible units and deadlines.

What the system cannot know (what was said under each agenda item) is
marked as still to write (``meetings.minutes.placeholders``): the editor lists
those places and publishing stops at them until they are written.

The draft is Markdown in the current interface language (Chinese by
default); the secretary edits it before saving. Text that came from people
(titles, names, proposals) is escaped so that it reads as typed and never
turns into Markdown structure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from flask_babel import format_date, format_decimal, get_locale
from flask_babel import gettext as _

from meetings.meeting import services as meeting_services
from meetings.meeting.models import Attendance, AttendeeRole, Meeting, MeetingStatus, Presence
from meetings.minutes.facts import MeetingOutcome, agenda_requests, outcome_of
from meetings.minutes.placeholders import discussion_marker
from meetings.polls.models import Outcome, Poll
from meetings.projects.models import Decision, Project, Resolution

# A meeting that has ended: nobody is marked present any more.
ENDED = (MeetingStatus.CLOSED, MeetingStatus.MINUTES_PUBLISHED)

# Characters that start inline Markdown (and &, for entities).
_INLINE = re.compile(r"([\\`*_\[\]<>|~&])")
# What turns a line into a heading, list, quote, rule or table at its start.
_BLOCK_START = re.compile(r"^(\s*)([#>+\-*=]|\d+[.)])")


def md(text: str | None) -> str:
    """Text from the database as Markdown that renders exactly as the text,
    on one line (for list items and table cells)."""
    one_line = " ".join((text or "").split())
    return _INLINE.sub(r"\\\1", one_line)


def md_block(text: str | None, indent: str = "") -> str:
    """Several lines of text, each escaped; continuation lines indented so
    that they stay inside the list item above them."""
    lines = []
    for line in (text or "").strip().splitlines():
        line = _INLINE.sub(r"\\\1", line.rstrip())
        line = _BLOCK_START.sub(lambda m: m.group(1) + "\\" + m.group(2), line)
        lines.append(line)
    return ("\n" + indent).join(line for line in lines)


def is_chinese() -> bool:
    """Punctuation follows the language the draft is written in."""
    return get_locale() is not None and get_locale().language == "zh"


def _colon() -> str:
    return "：" if is_chinese() else ": "


def _comma() -> str:
    return "，" if is_chinese() else ", "


def _join(parts: Iterable[str]) -> str:
    return ("、" if is_chinese() else ", ").join(parts)


def _bracketed(text: str, note: str) -> str:
    return f"{text}（{note}）" if is_chinese() else f"{text} ({note})"


def _fact(label: str, value: str) -> str:
    return f"- **{label}**{_colon()}{value}"


def _person(user) -> str:
    return md(user.display_name) if user is not None else "—"


# --- the parts ----------------------------------------------------------------------


def _header(meeting: Meeting) -> list[str]:
    place = meeting.location or _("Online")
    lines = [
        "# " + _("Minutes: %(title)s", title=md(meeting.title)),
        "",
        _fact(_("Community"), md(meeting.community.name)),
        _fact(_("Time"), md(meeting_services.format_when(meeting))),
        _fact(_("Place"), md(place)),
        _fact(_("Host"), _person(meeting.host)),
        _fact(_("Recorder"), _person(meeting.recorder)),
    ]
    return lines


def _presence(attendance: Attendance) -> str:
    if attendance.presence is None:
        if attendance.meeting.status in ENDED:
            # The close marks them absent; a meeting closed before that rule
            # says so too: nobody saw them there.
            return str(Presence.ABSENT.label)
        return _("presence not recorded")
    return str(attendance.presence.label)


def _attendees(meeting: Meeting) -> list[str]:
    lines = ["", "## " + _("Attendees"), ""]
    if not meeting.attendances:
        return [*lines, _("Nobody was invited.")]
    numbers = meeting_services.quorum(meeting)
    lines.append(
        _(
            "%(invited)d invited, %(present)d present; of those who vote, "
            "%(voting_present)d of %(voting_invited)d present.",
            invited=numbers.invited,
            present=numbers.present,
            voting_present=numbers.voting_present,
            voting_invited=numbers.voting_invited,
        )
    )
    lines.append("")
    by_role: dict[AttendeeRole, list[Attendance]] = {}
    for attendance in meeting.attendances:
        by_role.setdefault(attendance.role, []).append(attendance)
    for role in AttendeeRole:
        people = sorted(by_role.get(role, []), key=lambda a: (a.user.display_name, a.id))
        if not people:
            continue
        names = []
        for attendance in people:
            notes = [_presence(attendance)]
            if not attendance.may_vote and role.votes_by_default:
                notes.append(_("without a vote"))
            names.append(_bracketed(md(attendance.user.display_name), _comma().join(notes)))
        lines.append(_fact(str(role.label), _join(names)))
    return lines


def _topics(meeting: Meeting) -> list[str]:
    requests = agenda_requests(meeting)
    if not requests:
        return []
    lines = ["", "## " + _("Topics (residents’ requests)"), ""]
    for number, item in enumerate(requests, start=1):
        lines.append(f"{number}. {md(item.title)}")
    return lines


def _agenda(meeting: Meeting, outcome: MeetingOutcome) -> list[str]:
    lines = ["", "## " + _("Agenda and discussion"), ""]
    if not meeting.agenda_items:
        return [*lines, _("No agenda was set."), "", discussion_marker()]
    for item in meeting.agenda_items:
        heading = f"### {item.position}. {md(item.title)}"
        if item.planned_minutes:
            heading += " " + _("(%(n)d min)", n=item.planned_minutes)
        lines += [heading, ""]
        if item.description:
            lines += [md_block(item.description), ""]
        proposals = outcome.proposals_of(item)
        if proposals:
            lines += ["**" + _("Proposals") + "**", ""]
            for proposal in proposals:
                author = _("tabled by %(name)s", name=md(proposal.author.display_name))
                entry = "- " + _bracketed(md(proposal.title), author)
                if proposal.is_withdrawn:
                    entry += " " + _("— withdrawn")
                lines.append(entry)
                if proposal.body:
                    lines.append("  " + md_block(proposal.body, indent="  "))
            lines.append("")
        polls = outcome.polls_of(item)
        if polls:
            titles = _join(md(poll.title) for poll in polls)
            lines += [_("Voted on: %(polls)s (see the poll results).", polls=titles), ""]
        lines += [discussion_marker(), ""]
    return lines


def poll_method(poll: Poll) -> str:
    if poll.in_room:
        return _("Show of hands")
    if poll.secret:
        return _("Online, secret")
    return _("Online, named")


def poll_outcome(poll: Poll) -> str:
    """E.g. “Adopted” or “Decided: “方案B””: the chosen option is named
    (each of them, for a multiple choice), with a tie noted."""
    if poll.outcome is None:
        return "—"
    text = str(poll.outcome.label)
    if poll.outcome == Outcome.DECIDED:
        winners = [f"“{md(option.label)}”" for option in poll.options if option.won]
        text += _colon() + (_join(winners) if winners else "—")
    if poll.tie:
        text += " " + _("(tie)")
    return text


def poll_votes(poll: Poll) -> str:
    return _comma().join(f"{md(option.label)} {option.votes or 0}" for option in poll.options)


def _poll_results(outcome: MeetingOutcome) -> list[str]:
    polls = outcome.closed_polls
    lines = ["", "## " + _("Poll results"), ""]
    if not polls:
        return [*lines, _("No poll was held.")]
    lines += [
        "| "
        + " | ".join([_("Poll"), _("Method"), _("Eligible"), _("Voted"), _("Votes"), _("Result")])
        + " |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for poll in polls:
        lines.append(
            "| "
            + " | ".join(
                [
                    md(poll.title),
                    poll_method(poll),
                    str(poll.eligible_count or 0),
                    str(poll.cast_count or 0),
                    poll_votes(poll),
                    poll_outcome(poll),
                ]
            )
            + " |"
        )
    if any(poll.in_room for poll in polls):
        lines += ["", _("For a show of hands, “eligible” is the number of people present.")]
    return lines


def project_facts(project: Project) -> str:
    parts = [
        _("Project: %(title)s", title=md(project.title)),
        _("responsible: %(unit)s", unit=md(project.responsible_unit)),
    ]
    if project.due_date is not None:
        parts.append(_("due %(date)s", date=format_date(project.due_date, "long")))
    if project.budget is not None:
        parts.append(_("budget %(amount)s yuan", amount=format_decimal(project.budget)))
    return ("；" if is_chinese() else "; ").join(parts)


def _resolutions(outcome: MeetingOutcome) -> list[str]:
    lines = ["", "## " + _("Resolutions"), ""]
    if not outcome.resolutions:
        return [*lines, _("No resolution was recorded.")]
    for number, resolution in enumerate(outcome.resolutions, start=1):
        decision = resolution_decision(resolution)
        lines.append(f"{number}. **{decision}**{_colon()}{md(resolution.text)}")
        if resolution.conditions:
            lines.append("   - " + _("Conditions: %(text)s", text=md(resolution.conditions)))
        if resolution.poll is not None:
            lines.append(
                "   - "
                + _(
                    "Following the poll “%(poll)s”: %(result)s",
                    poll=md(resolution.poll.title),
                    result=poll_outcome(resolution.poll),
                )
            )
        if resolution.project is not None:
            lines.append("   - " + project_facts(resolution.project))
    return lines


def resolution_decision(resolution: Resolution) -> str:
    return str(Decision(resolution.decision).label)


def _closing(meeting: Meeting) -> list[str]:
    return [
        "",
        "---",
        "",
        _("Recorder: %(name)s", name=_person(meeting.recorder)),
        _("Host: %(name)s", name=_person(meeting.host)),
        "",
    ]


def generate_draft(meeting: Meeting) -> str:
    """The minutes as the system would write them, for the secretary to edit."""
    outcome = outcome_of(meeting)
    lines = (
        _header(meeting)
        + _attendees(meeting)
        + _topics(meeting)
        + _agenda(meeting, outcome)
        + _poll_results(outcome)
        + _resolutions(outcome)
        + _closing(meeting)
    )
    return "\n".join(lines).strip() + "\n"
