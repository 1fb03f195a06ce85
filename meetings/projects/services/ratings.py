"""Residents' satisfaction ratings (满意度) of completed projects."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from auth.models import User
from meetings.audit.services import record
from meetings.errors import Conflict
from meetings.extensions import db
from meetings.projects.models import Project, ProjectRating
from meetings.projects.services.common import (
    COMMENT_MAX,
    _invalid,
    _text,
    has_rated,
    require_resident,
)


def rate_project(
    actor: User, project: Project, score: int, comment: str | None = ""
) -> ProjectRating:
    """A resident's satisfaction (满意度) with a completed project: once, 1 to 5."""
    require_resident(actor, project)
    if not project.is_completed:
        raise Conflict(_("A project can be rated once it is completed."))
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        raise _invalid("score", _("Please choose a score from 1 to 5."))
    comment = _text(comment, "comment", COMMENT_MAX, required=False)
    if has_rated(actor, project):
        raise Conflict(_("You have already rated this project."))
    # by ids: the pending rating joins ``project.ratings`` only once it is stored
    rating = ProjectRating(project_id=project.id, user_id=actor.id, score=score, comment=comment)
    try:
        with db.session.begin_nested():
            db.session.add(rating)
    except IntegrityError:
        # rated at the same moment from another tab or device
        raise Conflict(_("You have already rated this project.")) from None
    record(actor, "project.rated", project, score=score)
    return rating


@dataclass(frozen=True)
class RatingStats:
    count: int = 0
    average: float | None = None  # one decimal, for display


def rating_stats(project_ids: Iterable[int]) -> dict[int, RatingStats]:
    ids = list(project_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(ProjectRating.project_id, func.count(), func.avg(ProjectRating.score))
        .where(ProjectRating.project_id.in_(ids))
        .group_by(ProjectRating.project_id)
    )
    return {
        project_id: RatingStats(count, round(float(average), 1))
        for project_id, count, average in rows
    }


# How many residents' comments a project's page shows (the figures count them all).
COMMENTS_SHOWN = 20


def ratings_of(project: Project, limit: int = COMMENTS_SHOWN) -> list[ProjectRating]:
    """The latest ratings that come with a comment, at most ``limit``."""
    return list(
        db.session.scalars(
            select(ProjectRating)
            .where(ProjectRating.project_id == project.id, ProjectRating.comment != "")
            .order_by(ProjectRating.created_at.desc(), ProjectRating.id.desc())
            .limit(limit)
            .options(db.joinedload(ProjectRating.user))
        )
    )
