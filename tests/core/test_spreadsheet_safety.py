"""Uploaded spreadsheets are judged before they are opened: a decompression bomb is refused from the
archive's directory without unpacking it, a sheet's declared size from its first KB, and rows are
counted as they are read; the pages that map the columns read only the first rows."""
from __future__ import annotations

import datetime as dt
import io
import time
import tracemalloc
import zipfile

import openpyxl
import openpyxl.reader.excel
import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet._reader import WorkSheetParser
from sqlalchemy import func, select

from govqms.core import spreadsheets
from govqms.core.spreadsheets import SpreadsheetRefused, check_spreadsheet, read_rows

SHEET = "xl/worksheets/sheet1.xml"
WORKSHEET = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'


def xlsx(book: Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def workbook(rows) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    return xlsx(book)


def with_sheet(head: bytes, row: bytes, count: int, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A real workbook whose first sheet holds *row* *count* times, written as a stream (never in memory)."""
    source = zipfile.ZipFile(io.BytesIO(workbook([["a"]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as archive:
        for name in source.namelist():
            if name != SHEET:
                archive.writestr(name, source.read(name))
                continue
            with archive.open(name, "w", force_zip64=True) as sheet:
                sheet.write(WORKSHEET + head + b"<sheetData>")
                step = min(count, 10_000)
                for _ in range(count // step):
                    sheet.write(row * step)
                sheet.write(b"</sheetData></worksheet>")
    return out.getvalue()


def openpyxl_rows(data: bytes) -> list[list]:
    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """About 100 KB that unpacks to a sheet of 1.5 million rows (39 MB of XML), as in the issue."""
    return with_sheet(b'<dimension ref="A1:K1500000"/>', b"<row><c><v>1</v></c></row>", 1_500_000)


@pytest.fixture
def unpacked(monkeypatch):
    """Bytes unpacked from each part of any archive, and a failure if openpyxl's loader is called."""
    seen: dict[str, int] = {}
    read = zipfile.ZipExtFile.read

    def counting(self, n=-1):
        data = read(self, n)
        seen[self.name] = seen.get(self.name, 0) + len(data)
        return data

    def forbidden(*args, **kwargs):
        raise AssertionError("openpyxl opened the workbook")

    monkeypatch.setattr(zipfile.ZipExtFile, "read", counting)
    monkeypatch.setattr(openpyxl, "load_workbook", forbidden)
    monkeypatch.setattr(openpyxl.reader.excel, "load_workbook", forbidden)
    return seen


def measured(call):
    """(result or refusal, seconds, peak MB of Python memory)."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        outcome = call()
    except SpreadsheetRefused as refused:
        outcome = refused
    finally:
        elapsed, peak = time.perf_counter() - started, tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
    return outcome, elapsed, peak


# --- the bomb ---------------------------------------------------------------------------------------

def test_the_bomb_is_small_and_really_unpacks_to_a_huge_sheet(bomb):
    assert len(bomb) < 150_000
    with zipfile.ZipFile(io.BytesIO(bomb)) as archive:
        assert archive.getinfo(SHEET).file_size > 35_000_000


@pytest.mark.parametrize("read", [
    lambda data: read_rows(data, "xlsx"),
    lambda data: read_rows(data, "xlsx", limit=30),
    lambda data: check_spreadsheet(data, "xlsx"),
], ids=["whole", "first rows", "upload check"])
def test_the_bomb_is_refused_before_anything_is_unpacked(bomb, unpacked, read, monkeypatch):
    monkeypatch.setattr(WorkSheetParser, "parse_cell", lambda *a: pytest.fail("a cell was read"))
    refused, elapsed, peak = measured(lambda: read(bomb))
    assert isinstance(refused, SpreadsheetRefused)
    assert "unpacks to 411 times its packed size" in str(refused)
    assert refused.errors[0].as_dict() == {"row": 0, "column": "", "message": str(refused)}
    assert unpacked == {}  # the archive's directory was enough: not one byte of any part unpacked
    assert elapsed < 3 and peak < 2, (elapsed, peak)  # a full walk takes seconds and hundreds of MB


def test_a_sheet_declaring_too_many_rows_is_refused_from_its_first_kilobytes(unpacked):
    rows = b"".join(b'<row r="%d"><c r="A%d"><v>%d</v></c></row>' % (n, n, n) for n in range(1, 5001))
    data = with_sheet(b'<dimension ref="A1:K1500000"/>', rows, 1)
    with pytest.raises(SpreadsheetRefused) as refused:
        read_rows(data, "xlsx", limit=30)
    assert str(refused.value) == "The file has more than 100000 rows; split it into several files."
    assert refused.value.errors[0].row == 100_001
    assert unpacked[SHEET] <= spreadsheets.HEAD_BYTES < len(rows)


def test_past_the_unpacked_size_limit_nothing_is_opened(unpacked, monkeypatch):
    monkeypatch.setattr(spreadsheets, "MAX_UNCOMPRESSED_BYTES", 4096)
    with pytest.raises(SpreadsheetRefused) as refused:
        check_spreadsheet(workbook([["Mã", "Tên"]] + [[f"1.{n}", "x" * 40] for n in range(200)]), "xlsx")
    assert str(refused.value).startswith("The workbook unpacks to")
    assert unpacked == {}


def test_an_archive_of_too_many_parts_is_refused_before_zipfile_lists_them(unpacked):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for n in range(spreadsheets.MAX_PARTS + 1):
            archive.writestr(f"x/{n}", b"")
    with pytest.raises(SpreadsheetRefused, match="more than 1000 parts"):
        read_rows(out.getvalue(), "xlsx")


# --- sizes found while reading ------------------------------------------------------------------------

def test_a_sheet_without_a_declared_size_is_counted_as_it_is_read(monkeypatch):
    """Stored, not compressed, so no ratio gives it away: 9 MB of 1.5 million empty rows.
    openpyxl's loader alone walks such a sheet to size it (6 s and 670 MB for 8 million rows)."""
    monkeypatch.setattr(spreadsheets, "MAX_ROWS", 20_000)
    data = with_sheet(b"", b"<row/>", 1_500_000, method=zipfile.ZIP_STORED)
    first, elapsed, peak = measured(lambda: read_rows(data, "xlsx", limit=30))
    assert first == [[]] * 30
    assert elapsed < 3 and peak < 3, (elapsed, peak)
    refused, elapsed, peak = measured(lambda: read_rows(data, "xlsx"))
    assert isinstance(refused, SpreadsheetRefused) and refused.errors[0].row == 20_001
    assert peak < 10, peak  # the sheet is walked in constant memory, the rows read so far kept


def test_a_jump_in_row_numbers_is_counted_too(monkeypatch):
    monkeypatch.setattr(spreadsheets, "MAX_ROWS", 1000)
    data = with_sheet(b"", b'<row r="1"><c r="A1"><v>1</v></c></row><row r="1048576"/>', 1)
    assert read_rows(data, "xlsx", limit=3) == [[1], [], []]
    with pytest.raises(SpreadsheetRefused) as refused:
        read_rows(data, "xlsx")
    assert refused.value.errors[0].row == 1001


def test_a_shared_string_far_past_the_limit_is_refused_without_reading_the_strings():
    data = with_sheet(b"", b'<row r="1"><c r="A1" t="s"><v>4999999</v></c></row>', 1)
    with pytest.raises(SpreadsheetRefused, match="could not be read"):
        read_rows(data, "xlsx", limit=30)


def test_too_many_columns():
    declared = with_sheet(b'<dimension ref="A1:XFD1"/>', b'<row r="1"><c r="A1"><v>1</v></c></row>', 1)
    with pytest.raises(SpreadsheetRefused, match="more than 64 columns"):
        check_spreadsheet(declared, "xlsx")
    found = with_sheet(b"", b'<row r="1"><c r="XFD1"><v>1</v></c></row>', 1)
    with pytest.raises(SpreadsheetRefused, match="more than 64 columns"):
        read_rows(found, "xlsx")
    many_cells = with_sheet(b'<dimension ref="A1:B1"/>', b"<row>" + b"<c/>" * 20_000 + b"</row>", 1)
    with pytest.raises(SpreadsheetRefused, match="could not be read"):
        read_rows(many_cells, "xlsx", limit=30)


def test_a_sheet_declaring_fewer_rows_than_it_holds_is_read_as_declared():
    """As openpyxl reads it; what matters here is that the rest is not unpacked."""
    data = with_sheet(b'<dimension ref="A1:A3"/>', b"<row><c><v>7</v></c></row>", 500_000,
                      method=zipfile.ZIP_STORED)
    rows, elapsed, _ = measured(lambda: read_rows(data, "xlsx"))
    assert rows == [[7], [7], [7]] and elapsed < 3


# --- ordinary files still read ----------------------------------------------------------------------

def test_a_small_workbook_reads_as_openpyxl_reads_it():
    book = Workbook()
    sheet = book.active
    sheet.append(["Kỳ báo cáo", "Mã TTHC", "Tiếp nhận", "Ngày", "Đúng hạn?", "Thời gian"])
    sheet.append(["01/2025", "1.001", 10, dt.datetime(2025, 1, 3), True, dt.timedelta(hours=5)])
    sheet.append([None, "1.002", 2.5, dt.date(2024, 2, 29), False, None])
    sheet["C6"] = "sau một dòng trống"
    book.create_sheet("Khác").append(["not read"])
    data = xlsx(book)
    rows = read_rows(data, "xlsx")
    assert rows == openpyxl_rows(data)
    assert rows[1][3] == dt.datetime(2025, 1, 3) and rows[4] == [None] * 6 and rows[5][2] == "sau một dòng trống"
    assert read_rows(data, "xlsx", limit=2) == rows[:2]


def test_a_workbook_without_a_declared_size_reads_as_openpyxl_reads_it():
    book = Workbook(write_only=True)  # openpyxl's streaming writer declares no size
    sheet = book.create_sheet("Dữ liệu")
    for row in (["Mã", "Tên"], ["1.001", "Thủ tục"], [], [None, None, 3]):
        sheet.append(row)
    data = xlsx(book)
    assert read_rows(data, "xlsx") == openpyxl_rows(data) == [["Mã", "Tên"], ["1.001", "Thủ tục"], [], [None, None, 3]]


def test_a_small_csv_reads():
    data = "Mã thủ tục;Tên thủ tục\n3.1;Chứng thực bản sao\n\n3.2;\"Có; dấu chấm phẩy\"\n".encode("utf-8-sig")
    assert read_rows(data, "csv") == [["Mã thủ tục", "Tên thủ tục"], ["3.1", "Chứng thực bản sao"], [],
                                      ["3.2", "Có; dấu chấm phẩy"]]
    assert read_rows(data, "csv", limit=2) == [["Mã thủ tục", "Tên thủ tục"], ["3.1", "Chứng thực bản sao"]]


def test_a_csv_over_the_row_limit_is_refused_at_the_first_row_past_it(monkeypatch):
    monkeypatch.setattr(spreadsheets, "MAX_ROWS", 50)
    data = ("Mã,Tên\n" + "".join(f"{n},x\n" for n in range(49))).encode()
    assert len(read_rows(data, "csv")) == 50
    with pytest.raises(SpreadsheetRefused) as refused:
        read_rows(data + b"49,x\n", "csv")
    assert refused.value.errors[0].row == 51 and "more than 50 rows" in str(refused.value)
    assert len(read_rows(data + b"49,x\n", "csv", limit=30)) == 30  # the first rows are still shown


def test_files_that_are_not_tables_are_refused_with_a_message():
    with pytest.raises(SpreadsheetRefused, match="not a readable XLSX workbook"):
        read_rows(b"MZ\x90\x00", "xlsx")
    with pytest.raises(SpreadsheetRefused, match="not UTF-8"):
        read_rows(b"a;b\n\xff\xfe;1\n", "csv")
    with pytest.raises(SpreadsheetRefused, match="could not be read"):
        read_rows(b"a;" + b"b" * (spreadsheets.MAX_LINE + 1) + b"\n", "csv")


# --- the settings and the pages -----------------------------------------------------------------------

def test_the_limits_are_settings(app, monkeypatch):
    assert app.config["IMPORT_MAX_ROWS"] == 100_000
    assert app.config["IMPORT_MAX_UNCOMPRESSED_BYTES"] == 50 * 1024 * 1024
    data = workbook([["Mã"]] + [[n] for n in range(5)])
    with app.app_context():
        monkeypatch.setitem(app.config, "IMPORT_MAX_ROWS", 3)
        with pytest.raises(SpreadsheetRefused) as refused:
            read_rows(data, "xlsx")
        assert refused.value.errors[0].row == 4
        monkeypatch.setitem(app.config, "IMPORT_MAX_ROWS", 100)
        monkeypatch.setitem(app.config, "IMPORT_MAX_UNCOMPRESSED_BYTES", 1024)
        with pytest.raises(SpreadsheetRefused, match="vượt mức cho phép"):  # in the app, in Vietnamese
            read_rows(data, "xlsx")


def jobs_of(tenant_id: int) -> int:
    from govqms.extensions import db
    from govqms.jobs.models import Job

    return db.session.scalar(select(func.count()).select_from(Job).where(Job.tenant_id == tenant_id))


def test_the_service_results_mapping_page_refuses_the_bomb(world, login_as, system_scope, bomb):
    import hashlib

    from govqms.core.storage import get_storage

    client = login_as("a1_secretary")
    before = jobs_of(world.tenant_ids["a1"])
    uploaded = client.post(f"/t/{world.a1}/performance/import", data={"file": (io.BytesIO(bomb), "ketqua.xlsx")},
                           content_type="multipart/form-data")
    assert uploaded.status_code == 400 and "lớn gấp 411 lần kích thước nén" in uploaded.text  # never stored
    # a file stored before the check existed: the mapping step refuses it too, before unpacking
    get_storage().put(world.tenant_ids["a1"], bomb)
    mapping = f"/t/{world.a1}/performance/import/{hashlib.sha256(bomb).hexdigest()}?ext=xlsx"
    page, elapsed, _ = measured(lambda: client.get(mapping, follow_redirects=True))
    assert page.status_code == 200 and page.request.path == f"/t/{world.a1}/performance/import"
    assert "lớn gấp 411 lần kích thước nén" in page.text  # in the user's language (Vietnamese)
    assert elapsed < 2, elapsed
    posted = client.post(mapping, data={"period_text": "09/2026", "received": "1"})
    assert posted.status_code == 302 and posted.location.endswith("/performance/import")
    assert jobs_of(world.tenant_ids["a1"]) == before  # nothing enqueued to unpack it later


def test_the_procedures_import_refuses_the_bomb_on_upload(world, login_as, system_scope, bomb):
    client = login_as("a1_secretary")
    before = jobs_of(world.tenant_ids["a1"])
    response = client.post(f"/t/{world.a1}/procedures/import", data={"file": (io.BytesIO(bomb), "tthc.xlsx")},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert "lớn gấp 411 lần kích thước nén" in response.text
    assert jobs_of(world.tenant_ids["a1"]) == before
