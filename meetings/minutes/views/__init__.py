"""Minutes pages: the secretary's editor (versions, diff, sending round,
publishing), the attendees' confirmation, and the public portal of a
community (published minutes, Atom feed, PDF, search, answered requests).

One blueprint, ``bp`` (endpoints ``minutes.*``), its routes in the modules below.
"""

from meetings.minutes.views import editor, portal  # noqa: F401  (the routes)
from meetings.minutes.views.common import bp

__all__ = ["bp"]
