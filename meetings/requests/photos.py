"""Photos on a request: of the problem, from the resident or whoever raised
it or handles it, and of a handling step (办理), from the assignee who
claimed the order. The bytes are checked, cleaned and stored by
``meetings.projects.uploads`` (JPEG, PNG or WebP; no metadata kept)."""

from __future__ import annotations

from typing import BinaryIO

from flask_babel import gettext as _

from auth import permissions
from auth.models import User
from meetings.audit.services import record
from meetings.dbtypes import utcnow
from meetings.errors import InvalidTransition, NotAllowed, NotFound, ValidationFailed
from meetings.extensions import db
from meetings.organisation import roles
from meetings.projects import uploads
from meetings.requests import assignees, services
from meetings.requests.models import RequestPhoto, RequestStatus, RequestStep, ResidentRequest

# Photos one request carries at most (its steps' photos included).
MAX_PHOTOS = 12


def can_add_photo(
    user: User | None, item: ResidentRequest, step: RequestStep | None = None
) -> bool:
    """To the request: among those who see it, the resident, whoever raised
    it, the community's grid workers and secretaries, the order's assignee.
    To a handling step: the assignee who claimed the order."""
    if not permissions.is_authenticated(user) or not services.can_view(user, item):
        return False
    if step is not None:
        return assignees.is_handler(user, item)
    return (
        item.requester_id == user.id
        or item.raised_by_id == user.id
        or permissions.can_manage(user, item.community)
        or roles.is_grid_worker(user, item.community)
        or assignees.is_assignee(user, item)
    )


def require_photo_adder(
    user: User | None, item: ResidentRequest, step: RequestStep | None = None
) -> None:
    if can_add_photo(user, item, step):
        return
    if step is not None:
        raise NotAllowed(_("Only the person handling the order may add photos to its steps."))
    raise NotAllowed(
        _(
            "Only the resident, whoever raised or handles the request and the community's "
            "secretary and grid workers may add photos to it."
        )
    )


def photo_count(item: ResidentRequest) -> int:
    return db.session.scalar(
        db.select(db.func.count(RequestPhoto.id)).where(RequestPhoto.request_id == item.id)
    )


def room_for_photos(item: ResidentRequest) -> int:
    """How many more photos the request takes."""
    return max(0, MAX_PHOTOS - photo_count(item))


def add_request_photo(
    actor: User,
    item: ResidentRequest,
    stream: BinaryIO,
    step: RequestStep | None = None,
    *,
    field: str = "file",
) -> RequestPhoto:
    """Check, clean and store a photo on the request (or on one of its
    handling steps). ValidationFailed on ``field`` for a file that is not a
    photo, too large, or one too many; 409 once the request is closed."""
    require_photo_adder(actor, item, step)
    if step is not None and step.request_id != item.id:
        raise NotFound(_("No such step on this request."))
    if item.status == RequestStatus.CLOSED:
        raise InvalidTransition(_("The request is closed: it takes no more photos."))
    if room_for_photos(item) == 0:
        message = _("A request carries at most %(n)d photos.", n=MAX_PHOTOS)
        raise ValidationFailed(message, {field: [message]})
    stored = uploads.store_photo(stream, field)
    photo = RequestPhoto(
        request=item, step=step, file=stored, uploaded_by=actor, created_at=utcnow()
    )
    db.session.add(photo)
    db.session.flush()
    record(
        actor,
        "request.photo_added",
        item,
        photo_id=photo.id,
        step_id=step.id if step is not None else None,
    )
    return photo


def get_visible_photo(user: User | None, photo_id: int) -> RequestPhoto:
    """The photo, if this user may see its request (NotFound otherwise: a
    photo's number tells nothing to those who may not see it)."""
    photo = db.session.get(RequestPhoto, photo_id)
    if photo is None or not services.can_view(user, photo.request):
        raise NotFound(_("No such photo."))
    return photo


def photo_link(photo: RequestPhoto) -> str:
    """Where the photo is served (``requests.photo`` in views.py)."""
    return f"/requests/photos/{photo.id}"
