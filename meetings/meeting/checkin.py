"""Check-in by QR code (扫码签到).

The secretary's check-in page shows one QR code per attendee. Each holds a
signed, expiring link that names the meeting and that attendee; opening it
checks in only the attendee it names, and only from their own logged-in
account — anyone else who scans it is refused. So a code photographed and
passed on checks in nobody, and nobody can check in on another's behalf.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import segno
from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from meetings.errors import DomainError, NotFound

SALT = "shangliang.meeting-checkin"
# A code lasts this long after the page showing it was loaded (the page
# refreshes itself well within it); config CHECKIN_TOKEN_MAX_AGE overrides.
DEFAULT_MAX_AGE = 2 * 60 * 60


class CheckInCodeExpired(DomainError):
    status = 410
    code = "checkin_code_expired"


class CheckInCodeInvalid(NotFound):
    code = "checkin_code_invalid"


@dataclass(frozen=True)
class CheckInClaim:
    meeting_id: int
    user_id: int


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def max_age() -> int:
    return int(current_app.config.get("CHECKIN_TOKEN_MAX_AGE", DEFAULT_MAX_AGE))


def make_token(meeting_id: int, user_id: int) -> str:
    return _serializer().dumps({"m": meeting_id, "u": user_id})


def read_token(token: str) -> CheckInClaim:
    """The meeting and attendee a code was made for; refused when it has
    expired or was not made by this site."""
    try:
        data = _serializer().loads(token, max_age=max_age())
    except SignatureExpired:
        raise CheckInCodeExpired(
            _(
                "This check-in code has expired. Please ask the secretary to show "
                "the check-in page again and scan the new code."
            )
        )
    except BadSignature:
        raise CheckInCodeInvalid(_("This check-in code is not valid."))
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("m"), int)
        or not isinstance(data.get("u"), int)
    ):
        raise CheckInCodeInvalid(_("This check-in code is not valid."))
    return CheckInClaim(meeting_id=data["m"], user_id=data["u"])


def qr_svg(url: str, title: str = "", scale: int = 6) -> str:
    """A QR code of ``url`` as a standalone SVG document."""
    buffer = io.BytesIO()
    segno.make(url, error="m").save(
        buffer,
        kind="svg",
        scale=scale,
        border=2,
        title=title or None,
        svgclass="qr",
        lineclass=None,
    )
    return buffer.getvalue().decode()
