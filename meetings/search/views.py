"""The public search's command line: ``flask --app wsgi search reindex``.
The page itself is ``/search`` (``meetings/minutes/views/portal.py``'s
``search``, the portal's), over ``meetings.search.services.search``."""

from __future__ import annotations

from flask import Blueprint

from meetings.search import index

bp = Blueprint("search", __name__, cli_group="search")
index.register_cli(bp.cli)
