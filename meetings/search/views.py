"""The public search page."""

from __future__ import annotations

from flask import Blueprint

from meetings.search import models as _models  # noqa: F401  (the index's tables)

bp = Blueprint("search", __name__)
