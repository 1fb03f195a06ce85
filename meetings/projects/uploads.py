"""Photos of progress updates: checked, cleaned and stored under
``instance/uploads`` with a name chosen by the server.

Only JPEG, PNG and WebP are taken, recognised by the file's first bytes (never
by its name or the browser's word for it). Pillow then decodes the whole image
(a truncated or malformed file fails here) and writes it anew: the stored copy
carries no metadata (EXIF with GPS position, comments, embedded profiles), is
turned upright as the phone meant it, and is at most ``MAX_SIDE`` pixels wide
or high. An SVG, a text file named ``.png`` or an HTML page never gets stored,
so nothing served from the uploads can run in a browser.

A photo stored during a request stays only if the request's transaction
commits (``discard_unless_committed``): the file and the row naming it stand
or fall together.
"""

from __future__ import annotations

import io
import os
import re
import secrets
import warnings
from pathlib import Path
from typing import BinaryIO

from flask import Response, after_this_request, current_app
from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from meetings.errors import ValidationFailed
from meetings.projects.services.progress import Photo

# (format as Pillow names it, MIME type, file extension) by the file's first bytes
KINDS = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}
CONTENT_TYPES = {content_type for content_type, _ext in KINDS.values()}
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
# Refuse images that would take too much memory to decode (a "decompression bomb").
MAX_PIXELS = 40_000_000
# Longest side of the stored copy: plenty for a phone screen or a printed page.
MAX_SIDE = 2000
NAME = re.compile(r"^[A-Za-z0-9_-]{24}\.(jpg|png|webp)$")


def upload_folder() -> Path:
    return Path(current_app.instance_path) / "uploads"


def max_bytes() -> int:
    return int(current_app.config.get("UPLOAD_MAX_BYTES") or DEFAULT_MAX_BYTES)


def _refuse(message: str, field: str = "photo") -> ValidationFailed:
    return ValidationFailed(message, {field: [message]})


def sniff(head: bytes) -> str | None:
    """The image format the first bytes announce: JPEG, PNG, WEBP or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    return None


def _read_limited(stream: BinaryIO, limit: int, field: str) -> bytes:
    data = stream.read(limit + 1)
    if len(data) > limit:
        megabytes = f"{limit / 1024 / 1024:.1f}".removesuffix(".0")
        raise _refuse(_("The photo is too large: at most %(mb)s MB.", mb=megabytes), field)
    if not data:
        raise _refuse(_("The file is empty."), field)
    return data


def _decoded(data: bytes, kind: str, field: str) -> Image.Image:
    """The fully decoded image, or ValidationFailed if it is not a sound one."""
    message = _("This file is not a photo that can be shown: please choose a JPEG, PNG or WebP.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[kind]) as probe:
                if probe.width * probe.height > MAX_PIXELS:
                    raise _refuse(_("The photo has too many pixels."), field)
                probe.verify()
            image = Image.open(io.BytesIO(data), formats=[kind])
            image.load()  # decodes everything: a truncated file fails here
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        OSError,
        SyntaxError,
        ValueError,
        EOFError,
    ):
        raise _refuse(message, field) from None
    return image


def _clean_copy(image: Image.Image, kind: str) -> bytes:
    """Upright, at most MAX_SIDE, written anew without any metadata."""
    image = ImageOps.exif_transpose(image)
    if image.mode == "P":
        image = image.convert("RGBA")  # its transparency lives in ``info``
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    # Pillow writes some of ``info`` back (comments, ICC profile, XMP): drop it all.
    image.info = {}
    out = io.BytesIO()
    if kind == "JPEG":
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        image.save(out, "JPEG", quality=85, optimize=True)
    elif kind == "PNG":
        if image.mode not in ("RGB", "RGBA", "L", "LA"):
            image = image.convert("RGBA")
        image.save(out, "PNG", optimize=True)
    else:
        if image.mode not in ("RGB", "RGBA"):
            image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
        image.save(out, "WEBP", quality=85)
    return out.getvalue()


def store_photo(stream: BinaryIO, field: str = "photo") -> Photo:
    """Check and store an uploaded photo; ValidationFailed (on ``field``) if
    it is too large, empty or not a sound JPEG, PNG or WebP image."""
    data = _read_limited(stream, max_bytes(), field)
    kind = sniff(data[:16])
    if kind is None:
        raise _refuse(_("Only photos in JPEG, PNG or WebP format can be added."), field)
    with _decoded(data, kind, field) as image:
        clean = _clean_copy(image, kind)
    content_type, extension = KINDS[kind]
    folder = upload_folder()
    folder.mkdir(parents=True, exist_ok=True)
    filename = f"{secrets.token_urlsafe(18)}.{extension}"
    # O_EXCL: a name is never reused, even in the unlikely case of a repeat
    fd = os.open(folder / filename, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    with os.fdopen(fd, "wb") as fh:
        fh.write(clean)
    return Photo(filename=filename, content_type=content_type)


def path_of(filename: str) -> Path | None:
    """Where a stored photo is, or None for a name the server never gives."""
    if not NAME.match(filename or ""):
        return None
    return upload_folder() / filename


def discard(photo: Photo | None) -> None:
    """Remove a stored photo whose update was not saved after all."""
    if photo is None:
        return
    path = path_of(photo.filename)
    if path is not None:
        path.unlink(missing_ok=True)


def discard_unless_committed(photo: Photo | None) -> None:
    """Remove the photo stored in this request unless the request commits.

    ``meetings.unit_of_work`` commits when the response is below 400 and rolls
    back otherwise; this hook runs on the response before it. A refused
    update (a 4xx page) or an unexpected error (500) removes the file. Should
    the commit itself fail, Flask answers 500 and runs the hooks again on
    that response, so the file goes then."""
    if photo is None:
        return

    @after_this_request
    def discard_on_error(response: Response) -> Response:
        if response.status_code >= 400:
            discard(photo)
        return response
