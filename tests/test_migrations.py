"""The migrations build exactly the schema the models describe, and every one of them can be
undone: from an empty database, up one revision at a time to head, down one at a time to
base, and up to head again.

The walk runs on a database of its own (an SQLite file, or a scratch PostgreSQL database
created beside the test database and dropped afterwards), so the session's migrated
database, which the other tests use, is never touched.
"""

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy import inspect

from app import create_app
from app.extensions import db
from tests.conftest import config_for
from tests.support.scratch_database import create_postgres_database, drop_postgres_database


def differences_from_the_models(engine) -> list:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def current_revision(engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def test_upgrade_head_matches_the_models(app):
    # `migrated_database` built the schema with `flask db upgrade` from an empty database.
    assert differences_from_the_models(db.engine) == []


@pytest.fixture
def scratch_database(database_url, tmp_path):
    """An empty database of the suite's kind, for this test only."""
    if not database_url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'walk.db'}"
        return
    url, name = create_postgres_database(database_url, "avz_walk")
    try:
        yield url
    finally:
        drop_postgres_database(database_url, name)


def test_every_revision_goes_up_and_down(scratch_database, tmp_path):
    walker = create_app(config_for(scratch_database, str(tmp_path / "uploads")))
    with walker.app_context():
        script = ScriptDirectory.from_config(
            current_app.extensions["migrate"].migrate.get_config())
        revisions = list(reversed(list(script.walk_revisions())))  # base first
        assert len(script.get_heads()) == 1, "the revisions must form one line"
        try:
            for revision in revisions:
                flask_migrate.upgrade(revision=revision.revision)
                assert current_revision(db.engine) == revision.revision
            for revision in reversed(revisions):
                target = revision.down_revision or "base"
                flask_migrate.downgrade(revision=target)
                assert current_revision(db.engine) == (revision.down_revision or None), \
                    f"downgrade of {revision.revision}"
            left = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
            assert left == set(), f"tables left at base: {sorted(left)}"

            flask_migrate.upgrade()
            assert current_revision(db.engine) == revisions[-1].revision
            assert differences_from_the_models(db.engine) == []
        finally:
            db.session.remove()
            db.engine.dispose()
