"""Migrations: one head; upgrade from empty and downgrade on SQLite and PostgreSQL; models
and migrations agree."""
from __future__ import annotations

import json

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


def _insert(conn, table: str, **values) -> int:
    """A row of *table* as the schema of the moment has it: required columns not given get a value."""
    import datetime as dt

    columns = {c["name"]: c for c in sa.inspect(conn).get_columns(table)}
    for name, column in columns.items():
        if name in values or name == "id" or column["nullable"] or column.get("default") is not None:
            continue
        kind = column["type"].python_type if hasattr(column["type"], "python_type") else str
        values[name] = {dt.datetime: dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.timezone.utc),
                        dt.date: dt.date(2026, 1, 1), bool: False, int: 0, dict: {}, list: []}.get(kind, "x")
    rendered = {k: (json.dumps(v) if isinstance(v, (dict, list)) else v) for k, v in values.items()}
    names = ", ".join(rendered)
    result = conn.execute(sa.text(f"insert into {table} ({names}) values ({', '.join(':' + k for k in rendered)})"),
                          rendered)
    return result.lastrowid if conn.dialect.name == "sqlite" else conn.execute(
        sa.text(f"select max(id) from {table}")).scalar()


def test_dated_compliance_carries_existing_data_forward(empty_database):
    """0013: reviews held on their meeting day, posting and publication on the decision day, withdrawn
    certificates ended, an undated 'done' action dated from the activity log; the typed edition goes."""
    import datetime as dt

    from flask_migrate import upgrade

    from govqms.extensions import db

    app = _app_for(empty_database)
    with app.app_context():
        upgrade(revision="0012_notifications")
        with db.engine.begin() as conn:
            jurisdiction = _insert(conn, "jurisdiction", code="p", name="P", level="province", path="/p/")
            tenant = _insert(conn, "tenant", slug="t", name="T", kind="health", jurisdiction_id=jurisdiction,
                             iso_edition="2008", status="active")
            past = _insert(conn, "management_review", tenant_id=tenant, year=2025, meeting_on=dt.date(2025, 12, 10),
                           chair="x", inputs="{}", notes="{}")
            future = _insert(conn, "management_review", tenant_id=tenant, year=2099, meeting_on=dt.date(2099, 1, 1),
                             chair="x", inputs="{}", notes="{}")
            declaration = _insert(conn, "declaration", tenant_id=tenant, decision_number="1",
                                  decided_on=dt.date(2022, 4, 15), edition="2015", posted_at_office=True,
                                  published_online=False)
            certificate = _insert(conn, "certificate", tenant_id=tenant, body="b", number="n", edition="2015",
                                  issued_on=dt.date(2021, 5, 4), expires_on=dt.date(2024, 5, 3),
                                  withdrawn_on=dt.date(2023, 1, 9))
            action = _insert(conn, "action", tenant_id=tenant, description="x", due_on=dt.date(2025, 1, 1),
                             status="done")
            _insert(conn, "activity_entry", tenant_id=tenant, at=dt.datetime(2025, 2, 3, 20, 0, tzinfo=dt.timezone.utc),
                    actor_label="x", entity="action", entity_id=str(action), action="update",
                    changes={"status": ["open", "done"]})
        upgrade()
        with db.engine.connect() as conn:
            def one(sql, **params):
                return conn.execute(sa.text(sql), params).one()

            held = dict(conn.execute(sa.text("select id, held_on from management_review")).all())
            assert str(held[past])[:10] == "2025-12-10" and held[future] is None
            posted, published = one("select posted_on, published_on from declaration where id = :i", i=declaration)
            assert str(posted)[:10] == "2022-04-15" and published is None
            ended, reason = one("select ended_on, end_reason from certificate where id = :i", i=certificate)
            assert str(ended)[:10] == "2023-01-09" and reason == "withdrawn"
            # 20:00 UTC on 03/02 is 04/02 in Vietnam
            assert str(one("select done_on from action where id = :i", i=action)[0])[:10] == "2025-02-04"
            assert "iso_edition" not in {c["name"] for c in sa.inspect(conn).get_columns("tenant")}
        db.engine.dispose()
