"""Progress photos: only sound JPEG, PNG and WebP images, of limited size,
stored under instance/uploads with the server's own name, without metadata,
and served with their checked type."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from conftest import field_errors
from meeting_helpers import fresh
from PIL import Image, PngImagePlugin
from project_helpers import image_bytes

from meetings.errors import ValidationFailed
from meetings.extensions import db
from meetings.minutes import pdf
from meetings.projects import uploads
from meetings.projects.models import ProjectUpdate

pytest_plugins = ["meeting_fixtures", "project_fixtures"]

SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def stored_files(app) -> set[str]:
    folder = Path(app.instance_path) / "uploads"
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


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
    ("kind", "content_type", "extension"),
    [("PNG", "image/png", "png"), ("JPEG", "image/jpeg", "jpg"), ("WEBP", "image/webp", "webp")],
)
def test_jpeg_png_and_webp_are_stored_under_a_random_name(
    app, in_request, kind, content_type, extension
):
    photo = uploads.store_photo(io.BytesIO(image_bytes(kind)))
    assert photo.content_type == content_type
    assert re.fullmatch(rf"[A-Za-z0-9_-]{{24}}\.{extension}", photo.filename)
    path = Path(app.instance_path) / "uploads" / photo.filename
    with Image.open(path) as stored:
        assert stored.format == kind and stored.size == (40, 30)
    uploads.discard(photo)
    assert not path.exists()


def test_the_stored_copy_has_no_metadata(app, in_request):
    exif = Image.Exif()
    exif[0x010E] = "住址：优山美地花园182幢"  # ImageDescription
    exif[0x8825] = {1: "N", 2: (32.0, 1.0, 0.0)}  # GPS
    data = image_bytes("JPEG", exif=exif.tobytes(), comment=b"secret comment")
    assert b"secret comment" in data
    photo = uploads.store_photo(io.BytesIO(data))
    stored = (Path(app.instance_path) / "uploads" / photo.filename).read_bytes()
    assert b"secret comment" not in stored and b"Exif" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert not image.getexif()
    uploads.discard(photo)


def test_png_text_chunks_and_profiles_are_dropped(app, in_request):
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "住址：优山美地花园182幢")
    out = io.BytesIO()
    Image.new("RGB", (20, 20), "red").save(out, "PNG", pnginfo=info, icc_profile=b"fake-icc")
    photo = uploads.store_photo(io.BytesIO(out.getvalue()))
    stored = (Path(app.instance_path) / "uploads" / photo.filename).read_bytes()
    assert "优山美地".encode() not in stored and b"tEXt" not in stored and b"iCCP" not in stored
    uploads.discard(photo)


def test_a_large_photo_is_scaled_down(app, in_request):
    photo = uploads.store_photo(io.BytesIO(image_bytes("PNG", size=(3000, 1500))))
    with Image.open(Path(app.instance_path) / "uploads" / photo.filename) as stored:
        assert stored.size == (2000, 1000)
    uploads.discard(photo)


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
    before = stored_files(app)
    with pytest.raises(ValidationFailed) as raised:
        uploads.store_photo(io.BytesIO(data))
    assert raised.value.fields["photo"][0].startswith(message)
    assert stored_files(app) == before


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


def test_server_names_only_are_served(app):
    assert uploads.path_of("../../secret_key") is None
    assert uploads.path_of("a.png") is None
    assert uploads.path_of("x" * 24 + ".svg") is None
    assert uploads.path_of("x" * 24 + ".png") == Path(app.instance_path) / "uploads" / (
        "x" * 24 + ".png"
    )


# --- through the page and served -------------------------------------------------------------


def test_the_secretary_adds_a_photo_and_it_is_served_safely(
    app, english, login, secretary, project
):
    login(secretary)
    response = post_photo(english, project, image_bytes("PNG"), "floor.svg")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    update = db.session.scalar(db.select(ProjectUpdate))
    assert update.photo_content_type == "image/png"
    assert update.photo_filename.endswith(".png") and "floor" not in update.photo_filename
    url = f"/projects/{project.id}/updates/{update.id}/photo"
    assert f'src="{url}"' in english.get(f"/projects/{project.id}").get_data(as_text=True)
    english.post("/auth/logout")
    served = english.get(url)
    assert served.status_code == 200
    assert served.headers["Content-Type"] == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Content-Disposition"].startswith("inline")
    assert served.data.startswith(b"\x89PNG")
    served.close()
    assert english.get(f"/projects/{project.id + 1}/updates/{update.id}/photo").status_code == 404
    (Path(app.instance_path) / "uploads" / update.photo_filename).unlink()
    assert english.get(url).status_code == 404


def test_a_refused_photo_saves_nothing(app, english, login, secretary, project):
    login(secretary)
    before = stored_files(app)
    response = post_photo(english, project, SVG, "plan.png")
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "photo") == [
        "Only photos in JPEG, PNG or WebP format can be added."
    ]
    assert db.session.scalar(db.select(db.func.count(ProjectUpdate.id))) == 0
    assert fresh(project).progress_percent == 0
    assert stored_files(app) == before


def test_a_photo_is_removed_when_the_update_is_refused(app, english, login, secretary, project):
    login(secretary)
    before = stored_files(app)
    response = post_photo(
        english, project, image_bytes("JPEG"), "a.jpg", status="completed", percent="100"
    )
    assert response.status_code == 409
    assert stored_files(app) == before


def test_an_update_without_a_photo_has_no_photo_link(english, login, secretary, project):
    login(secretary)
    response = english.post(
        f"/projects/{project.id}/updates",
        data={"percent": "10", "status": "", "note": "开工"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    update = db.session.scalar(db.select(ProjectUpdate))
    assert update.photo_filename is None
    assert english.get(f"/projects/{project.id}/updates/{update.id}/photo").status_code == 404
