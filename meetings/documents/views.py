"""Downloads of the documents, with the same permissions as their pages."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("documents", __name__)
