"""Helpers shared by the resolution and project tests; their fixtures are in
``project_fixtures.py``."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image

from auth.models import User
from meetings.extensions import db
from meetings.meeting.models import AgendaItem, Meeting
from meetings.polls.models import Proposal
from meetings.projects.models import Resolution
from meetings.requests.models import ResidentRequest


@dataclass
class Deliberation:
    """A meeting in progress on the activity room: three resident
    representatives who vote, an agenda item dealing with the resident's
    accepted request, and a proposal tabled under it by the first voter."""

    meeting: Meeting
    item: AgendaItem
    voters: list[User]
    request: ResidentRequest
    proposal: Proposal


def resolution_count() -> int:
    return db.session.scalar(db.select(db.func.count(Resolution.id)))


def image_bytes(kind: str = "PNG", size: tuple[int, int] = (40, 30), **save) -> bytes:
    """A small, sound image of this format."""
    out = io.BytesIO()
    Image.new("RGB", size, (200, 60, 40)).save(out, kind, **save)
    return out.getvalue()
