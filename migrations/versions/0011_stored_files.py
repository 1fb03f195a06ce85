"""stored files: progress photos move from instance/uploads into the database

Revision ID: 0011_stored_files
Revises: 0010_user_sessions
Create Date: 2026-12-08 12:00:00

Photos lived in ``instance/uploads`` on one host's disk; with several app
hosts each saw only its own. They now live in ``stored_file`` (see
``meetings.projects.uploads``) and ``project_update.photo_id`` names one.

The upgrade copies each photo it finds in this host's ``instance/uploads``
into the table; an update whose file is not there loses its photo (it could
not be shown anyway), and the log says which. The files stay where they
were: remove ``instance/uploads`` once the site shows the photos. The
downgrade writes the photos back to ``instance/uploads``. Neither runs in
offline mode (``--sql``): the files are read and written by this process.
"""

import logging
import os
import re
import secrets
from pathlib import Path

import sqlalchemy as sa
from alembic import context, op
from flask import current_app

import meetings.dbtypes

# revision identifiers, used by Alembic.
revision = "0011_stored_files"
down_revision = "0010_user_sessions"
branch_labels = None
depends_on = None

logger = logging.getLogger("alembic.env")

# the names the server gave the files (never the uploader's)
NAME = re.compile(r"^[A-Za-z0-9_-]{24}\.(jpg|png|webp)$")
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}

stored_file = sa.table(
    "stored_file",
    sa.column("id", sa.Integer()),
    sa.column("content_type", sa.String(40)),
    sa.column("size", sa.Integer()),
    sa.column("data", sa.LargeBinary()),
    sa.column("created_at", meetings.dbtypes.UTCDateTime()),
)
project_update = sa.table(
    "project_update",
    sa.column("id", sa.Integer()),
    sa.column("photo_filename", sa.String(100)),
    sa.column("photo_content_type", sa.String(40)),
    sa.column("photo_id", sa.Integer()),
    sa.column("created_at", meetings.dbtypes.UTCDateTime()),
)


def _uploads() -> Path:
    return Path(current_app.instance_path) / "uploads"


def upgrade():
    op.create_table(
        "stored_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", meetings.dbtypes.UTCDateTime(), nullable=False),
        sa.CheckConstraint("size >= 0", name=op.f("ck_stored_file_size_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stored_file")),
    )
    with op.batch_alter_table("project_update", schema=None) as batch_op:
        batch_op.add_column(sa.Column("photo_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_project_update_photo_id_stored_file"),
            "stored_file",
            ["photo_id"],
            ["id"],
        )
    if not context.is_offline_mode():
        _files_into_the_database()
    with op.batch_alter_table("project_update", schema=None) as batch_op:
        batch_op.drop_column("photo_content_type")
        batch_op.drop_column("photo_filename")


def _files_into_the_database() -> None:
    connection = op.get_bind()
    folder = _uploads()
    updates = connection.execute(
        sa.select(
            project_update.c.id,
            project_update.c.photo_filename,
            project_update.c.photo_content_type,
            project_update.c.created_at,
        )
        .where(project_update.c.photo_filename.is_not(None))
        .order_by(project_update.c.id)
    ).all()
    for update_id, filename, content_type, created_at in updates:
        path = folder / filename
        if not (NAME.match(filename) and content_type in EXTENSIONS and path.is_file()):
            logger.warning(
                "progress update %s: its photo %s is not in %s; left out",
                update_id,
                filename,
                folder,
            )
            continue
        data = path.read_bytes()
        file_id = connection.execute(
            sa.insert(stored_file)
            .values(content_type=content_type, size=len(data), data=data, created_at=created_at)
            .returning(stored_file.c.id)
        ).scalar_one()
        connection.execute(
            sa.update(project_update)
            .where(project_update.c.id == update_id)
            .values(photo_id=file_id)
        )
    if updates:
        logger.info("progress photos copied from %s into stored_file", folder)


def downgrade():
    with op.batch_alter_table("project_update", schema=None) as batch_op:
        batch_op.add_column(sa.Column("photo_filename", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("photo_content_type", sa.String(length=40), nullable=True))
    if not context.is_offline_mode():
        _files_out_of_the_database()
    with op.batch_alter_table("project_update", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_project_update_photo_id_stored_file"), type_="foreignkey"
        )
        batch_op.drop_column("photo_id")
    op.drop_table("stored_file")


def _files_out_of_the_database() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(project_update.c.id, stored_file.c.content_type, stored_file.c.data)
        .join(stored_file, stored_file.c.id == project_update.c.photo_id)
        .order_by(project_update.c.id)
    ).all()
    if not rows:
        return
    folder = _uploads()
    folder.mkdir(parents=True, exist_ok=True)
    for update_id, content_type, data in rows:
        filename = f"{secrets.token_urlsafe(18)}.{EXTENSIONS.get(content_type, 'jpg')}"
        fd = os.open(folder / filename, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        connection.execute(
            sa.update(project_update)
            .where(project_update.c.id == update_id)
            .values(photo_filename=filename, photo_content_type=content_type)
        )
