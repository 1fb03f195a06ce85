"""Pages of the duty records (履职档案): a person's, and a street's summary."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("duty", __name__)
