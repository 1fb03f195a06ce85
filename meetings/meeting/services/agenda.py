"""Verbs over a meeting's agenda (议程): ordered items, changed while the
meeting is a draft or scheduled."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from auth.models import User
from meetings.audit.services import record
from meetings.errors import Conflict, ValidationFailed
from meetings.extensions import db
from meetings.meeting.models import PLANNING_STATUSES, AgendaItem, Meeting
from meetings.meeting.permissions import require_manager
from meetings.meeting.services.common import require_status
from meetings.polls.models import Poll, Proposal
from meetings.requests.models import ResidentRequest

TITLE_MAX = 200
DESCRIPTION_MAX = 10_000
MINUTES_MAX = 1440


def _require_open(actor: User, meeting: Meeting) -> None:
    require_manager(actor, meeting)
    require_status(
        meeting,
        set(PLANNING_STATUSES),
        _("The agenda can be changed only while the meeting is a draft or scheduled."),
    )


def _validated(meeting: Meeting, values: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, list[str]] = {}
    title = (values.get("title") or "").strip()
    if not title:
        fields["title"] = [_("Please give the item a title.")]
    elif len(title) > TITLE_MAX:
        fields["title"] = [_("At most %(n)d characters.", n=TITLE_MAX)]
    description = (values.get("description") or "").strip()
    if len(description) > DESCRIPTION_MAX:
        fields["description"] = [_("At most %(n)d characters.", n=DESCRIPTION_MAX)]
    minutes = values.get("planned_minutes")
    if minutes is not None and not (1 <= minutes <= MINUTES_MAX):
        fields["planned_minutes"] = [
            _("Between %(low)d and %(high)d minutes.", low=1, high=MINUTES_MAX)
        ]
    topics = {topic.id: topic for topic in meeting.topics}
    requests: list[ResidentRequest] = []
    for request_id in dict.fromkeys(values.get("request_ids") or []):
        if request_id not in topics:
            fields.setdefault("request_ids", []).append(
                _("Request %(id)d is not a topic of this meeting.", id=request_id)
            )
        else:
            requests.append(topics[request_id])
    if fields:
        raise ValidationFailed(_("Please correct the marked fields."), fields)
    return {
        "title": title,
        "description": description,
        "planned_minutes": minutes,
        "requests": requests,
    }


def add_agenda_item(
    actor: User,
    meeting: Meeting,
    title: str,
    description: str = "",
    planned_minutes: int | None = None,
    request_ids: list[int] | None = None,
) -> AgendaItem:
    """A new item at the end of the agenda."""
    _require_open(actor, meeting)
    clean = _validated(
        meeting,
        {
            "title": title,
            "description": description,
            "planned_minutes": planned_minutes,
            "request_ids": request_ids,
        },
    )
    position = (
        db.session.scalar(
            db.select(db.func.max(AgendaItem.position)).where(AgendaItem.meeting_id == meeting.id)
        )
        or 0
    ) + 1
    item = AgendaItem(
        meeting=meeting,
        position=position,
        title=clean["title"],
        description=clean["description"],
        planned_minutes=clean["planned_minutes"],
        requests=clean["requests"],
    )
    db.session.add(item)
    db.session.flush()
    record(actor, "agenda_item.added", item, meeting_id=meeting.id, title=item.title)
    return item


def update_agenda_item(actor: User, item: AgendaItem, **changes: Any) -> AgendaItem:
    """Change any of title, description, planned_minutes, request_ids."""
    meeting = item.meeting
    _require_open(actor, meeting)
    unknown = set(changes) - {"title", "description", "planned_minutes", "request_ids"}
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    values = {
        "title": item.title,
        "description": item.description,
        "planned_minutes": item.planned_minutes,
        "request_ids": item.request_ids,
        **changes,
    }
    clean = _validated(meeting, values)
    item.title = clean["title"]
    item.description = clean["description"]
    item.planned_minutes = clean["planned_minutes"]
    item.requests = clean["requests"]
    db.session.flush()
    record(actor, "agenda_item.updated", item, meeting_id=meeting.id, changed=sorted(changes))
    return item


def _renumber(items: list[AgendaItem]) -> None:
    """Give the items positions 1, 2, 3… in list order. In two steps, by way
    of positions past the current last one, so that the unique (meeting,
    position) constraint holds after every statement."""
    changed = [(index, item) for index, item in enumerate(items, start=1) if item.position != index]
    if not changed:
        return
    parked = max(item.position for item in items) + 1
    for index, item in changed:
        item.position = parked + index
    db.session.flush()
    for index, item in changed:
        item.position = index
    db.session.flush()


def _ordered_items(meeting: Meeting) -> list[AgendaItem]:
    return list(
        db.session.scalars(
            db.select(AgendaItem)
            .where(AgendaItem.meeting_id == meeting.id)
            .order_by(AgendaItem.position)
        )
    )


def move_agenda_item(actor: User, item: AgendaItem, position: int) -> AgendaItem:
    """Put the item at ``position`` (1 is first); the others close up.
    A position past either end puts it first or last."""
    meeting = item.meeting
    _require_open(actor, meeting)
    items = _ordered_items(meeting)
    items.remove(item)
    position = max(1, min(position, len(items) + 1))
    items.insert(position - 1, item)
    before = item.position
    _renumber(items)
    db.session.expire(meeting, ["agenda_items"])
    if before != item.position:
        record(actor, "agenda_item.moved", item, meeting_id=meeting.id, position=item.position)
    return item


def _has_deliberation(item: AgendaItem) -> bool:
    return any(
        db.session.scalar(db.select(model.id).where(model.agenda_item_id == item.id).limit(1))
        is not None
        for model in (Proposal, Poll)
    )


def remove_agenda_item(actor: User, item: AgendaItem) -> None:
    meeting = item.meeting
    _require_open(actor, meeting)
    # Removing the item would take the proposals (and their discussion) and
    # polls tabled under it along: refuse rather than lose what people wrote.
    if _has_deliberation(item):
        raise Conflict(
            _(
                "Proposals or polls have been tabled under this item; "
                "they would be lost with it, so it cannot be removed."
            )
        )
    record(actor, "agenda_item.removed", item, meeting_id=meeting.id, title=item.title)
    items = _ordered_items(meeting)
    items.remove(item)
    db.session.delete(item)
    db.session.flush()
    _renumber(items)
    db.session.expire(meeting, ["agenda_items"])
