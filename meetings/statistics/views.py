"""Pages of the statistics: a community's, a street's, all streets'."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("statistics", __name__)
