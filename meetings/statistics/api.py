"""API: statistics (API.md "Reports, 公示, search")."""

from __future__ import annotations

from meetings.api.core import blueprint

bp = blueprint("api_statistics", "Statistics of a community, a street or all streets")
