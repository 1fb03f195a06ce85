from typing import Any

from auth.models import User
from meetings.audit.models import AuditEntry
from meetings.extensions import db


def record(actor: User | None, action: str, obj: Any, **data: Any) -> AuditEntry:
    """Append an audit entry in the caller's transaction."""
    entry = AuditEntry(
        actor_id=actor.id if actor is not None else None,
        action=action,
        # Read through the instance: ``obj`` may be flask-login's
        # ``current_user``, a proxy whose type is not the model's.
        object_type=obj.__tablename__,
        object_id=obj.id,
        data=data,
    )
    db.session.add(entry)
    return entry
