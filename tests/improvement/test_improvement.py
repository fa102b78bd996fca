"""Audits, nonconformities and corrective actions, risks, management reviews, competence — through the views."""
from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from docx import Document as Docx
from sqlalchemy import select

from govqms.core.clock import today

TODAY = today()  # the app's day: Vietnam's date, not the machine's
PAST = (TODAY - dt.timedelta(days=10)).strftime("%d/%m/%Y")
FUTURE = (TODAY + dt.timedelta(days=30)).strftime("%d/%m/%Y")


def user_id(db, world, handle):
    from govqms.accounts.models import User

    return db.session.scalar(select(User.id).where(User.email == world.email(handle)))


@pytest.fixture
def auditors(world, login_as, system_scope):
    """a1_auditor and a1_qmr are trained internal auditors; they work in units VP and KHTC."""
    from govqms.extensions import db

    secretary = login_as("a1_secretary")
    vp, khtc = world.unit_ids["a1"]
    for handle, unit in (("a1_auditor", vp), ("a1_qmr", khtc)):
        uid = user_id(db, world, handle)
        assert secretary.post(f"/t/{world.a1}/competence/profiles",
                              data={"user_id": uid, "unit_id": unit, "job_title": "Chuyên viên"}).status_code == 302
        assert secretary.post(f"/t/{world.a1}/competence/qualifications", data={
            "user_id": uid, "kind": "internal_auditor", "course": "Đánh giá viên nội bộ ISO 9001:2015",
            "completed_on": "01/06/2024", "certificate": "ĐGV-01"}).status_code == 302
    return {"auditor": user_id(db, world, "a1_auditor"), "qmr": user_id(db, world, "a1_qmr"), "vp": vp, "khtc": khtc}


def plan_audit(client, world, lead, team, units, **extra):
    data = {"year": str(TODAY.year), "title": "Đánh giá nội bộ lần 1", "planned_start": PAST, "planned_end": PAST,
            "lead_auditor_id": str(lead), "team_ids": [str(t) for t in team], "unit_ids": [str(u) for u in units],
            "clauses": ["7.5", "9.2"]}
    data.update(extra)
    return client.post(f"/t/{world.a1}/audits/new", data=data)


class TestAudits:
    def test_no_one_audits_their_own_unit(self, world, login_as, auditors):
        client = login_as("a1_auditor")
        refused = plan_audit(client, world, auditors["auditor"], [auditors["qmr"]], [auditors["vp"]])
        assert refused.status_code == 400
        assert "A1 Auditor không được đánh giá đơn vị của chính mình." in refused.text
        ok = plan_audit(client, world, auditors["auditor"], [auditors["qmr"]], [])  # processes only is refused too
        assert ok.status_code == 400

    def test_only_trained_auditors_on_the_team(self, world, login_as, auditors, system_scope):
        from govqms.extensions import db

        head = user_id(db, world, "a1_head")
        refused = plan_audit(login_as("a1_auditor"), world, auditors["auditor"], [head], [auditors["khtc"]])
        assert refused.status_code == 400

    def test_checklist_findings_and_report(self, world, login_as, auditors, system_scope):
        from govqms.audits.models import Audit
        from govqms.extensions import db
        from govqms.improvement.models import Nonconformity

        client = login_as("a1_auditor")
        # the auditor works in VP and audits KHTC: independent
        response = plan_audit(client, world, auditors["auditor"], [], [auditors["khtc"]])
        assert response.status_code == 302
        audit_id = int(re.search(r"/audits/(\d+)", response.location).group(1))
        audit = db.session.get(Audit, audit_id)
        assert [i.clause for i in audit.checklist] == ["7.5", "9.2"]
        assert "Thông tin dạng văn bản" in audit.checklist[0].question
        finding = client.post(f"/t/{world.a1}/audits/{audit_id}/findings", data={
            "type": "minor_nc", "clause": "7.5", "unit_id": str(auditors["khtc"]),
            "description": "Hồ sơ lưu trữ không đúng quy định", "evidence": "Sổ theo dõi văn bản năm 2025"})
        assert finding.status_code == 302
        client.post(f"/t/{world.a1}/audits/{audit_id}/findings", data={"type": "strength", "description": "Tốt"})
        nc = db.session.scalar(select(Nonconformity).where(Nonconformity.tenant_id == world.tenant_ids["a1"]))
        assert (nc.source, nc.severity, nc.clause, nc.unit_id) == ("internal_audit", "minor_nc", "7.5",
                                                                  auditors["khtc"])
        outside = client.post(f"/t/{world.a1}/audits/{audit_id}/findings", data={
            "type": "observation", "unit_id": str(auditors["vp"]), "description": "x"})
        assert outside.status_code == 400  # a unit outside the scope
        client.post(f"/t/{world.a1}/audits/{audit_id}/report", data={"actual_start": PAST, "actual_end": PAST,
                                                                      "conclusion": "Hệ thống vận hành phù hợp."})
        db.session.refresh(audit)
        assert audit.status == "reported"
        assert client.post(f"/t/{world.a1}/audits/{audit_id}/findings",
                           data={"type": "strength", "description": "muộn"}).status_code == 409
        # the report as DOCX, with the findings and their diacritics
        job = client.post(f"/t/{world.a1}/audits/{audit_id}/docx").location
        document = Docx(io.BytesIO(client.get(job + "/download").data))
        text = "\n".join(p.text for p in document.paragraphs) + "\n".join(
            c.text for t in document.tables for row in t.rows for c in row.cells)
        assert "Hồ sơ lưu trữ không đúng quy định" in text and "Hệ thống vận hành phù hợp." in text
        assert "Điểm mạnh" in text  # the finding kinds, in the user's language


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


class TestManagementReview:
    def test_inputs_match_the_pages_and_minutes(self, world, login_as, auditors, system_scope):
        from govqms.extensions import db
        from govqms.reviews.models import ManagementReview

        secretary, head = login_as("a1_secretary"), login_as("a1_head")
        # an internal audit of the year with one minor nonconformity, reported
        last_year = f"15/06/{TODAY.year - 1}"
        audit = plan_audit(login_as("a1_auditor"), world, auditors["auditor"], [], [auditors["khtc"]],
                           year=str(TODAY.year - 1), planned_start=last_year, planned_end=last_year).location
        login_as("a1_auditor").post(f"{audit}/findings", data={"type": "minor_nc", "description": "Thiếu hồ sơ"})
        login_as("a1_auditor").post(f"{audit}/report", data={"actual_start": last_year, "actual_end": last_year,
                                                             "conclusion": "Phù hợp"})
        # objectives of the year: one met, one missed so far
        for statement, value in (("Mục tiêu đạt", 100), ("Mục tiêu chưa đạt", 80)):
            response = secretary.post(f"/t/{world.a1}/objectives/new", data={
                "year": str(TODAY.year - 1), "statement": statement, "indicator": "x", "comparator": ">=",
                "target": "100", "frequency": "year", "source": "typed"})
            oid = int(re.search(r"/objectives/(\d+)", response.location).group(1))
            secretary.post(f"/t/{world.a1}/objectives/{oid}/measurements", data={"period_index": "1",
                                                                                 "value": str(value)})
        # one more nonconformity, with an overdue action
        nc = secretary.post(f"/t/{world.a1}/improvement/nonconformities/new", data={
            "source": "self_found", "found_on": PAST, "description": "Thiếu chữ ký"}).location
        secretary.post(f"{nc}/analysis", data={"root_cause": "Quên"})
        secretary.post(f"{nc}/actions", data={"description": "Bổ sung", "due_on": PAST})
        response = secretary.post(f"/t/{world.a1}/reviews/new", data={
            "year": str(TODAY.year - 1), "meeting_on": PAST, "chair": "Nguyễn Văn Giám Đốc",
            "attendees": "Lãnh đạo, các trưởng phòng"})
        review_id = int(re.search(r"/reviews/(\d+)", response.location).group(1))
        review = db.session.get(ManagementReview, review_id)
        objectives_page = secretary.get(f"/t/{world.a1}/objectives/?year={TODAY.year - 1}")
        assert review.inputs["objectives"]["total"] == 2
        assert review.inputs["objectives"]["on_track"] == objectives_page.text.count(">Đúng tiến độ<") == 1
        assert review.inputs["objectives"]["missed"] == objectives_page.text.count(">Không đạt<") == 1
        actions_page = secretary.get(f"/t/{world.a1}/improvement/nonconformities/")
        overdue = int(re.search(r'data-testid="overdue-actions">(\d+)<', actions_page.text).group(1))
        open_ncs = int(re.search(r'data-testid="open-ncs">(\d+)<', actions_page.text).group(1))
        assert (review.inputs["nonconformities"]["overdue_actions"], review.inputs["nonconformities"]
                ["open_nonconformities"]) == (overdue, open_ncs) == (1, 2)
        audits_page = secretary.get(f"/t/{world.a1}/audits/?year={TODAY.year - 1}")
        assert review.inputs["audits"]["planned"] == audits_page.text.count('data-testid="audit-row"') == 1
        findings = sum(int(n) for n in re.findall(r'data-testid="findings">(\d+)<', audits_page.text))
        assert sum(review.inputs["audits"]["findings"].values()) == findings == 1
        assert review.inputs["audits"]["findings"]["minor_nc"] == 1 and review.inputs["audits"]["reported"] == 1
        # the meeting: notes, a decision with its action, and the head's confirmation
        page = secretary.get(f"/t/{world.a1}/reviews/{review_id}")
        assert "Mục tiêu chưa đạt" in page.text
        secretary.post(f"/t/{world.a1}/reviews/{review_id}/notes", data={
            "note-objectives": "Cần tăng cường", "conclusion": "Hệ thống phù hợp và hiệu lực."})
        secretary.post(f"/t/{world.a1}/reviews/{review_id}/decisions", data={
            "category": "resources", "description": "Bổ sung máy quét cho bộ phận một cửa",
            "owner_id": str(user_id(db, world, "a1_secretary")), "due_on": FUTURE})
        assert secretary.post(f"/t/{world.a1}/reviews/{review_id}/confirm").status_code == 403
        assert head.post(f"/t/{world.a1}/reviews/{review_id}/confirm").status_code == 302
        db.session.refresh(review)
        assert review.effectiveness_confirmed and review.confirmed_on == TODAY
        assert secretary.post(f"/t/{world.a1}/reviews/{review_id}/recompile").status_code == 403
        job = secretary.post(f"/t/{world.a1}/reviews/{review_id}/docx").location
        document = Docx(io.BytesIO(secretary.get(job + "/download").data))
        text = "\n".join(p.text for p in document.paragraphs) + "\n".join(
            c.text for t in document.tables for row in t.rows for c in row.cells)
        for expected in ("Bổ sung máy quét cho bộ phận một cửa", "Nguyễn Văn Giám Đốc", "Cần tăng cường",
                         "Hệ thống phù hợp và hiệu lực.", "Mục tiêu chưa đạt"):
            assert expected in text

    def test_previous_review_actions_are_an_input(self, world, login_as, system_scope):
        from govqms.extensions import db
        from govqms.reviews.models import ManagementReview

        secretary = login_as("a1_secretary")
        first = secretary.post(f"/t/{world.a1}/reviews/new", data={
            "year": "2024", "meeting_on": "15/12/2024", "chair": "A"}).location
        secretary.post(f"{first}/decisions", data={"category": "improvement", "description": "Cải tiến",
                                                   "due_on": "01/03/2025"})
        second = secretary.post(f"/t/{world.a1}/reviews/new", data={
            "year": "2025", "meeting_on": "15/12/2025", "chair": "A"}).location
        review = db.session.get(ManagementReview, int(second.rsplit("/", 1)[-1]))
        assert review.inputs["previous_actions"] == {"review": "2024-12-15", "total": 1, "done": 0, "open": 1,
                                                     "overdue": 1}


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
