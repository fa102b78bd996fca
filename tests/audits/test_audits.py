"""Internal audits through the views: independence, trained teams, checklist, findings and report."""
from __future__ import annotations

import io
import re

from docx import Document as Docx
from sqlalchemy import select

from tests.competence.fixtures import PAST, plan_audit, user_id


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
        # issued by the agency in the format of ND 30/2020, signed by the lead auditor
        from tests.official.inspect_docx import assert_page_and_fonts, heading_block, signature_block

        assert_page_and_fonts(document)
        left, right = heading_block(document)
        assert "SỞ KHOA HỌC VÀ CÔNG NGHỆ MỘT" in left and "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in right
        assert "TRƯỞNG ĐOÀN ĐÁNH GIÁ" in signature_block(document)[1]
        assert "Kính gửi: Thủ trưởng Sở Khoa học và Công nghệ Một." in text


def test_checklist_results_and_an_archived_unit_still_named(world, login_as, auditors, system_scope):
    from govqms.audits.models import Audit
    from govqms.core.db import utcnow
    from govqms.extensions import db
    from govqms.tenancy.models import Unit

    client = login_as("a1_auditor")
    response = plan_audit(client, world, auditors["auditor"], [], [auditors["khtc"]])
    audit_id = int(re.search(r"/audits/(\d+)", response.location).group(1))
    first = db.session.get(Audit, audit_id).checklist[0].id
    saved = client.post(f"/t/{world.a1}/audits/{audit_id}/checklist",
                        data={f"result-{first}": "  Đạt  ", "result-x": "?", "result-²": "?", "result-": "?"})
    assert saved.status_code == 302
    db.session.expire_all()
    assert [i.result for i in db.session.get(Audit, audit_id).checklist] == ["Đạt", ""]
    # the unit audited is archived later: the audit still names it
    db.session.get(Unit, auditors["khtc"]).archived_at = utcnow()
    db.session.commit()
    assert "Phòng Kế hoạch - Tài chính" in client.get(f"/t/{world.a1}/audits/{audit_id}").text
    assert "Đánh giá nội bộ lần 1" in client.get(f"/t/{world.a1}/audits/").text
