"""Photos live in the database, not on one host's disk: two app instances
with instance folders of their own, on one database, serve each other's
photos; migration 0011 moves the photos an older version kept in
``instance/uploads`` into the database (and the downgrade back out)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import PASSWORD
from flask import Flask
from flask_migrate import downgrade, upgrade
from project_helpers import image_bytes

from auth.models import Community, Membership, User
from meetings import create_app
from meetings.dbtypes import UTCDateTime
from meetings.extensions import db as _db
from meetings.projects.models import Project, ProjectUpdate

BEFORE = "0010_user_sessions"


@pytest.fixture
def two_hosts(committing_app, app_config, tmp_path) -> Iterator[tuple[Flask, Flask]]:
    """Two instances of the app on one database, each with an instance folder
    of its own, as on two hosts behind a load balancer."""
    first = committing_app
    first.instance_path = str(tmp_path / "host-a")
    second = create_app({**app_config, "DATABASE_URL": first.config["DATABASE_URL"]})
    second.instance_path = str(tmp_path / "host-b")
    try:
        yield first, second
    finally:
        with second.app_context():
            _db.engine.dispose()


def _secretary_and_project(app: Flask) -> tuple[str, int]:
    with app.app_context():
        community = Community(name="东篱社区", street="中兴街道", district="开发区")
        secretary = User(username="sec", display_name="林书记")
        secretary.set_password(PASSWORD)
        project = Project(community=community, title="活动室改造出新", responsible_unit="物业")
        membership = Membership(user=secretary, community=community, is_secretary=True)
        _db.session.add_all([community, secretary, project, membership])
        _db.session.commit()
        return secretary.username, project.id


def test_a_photo_sent_to_one_host_is_served_by_the_other(two_hosts):
    first, second = two_hosts
    username, project_id = _secretary_and_project(first)
    on_first = first.test_client()
    login = on_first.post("/auth/login", data={"username": username, "password": PASSWORD})
    assert login.status_code == 302
    sent = on_first.post(
        f"/projects/{project_id}/updates",
        data={"percent": "30", "status": "", "note": "地板已拆除", "on_date": ""}
        | {"photo": (io.BytesIO(image_bytes("JPEG", size=(400, 300))), "floor.jpg")},
        content_type="multipart/form-data",
    )
    assert sent.status_code == 302, sent.get_data(as_text=True)[:1000]
    with first.app_context():
        update_id = _db.session.scalar(sa.select(ProjectUpdate.id))
    url = f"/projects/{project_id}/updates/{update_id}/photo"

    on_second = second.test_client()
    assert f'src="{url}"' in on_second.get(f"/projects/{project_id}").get_data(as_text=True)
    from_second = on_second.get(url)
    from_first = first.test_client().get(url)
    assert from_second.status_code == from_first.status_code == 200
    assert from_second.mimetype == "image/jpeg"
    assert from_second.data == from_first.data and from_second.data.startswith(b"\xff\xd8")
    for response in (from_first, from_second):
        response.close()
    for app in (first, second):
        assert not (Path(app.instance_path) / "uploads").exists()


# --- migration 0011 -----------------------------------------------------------------------

community_table = sa.table(
    "community",
    sa.column("id", sa.Integer()),
    sa.column("name", sa.String()),
    sa.column("street", sa.String()),
    sa.column("district", sa.String()),
    sa.column("created_at", UTCDateTime()),
)
project_table = sa.table(
    "project",
    sa.column("id", sa.Integer()),
    sa.column("community_id", sa.Integer()),
    sa.column("title", sa.String()),
    sa.column("description", sa.String()),
    sa.column("responsible_unit", sa.String()),
    sa.column("status", sa.String()),
    sa.column("progress_percent", sa.Integer()),
    sa.column("created_at", UTCDateTime()),
)
update_table = sa.table(
    "project_update",
    sa.column("id", sa.Integer()),
    sa.column("project_id", sa.Integer()),
    sa.column("on_date", sa.Date()),
    sa.column("percent", sa.Integer()),
    sa.column("note", sa.String()),
    sa.column("photo_filename", sa.String()),
    sa.column("photo_content_type", sa.String()),
    sa.column("photo_id", sa.Integer()),
    sa.column("created_at", UTCDateTime()),
)
LONG_AGO = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
ON_DISK = "A" * 24 + ".png"
GONE = "B" * 24 + ".jpg"


@pytest.fixture
def old_app(app_config, empty_database_url, tmp_path) -> Iterator[Flask]:
    """An app on an empty database, with an instance folder of its own."""
    app = create_app({**app_config, "DATABASE_URL": empty_database_url})
    app.instance_path = str(tmp_path / "instance")
    try:
        yield app
    finally:
        with app.app_context():
            _db.engine.dispose()


def test_the_upgrade_moves_the_photos_into_the_database_and_the_downgrade_out(old_app):
    photo = image_bytes("PNG")
    uploads = Path(old_app.instance_path) / "uploads"
    uploads.mkdir(parents=True)
    (uploads / ON_DISK).write_bytes(photo)
    with old_app.app_context():
        upgrade(revision=BEFORE)
        with _db.engine.begin() as connection:
            connection.execute(
                sa.insert(community_table).values(
                    id=1, name="东篱社区", street="中兴街道", district="开发区", created_at=LONG_AGO
                )
            )
            connection.execute(
                sa.insert(project_table).values(
                    id=1,
                    community_id=1,
                    title="活动室改造出新",
                    description="",
                    responsible_unit="物业",
                    status="in_progress",
                    progress_percent=30,
                    created_at=LONG_AGO,
                )
            )
            for update_id, filename in ((1, ON_DISK), (2, GONE), (3, None)):
                connection.execute(
                    sa.insert(update_table).values(
                        id=update_id,
                        project_id=1,
                        on_date=date(2026, 3, 1),
                        percent=30,
                        note="地板已拆除",
                        photo_filename=filename,
                        photo_content_type="image/png" if filename == ON_DISK else "image/jpeg",
                        created_at=LONG_AGO,
                    )
                )

        upgrade()
        with _db.engine.connect() as connection:
            photos = connection.execute(
                sa.text(
                    "SELECT u.id, f.content_type, f.size, f.data FROM project_update u"
                    " LEFT JOIN stored_file f ON f.id = u.photo_id ORDER BY u.id"
                )
            ).all()
        assert [tuple(row) for row in photos] == [
            (1, "image/png", len(photo), photo),
            (2, None, None, None),
            (3, None, None, None),
        ]

        (uploads / ON_DISK).unlink()
        downgrade(revision=BEFORE)
        with _db.engine.connect() as connection:
            names = connection.execute(
                sa.select(update_table.c.photo_filename, update_table.c.photo_content_type)
                .where(update_table.c.photo_filename.is_not(None))
                .order_by(update_table.c.id)
            ).all()
    [(name, content_type)] = names
    assert content_type == "image/png" and name.endswith(".png")
    assert (uploads / name).read_bytes() == photo
