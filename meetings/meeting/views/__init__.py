"""Meeting pages: the secretary's dashboard and meeting editor (details,
agenda, attendees, check-in, sign-in sheet), the participant's "my meetings"
and the meeting page, and the public list of a community's meetings.

One blueprint, ``bp`` (endpoints ``meeting.*``), its routes in the modules below.
"""

from meetings.meeting.views import agenda, attendance, pages  # noqa: F401  (the routes)
from meetings.meeting.views.common import bp

__all__ = ["bp"]
