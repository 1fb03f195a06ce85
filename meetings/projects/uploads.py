"""Photos of progress updates: checked, cleaned and stored in the database
(``StoredFile``).

Only JPEG, PNG and WebP are taken, recognised by the file's first bytes (never
by its name or the browser's word for it). Pillow then decodes the whole image
(a truncated or malformed file fails here) and writes it anew: the stored copy
carries no metadata (EXIF with GPS position, comments, embedded profiles), is
turned upright as the phone meant it, and is at most ``MAX_SIDE`` pixels wide
or high. An SVG, a text file named ``.png`` or an HTML page never gets stored,
so nothing served from the uploads can run in a browser.

Photos are kept in the database, on SQLite as on PostgreSQL, rather than in
a folder: every app host serves every photo (a folder lives on one host's
disk), the photo and the progress update that shows it are written in the
same transaction and stand or fall together, and ``flask backup`` carries
them with everything else. They are small (at most ``MAX_SIDE`` pixels a
side, re-encoded: a phone photo becomes about 100–500 KB) and few (a
project's progress reports). Served from the database, each is one primary
key read, cached by browsers for a week (a stored photo never changes).
"""

from __future__ import annotations

import io
import warnings
from typing import BinaryIO

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import exists

from meetings.errors import ValidationFailed
from meetings.extensions import db
from meetings.projects.models import ProjectUpdate, StoredFile
from meetings.requests.models import RequestPhoto

# format as Pillow names it: (MIME type, file extension)
KINDS = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}
CONTENT_TYPES = {content_type for content_type, _ext in KINDS.values()}
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
# Images with more pixels than this are refused from their header, before any
# decoding: a 40-megapixel PNG can be 154 KB and take 2.3 s and 160 MB to
# decode (a "decompression bomb"). 24 million is a 6000 × 4000 camera photo.
DEFAULT_MAX_PIXELS = 24_000_000
# Longest side of the stored copy: plenty for a phone screen or a printed page.
MAX_SIDE = 2000
# MIME type: file extension, for the name a served photo is saved under
EXTENSIONS = dict(KINDS.values())


def max_bytes() -> int:
    return int(current_app.config.get("UPLOAD_MAX_BYTES") or DEFAULT_MAX_BYTES)


def max_pixels() -> int:
    return int(current_app.config.get("UPLOAD_MAX_PIXELS") or DEFAULT_MAX_PIXELS)


def _too_many_pixels(field: str) -> ValidationFailed:
    megapixels = f"{max_pixels() / 1_000_000:.1f}".removesuffix(".0")
    return _refuse(
        _(
            "The photo has too many pixels: at most %(mp)s megapixels. "
            "Please choose a smaller copy.",
            mp=megapixels,
        ),
        field,
    )


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
    """The fully decoded image, or ValidationFailed if it is not a sound one
    or has more pixels than ``UPLOAD_MAX_PIXELS`` (read from its header:
    ``Image.open`` decodes nothing)."""
    message = _("This file is not a photo that can be shown: please choose a JPEG, PNG or WebP.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[kind]) as probe:
                width, height = probe.size
                if width * height > max_pixels():
                    raise _too_many_pixels(field)
                probe.verify()
            image = Image.open(io.BytesIO(data), formats=[kind])
            image.load()  # decodes everything: a truncated file fails here
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # beyond Pillow's own bound, raised by ``Image.open`` itself
        raise _too_many_pixels(field) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
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


def store_photo(stream: BinaryIO, field: str = "photo") -> StoredFile:
    """Check and store an uploaded photo (added to the session and flushed;
    the request's transaction keeps it or not); ValidationFailed (on
    ``field``) if it is too large, empty, has too many pixels or is not a
    sound JPEG, PNG or WebP image."""
    data = _read_limited(stream, max_bytes(), field)
    kind = sniff(data[:16])
    if kind is None:
        raise _refuse(_("Only photos in JPEG, PNG or WebP format can be added."), field)
    with _decoded(data, kind, field) as image:
        clean = _clean_copy(image, kind)
    content_type, _extension = KINDS[kind]
    photo = StoredFile(content_type=content_type, size=len(clean), data=clean)
    db.session.add(photo)
    db.session.flush()
    return photo


def discard(photo: StoredFile | None) -> None:
    """Remove a stored photo that no progress update or request shows
    (stored, and then not used after all); one that is shown stays."""
    if photo is None or photo.id is None:
        return
    db.session.execute(
        db.delete(StoredFile)
        .where(
            StoredFile.id == photo.id,
            ~exists().where(ProjectUpdate.photo_id == StoredFile.id),
            ~exists().where(RequestPhoto.file_id == StoredFile.id),
        )
        .execution_options(synchronize_session=False)
    )
