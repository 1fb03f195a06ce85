"""Progress photos: only sound JPEG, PNG and WebP images, of limited size and
pixel count, stored in the database without metadata, and served with their
checked type."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from conftest import field_errors
from meeting_helpers import fresh
from PIL import Image, PngImagePlugin
from project_helpers import image_bytes

from meetings.errors import ValidationFailed
from meetings.extensions import db
from meetings.minutes import pdf
from meetings.projects import services, uploads
from meetings.projects.models import ProjectUpdate, StoredFile

pytest_plugins = ["meeting_fixtures", "project_fixtures"]

SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def stored_files() -> int:
    return db.session.scalar(db.select(db.func.count(StoredFile.id)))


def stored_image(photo: StoredFile) -> Image.Image:
    return Image.open(io.BytesIO(photo.data))


def post_photo(client, project, data: bytes, filename: str, **form):
    return client.post(
        f"/projects/{project.id}/updates",
        data={"percent": "30", "status": "", "note": "地板已拆除", "on_date": ""}
        | form
        | {"photo": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


# --- the checks ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "content_type"),
    [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp")],
)
def test_jpeg_png_and_webp_are_stored_in_the_database(app, in_request, kind, content_type):
    photo = uploads.store_photo(io.BytesIO(image_bytes(kind)))
    stored = db.session.get(StoredFile, photo.id)
    assert stored.content_type == content_type and stored.size == len(stored.data)
    with stored_image(stored) as image:
        assert image.format == kind and image.size == (40, 30)
    assert not (Path(app.instance_path) / "uploads").exists()


def test_an_unused_photo_is_discarded_and_a_used_one_stays(secretary, project, in_request):
    unused = uploads.store_photo(io.BytesIO(image_bytes()))
    used = uploads.store_photo(io.BytesIO(image_bytes()))
    services.add_progress_update(secretary, project, 10, "开工", photo=used)
    uploads.discard(unused)
    uploads.discard(used)
    remaining = db.session.scalars(db.select(StoredFile.id)).all()
    assert remaining == [used.id]


def test_the_stored_copy_has_no_metadata(app, in_request):
    exif = Image.Exif()
    exif[0x010E] = "住址：优山美地花园182幢"  # ImageDescription
    exif[0x8825] = {1: "N", 2: (32.0, 1.0, 0.0)}  # GPS
    data = image_bytes("JPEG", exif=exif.tobytes(), comment=b"secret comment")
    assert b"secret comment" in data
    stored = uploads.store_photo(io.BytesIO(data)).data
    assert b"secret comment" not in stored and b"Exif" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert not image.getexif()


def test_png_text_chunks_and_profiles_are_dropped(app, in_request):
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "住址：优山美地花园182幢")
    out = io.BytesIO()
    Image.new("RGB", (20, 20), "red").save(out, "PNG", pnginfo=info, icc_profile=b"fake-icc")
    stored = uploads.store_photo(io.BytesIO(out.getvalue())).data
    assert "优山美地".encode() not in stored and b"tEXt" not in stored and b"iCCP" not in stored


def test_a_large_photo_is_scaled_down(app, in_request):
    photo = uploads.store_photo(io.BytesIO(image_bytes("PNG", size=(3000, 1500))))
    with stored_image(photo) as stored:
        assert stored.size == (2000, 1000)


def truncated_jpeg() -> bytes:
    data = image_bytes("JPEG", size=(200, 200))
    return data[: len(data) // 2]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"just some text, not a picture", "Only photos in JPEG, PNG or WebP format"),
        (SVG, "Only photos in JPEG, PNG or WebP format"),
        (b"<html><script>alert(1)</script></html>", "Only photos in JPEG, PNG or WebP format"),
        (image_bytes("GIF"), "Only photos in JPEG, PNG or WebP format"),
        (truncated_jpeg(), "This file is not a photo that can be shown"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "This file is not a photo that can be shown"),
        (b"\xff\xd8\xff\xe0" + b"<script>alert(1)</script>", "This file is not a photo"),
        (b"", "The file is empty."),
    ],
    ids=["text", "svg", "html", "gif", "truncated-jpeg", "png-header-only", "jpeg-magic", "empty"],
)
def test_files_that_are_not_sound_images_are_refused(app, in_request, data, message):
    with pytest.raises(ValidationFailed) as raised:
        uploads.store_photo(io.BytesIO(data))
    assert raised.value.fields["photo"][0].startswith(message)
    assert stored_files() == 0


def test_a_cut_off_photo_is_refused_after_a_pdf_was_made_too(app, in_request):
    """WeasyPrint switches on Pillow's process-wide LOAD_TRUNCATED_IMAGES when
    imported; the first PDF of a worker must not let broken uploads through."""
    pdf.html_to_pdf("<p>纪要</p>", Path(app.static_folder) / "css" / "print.css")
    with pytest.raises(ValidationFailed):
        uploads.store_photo(io.BytesIO(truncated_jpeg()))


def test_a_file_over_the_limit_is_refused(app, in_request, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_MAX_BYTES", 1024 * 1024)
    big = b"\x89PNG\r\n\x1a\n" + b"\x00" * (1024 * 1024)
    with pytest.raises(ValidationFailed) as raised:
        uploads.store_photo(io.BytesIO(big))
    assert raised.value.fields["photo"] == ["The photo is too large: at most 1 MB."]


def png_of(width: int, height: int) -> bytes:
    """A PNG of this many pixels, small on disk (one bit a pixel, all white)."""
    out = io.BytesIO()
    Image.new("1", (width, height), 1).save(out, "PNG")
    return out.getvalue()


def test_a_photo_with_more_pixels_than_the_limit_is_refused(app, in_request, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_MAX_PIXELS", 2_000_000)
    uploads.store_photo(io.BytesIO(png_of(2000, 1000)))  # exactly the limit
    with pytest.raises(ValidationFailed) as raised:
        uploads.store_photo(io.BytesIO(png_of(2000, 1001)))
    assert raised.value.fields["photo"] == [
        "The photo has too many pixels: at most 2 megapixels. Please choose a smaller copy."
    ]


def test_a_40_megapixel_png_is_refused_from_its_header(app, in_request):
    """Small on disk, 160 MB and seconds to decode: refused before decoding."""
    bomb = png_of(8000, 5000)
    assert len(bomb) < 200_000
    started = time.perf_counter()
    with pytest.raises(ValidationFailed) as raised:
        uploads.store_photo(io.BytesIO(bomb))
    assert time.perf_counter() - started < 0.5
    assert "at most 24 megapixels" in raised.value.fields["photo"][0]
    assert stored_files() == 0


def test_beyond_pillows_own_bound_it_is_the_same_refusal(app, in_request):
    with pytest.raises(ValidationFailed) as raised:
        uploads.store_photo(io.BytesIO(png_of(20000, 10000)))
    assert raised.value.fields["photo"][0].startswith("The photo has too many pixels")


# --- through the page and served -------------------------------------------------------------


def test_the_secretary_adds_a_photo_and_it_is_served_safely(english, login, secretary, project):
    login(secretary)
    response = post_photo(english, project, image_bytes("PNG"), "floor.svg")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    update = db.session.scalar(db.select(ProjectUpdate))
    assert update.photo.content_type == "image/png"
    url = f"/projects/{project.id}/updates/{update.id}/photo"
    assert f'src="{url}"' in english.get(f"/projects/{project.id}").get_data(as_text=True)
    english.post("/auth/logout")
    served = english.get(url)
    assert served.status_code == 200
    assert served.headers["Content-Type"] == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Content-Disposition"] == (
        f'inline; filename="project-{project.id}-{update.id}.png"'
    )
    assert "public" in served.headers["Cache-Control"]
    assert served.data.startswith(b"\x89PNG") and served.data == update.photo.data
    served.close()
    assert english.get(f"/projects/{project.id + 1}/updates/{update.id}/photo").status_code == 404


def test_a_photo_is_not_sent_again_to_a_browser_that_has_it(english, login, secretary, project):
    login(secretary)
    post_photo(english, project, image_bytes("JPEG"), "a.jpg")
    update = db.session.scalar(db.select(ProjectUpdate))
    url = f"/projects/{project.id}/updates/{update.id}/photo"
    first = english.get(url)
    again = english.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    first.close()


def test_a_refused_photo_saves_nothing(english, login, secretary, project):
    login(secretary)
    response = post_photo(english, project, SVG, "plan.png")
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "photo") == [
        "Only photos in JPEG, PNG or WebP format can be added."
    ]
    assert db.session.scalar(db.select(db.func.count(ProjectUpdate.id))) == 0
    assert fresh(project).progress_percent == 0
    assert stored_files() == 0


def test_a_photo_with_too_many_pixels_is_refused_next_to_the_field(
    app, english, login, secretary, project, monkeypatch
):
    monkeypatch.setitem(app.config, "UPLOAD_MAX_PIXELS", 2_000_000)
    login(secretary)
    response = post_photo(english, project, png_of(2000, 1001), "big.png")
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "photo") == [
        "The photo has too many pixels: at most 2 megapixels. Please choose a smaller copy."
    ]
    assert stored_files() == 0


def test_a_photo_is_removed_when_the_update_is_refused(english, login, secretary, project):
    login(secretary)
    response = post_photo(
        english, project, image_bytes("JPEG"), "a.jpg", status="completed", percent="100"
    )
    assert response.status_code == 409
    assert stored_files() == 0


def test_an_update_without_a_photo_has_no_photo_link(english, login, secretary, project):
    login(secretary)
    response = english.post(
        f"/projects/{project.id}/updates",
        data={"percent": "10", "status": "", "note": "开工"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    update = db.session.scalar(db.select(ProjectUpdate))
    assert update.photo is None
    assert english.get(f"/projects/{project.id}/updates/{update.id}/photo").status_code == 404
