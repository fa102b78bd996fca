"""Official documents in the format of ND 30/2020: the yearly report (annex II of QĐ 19/2014), the
November inspection summary, the inspection plan (Mẫu 19), opened as an official reads them."""
from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from govqms.core.clock import today
from tests.compliance.test_engine import populate
from tests.official.inspect_docx import (
    all_text,
    assert_page_and_fonts,
    bold_runs,
    column_widths_cm,
    heading_block,
    open_docx,
    rows,
    signature_block,
)

YEAR = today().year
#: Names whose code-point order is wrong: Vietnamese puts Nội before Nông, Ủy before Văn.
NAMES = ["Văn phòng Ủy ban nhân dân tỉnh Một", "Ủy ban nhân dân xã Hòa Bình", "Sở Nông nghiệp và Môi trường Một",
         "Sở Nội vụ Một", "Đài Phát thanh Một"]


def run_job(client, url: str, data: dict):
    response = client.post(url, data=data)
    assert response.status_code == 302, response.text[:500]
    status = client.get(response.location + "/status").get_json()
    assert status["status"] == "finished", status
    return client.get(response.location + "/download")


def make(client, world, kind: str, fmt: str, year: int = YEAR):
    return run_job(client, f"/o/{world.p1}/official/documents", {"year": year, "kind": kind, "fmt": fmt})


@pytest.fixture
def agencies(world, system_scope):
    """More agencies of province one, named to be misordered by code points, two of them with records."""
    from govqms.extensions import db
    from govqms.tenancy.models import Jurisdiction, Tenant

    p1 = db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == world.p1))
    added = [Tenant(slug=f"x{n}", name=name, kind="other_department", jurisdiction_id=p1.id)
             for n, name in enumerate(NAMES)]
    db.session.add_all(added)
    db.session.flush()
    populate(db, world.tenant_ids["a2"])
    populate(db, added[3].id)
    db.session.commit()
    return added


def expected_order(names):
    from govqms.core.text import sort_key

    return sorted(names, key=sort_key)


def test_yearly_report_is_an_administrative_document(world, login_as, agencies):
    from govqms.extensions import db
    from govqms.oversight.report import figures
    from govqms.tenancy.models import Jurisdiction

    client = login_as("p1_overseer")
    assert client.post(f"/o/{world.p1}/official/", data={
        "signer_capacity": "KT. GIÁM ĐỐC", "signer_title": "PHÓ GIÁM ĐỐC", "signer_name": "Nguyễn Văn Ký"}
    ).status_code == 302
    assert client.post(f"/o/{world.p1}/official/reports/yearly/{YEAR}", data={
        "number": "321", "assessment": "Các cơ quan duy trì tốt hệ thống.\nTỷ lệ công bố tăng.",
        "difficulties": "Thiếu cán bộ chuyên trách.", "recommendations": "Đề nghị Bộ ban hành hướng dẫn mới."}
    ).status_code == 302
    doc = open_docx(make(client, world, "yearly", "docx").data)
    assert_page_and_fonts(doc)
    left, right = heading_block(doc)
    assert "ỦY BAN NHÂN DÂN TỈNH MỘT" in left and "SỞ KHOA HỌC VÀ CÔNG NGHỆ" in left
    assert "Số: 321/BC-SKHCN" in left
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in right and "Độc lập - Tự do - Hạnh phúc" in right
    day = today()
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    assert f"Một, ngày {day.day:02d} tháng {month} năm {day.year}" in right
    text = all_text(doc)
    assert "BÁO CÁO" in bold_runs(doc)
    assert "Kính gửi: Bộ Khoa học và Công nghệ." in text
    assert "Căn cứ Quyết định số 19/2014/QĐ-TTg" in text and "Căn cứ Thông tư số 26/2014/TT-BKHCN" in text
    for section in ("I. TÌNH HÌNH TRIỂN KHAI", "III. ĐÁNH GIÁ CHUNG", "IV. KIẾN NGHỊ, ĐỀ XUẤT"):
        assert section in text
    assert "Các cơ quan duy trì tốt hệ thống." in text and "Tỷ lệ công bố tăng." in text
    assert "Đề nghị Bộ ban hành hướng dẫn mới." in text
    assert "GovQMS" not in text and "HTQLCL" not in text and "Mức tổng hợp" not in text
    recipients, signer = signature_block(doc)
    assert recipients.startswith("Nơi nhận:") and "Lưu: VT, TĐC." in recipients
    assert "KT. GIÁM ĐỐC" in signer and "PHÓ GIÁM ĐỐC" in signer and "Nguyễn Văn Ký" in signer

    p1 = db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == world.p1))
    expected = figures(p1, YEAR).counts
    figures_table, annex = doc.tables[1], doc.tables[2]
    assert column_widths_cm(figures_table) == [1.2, 9.8, 2.5, 3.0]
    body = rows(figures_table)
    assert body[0] == ["STT", "Nội dung", "Số lượng", "Tỷ lệ (%)"]
    assert [r[0] for r in body[1:]] == [str(n) for n in range(1, 10)]
    in_scope = expected["in_scope"]
    assert body[1][1] == "Số cơ quan, tổ chức thuộc đối tượng áp dụng" and body[1][2] == str(in_scope)
    declared = expected["declared"]
    assert body[2][2] == str(declared) and body[2][3] == f"{declared / in_scope * 100:.1f}%".replace(".", ",")
    assert [r[2] for r in body[4:6]] == [str(expected["audited_this_year"]), str(expected["reviewed_this_year"])]
    assert abs(sum(column_widths_cm(annex)) - 16.5) < 0.2
    names = [r[1] for r in rows(annex)[1:]]
    assert names == expected_order(names) and set(NAMES) <= set(names)
    assert names.index("Sở Nội vụ Một") < names.index("Sở Nông nghiệp và Môi trường Một")
    assert names.index("Ủy ban nhân dân xã Hòa Bình") < names.index("Văn phòng Ủy ban nhân dân tỉnh Một")
    noi_vu = next(r for r in rows(annex)[1:] if r[1] == "Sở Nội vụ Một")
    assert noi_vu[2] == "2015" and noi_vu[3] == "01/01/2022" and noi_vu[7] == "1"


def test_yearly_report_as_a_workbook(world, login_as, agencies):
    from govqms.extensions import db
    from govqms.oversight.report import figures
    from govqms.tenancy.models import Jurisdiction

    book = load_workbook(io.BytesIO(make(login_as("p1_overseer"), world, "yearly", "xlsx").data))
    numbers, annex = book.worksheets
    p1 = db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == world.p1))
    expected = figures(p1, YEAR).counts
    for sheet in (numbers, annex):
        assert str(sheet.page_setup.paperSize) == sheet.PAPERSIZE_A4  # 9: A4
        assert sheet["A1"].value == "ỦY BAN NHÂN DÂN TỈNH MỘT" and sheet["A2"].value == "SỞ KHOA HỌC VÀ CÔNG NGHỆ"
        assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in [c.value for c in sheet[1]]
        assert {c.font.name for row in sheet.iter_rows() for c in row if c.value is not None} == {"Times New Roman"}
        assert any(c.value == "Nơi nhận:" for row in sheet.iter_rows() for c in row)
    table = [row for row in numbers.iter_rows(min_row=8, values_only=True) if isinstance(row[0], int)]
    assert [row[0] for row in table] == list(range(1, 10))
    assert table[0][2] == expected["in_scope"] and table[1][2] == expected["declared"]
    assert table[1][3] == pytest.approx(expected["declared"] / expected["in_scope"])
    assert numbers.cell(row=9, column=4).number_format == "0.0%"
    assert numbers.column_dimensions["B"].width > numbers.column_dimensions["A"].width * 5
    names = [row[1] for row in annex.iter_rows(min_row=8, values_only=True) if isinstance(row[0], int)]
    assert names == expected_order(names) and set(NAMES) <= set(names)
    declared = [row[3] for row in annex.iter_rows(min_row=8, values_only=True) if row[1] == "Sở Nội vụ Một"]
    assert declared == [dt.datetime(2022, 1, 1)]


def _plan(client, world, *, decision: str = "125/QĐ-SKHCN", approved: str = "20/02/2026"):
    client.post(f"/o/{world.p1}/inspections/plan", data={"year": YEAR, "step": "create"})
    client.post(f"/o/{world.p1}/inspections/plan", data={"year": YEAR, "step": "decision",
                                                        "decision_number": decision, "approved_on": approved})


def test_inspection_summary_cites_the_plans_decision(world, login_as, agencies):
    from tests.inspections.test_inspections import inspection_of

    client = login_as("p1_overseer")
    _plan(client, world)
    a1 = inspection_of(world, "a1")
    day = today().strftime("%d/%m/%Y")
    client.post(f"/o/{world.p1}/inspections/{a1.id}/", data={"step": "planning", "form": "on_site",
                                                             "cost": "26000000", "version": a1.version})
    a1 = inspection_of(world, "a1")
    client.post(f"/o/{world.p1}/inspections/{a1.id}/", data={
        "step": "minutes", "held_on": day, "minutes_on": day, "signed": "true", "version": a1.version,
        "findings": "7.2: Thiếu hồ sơ đào tạo\nChưa cập nhật văn bản pháp luật"})
    doc = open_docx(make(client, world, "inspection-summary", "docx").data)
    assert_page_and_fonts(doc)
    text = all_text(doc)
    assert "Căn cứ Quyết định số 125/QĐ-SKHCN ngày 20/02/2026 của Sở Khoa học và Công nghệ phê duyệt Kế hoạch" in text
    assert "Kính gửi: Ủy ban nhân dân tỉnh Một." in text
    assert "Kinh phí kiểm tra: 26.000.000 đồng." in text
    figures = rows(doc.tables[1])
    planned = int(figures[1][2])
    assert planned == len(rows(doc.tables[2])) - 1
    assert figures[2][2] == "1" and figures[2][3] == f"{100 / planned:.1f}%".replace(".", ",")
    assert figures[6][1] == "Số điểm cần khắc phục đã phát hiện" and figures[6][2] == "2"
    lines = rows(doc.tables[2])[1:]
    names = [line[1] for line in lines]
    assert names == expected_order(names)
    a1_line = next(line for line in lines if line[1] == "Sở Khoa học và Công nghệ Một")
    assert a1_line[3] == day and a1_line[4] == "2"


def test_inspection_plan_mau_19(world, login_as, agencies):
    from tests.inspections.test_inspections import inspection_of

    client = login_as("p1_overseer")
    _plan(client, world)
    a2 = inspection_of(world, "a2")
    client.post(f"/o/{world.p1}/inspections/{a2.id}/", data={
        "step": "planning", "form": "on_site", "cost": "3500000", "planned_start": "17/10/2026",
        "planned_end": "18/10/2026", "inspecting_unit": "Phòng Tiêu chuẩn Đo lường Chất lượng", "version": a2.version})
    assert 'data-testid="plan-document"' in client.get(f"/o/{world.p1}/inspections/?year={YEAR}").text
    doc = open_docx(make(client, world, "inspection-plan", "docx").data)
    assert_page_and_fonts(doc)
    left, _right = heading_block(doc)
    assert "/KH-SKHCN" in left
    text = all_text(doc)
    assert "KẾ HOẠCH" in bold_runs(doc) and "Điều 36 Thông tư số 26/2014/TT-BKHCN" in text
    table = doc.tables[1]
    assert column_widths_cm(table) == [1.1, 4.3, 1.8, 2.6, 3.5, 2.0, 1.2]
    body = rows(table)
    assert body[0][:3] == ["STT", "Cơ quan được kiểm tra", "Hình thức kiểm tra"]
    lines, total = body[1:-1], body[-1]
    names = [line[1] for line in lines]
    assert names == expected_order(names) and set(NAMES) <= set(names)
    a2_line = next(line for line in lines if line[1] == "Sở Y tế Một")
    assert a2_line[3] == "17/10/2026 – 18/10/2026" and a2_line[4] == "Phòng Tiêu chuẩn Đo lường Chất lượng"
    assert a2_line[5] == "3.500.000"
    assert total[1] == "Tổng cộng" and total[5] == "3.500.000"
    assert f"kiểm tra tại cơ quan đối với 1 cơ quan ({100 / len(lines):.1f}%".replace(".", ",") in text
    book = load_workbook(io.BytesIO(make(client, world, "inspection-plan", "xlsx").data))
    sheet = book.worksheets[0]
    (line,) = [row for row in sheet.iter_rows(min_row=8) if row[1].value == "Sở Y tế Một"]
    assert line[5].value == 3500000 and line[5].number_format == "#,##0"
    # wrapped text gets the height of its lines (spreadsheets would draw it one line high)
    assert sheet.row_dimensions[line[0].row].height >= 2 * 15.5


def test_a_plan_document_needs_a_plan(world, login_as):
    response = login_as("p1_overseer").post(f"/o/{world.p1}/official/documents",
                                            data={"year": 2031, "kind": "inspection-plan", "fmt": "docx"})
    assert response.status_code == 302 and "/inspections/" in response.location


def test_documents_stay_in_their_jurisdiction(world, login_as):
    other = login_as("p2_overseer")
    assert other.post(f"/o/{world.p1}/official/documents", data={
        "year": YEAR, "kind": "yearly", "fmt": "docx"}).status_code == 404
    assert other.get(f"/o/{world.p1}/official/").status_code == 404
    assert other.get(f"/o/{world.p1}/official/reports/yearly/{YEAR}").status_code == 404
    assert login_as("a1_head").get(f"/o/{world.p1}/official/").status_code in (403, 404)
    own = login_as("p1_overseer")
    assert own.post(f"/o/{world.p1}/official/documents", data={
        "year": YEAR, "kind": "everything", "fmt": "pdf"}).status_code == 400


def test_command_line_makes_the_same_document_as_the_page(app, world, login_as, agencies, tmp_path):
    """``govqms report p1 yearly --year Y -o FILE`` writes what the page's button makes."""
    from govqms.reports.cli import report_command

    page = open_docx(make(login_as("p1_overseer"), world, "yearly", "docx").data)
    out = tmp_path / "bao-cao.docx"
    result = app.test_cli_runner().invoke(report_command, [world.p1, "yearly", "--year", str(YEAR), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert all_text(open_docx(out.read_bytes())) == all_text(page)
    sheet = tmp_path / "ke-hoach.xlsx"
    result = app.test_cli_runner().invoke(report_command, [world.p1, "inspection-plan", "--year", "2031",
                                                           "--format", "xlsx", "-o", str(sheet)])
    assert result.exit_code != 0 and "no inspection plan" in result.output and not sheet.exists()
    result = app.test_cli_runner().invoke(report_command, ["nowhere", "yearly", "-o", str(out)])
    assert result.exit_code != 0 and "no jurisdiction 'nowhere'" in result.output


def test_number_and_date_formats():
    from govqms.official.render import date_parts, number, percent

    assert number(26000000) == "26.000.000" and number(0) == "0" and number(None) == ""
    assert percent(0.857142) == "85,7%" and percent(None) == "" and percent(1) == "100,0%"
    assert date_parts(dt.date(2026, 2, 5)) == {"day": "05", "month": "02", "year": "2026"}
    assert date_parts(dt.date(2026, 11, 25)) == {"day": "25", "month": "11", "year": "2026"}


def test_an_inspections_documents(world, login_as, system_scope):
    """A paper inspection's request, an on-site inspection's decision (Mẫu 20) and minutes (Mẫu 21),
    from the inspection's page."""
    from tests.inspections.test_inspections import inspection_of
    from tests.official.inspect_docx import signature_block

    client = login_as("p1_overseer")
    _plan(client, world)
    a2 = inspection_of(world, "a2")
    page = client.get(f"/o/{world.p1}/inspections/{a2.id}/")
    assert 'value="report-request"' in page.text and 'value="inspection-decision"' not in page.text
    bad = client.post(f"/o/{world.p1}/inspections/{a2.id}/", data={
        "step": "request", "request_number": "88/SKHCN-TĐC", "request_on": "10/03/2026",
        "request_deadline": "01/03/2026", "version": a2.version})
    assert bad.status_code == 422 and 'value="88/SKHCN-TĐC"' in bad.text
    assert client.post(f"/o/{world.p1}/inspections/{a2.id}/", data={
        "step": "request", "request_number": "88/SKHCN-TĐC", "request_on": "10/03/2026",
        "request_deadline": "10/04/2026", "version": a2.version}).status_code == 302
    request_doc = open_docx(run_job(client, f"/o/{world.p1}/official/inspections/{a2.id}/document",
                                    {"kind": "report-request"}).data)
    assert_page_and_fonts(request_doc)
    left, right = heading_block(request_doc)
    assert "Số: 88/SKHCN-TĐC" in left and "V/v báo cáo tình hình áp dụng" in left
    assert "ngày 10 tháng 3 năm 2026" in right
    text = all_text(request_doc)
    assert "Kính gửi: Sở Y tế Một." in text and "trước ngày 10/04/2026" in text
    assert "Quyết định số 125/QĐ-SKHCN ngày 20/02/2026" in text

    a1 = inspection_of(world, "a1")
    assert client.post(f"/o/{world.p1}/inspections/{a1.id}/", data={
        "step": "planning", "form": "on_site", "cost": "0", "planned_start": "08/11/2026", "planned_end": "09/11/2026",
        "decision_number": "38/QĐ-SKHCN", "decision_on": "25/10/2026", "version": a1.version,
        "team": "Ông Nguyễn Văn Trưởng, Phó Chi cục trưởng - Trưởng đoàn\nBà Lê Thị Thành, chuyên viên"}
    ).status_code == 302
    page = client.get(f"/o/{world.p1}/inspections/{a1.id}/")
    assert 'value="inspection-decision"' in page.text and "Draft minutes" in page.text or "Dự thảo" in page.text
    decision = open_docx(run_job(client, f"/o/{world.p1}/official/inspections/{a1.id}/document",
                                 {"kind": "inspection-decision"}).data)
    assert_page_and_fonts(decision)
    assert "Số: 38/QĐ-SKHCN" in heading_block(decision)[0]
    text = all_text(decision)
    assert "QUYẾT ĐỊNH:" in text and "GIÁM ĐỐC SỞ KHOA HỌC VÀ CÔNG NGHỆ" in text
    assert "tại Sở Khoa học và Công nghệ Một, từ ngày 08/11/2026 đến ngày 09/11/2026." in text
    assert "- Ông Nguyễn Văn Trưởng, Phó Chi cục trưởng - Trưởng đoàn" in text
    a1 = inspection_of(world, "a1")
    assert client.post(f"/o/{world.p1}/inspections/{a1.id}/", data={
        "step": "minutes", "held_on": "09/11/2026", "minutes_on": "09/11/2026", "signed": "true",
        "version": a1.version, "check-training": "not_met", "note-training": "Chưa tập huấn công chức mới",
        "check-scope": "met", "findings": "7.2: Chưa đào tạo công chức mới", "conclusion": "Cơ bản duy trì."}
    ).status_code == 302
    minutes = open_docx(run_job(client, f"/o/{world.p1}/official/inspections/{a1.id}/document",
                                {"kind": "inspection-minutes"}).data)
    assert_page_and_fonts(minutes)
    table = rows(minutes.tables[1])
    assert table[0][0] == "STT" and [r[0] for r in table[1:]] == [str(n) for n in range(1, len(table))]
    by_label = {r[1]: r for r in table[1:]}
    training = next(r for label, r in by_label.items() if "đào tạo" in label)
    assert training[2] == "Không đạt" and training[3] == "Chưa tập huấn công chức mới"
    text = all_text(minutes)
    assert "1. 7.2: Chưa đào tạo công chức mới" in text and "Cơ bản duy trì." in text
    assert "Thực hiện Quyết định số 38/QĐ-SKHCN ngày 25/10/2026" in text and "trước ngày 09/01/2027" in text
    agency_side, team_side = signature_block(minutes)
    assert "ĐẠI DIỆN CƠ QUAN ĐƯỢC KIỂM TRA" in agency_side
    assert "TRƯỞNG ĐOÀN KIỂM TRA" in team_side and "Ông Nguyễn Văn Trưởng" in team_side
    # another province's overseer reaches none of it
    other = login_as("p2_overseer")
    assert other.post(f"/o/{world.p2}/official/inspections/{a1.id}/document",
                      data={"kind": "inspection-minutes"}).status_code == 404
    assert client.post(f"/o/{world.p1}/official/inspections/{a1.id}/document",
                       data={"kind": "yearly"}).status_code == 302  # refused on the page, nothing queued


def test_a_job_queued_with_the_former_kinds_still_runs(world, system_scope):
    """Jobs recorded before the documents were official ones named their kinds "annual" and
    "inspections"; run again, they make the yearly report and the summary."""
    from govqms.accounts.models import User
    from govqms.extensions import db
    from govqms.jobs.services import enqueue
    from govqms.tenancy.models import Jurisdiction

    p1 = db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == world.p1))
    overseer = db.session.scalar(select(User.id).where(User.email == world.email("p1_overseer")))
    for former, name in (("annual", "bao-cao-nam"), ("inspections", "tong-hop-kiem-tra")):
        job = enqueue("oversight.yearly_report", tenant_id=None, user_id=overseer, jurisdiction_id=p1.id, year=YEAR,
                      kind=former, fmt="docx", locale="vi")
        db.session.refresh(job)
        assert job.status == "finished" and job.result_name == f"{name}-p1-{YEAR}.docx"
