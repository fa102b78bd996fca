"""Migrations: one head; upgrade from empty and downgrade on SQLite and PostgreSQL; models
and migrations agree."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from tests.conftest import ROOT, fresh_database

pytestmark = pytest.mark.committed


def script_directory():
    from alembic.config import Config

    config = Config(str(ROOT / "migrations" / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    return ScriptDirectory.from_config(config)


def test_single_head():
    heads = script_directory().get_heads()
    assert len(heads) == 1, f"several heads: {heads}; merge them"


@pytest.fixture
def empty_database(backend, tmp_path):
    """A fresh, empty database of the current backend, owned by the migrating role."""
    with fresh_database(backend.name, tmp_path) as created:
        yield created.owner_url


def _app_for(url):
    from govqms import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "GOVQMS_ENV": "testing"})


def _diff(app):
    from govqms.extensions import db

    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True})
        return compare_metadata(context, db.metadata)


def test_upgrade_from_empty_then_models_match(empty_database):
    from flask_migrate import upgrade

    app = _app_for(empty_database)
    with app.app_context():
        upgrade()
    assert _diff(app) == [], "models and migrations differ: run `govqms db migrate`"


def test_newest_revision_downgrades_and_upgrades_again(empty_database):
    from flask_migrate import downgrade, upgrade

    from govqms.extensions import db

    app = _app_for(empty_database)
    head = script_directory().get_current_head()
    with app.app_context():
        upgrade()
        downgrade(revision="-1")
        with db.engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
        assert current == script_directory().get_revision(head).down_revision
        upgrade()
        with db.engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == head
            assert "unit" in sa.inspect(conn).get_table_names()
        db.engine.dispose()
