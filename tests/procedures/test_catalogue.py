"""The administrative procedures catalogue: import (with the layout of the province's lists), and the
work procedure that covers each."""
from __future__ import annotations

import io

from openpyxl import Workbook
from sqlalchemy import select

from tests.documents.helpers import create_document


def xlsx(rows) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def procedures_of(db, tenant_id):
    from govqms.procedures.models import AdminProcedure

    return {p.code: p for p in db.session.scalars(select(AdminProcedure).where(AdminProcedure.tenant_id == tenant_id))}


def import_file(client, slug, name, data):
    response = client.post(f"/t/{slug}/procedures/import", data={"file": (io.BytesIO(data), name)},
                           content_type="multipart/form-data")
    assert response.status_code == 302, response.text[:300]
    return client.get(response.location)


class TestProcedureImport:
    def test_good_file_imports_and_links_work_procedures(self, world, login_as, system_scope):
        from govqms.extensions import db

        client = login_as("a1_secretary")
        create_document(client, world.a1, code="QT-10", title="Quy trình cấp phép", kind="work_procedure")
        page = import_file(client, world.a1, "tthc.xlsx", xlsx([
            ["Mã thủ tục", "Tên thủ tục", "Lĩnh vực", "Mã quy trình"],
            ["1.001234", "Cấp Giấy chứng nhận đăng ký hoạt động khoa học và công nghệ", "Khoa học", "QT-10"],
            ["1.001235", "Cấp giấy phép tiến hành công việc bức xạ", "An toàn bức xạ", None],
        ]))
        assert "2" in page.text
        procedures = procedures_of(db, world.tenant_ids["a1"])
        assert set(procedures) == {"1.001234", "1.001235"}
        assert procedures["1.001234"].work_procedure.code == "QT-10"
        listing = client.get(f"/t/{world.a1}/procedures/?q=buc xa")
        assert "1.001235" in listing.text and "1.001234" not in listing.text

    def test_a_bad_row_in_the_middle_stores_nothing_and_is_reported(self, world, login_as, system_scope):
        from govqms.extensions import db
        from govqms.jobs.models import Job

        client = login_as("a1_secretary")
        rows = [["Mã thủ tục", "Tên thủ tục", "Lĩnh vực", "Mã quy trình"]]
        rows += [[f"2.{i:06}", f"Thủ tục số {i}", "Tư pháp", None] for i in range(5)]
        rows.insert(3, ["2.999999", None, "Tư pháp", "QT-404"])  # row 4: no name, unknown work procedure
        rows.append(["2.000001", "Trùng mã", "", None])           # row 8: duplicate code
        page = import_file(client, world.a1, "tthc.xlsx", xlsx(rows))
        assert procedures_of(db, world.tenant_ids["a1"]) == {}
        job = db.session.scalars(select(Job).order_by(Job.created_at.desc())).first()
        problems = {(p["row"], p["column"]) for p in job.report}
        assert problems == {(4, "Tên thủ tục"), (4, "Mã quy trình"), (8, "Mã thủ tục")}
        assert "Tên thủ tục" in page.text and "QT-404" in page.text

    def test_a_form_with_a_title_block_and_a_signature_imports_its_table(self, world, login_as, system_scope):
        """The procedures list as the province publishes it: title rows, the header further down, the
        column numbers, a total line and the signature block: the same layout detection as results."""
        from govqms.extensions import db

        client = login_as("a1_secretary")
        import_file(client, world.a1, "danh-muc.xlsx", xlsx([
            ["UBND TỈNH KHÁNH HÒA", None, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"],
            ["DANH MỤC THỦ TỤC HÀNH CHÍNH THUỘC THẨM QUYỀN GIẢI QUYẾT CỦA SỞ TƯ PHÁP"],
            [],
            ["STT", "Mã TTHC", "Tên thủ tục hành chính", "Lĩnh vực"],
            ["(1)", "(2)", "(3)", "(4)"],
            [1, "2.000908", "Chứng thực bản sao từ bản chính", "Chứng thực"],
            [2, "2.000815", "Cấp bản sao trích lục hộ tịch", "Hộ tịch"],
            [None, None, "Tổng cộng: 2 thủ tục", None],
            [None, None, "Người lập biểu", "GIÁM ĐỐC"],
            [None, None, "(Ký, ghi rõ họ tên)", None],
        ]))
        procedures = procedures_of(db, world.tenant_ids["a1"])
        assert set(procedures) == {"2.000908", "2.000815"}
        assert procedures["2.000815"].field == "Hộ tịch"

    def test_csv_with_semicolons_and_missing_column(self, world, login_as, system_scope):
        from govqms.extensions import db
        from govqms.jobs.models import Job

        client = login_as("a1_secretary")
        good = "Mã thủ tục;Tên thủ tục\n3.1;Chứng thực bản sao\n".encode("utf-8-sig")
        import_file(client, world.a1, "tthc.csv", good)
        assert set(procedures_of(db, world.tenant_ids["a1"])) == {"3.1"}
        import_file(client, world.a1, "tthc.csv", "Lĩnh vực\nTư pháp\n".encode())
        job = db.session.scalars(select(Job).order_by(Job.created_at.desc())).first()
        assert {p["column"] for p in job.report} == {"Mã thủ tục", "Tên thủ tục"}

    def test_import_refuses_other_files(self, world, login_as):
        client = login_as("a1_secretary")
        response = client.post(f"/t/{world.a1}/procedures/import",
                               data={"file": (io.BytesIO(b"MZ\x90"), "tthc.xlsx")}, content_type="multipart/form-data")
        assert response.status_code == 400

    def test_only_keepers_import(self, world, login_as):
        assert login_as("a1_staff").get(f"/t/{world.a1}/procedures/import").status_code == 403
        assert login_as("p1_overseer").get(f"/t/{world.a1}/procedures/").status_code == 200


def test_document_page_lists_the_procedures_it_covers(world, login_as, system_scope):
    client = login_as("a1_secretary")
    document_id = create_document(client, world.a1, code="QT-40", title="Quy trình cấp phép", kind="work_procedure")
    client.post(f"/t/{world.a1}/procedures/new", data={"code": "1.0040", "name": "Cấp giấy phép hoạt động",
                                                       "work_procedure_id": str(document_id)})
    page = client.get(f"/t/{world.a1}/documents/{document_id}")
    assert "1.0040 · Cấp giấy phép hoạt động" in page.text
