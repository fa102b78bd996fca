"""`govqms demo`: idempotent, realistic, and isolated like everything else."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.conftest import login


@pytest.fixture
def demo(app, system_scope):
    from govqms.demo import load_demo

    return load_demo("demo-pass-123")


def test_demo_is_idempotent(demo, system_scope):
    from govqms.demo import load_demo
    from govqms.extensions import db
    from govqms.tenancy.models import Tenant

    assert demo.created
    count = db.session.scalar(select(func.count()).select_from(Tenant))
    again = load_demo("demo-pass-123")
    assert again.created == []
    assert db.session.scalar(select(func.count()).select_from(Tenant)) == count
    assert "Demo already up to date" in again.summary()


def test_demo_shape(demo, system_scope):
    from govqms.extensions import db
    from govqms.tenancy.models import Jurisdiction, Tenant

    province = db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == "khanh-hoa"))
    ministry = db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == "bo-tu-phap"))
    assert province.level == "province" and ministry.level == "ministry"
    departments = db.session.scalars(select(Tenant).where(Tenant.jurisdiction_id == province.id)).all()
    assert len(departments) == 3
    merged = [t for t in departments if t.status == "merged"]
    assert len(merged) == 1 and merged[0].merged_on.isoformat() == "2025-03-01"
    assert merged[0].merged_into.slug == "kh-so-khcn"
    assert len(db.session.scalars(select(Tenant).where(Tenant.jurisdiction_id == ministry.id)).all()) == 2
    roles = {what.split()[0] for _, what in demo.logins}
    assert {"head", "qmr", "iso_secretary", "auditor", "staff", "viewer", "overseer",
            "steering_committee", "operator"} <= roles


def test_demo_member_gets_404_on_another_department(app, demo):
    client = login(app.test_client(), "thuky.yte@demo.govqms.vn", "demo-pass-123")
    assert client.get("/t/kh-so-yte/").status_code == 200
    assert client.get("/t/kh-so-khcn/").status_code == 404
    assert client.get("/t/kh-so-khcn/units/").status_code == 404


def test_demo_logins_work(app, demo):
    for email, _ in demo.logins:
        client = login(app.test_client(), email, "demo-pass-123")
        assert client.get("/").status_code == 200
