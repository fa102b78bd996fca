"""The one-stop reporting form as agencies receive it: a title block with the period, two merged header
rows, the column numbers, field headings, a total row and a signature block, all read as a person
would, checked, and stored for its period, all or nothing."""
from __future__ import annotations

import datetime as dt
import io

import pytest
from flask_babel import force_locale
from openpyxl import Workbook
from sqlalchemy import func, select

FIELDS = [("Lĩnh vực Đất đai", [("1.001", 20, 5, 10, 2, 3), ("1.002", 14, 2, 9, 1, 2)]),
          ("Lĩnh vực Hộ tịch", [("2.001", 40, 10, 25, 0, 5)])]


def report_form(fields=FIELDS, title_period="Kỳ báo cáo: từ ngày 15/06/2026 đến ngày 14/09/2026",
                total=None, by_procedure=True) -> bytes:
    """A quarterly report as the province's form lays it out."""
    book = Workbook()
    ws = book.active
    ws.append(["ỦY BAN NHÂN DÂN TỈNH KHÁNH HÒA", None, None, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"])
    ws.append(["SỞ TƯ PHÁP", None, None, "Độc lập - Tự do - Hạnh phúc"])
    ws.append([None, None, None, "Khánh Hòa, ngày 15 tháng 9 năm 2026"])
    ws.append(["BÁO CÁO TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH"])
    ws.merge_cells("A4:J4")
    ws.append([title_period])
    ws.merge_cells("A5:J5")
    ws.append([])
    # two header rows: groups merged across their columns, single columns merged down
    ws.append(["STT", "Lĩnh vực, thủ tục hành chính", "Mã TTHC", "Số hồ sơ nhận giải quyết", None,
               "Kết quả giải quyết", None, None, "Số hồ sơ đang giải quyết", None])
    ws.append([None, None, None, "Tổng số", "Trong đó: trực tuyến", "Trước hạn", "Đúng hạn", "Quá hạn",
               "Chưa đến hạn", "Quá hạn"])
    for cells in ("A7:A8", "B7:B8", "C7:C8", "D7:E7", "F7:H7", "I7:J7"):
        ws.merge_cells(cells)
    ws.append([f"({n})" for n in range(1, 11)])
    sums = [0] * 5
    for roman, (field, procedures) in zip(("I", "II", "III"), fields, strict=False):
        group = [sum(p[k] for p in procedures) for k in range(1, 6)]
        # pending: the form splits it into not yet due and overdue
        ws.append([roman, field, None, group[0], 0, group[1], group[2], group[3], group[4], 0])
        for n, (code, received, early, on_time, late, pending) in enumerate(procedures, start=1):
            ws.append([n, f"Thủ tục {code}", code if by_procedure else None, received, 0, early, on_time, late,
                       pending, 0])
            sums = [a + b for a, b in zip(sums, (received, early, on_time, late, pending), strict=True)]
    figures = total or sums
    ws.append([None, "Tổng cộng", None, figures[0], 0, figures[1], figures[2], figures[3], figures[4], 0])
    ws.append([])
    ws.append([None, "Người lập biểu", None, None, None, None, "THỦ TRƯỞNG ĐƠN VỊ"])
    ws.append([None, "(Ký, ghi rõ họ tên)", None, None, None, None, "(Ký tên, đóng dấu)"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def tenant_results(db, tenant_id):
    from govqms.performance.models import ServiceResult

    return db.session.scalars(select(ServiceResult).where(ServiceResult.tenant_id == tenant_id)
                              .order_by(ServiceResult.procedure_code)).all()


@pytest.fixture
def a1(world, system_scope):
    return world.tenant_ids["a1"]


def test_the_form_is_read_as_a_person_reads_it(app, a1):
    from govqms.extensions import db
    from govqms.performance import services

    with app.test_request_context(), force_locale("en"):
        outcome = services.import_service_results(a1, report_form(), "xlsx")
    assert outcome.layout.header_rows == [6, 7]  # rows 7 and 8 of the sheet
    mapping = outcome.layout.mapping
    assert (mapping["received"], mapping["resolved_early"], mapping["resolved_late"]) == (3, 5, 7)
    assert (mapping["pending_not_due"], mapping["pending_overdue"]) == (8, 9)  # "Quá hạn" twice, told apart by group
    period = outcome.periods[0]
    assert (period.year, period.first_month, period.last_month) == (2026, 7, 9)  # the third quarter
    assert (period.start, period.end) == (dt.date(2026, 6, 15), dt.date(2026, 9, 14))
    stored = tenant_results(db, a1)
    assert [(r.procedure_code, r.field, r.received, r.resolved_late) for r in stored] == [
        ("1.001", "Lĩnh vực Đất đai", 20, 2), ("1.002", "Lĩnh vực Đất đai", 14, 1),
        ("2.001", "Lĩnh vực Hộ tịch", 40, 0)]
    assert outcome.totals["received"] == 74  # the total row was checked, not stored: 154 never became 308
    reasons = {s.row: s.reason for s in outcome.skipped}
    assert "column numbers" in reasons[9]
    assert "field heading" in reasons[10] and "field heading" in reasons[13]
    assert "total row" in reasons[15]
    assert "signature" in reasons[17] and "signature" in reasons[18]


def test_a_bad_total_and_a_negative_count_are_named_and_nothing_is_stored(app, a1):
    from govqms.core.imports import ImportRefused
    from govqms.extensions import db
    from govqms.performance import services

    fields = [("Lĩnh vực Đất đai", [("1.001", 20, 5, 10, 2, 3), ("1.002", 14, 2, -9, 1, 2)])]
    with app.test_request_context(), force_locale("en"), pytest.raises(ImportRefused) as refused:
        services.import_service_results(a1, report_form(fields, total=[999, 7, 1, 3, 5]), "xlsx")
    problems = {(e.row, e.column): e.message for e in refused.value.errors}
    assert any(row == 12 and "Đúng hạn" in column and "negative" in message
               for (row, column), message in problems.items()), problems
    assert any(row == 13 and "Số hồ sơ nhận giải quyết" in column and "999" in message
               for (row, column), message in problems.items()), problems
    assert tenant_results(db, a1) == []


def test_resolved_must_add_up_and_received_cover_resolved_and_pending(app, a1):
    from govqms.core.imports import ImportRefused
    from govqms.performance import services

    fields = [("Lĩnh vực Đất đai", [("1.001", 10, 5, 10, 2, 3)])]  # received 10 < 5 + 10 + 2 + 3
    with app.test_request_context(), force_locale("en"), pytest.raises(ImportRefused) as refused:
        services.import_service_results(a1, report_form(fields), "xlsx")
    assert [(e.row, "less than" in e.message) for e in refused.value.errors] == [(11, True)]


def test_re_importing_the_same_period_replaces_it(app, a1):
    from govqms.extensions import db
    from govqms.performance import services

    with app.test_request_context(), force_locale("en"):
        services.import_service_results(a1, report_form(), "xlsx")
        again = services.import_service_results(a1, report_form(), "xlsx")
    assert again.replaced == 3 and again.stored == 3
    assert len(tenant_results(db, a1)) == 3


def test_a_quarter_is_stored_as_a_quarter_and_counted_once(app, a1):
    from govqms.objectives.valuation import valuate
    from govqms.performance import services
    from govqms.performance.periods import Period

    with app.test_request_context(), force_locale("en"):
        services.import_service_results(a1, report_form(), "xlsx")
        valued = valuate([a1], 2026, dt.date(2026, 11, 30))[a1]
    assert list(valued.results) == [(7, 9)]
    assert valued.service.received == 74  # once, not spread over three months nor tripled
    assert valued.results_within([7]) is None  # July alone cannot be told from a quarter
    assert valued.results_within([7, 8, 9]).received == 74
    assert valued.results_within(range(1, 13)).received == 74
    # months inside the quarter recorded earlier are replaced by the quarter; a straddling period is refused
    from govqms.core.imports import ImportRefused

    with app.test_request_context(), force_locale("en"):
        assert isinstance(services.save_result(a1, None, Period.months(2026, 9, 10), dict(
            received=1, resolved_early=0, resolved_on_time=1, resolved_late=0, pending=0)), str)
        services.save_result(a1, None, Period.month(2026, 10), dict(received=1, resolved_early=0,
                                                                    resolved_on_time=1, resolved_late=0, pending=0))
        with pytest.raises(ImportRefused) as refused:  # September alone would split the stored quarter
            services.import_service_results(a1, report_form(title_period="Tháng 9 năm 2026"), "xlsx")
        assert "only partly within" in refused.value.errors[0].message
        half = services.import_service_results(a1, report_form(title_period="6 tháng cuối năm 2026"), "xlsx")
    assert half.replaced == 4
    assert sorted(half.replaced_periods) == ["10/2026", "Quarter III/2026 (15/06/2026–14/09/2026)"]
    assert list(valuate([a1], 2026, dt.date(2026, 12, 31))[a1].results) == [(7, 12)]


@pytest.mark.parametrize("title, months", [
    ("BÁO CÁO QUÝ II NĂM 2026", (4, 6)),
    ("Kỳ báo cáo: 6 tháng đầu năm 2026", (1, 6)),
    ("Tháng 3 năm 2026", (3, 3)),
    ("Kỳ báo cáo: từ ngày 01/01/2026 đến ngày 31/03/2026", (1, 3)),
])
def test_periods_from_the_title(app, a1, title, months):
    from govqms.performance import services

    with app.test_request_context(), force_locale("en"):
        outcome = services.import_service_results(a1, report_form(title_period=title), "xlsx", dry_run=True)
    assert (outcome.periods[0].first_month, outcome.periods[0].last_month) == months


def test_no_period_anywhere_asks_for_one_and_a_typed_period_wins(app, a1):
    from govqms.core.imports import ImportRefused
    from govqms.performance import services
    from govqms.performance.periods import parse

    with app.test_request_context(), force_locale("en"):
        with pytest.raises(ImportRefused) as refused:
            services.import_service_results(a1, report_form(title_period="Báo cáo"), "xlsx")
        assert "no period" in refused.value.errors[0].message
        outcome = services.import_service_results(a1, report_form(title_period="Báo cáo"), "xlsx",
                                                  period=parse("Quý I/2026"), dry_run=True)
    assert (outcome.periods[0].first_month, outcome.periods[0].last_month) == (1, 3)


def test_headers_without_diacritics_and_per_field_rows(app, a1):
    """A flattened sheet, no accents, one row per field and a Tổng cộng row."""
    from govqms.extensions import db
    from govqms.performance import services

    csv = ("Bao cao thang 9 nam 2026\n"
           "STT;Linh vuc;Tong so ho so tiep nhan;Da giai quyet;Truoc han;Dung han;Tre han;Dang giai quyet\n"
           "1;Dat dai;30;25;5;18;2;5\n2;Ho tich;12;12;2;10;0;0\nTong cong;;42;37;7;28;2;5\n")
    with app.test_request_context(), force_locale("en"):
        outcome = services.import_service_results(a1, csv.encode(), "csv")
    assert [(r.field, r.received) for r in tenant_results(db, a1)] in (
        [("Dat dai", 30), ("Ho tich", 12)], [("Ho tich", 12), ("Dat dai", 30)])
    assert outcome.as_dict()["period"] == {"start": "2026-09-01", "end": "2026-09-30"}
    assert outcome.as_dict()["totals"] == {"received": 42, "early": 7, "on_time": 28, "late": 2, "pending": 5}
    assert db.session.scalar(select(func.count()).select_from(type(tenant_results(db, a1)[0]))) >= 2


def test_the_command_line_import(app, world, system_scope, tmp_path):
    """`govqms import-results AGENCY FILE [--period] [--dry-run] [--json]`: the same import, its JSON, and
    a non-zero exit with the errors when the file is refused."""
    import json

    from govqms.extensions import db

    good = tmp_path / "quy3.xlsx"
    good.write_bytes(report_form())
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["import-results", world.a1, str(good), "--dry-run", "--json", "--lang", "en"])
    assert dry.exit_code == 0, dry.output
    result = json.loads(dry.output)
    assert result["period"] == {"start": "2026-06-15", "end": "2026-09-14"}
    assert result["totals"] == {"received": 74, "early": 17, "on_time": 44, "late": 3, "pending": 10}
    assert {"row": 15, "reason": "total row (checked against the rows above it)"} in result["skipped"]
    assert result["errors"] == [] and result["stored"] == 3 and result["replaced"] == 0
    assert tenant_results(db, world.tenant_ids["a1"]) == []  # a dry run stores nothing
    done = runner.invoke(args=["import-results", world.a1, str(good), "--json"])
    assert done.exit_code == 0 and json.loads(done.output)["stored"] == 3
    again = json.loads(runner.invoke(args=["import-results", world.a1, str(good), "--json"]).output)
    assert again["replaced"] == 3
    bad = tmp_path / "sai.xlsx"
    bad.write_bytes(report_form([("Lĩnh vực Đất đai", [("1.001", 20, 5, 10, 2, 3)])], total=[21, 5, 10, 2, 3]))
    refused = runner.invoke(args=["import-results", world.a1, str(bad), "--json", "--lang", "en"])
    assert refused.exit_code == 1
    errors = json.loads(refused.output)["errors"]
    assert errors and errors[0]["row"] == 12 and "not the sum" in errors[0]["message"]
    no_period = tmp_path / "khong-ky.xlsx"
    no_period.write_bytes(report_form(title_period="Báo cáo"))
    assert runner.invoke(args=["import-results", world.a1, str(no_period)]).exit_code == 1
    typed = runner.invoke(args=["import-results", world.a1, str(no_period), "--period", "Quý II/2026", "--dry-run"])
    assert typed.exit_code == 0 and "would store 3 row(s)" in typed.output


def test_the_mapping_step_shows_the_layout_found_and_imports_it(world, login_as, system_scope):
    from govqms.extensions import db
    from govqms.jobs.models import Job
    from tests.performance.test_import import upload

    client = login_as("a1_secretary")
    mapping_url = upload(client, world.a1, report_form(), name="bao-cao-quy-3.xlsx")
    page = client.get(mapping_url)
    assert page.status_code == 200
    assert "7, 8" in page.text.split('data-testid="header-rows"', 1)[1].split("</p>", 1)[0]
    assert "15/06/2026" in page.text.split('data-testid="title-period"', 1)[1].split("</div>", 1)[0]
    preview = page.text.split('data-testid="preview"', 1)[1].split("</table>", 1)[0]
    assert "1.001" in preview and "Lĩnh vực Đất đai" in preview and "Tổng cộng" not in preview
    skipped = page.text.split('data-testid="skipped"', 1)[1].split("</ul>", 1)[0]
    assert "Dòng 15" in skipped or "Row 15" in skipped
    form = {key: str(value) for key, value in {
        "number": 0, "procedure_name": 1, "procedure_code": 2, "received": 3, "resolved_early": 5,
        "resolved_on_time": 6, "resolved_late": 7, "pending": 8}.items()}  # the user corrects pending
    response = client.post(mapping_url, data={**form, "period_text": ""})
    assert response.status_code == 302, response.text[:500]
    job = db.session.get(Job, response.location.rsplit("/", 1)[-1])
    assert job.status == "finished", (job.status, job.error, job.report)
    assert [r.received for r in tenant_results(db, world.tenant_ids["a1"])] == [20, 14, 40]
    bad = client.post(mapping_url, data={**form, "period_text": "quý 9/2026"})
    assert bad.status_code == 400


def test_merged_ranges_are_read_from_the_sheet_and_clamped_to_what_was_read():
    from govqms.core import layout
    from govqms.core.spreadsheets import check_workbook

    book = Workbook()
    ws = book.active
    for n in range(5000):
        ws.append([n, "x", "y"])
    ws.merge_cells("A1:C1")
    ws.merge_cells("B4000:B4500")
    ws.merge_cells("A2:C3")
    out = io.BytesIO()
    book.save(out)
    data = out.getvalue()
    ranges = layout.merged_ranges(data, check_workbook(data).path, max_row=60, max_col=2)
    assert sorted(ranges) == [(1, 1, 1, 2), (2, 1, 3, 2)]  # clamped; the one below row 60 is not kept


def test_the_agencys_fields_with_their_figures_and_catalogue(app, world, system_scope, login_as):
    from govqms.extensions import db
    from govqms.performance import services
    from govqms.procedures.models import AdminProcedure

    a1 = world.tenant_ids["a1"]
    db.session.add_all([AdminProcedure(tenant_id=a1, code="1.001", name="Thủ tục 1.001", field="Lĩnh vực Đất đai"),
                        AdminProcedure(tenant_id=a1, code="3.001", name="Thủ tục 3.001", field="Lĩnh vực Công chứng")])
    with app.test_request_context(), force_locale("en"):
        services.import_service_results(a1, report_form(), "xlsx")
    db.session.commit()
    figures = {f.field: f for f in services.fields_of_year(a1, 2026)}
    assert list(figures) == ["Lĩnh vực Công chứng", "Lĩnh vực Đất đai", "Lĩnh vực Hộ tịch"]  # Vietnamese order
    assert (figures["Lĩnh vực Đất đai"].received, figures["Lĩnh vực Đất đai"].procedures_reported,
            figures["Lĩnh vực Đất đai"].procedures_in_catalogue) == (34, 2, 1)
    assert figures["Lĩnh vực Công chứng"].received == 0 and figures["Lĩnh vực Hộ tịch"].on_time_rate == 100.0
    for role in ("a1_secretary", "a1_viewer"):
        page = login_as(role).get(f"/t/{world.a1}/performance/?year=2026")
        assert page.status_code == 200
        table = page.text.split('data-testid="fields"', 1)[1].split("</table>", 1)[0]
        assert 'data-field="Lĩnh vực Hộ tịch"' in table and "Quý III/2026" in page.text


@pytest.mark.parametrize("role, allowed", [("a1_head", True), ("a1_qmr", True), ("a1_secretary", True),
                                           ("a1_auditor", False), ("a1_staff", False), ("a1_viewer", False),
                                           ("p1_overseer", False)])
def test_who_reaches_the_import_and_the_period_form(world, login_as, system_scope, role, allowed):
    from tests.performance.test_import import upload

    client = login_as(role)
    for path in ("/performance/import", "/performance/results/new"):
        response = client.get(f"/t/{world.a1}{path}")
        assert response.status_code == (200 if allowed else 403), (path, response.status_code)
    if allowed:
        mapping_url = upload(client, world.a1, report_form(), name="bao-cao.xlsx")
        assert client.get(mapping_url).status_code == 200
        assert client.get(f"/t/{world.a1}/performance/?year=2026").status_code == 200


def test_bad_input_is_refused_with_a_message_never_a_500(world, login_as, system_scope):
    from tests.performance.test_import import upload

    client = login_as("a1_secretary")
    new = f"/t/{world.a1}/performance/results/new"
    good = {"period": "09/2026", "received": "10", "resolved_early": "2", "resolved_on_time": "7",
            "resolved_late": "1", "pending": "0"}
    for bad in ({"received": "99999999999999999999"}, {"received": "2147483648"}, {"period": "01/0001"},
                {"period": "Quý V/2026"}, {"period": "31/02/2026 - 14/09/2026"}, {"field": "x\x00y"},
                {"period": "09/2026\x00"}, {"procedure_code": "P" * 65}):
        response = client.post(new, data={**good, **bad})
        assert response.status_code == 400, (bad, response.status_code)
    mapping_url = upload(client, world.a1, report_form(), name="bao-cao.xlsx")
    for form in ({"received": "99999999999999999999999"}, {"period_text": "\x00"}, {"period_text": "q" * 500},
                 {"received": "-1"}, {"pending": "abc"}):
        response = client.post(mapping_url, data=form)
        assert response.status_code == 400, (form, response.status_code)
    assert client.get(mapping_url.replace("ext=xlsx", "ext=exe")).status_code == 404
    assert client.get(f"/t/{world.a1}/performance/import/{'0' * 64}?ext=xlsx").status_code == 404
    assert client.get(f"/t/{world.a1}/performance/results/99999999999999999999/edit").status_code == 404
