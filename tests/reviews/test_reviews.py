"""Management reviews through the views: inputs as the pages show them, minutes, previous actions."""
from __future__ import annotations

import io
import re

from docx import Document as Docx

from tests.competence.fixtures import FUTURE, PAST, TODAY, plan_audit, user_id


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
        from tests.official.inspect_docx import assert_page_and_fonts, heading_block, signature_block

        assert_page_and_fonts(document)
        assert "SỞ KHOA HỌC VÀ CÔNG NGHỆ MỘT" in heading_block(document)[0]
        secretary_side, chair_side = signature_block(document)
        assert "THƯ KÝ" in secretary_side and "CHỦ TRÌ" in chair_side
        assert "Thủ trưởng cơ quan xác nhận Hệ thống quản lý chất lượng được duy trì và có hiệu lực" in text

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


def test_a_refused_step_says_why_and_changes_nothing(world, login_as, system_scope):
    """Confirming before the meeting is held: the one refusal path answers, with the reason, and a
    browser coming from the review's page goes back to it with the message."""
    from govqms.extensions import db
    from govqms.reviews.models import ManagementReview

    secretary, head = login_as("a1_secretary"), login_as("a1_head")
    response = secretary.post(f"/t/{world.a1}/reviews/new", data={
        "year": str(TODAY.year), "meeting_on": FUTURE, "chair": "Nguyễn Văn Giám Đốc",
        "attendees": "Lãnh đạo"})
    review_url = response.location
    refused = head.post(f"{review_url}/confirm")
    assert refused.status_code == 409
    assert "Chỉ xác nhận hiệu lực sau khi cuộc xem xét của lãnh đạo đã họp." in refused.text
    back = head.post(f"{review_url}/confirm", headers={"Referer": f"http://localhost{review_url}"})
    assert back.status_code == 303 and back.location.endswith(review_url)
    assert "Chỉ xác nhận hiệu lực sau khi cuộc xem xét của lãnh đạo đã họp." in head.get(review_url).text
    review = db.session.get(ManagementReview, int(re.search(r"/reviews/(\d+)", review_url).group(1)))
    assert not review.effectiveness_confirmed and review.confirmed_on is None
