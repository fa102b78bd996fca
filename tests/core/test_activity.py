from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import select


def entries_for(db, entity, entity_id):
    from govqms.core.activity import ActivityEntry

    return db.session.scalars(select(ActivityEntry).where(
        ActivityEntry.entity == entity, ActivityEntry.entity_id == str(entity_id)).order_by(ActivityEntry.id)).all()


def test_every_change_is_logged_with_who_and_before_after(world, login_as, system_scope):
    from govqms.extensions import db
    from govqms.tenancy.models import Unit

    client = login_as("a1_secretary")
    client.post(f"/t/{world.a1}/units/new", data={"code": "LOG", "name": "Tổ ghi nhật ký"})
    unit = db.session.scalar(select(Unit).where(Unit.code == "LOG"))
    client.post(f"/t/{world.a1}/units/{unit.id}/edit", data={"code": "LOG", "name": "Tổ nhật ký"})
    client.post(f"/t/{world.a1}/units/{unit.id}/archive")
    client.post(f"/t/{world.a1}/units/{unit.id}/restore")
    create, update, archive, restore = entries_for(db, "unit", unit.id)
    assert [e.action for e in (create, update, archive, restore)] == ["create", "update", "archive", "restore"]
    assert {e.actor_label for e in (create, update)} == {world.email("a1_secretary")}
    assert create.tenant_id == world.tenant_ids["a1"] and create.actor_id is not None
    assert create.changes["name"] == [None, "Tổ ghi nhật ký"]
    assert update.changes == {"name": ["Tổ ghi nhật ký", "Tổ nhật ký"]}
    assert archive.changes["archived_at"][0] is None and archive.changes["archived_at"][1]


def test_log_is_shown_to_keepers_with_diacritics(world, login_as):
    client = login_as("a1_head")
    client.post(f"/t/{world.a1}/units/new", data={"code": "HIS", "name": "Phòng Lịch sử"})
    page = client.get(f"/t/{world.a1}/activity/")
    assert page.status_code == 200 and "Phòng Lịch sử" in page.text
    assert "Phòng Lịch sử" not in login_as("b1_secretary").get(f"/t/{world.b1}/activity/").text


def test_orm_refuses_to_change_an_entry(world, system_scope):
    from govqms.core.activity import ActivityEntry
    from govqms.extensions import db

    entry = db.session.scalars(select(ActivityEntry)).first()
    entry.note = "rewritten"
    with pytest.raises(PermissionError):
        db.session.flush()
    db.session.rollback()
    entry = db.session.scalars(select(ActivityEntry)).first()
    db.session.delete(entry)
    with pytest.raises(PermissionError):
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize("statement", ["update activity_entry set note = 'x'", "delete from activity_entry"])
def test_database_refuses_to_change_entries(world, system_scope, statement):
    from govqms.extensions import db

    with pytest.raises(sa.exc.DBAPIError):
        with db.session.begin_nested():
            db.session.execute(sa.text(statement))
    db.session.rollback()


def test_platform_changes_are_logged_without_tenant(world, system_scope):
    from govqms.extensions import db
    from govqms.tenancy.models import Jurisdiction

    jurisdiction = db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == "p2"))
    jurisdiction.name = "Tỉnh Hai (mới)"
    db.session.flush()
    (entry,) = entries_for(db, "jurisdiction", jurisdiction.id)[-1:]
    assert entry.tenant_id is None and entry.changes["name"] == ["Tỉnh Hai", "Tỉnh Hai (mới)"]


def test_tenant_members_do_not_see_platform_entries(world, app):
    from govqms.core.activity import ActivityEntry
    from govqms.core.tenancy import TenantScope, scoped
    from govqms.extensions import db

    with app.app_context(), scoped(TenantScope.tenant(world.tenant_ids["a1"]), db.session):
        tenants = set(db.session.scalars(select(ActivityEntry.tenant_id)).all())
    assert tenants <= {world.tenant_ids["a1"]}


def test_label_names_the_action(world, system_scope):
    from govqms.core import activity
    from govqms.extensions import db
    from govqms.tenancy.models import Unit

    unit = db.session.get(Unit, world.unit_ids["a2"][0])
    unit.name = "Văn phòng Sở"
    activity.label(unit, "rename", note="theo quyết định 12/QĐ")
    db.session.flush()
    entry = entries_for(db, "unit", unit.id)[-1]
    assert (entry.action, entry.note) == ("rename", "theo quyết định 12/QĐ")
