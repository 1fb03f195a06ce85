"""API: a person's duty record (履职档案)."""

from __future__ import annotations

from meetings.api.core import blueprint

bp = blueprint("api_duty", "Duty records (履职档案) of CPPCC members and representatives")
