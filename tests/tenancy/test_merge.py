"""Merging an agency: read-only history readable from the successor, members moved, counted by date,
reversible until the successor gets new records."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


@pytest.fixture
def a2_member(world, system_scope):
    from govqms.accounts.models import User
    from govqms.extensions import db
    from govqms.tenancy.models import Membership
    from tests.conftest import FAST_HASH

    user = User(email="thuky.a2@test.govqms.vn", name="Thư ký A2")
    user.set_password("correct horse battery", method=FAST_HASH)
    db.session.add(user)
    db.session.flush()
    db.session.add(Membership(user_id=user.id, tenant_id=world.tenant_ids["a2"], role="iso_secretary"))
    db.session.commit()
    return user.email


def test_merge_makes_history_read_only_and_moves_members(cli, world, a2_member, app, system_scope):
    from tests.conftest import login

    login(app.test_client(), a2_member).post(f"/t/{world.a2}/units/new", data={"code": "OLD", "name": "Phòng cũ"})
    result = cli("tenants", "merge", world.a2, world.a1, "--on", "2025-06-01")
    assert result.exit_code == 0, result.output
    assert "1 membership(s) moved" in result.output

    client = login(app.test_client(), a2_member)
    home = client.get("/").text
    assert "Sở Khoa học và Công nghệ Một" in home  # now a member of the successor
    successor = client.get(f"/t/{world.a1}/")
    assert "Sở Y tế Một" in successor.text  # history from the merged agency
    # the merged agency is read-only history, for its old members and the successor's alike
    overseer = login(app.test_client(), "p1.overseer@test.govqms.vn", "correct horse battery")
    assert overseer.get(f"/t/{world.a2}/units/").status_code == 200
    # its old members read its history through their role in the successor, and write nothing
    assert client.get(f"/t/{world.a2}/").status_code == 200
    assert client.post(f"/t/{world.a2}/units/new", data={"code": "NEW", "name": "x"}).status_code == 403


def test_merged_records_readable_from_successor_scope(cli, world, app):
    from govqms.core.tenancy import TenantScope, scoped
    from govqms.extensions import db
    from govqms.tenancy.models import Tenant, Unit
    from govqms.tenancy.services import predecessor_ids

    with app.app_context(), scoped(TenantScope.system()):
        cli("tenants", "merge", world.a2, world.a1, "--on", "2025-06-01")
        a1 = db.session.scalar(select(Tenant).where(Tenant.slug == world.a1))
        history = predecessor_ids(a1)
    assert world.tenant_ids["a2"] in history
    with app.app_context(), scoped(TenantScope.tenant(world.tenant_ids["a1"], also_visible=history, read_only=False)):
        visible = set(db.session.scalars(select(Unit.tenant_id)))
        assert world.tenant_ids["a2"] in visible
        unit = db.session.scalar(select(Unit).where(Unit.tenant_id == world.tenant_ids["a2"]))
        unit.name = "sửa lịch sử"
        from govqms.core.tenancy import ScopeViolation

        with pytest.raises(ScopeViolation):
            db.session.flush()
        db.session.rollback()


def test_province_counts_before_and_after_the_merge_date(cli, world, login_as):
    client = login_as("p1_overseer")

    def in_scope(day):
        page = client.get(f"/o/{world.p1}/?on={day}")
        return int(page.text.split('data-testid="in-scope" data-count="', 1)[1].split('"', 1)[0])

    before_merge = in_scope("01/05/2025")
    assert cli("tenants", "merge", world.a2, world.a1, "--on", "2025-06-01").exit_code == 0
    assert in_scope("31/05/2025") == before_merge
    assert in_scope("01/06/2025") == before_merge - 1
    # a_old was merged into a1 on 01/03/2025: counted the day before, not after
    assert in_scope("28/02/2025") == in_scope("01/03/2025") + 1


def test_unmerge_until_the_successor_gets_new_records(cli, world, a2_member, login_as, system_scope):
    from govqms.extensions import db
    from govqms.tenancy.models import Membership, Tenant

    cli("tenants", "merge", world.a2, world.a1, "--on", "2025-06-01")
    undo = cli("tenants", "unmerge", world.a2)
    assert undo.exit_code == 0, undo.output
    a2 = db.session.scalar(select(Tenant).where(Tenant.slug == world.a2))
    db.session.refresh(a2)
    assert a2.status == "active" and a2.merged_into is None
    assert db.session.scalar(select(Membership).where(Membership.tenant_id == a2.id)) is not None

    cli("tenants", "merge", world.a2, world.a1, "--on", "2025-06-01")
    login_as("a1_secretary").post(f"/t/{world.a1}/units/new", data={"code": "AFTER", "name": "Sau sáp nhập"})
    refused = cli("tenants", "unmerge", world.a2)
    assert refused.exit_code != 0 and "không thể hoàn tác" in refused.output  # the CLI speaks Vietnamese


def test_merge_refusals(cli, world):
    assert "vào chính nó" in cli("tenants", "merge", world.a1, world.a1, "--on", "2025-06-01").output
    assert "không còn hoạt động" in cli("tenants", "merge", world.a_old, world.a2, "--on", "2025-06-01").output
    # into a merged agency: refused, so chains (and cycles) cannot form
    assert "không còn hoạt động" in cli("tenants", "merge", world.a1, world.a_old, "--on", "2025-06-01").output
    assert cli("tenants", "merge", "nope", world.a1, "--on", "2025-06-01").exit_code != 0


def test_merge_is_in_the_activity_log(cli, world, system_scope):
    from govqms.core.activity import ActivityEntry
    from govqms.extensions import db

    cli("tenants", "merge", world.a2, world.a1, "--on", "2025-06-01")
    entry = db.session.scalars(select(ActivityEntry).where(ActivityEntry.action == "merge")
                               .order_by(ActivityEntry.id.desc())).first()
    assert entry.entity == "tenant" and entry.entity_id == str(world.tenant_ids["a2"])
    assert entry.actor_label == "cli:merge" and "a1" in entry.note
    assert entry.changes["status"] == ["active", "merged"]
    assert dt.date.fromisoformat(entry.changes["merged_on"][1]) == dt.date(2025, 6, 1)
