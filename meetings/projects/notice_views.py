"""Pages of 公示 (public notice) of a resolution: putting it on notice,
residents' objections, the secretary's answers."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("notice", __name__)
