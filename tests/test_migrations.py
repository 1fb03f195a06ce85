"""The migrations build the schema the models describe, and run both ways."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from meetings import create_app
from meetings.extensions import db as _db
from meetings.extensions import migrate


def test_models_match_the_migrations(db):
    """The suite's schema comes from the migrations: a model change without
    its migration shows up here as a difference."""
    context = MigrationContext.configure(
        db.session.connection(), opts={"compare_type": True, "render_as_batch": True}
    )
    assert compare_metadata(context, db.metadata) == []


def test_migrations_form_a_single_line(app):
    config = migrate.get_config(str(app.config["MIGRATIONS_DIR"]))
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, f"several heads, merge them: {heads}"


@pytest.fixture
def empty_app(app_config, empty_database_url):
    """A second app on an empty database of its own: the shared one is untouched."""
    other = create_app({**app_config, "DATABASE_URL": empty_database_url})
    yield other
    with other.app_context():
        _db.engine.dispose()


def _tables(app) -> set[str]:
    with app.app_context(), _db.engine.connect() as connection:
        return set(inspect(connection).get_table_names())


def test_migrations_upgrade_an_empty_database_to_the_models(empty_app):
    assert _tables(empty_app) == set()
    with empty_app.app_context():
        upgrade()
    assert _tables(empty_app) == set(_db.metadata.tables) | {"alembic_version"}
    with empty_app.app_context(), _db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_as_batch": True}
        )
        assert compare_metadata(context, _db.metadata) == []


def test_migrations_downgrade_to_base_and_upgrade_again(empty_app):
    with empty_app.app_context():
        upgrade()
        downgrade(revision="base")
    assert _tables(empty_app) <= {"alembic_version"}
    with empty_app.app_context():
        upgrade()
    assert _tables(empty_app) == set(_db.metadata.tables) | {"alembic_version"}
