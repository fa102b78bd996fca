"""The yearly report (December, to MOST) and the inspection summary (November), as DOCX and XLSX jobs."""
from __future__ import annotations

import io

from docx import Document as Docx
from openpyxl import load_workbook

from govqms.core.clock import today
from tests.compliance.test_engine import populate

YEAR = today().year


def make(client, world, kind, fmt):
    response = client.post(f"/o/{world.p1}/reports/make", data={"year": YEAR, "kind": kind, "fmt": fmt})
    assert response.status_code == 302
    status = client.get(response.location + "/status").get_json()
    assert status["status"] == "finished" and status["progress"] == 100, status
    return client.get(response.location + "/download")


def test_figures_page_and_annual_report(world, login_as, system_scope):
    from govqms.extensions import db

    populate(db, world.tenant_ids["a2"])
    populate(db, world.tenant_ids["b1"])  # another province: never counted here
    db.session.commit()
    client = login_as("p1_overseer")
    page = client.get(f"/o/{world.p1}/reports/?year={YEAR}")
    assert 'data-figure="in_scope">2<' in page.text and 'data-figure="declared">1<' in page.text
    assert 'data-figure="confirmed_this_year">1<' in page.text
    docx = Docx(io.BytesIO(make(client, world, "annual", "docx").data))
    text = "\n".join(p.text for p in docx.paragraphs)
    cells = [c.text for t in docx.tables for row in t.rows for c in row.cells]
    assert "Tỉnh Một".upper() in text
    assert "Sở Y tế Một" in cells and "Sở Khoa học và Công nghệ Hai" not in cells
    book = load_workbook(io.BytesIO(make(client, world, "annual", "xlsx").data))
    figures = {row[0]: row[1] for row in book.worksheets[0].iter_rows(values_only=True) if row and len(row) > 1}
    assert 2 in figures.values() and 1 in figures.values()
    names = [row[0] for row in book.worksheets[1].iter_rows(min_row=2, values_only=True)]
    assert sorted(names) == ["Sở Khoa học và Công nghệ Một", "Sở Y tế Một"]


def test_inspection_summary_counts_the_years_inspections(world, login_as, system_scope):
    client = login_as("p1_overseer")
    client.post(f"/o/{world.p1}/inspections/plan", data={"year": YEAR, "step": "create"})
    from tests.inspections.test_inspections import inspection_of

    a1 = inspection_of(world, "a1")
    day = today().strftime("%d/%m/%Y")
    client.post(f"/o/{world.p1}/inspections/{a1.id}/", data={"step": "planning", "form": "on_site", "cost": "0"})
    client.post(f"/o/{world.p1}/inspections/{a1.id}/", data={
        "step": "minutes", "held_on": day, "minutes_on": day, "signed": "true",
        "findings": "Thiếu hồ sơ\nChưa đào tạo"})
    book = load_workbook(io.BytesIO(make(client, world, "inspections", "xlsx").data))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    values = [row[1] for row in rows[3:]]  # after the jurisdiction, the title and a blank line
    assert values[:5] == [2, 1, 0, 1, 2]  # planned, planned on site, on paper, on site, findings
    detail = list(book.worksheets[1].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[3]) for r in detail if r[3]] == [("Sở Khoa học và Công nghệ Một", 2)]


def test_reports_stay_in_the_jurisdiction(world, login_as):
    assert login_as("p2_overseer").post(f"/o/{world.p1}/reports/make", data={
        "year": YEAR, "kind": "annual", "fmt": "docx"}).status_code == 404
    assert login_as("p1_overseer").post(f"/o/{world.p1}/reports/make", data={
        "year": YEAR, "kind": "everything", "fmt": "pdf"}).status_code == 400
