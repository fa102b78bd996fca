"""What an overseer sets for the official documents: the issuing body and signer, the narrative of the
reports, and templates replaced without code."""
from __future__ import annotations

import io

from docx import Document as Docx
from sqlalchemy import select

from govqms.core.clock import today
from tests.official.inspect_docx import all_text, open_docx
from tests.official.test_documents import make

YEAR = today().year


def _docx_bytes(doc) -> bytes:
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _default(client, world, kind="yearly"):
    response = client.get(f"/o/{world.p1}/official/templates/{kind}/default.docx")
    assert response.status_code == 200 and response.mimetype.endswith("wordprocessingml.document")
    return Docx(io.BytesIO(response.data))


def _upload(client, world, data: bytes, name="mau-bao-cao.docx", kind="yearly"):
    return client.post(f"/o/{world.p1}/official/templates/{kind}", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data", follow_redirects=True)


def test_the_settings_page_shows_the_defaults_and_saves_the_signer(world, login_as):
    client = login_as("p1_overseer")
    page = client.get(f"/o/{world.p1}/official/")
    assert page.status_code == 200
    assert "SỞ KHOA HỌC VÀ CÔNG NGHỆ" in page.text and "ỦY BAN NHÂN DÂN TỈNH MỘT" in page.text  # the defaults
    assert 'data-kind="inspection-minutes"' in page.text and "Mẫu 21 BBKT" in page.text
    bad = client.post(f"/o/{world.p1}/official/", data={"symbol": "S" * 41, "signer_name": "Trần Thị Ký"})
    assert bad.status_code == 400 and 'value="Trần Thị Ký"' in bad.text and "is-invalid" in bad.text
    assert client.post(f"/o/{world.p1}/official/", data={
        "name": "CHI CỤC TIÊU CHUẨN ĐO LƯỜNG CHẤT LƯỢNG", "signer_name": "Trần Thị Ký"}).status_code == 302
    doc = open_docx(make(client, world, "yearly", "docx").data)
    left = doc.tables[0].cell(0, 0).text
    assert "CHI CỤC TIÊU CHUẨN ĐO LƯỜNG CHẤT LƯỢNG" in left and "ỦY BAN NHÂN DÂN TỈNH MỘT" in left
    assert "Trần Thị Ký" in doc.tables[-1].cell(0, 1).text


def test_a_stale_settings_form_is_refused(world, login_as, system_scope):
    client = login_as("p1_overseer")
    assert client.post(f"/o/{world.p1}/official/", data={"signer_name": "A"}).status_code == 302
    from govqms.extensions import db
    from govqms.official.models import OfficialProfile

    profile = db.session.scalar(select(OfficialProfile))
    version = profile.version
    assert client.post(f"/o/{world.p1}/official/", data={"signer_name": "B", "version": version}).status_code == 302
    stale = client.post(f"/o/{world.p1}/official/", data={"signer_name": "C", "version": version})
    assert stale.status_code == 409 and 'value="C"' in stale.text


def test_the_narrative_form(world, login_as):
    client = login_as("p1_overseer")
    page = client.get(f"/o/{world.p1}/official/reports/inspection-summary/{YEAR}")
    assert page.status_code == 200 and 'name="assessment"' in page.text and 'name="direction"' not in page.text
    assert client.get(f"/o/{world.p1}/official/reports/yearly/{YEAR}").text.count('name="direction"') == 1
    assert client.get(f"/o/{world.p1}/official/reports/inspection-plan/{YEAR}").status_code == 404
    bad = client.post(f"/o/{world.p1}/official/reports/yearly/{YEAR}", data={
        "number": "1" * 41, "assessment": "Giữ lại nội dung này"})
    assert bad.status_code == 400 and "Giữ lại nội dung này" in bad.text
    done = client.post(f"/o/{world.p1}/official/reports/inspection-summary/{YEAR}", data={
        "assessment": "Đoàn kiểm tra đánh giá cao.", "recommendations": "Bổ sung kinh phí."})
    assert done.status_code == 302
    reports = client.get(f"/o/{world.p1}/reports/?year={YEAR}")
    assert "Narrative written" in reports.text or "Đã viết" in reports.text
    text = all_text(open_docx(make(client, world, "inspection-summary", "docx").data))
    assert "Đoàn kiểm tra đánh giá cao." in text and "Bổ sung kinh phí." in text
    assert "……" in text  # the difficulties were not written: a line to fill in by hand


def test_a_jurisdiction_replaces_a_template_without_code(world, login_as, system_scope):
    from govqms.extensions import db
    from govqms.official.models import DocumentTemplate

    client = login_as("p1_overseer")
    doc = _default(client, world)
    title = next(p for p in doc.paragraphs if p.text == "BÁO CÁO")
    title.runs[0].text = "BÁO CÁO TỔNG HỢP"
    doc.add_paragraph("Trưởng phòng: {{ issuer.unit_name }}")
    page = _upload(client, world, _docx_bytes(doc))
    assert page.status_code == 200 and "mau-bao-cao.docx" in page.text
    text = all_text(open_docx(make(client, world, "yearly", "docx").data))
    assert "BÁO CÁO TỔNG HỢP" in text and "Trưởng phòng: Chi cục Tiêu chuẩn Đo lường Chất lượng" in text
    current = client.get(f"/o/{world.p1}/official/templates/yearly/current.docx")
    assert "BÁO CÁO TỔNG HỢP" in all_text(open_docx(current.data))

    broken = _default(client, world)
    broken.add_paragraph("{{ issuer.name ")
    page = _upload(client, world, _docx_bytes(broken), name="hong.docx")
    assert "hong.docx" not in page.text and "mau-bao-cao.docx" in page.text
    assert "alert-danger" in page.text
    page = _upload(client, world, b"%PDF-1.7 not a template", name="gia.docx")
    assert "alert-danger" in page.text and "gia.docx" in page.text  # the refusal names the file
    assert "BÁO CÁO TỔNG HỢP" in all_text(open_docx(make(client, world, "yearly", "docx").data))

    confirm = client.get(f"/o/{world.p1}/official/templates/yearly/reset")
    assert confirm.status_code == 200 and "<form method=\"post\"" in confirm.text
    assert client.post(f"/o/{world.p1}/official/templates/yearly/reset").status_code == 302
    text = all_text(open_docx(make(client, world, "yearly", "docx").data))
    assert "BÁO CÁO TỔNG HỢP" not in text and "BÁO CÁO" in text
    kept = db.session.scalars(select(DocumentTemplate)).all()
    assert [(t.file_name, t.archived_at is not None) for t in kept] == [("mau-bao-cao.docx", True)]


def test_templates_are_the_jurisdictions_own(world, login_as):
    client = login_as("p1_overseer")
    doc = _default(client, world, "inspection-plan")
    doc.add_paragraph("Chỉ tỉnh Một")
    _upload(client, world, _docx_bytes(doc), kind="inspection-plan")
    other = login_as("p2_overseer")
    assert other.get(f"/o/{world.p1}/official/templates/inspection-plan/current.docx").status_code == 404
    mine = other.get(f"/o/{world.p2}/official/templates/inspection-plan/current.docx")
    assert mine.status_code == 200 and "Chỉ tỉnh Một" not in all_text(open_docx(mine.data))
    assert other.post(f"/o/{world.p1}/official/templates/inspection-plan/reset").status_code == 404
    assert client.get(f"/o/{world.p1}/official/templates/nothing/default.docx").status_code == 404
