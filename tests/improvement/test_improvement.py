"""Nonconformities and corrective actions, risks — through the views."""
from __future__ import annotations

import re

from tests.competence.fixtures import FUTURE, PAST, TODAY, user_id


class TestCorrectiveActions:
    def raise_nc(self, client, world):
        response = client.post(f"/t/{world.a1}/improvement/nonconformities/new", data={
            "source": "complaint", "found_on": PAST, "description": "Trả kết quả chậm 2 ngày"})
        assert response.status_code == 302
        return int(re.search(r"/nonconformities/(\d+)", response.location).group(1))

    def test_capa_workflow_with_reopen(self, world, login_as, system_scope):
        from govqms.extensions import db
        from govqms.improvement.models import Nonconformity

        secretary, qmr, staff = login_as("a1_secretary"), login_as("a1_qmr"), login_as("a1_staff")
        nc_id = self.raise_nc(secretary, world)
        base = f"/t/{world.a1}/improvement/nonconformities/{nc_id}"
        staff_id = user_id(db, world, "a1_staff")
        assert secretary.post(f"{base}/actions", data={"description": "x", "due_on": FUTURE}).status_code == 409
        assert secretary.post(f"{base}/analysis", data={"root_cause": ""}).status_code == 400
        assert secretary.post(f"{base}/analysis", data={"correction": "Gọi điện xin lỗi công dân",
                                                        "root_cause": "Tại sao 1: thiếu người\nTại sao 2: ..."}
                              ).status_code == 302
        assert secretary.post(f"{base}/actions", data={"description": "Bổ sung nhân sự một cửa",
                                                       "owner_id": str(staff_id), "due_on": FUTURE}).status_code == 302
        nc = db.session.get(Nonconformity, nc_id)
        assert nc.status == "actions_planned"
        action_id = nc.actions[0].id
        # only the owner (or a keeper) marks it done
        assert login_as("a1_viewer").post(f"/t/{world.a1}/improvement/actions/{action_id}/complete").status_code == 403
        assert login_as("a1_auditor").post(f"/t/{world.a1}/improvement/actions/{action_id}/complete").status_code == 403
        mine = staff.get(f"/t/{world.a1}/improvement/actions/")
        assert "Bổ sung nhân sự một cửa" in mine.text
        too_long = staff.post(f"/t/{world.a1}/improvement/actions/{action_id}/complete",
                              data={"note": "x" * 5001}, follow_redirects=True)
        assert "{" not in too_long.text.split('class="alert', 1)[1].split("</div>", 1)[0]  # a sentence, not a dict
        assert staff.post(f"/t/{world.a1}/improvement/actions/{action_id}/complete",
                          data={"note": "Đã bổ sung"}).status_code == 302
        db.session.expire_all()
        assert db.session.get(Nonconformity, nc_id).status == "implemented"
        # the staff member may not verify; the QMR finds the action ineffective: reopened
        assert staff.post(f"{base}/verify", data={"effective": "1", "note": "x"}).status_code == 403
        assert qmr.post(f"{base}/verify", data={"effective": "0", "note": "Vẫn còn chậm"}).status_code == 302
        db.session.expire_all()
        nc = db.session.get(Nonconformity, nc_id)
        assert (nc.status, nc.reopened) == ("analysed", 1)
        assert qmr.post(f"{base}/close").status_code == 409
        secretary.post(f"{base}/actions", data={"description": "Phân công trực thay", "owner_id": str(staff_id),
                                                "due_on": FUTURE})
        db.session.expire_all()
        second = db.session.get(Nonconformity, nc_id).actions[1].id
        staff.post(f"/t/{world.a1}/improvement/actions/{second}/complete", data={"note": "Xong"})
        assert qmr.post(f"{base}/verify", data={"effective": "1", "note": "Không còn chậm"}).status_code == 302
        assert qmr.post(f"{base}/close").status_code == 302
        db.session.expire_all()
        nc = db.session.get(Nonconformity, nc_id)
        assert nc.status == "closed" and nc.closed_on == TODAY

    def test_overdue_actions_are_visible_and_counted(self, world, login_as, system_scope):
        from govqms.extensions import db

        secretary = login_as("a1_secretary")
        nc_id = self.raise_nc(secretary, world)
        base = f"/t/{world.a1}/improvement/nonconformities/{nc_id}"
        secretary.post(f"{base}/analysis", data={"root_cause": "Thiếu hướng dẫn"})
        secretary.post(f"{base}/actions", data={"description": "Viết hướng dẫn", "due_on": PAST,
                                                "owner_id": str(user_id(db, world, "a1_secretary"))})
        page = secretary.get(f"/t/{world.a1}/improvement/nonconformities/")
        assert 'data-testid="overdue-actions">1<' in page.text
        filtered = secretary.get(f"/t/{world.a1}/improvement/nonconformities/?overdue=1")
        assert "Trả kết quả chậm 2 ngày" in filtered.text


def test_risk_register_levels(world, login_as):
    client = login_as("a1_secretary")
    client.post(f"/t/{world.a1}/improvement/risks/new", data={"kind": "risk", "description": "Mất dữ liệu hồ sơ",
                                                              "likelihood": "3", "impact": "5"})
    client.post(f"/t/{world.a1}/improvement/risks/new", data={"kind": "opportunity", "description": "Số hóa",
                                                              "likelihood": "2", "impact": "2"})
    risk = {"kind": "risk", "description": "x", "likelihood": "6", "impact": "1"}
    assert client.post(f"/t/{world.a1}/improvement/risks/new", data=risk).status_code == 400
    page = client.get(f"/t/{world.a1}/improvement/risks/")
    assert page.text.index("Mất dữ liệu hồ sơ") < page.text.index("Số hóa")  # highest level first
    assert "15 ·" in page.text and "4 ·" in page.text


def test_staff_reads_but_does_not_manage(world, login_as):
    staff = login_as("a1_staff")
    for url in ("audits/", "improvement/nonconformities/", "improvement/risks/", "reviews/", "competence/"):
        assert staff.get(f"/t/{world.a1}/{url}").status_code == 200
    assert staff.get(f"/t/{world.a1}/audits/new").status_code == 403
    assert staff.post(f"/t/{world.a1}/improvement/nonconformities/new", data={}).status_code == 403
    assert staff.post(f"/t/{world.a1}/reviews/new", data={}).status_code == 403
    overseer = login_as("p1_overseer")
    assert overseer.get(f"/t/{world.a1}/reviews/").status_code == 200
    assert overseer.post(f"/t/{world.a1}/competence/qualifications", data={}).status_code == 403


def test_list_filters_come_typed_from_the_query_string(world, login_as, system_scope):
    from govqms.extensions import db

    secretary, staff = login_as("a1_secretary"), login_as("a1_staff")
    nc_id = TestCorrectiveActions().raise_nc(secretary, world)
    base = f"/t/{world.a1}/improvement"

    def listed(query: str) -> bool:
        return "Trả kết quả chậm 2 ngày" in secretary.get(f"{base}/nonconformities/?{query}").text

    assert listed("status=not_closed") and listed("status=open") and not listed("status=closed")
    assert listed("status=bogus") and listed("status=")  # a value that does not parse is as if not given
    assert not listed("overdue=1")
    assert secretary.get(f"{base}/nonconformities/?page=x&overdue=maybe").status_code == 200
    secretary.post(f"{base}/nonconformities/{nc_id}/analysis", data={"root_cause": "Thiếu hướng dẫn"})
    secretary.post(f"{base}/nonconformities/{nc_id}/actions", data={
        "description": "Soạn hướng dẫn một cửa", "due_on": FUTURE, "owner_id": str(user_id(db, world, "a1_staff"))})
    assert "Soạn hướng dẫn một cửa" not in secretary.get(f"{base}/actions/").text  # not the secretary's own
    assert "Soạn hướng dẫn một cửa" in secretary.get(f"{base}/actions/?all=1").text
    assert "Soạn hướng dẫn một cửa" in staff.get(f"{base}/actions/").text
    action_id = int(re.search(r"/actions/(\d+)/complete", staff.get(f"{base}/actions/").text).group(1))
    assert staff.post(f"{base}/actions/{action_id}/complete", data={"note": "Xong"}).status_code == 302
    assert "Soạn hướng dẫn một cửa" not in staff.get(f"{base}/actions/").text  # open ones only, by default
    assert "Soạn hướng dẫn một cửa" in staff.get(f"{base}/actions/?open=0").text
    # a step refused from the page goes back to it with the message (the app-wide handler)
    page = f"http://localhost{base}/nonconformities/{nc_id}"
    refused = secretary.post(f"{base}/nonconformities/{nc_id}/actions", headers={"Referer": page},
                             data={"description": "Thêm một việc", "due_on": FUTURE})
    assert refused.status_code == 303 and refused.location == page
    again = staff.post(f"{base}/actions/{action_id}/complete", data={"note": "Lần nữa"}, headers={"Referer": page})
    assert again.status_code == 303 and again.location == page
    with staff.session_transaction() as session:
        assert [category for category, _message in session["_flashes"]] == ["danger"]


def test_a_risk_is_edited_in_place(world, login_as, system_scope):
    from sqlalchemy import select

    from govqms.extensions import db
    from govqms.improvement.models import Risk

    client = login_as("a1_secretary")
    base = f"/t/{world.a1}/improvement/risks"
    assert client.post(f"{base}/new", data={"kind": "risk", "description": "Mất điện", "likelihood": "2",
                                            "impact": "2"}).status_code == 302
    risk = db.session.scalar(select(Risk).where(Risk.tenant_id == world.tenant_ids["a1"]))
    assert client.get(f"{base}/{risk.id}/edit").status_code == 200
    assert client.post(f"{base}/{risk.id}/edit", data={"kind": "risk", "description": "Mất điện kéo dài",
                                                       "likelihood": "4", "impact": "5"}).status_code == 302
    db.session.expire_all()
    risks = db.session.scalars(select(Risk).where(Risk.tenant_id == world.tenant_ids["a1"])).all()
    assert [(r.description, r.level) for r in risks] == [("Mất điện kéo dài", 20)]
