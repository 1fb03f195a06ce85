"""API: 公示 (public notice) of resolutions and objections."""

from __future__ import annotations

from meetings.api.core import blueprint

bp = blueprint("api_notice", "Public notice (公示) of resolutions and residents' objections")
