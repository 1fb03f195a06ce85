"""API: the public search (API.md "Reports, 公示, search")."""

from __future__ import annotations

from meetings.api.core import blueprint

bp = blueprint("api_search", "Public search over meetings, answered requests, projects, minutes")
