"""Overseers read and never write; a merged tenant is read-only history."""
from __future__ import annotations

import pytest
from sqlalchemy import select


def test_overseer_reads_tenant_of_jurisdiction(world, login_as):
    client = login_as("p1_overseer")
    assert client.get(f"/t/{world.a1}/").status_code == 200
    assert client.get(f"/t/{world.a1}/units/").status_code == 200
    assert client.get(f"/t/{world.a1}/activity/").status_code == 200
    overview = client.get(f"/o/{world.p1}/")
    assert overview.status_code == 200 and "Sở Y tế Một" in overview.text


@pytest.mark.parametrize("url, data", [
    ("/t/{t}/units/new", {"code": "OV", "name": "x"}),
    ("/t/{t}/units/{u}/edit", {"code": "VP", "name": "đổi"}),
    ("/t/{t}/units/{u}/archive", {}),
    ("/t/{t}/units/{u}/restore", {}),
])
def test_overseer_write_paths_are_refused(world, login_as, url, data):
    client = login_as("p1_overseer")
    target = url.format(t=world.a1, u=world.unit_ids["a1"][0])
    assert client.post(target, data=data).status_code == 403
    if "restore" not in url:
        assert client.get(target).status_code == 403


def test_overseer_write_refused_even_past_the_views(app, world, login_as):
    """The flush guard refuses a write in an overseer's scope, whatever a view does."""
    from govqms.core.tenancy import ScopeViolation, TenantScope, scoped
    from govqms.extensions import db
    from govqms.tenancy.models import Unit

    with app.app_context(), scoped(TenantScope.readonly([world.tenant_ids["a1"]]), db.session):
        unit = db.session.get(Unit, world.unit_ids["a1"][0])
        unit.name = "sửa lén"
        with pytest.raises(ScopeViolation):
            db.session.flush()
        db.session.rollback()


def test_merged_tenant_is_read_only_for_its_members(world, login_as):
    client = login_as("a_old_secretary")
    home = client.get(f"/t/{world.a_old}/")
    assert home.status_code == 200
    assert "Sở Khoa học và Công nghệ Một" in home.text  # "merged into …"
    assert client.get(f"/t/{world.a_old}/units/new").status_code == 403
    response = client.post(f"/t/{world.a_old}/units/{world.unit_ids['a_old'][0]}/edit",
                           data={"code": "VP", "name": "x"})
    assert response.status_code == 403


def test_successor_shows_history_of_merged_tenant(world, login_as):
    page = login_as("a1_secretary").get(f"/t/{world.a1}/")
    assert "Sở Thông tin và Truyền thông Một" in page.text


def test_staff_and_viewer_cannot_manage_units(world, login_as):
    for handle in ("a1_staff", "a1_viewer", "a1_auditor"):
        client = login_as(handle)
        assert client.get(f"/t/{world.a1}/units/").status_code == 200
        assert client.post(f"/t/{world.a1}/units/new", data={"code": "Z", "name": "z"}).status_code == 403
    assert login_as("a1_staff").get(f"/t/{world.a1}/activity/").status_code == 403


class TestUnits:
    def test_create_edit_archive_restore(self, world, login_as, system_scope):
        from govqms.core.tenancy import TenantScope, scoped
        from govqms.extensions import db
        from govqms.tenancy.models import Unit

        client = login_as("a1_secretary")
        assert client.post(f"/t/{world.a1}/units/new", data={"code": "TTr", "name": "Thanh tra Sở"}).status_code == 302
        with scoped(TenantScope.system()):
            unit = db.session.scalar(select(Unit).where(Unit.code == "TTr"))
        assert unit.tenant_id == world.tenant_ids["a1"]
        edit = client.post(f"/t/{world.a1}/units/{unit.id}/edit", data={"code": "TTR", "name": "Thanh tra Sở"})
        assert edit.status_code == 302
        confirm = client.get(f"/t/{world.a1}/units/{unit.id}/archive")
        assert confirm.status_code == 200 and "TTR" in confirm.text
        assert client.post(f"/t/{world.a1}/units/{unit.id}/archive").status_code == 302
        assert "<td>TTR</td>" not in client.get(f"/t/{world.a1}/units/").text
        assert "<td>TTR</td>" in client.get(f"/t/{world.a1}/units/?archived=1").text
        assert client.post(f"/t/{world.a1}/units/{unit.id}/restore").status_code == 302
        assert "<td>TTR</td>" in client.get(f"/t/{world.a1}/units/").text

    def test_bad_input_is_explained_and_kept(self, world, login_as):
        client = login_as("a1_secretary")
        response = client.post(f"/t/{world.a1}/units/new", data={"code": "có dấu cách", "name": "Phòng giữ lại"})
        assert response.status_code == 400
        assert "Phòng giữ lại" in response.text  # what was typed is not lost
        duplicate = client.post(f"/t/{world.a1}/units/new", data={"code": "VP", "name": "Trùng mã"})
        assert duplicate.status_code == 400 and "Trùng mã" in duplicate.text

    def test_same_code_allowed_in_another_tenant(self, world, login_as):
        client = login_as("b1_secretary")
        assert client.post(f"/t/{world.b1}/units/new", data={"code": "NEWB", "name": "x"}).status_code == 302
        assert login_as("a1_secretary").post(f"/t/{world.a1}/units/new",
                                             data={"code": "NEWB", "name": "x"}).status_code == 302

    def test_list_paginates(self, world, login_as, system_scope):
        from govqms.extensions import db
        from govqms.tenancy.models import Unit

        db.session.add_all([Unit(tenant_id=world.tenant_ids["a2"], code=f"U{i:03}", name=f"Phòng {i}")
                            for i in range(60)])
        db.session.commit()
        client = login_as("p1_overseer")
        first = client.get(f"/t/{world.a2}/units/")
        assert "U000" in first.text and "U030" not in first.text and "page=2" in first.text
        assert "U030" in client.get(f"/t/{world.a2}/units/?page=2").text
