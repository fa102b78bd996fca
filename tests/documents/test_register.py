"""The register: diacritics-insensitive search, filters, flat query count, XLSX export; uploads; reviews."""
from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from openpyxl import load_workbook

from tests.documents.helpers import PDF, create_document, docx_bytes, load, revision_ids, upload


def listed(page) -> list[str]:
    """The document codes shown in the register table."""
    return re.findall(r'<td class="text-nowrap"><a href="/t/[^/]+/documents/\d+">([^<]+)</a>', page.text)


def make_documents(world, n: int, tenant: str = "a1", prefix: str = "BM", unit: int | None = None):
    from govqms.core.tenancy import TenantScope, scoped
    from govqms.documents.services import create_document as create
    from govqms.extensions import db

    tenant_id = world.tenant_ids[tenant]
    with scoped(TenantScope.tenant(tenant_id), db.session):
        for i in range(n):
            create(tenant_id, code=f"{prefix}-{i:03}", title=f"Tài liệu số {i}", kind="form", owner_unit_id=unit,
                   review_interval_months=12, drafter_id=None)
        db.session.commit()


def test_search_ignores_diacritics(world, login_as, system_scope):
    client = login_as("a1_secretary")
    create_document(client, world.a1, code="QT-07", title="Quy trình tiếp nhận và trả kết quả")
    create_document(client, world.a1, code="QT-08", title="Quy trình đánh giá nội bộ")
    found = client.get(f"/t/{world.a1}/documents/?q=quy+trinh+tiep+nhan")
    assert listed(found) == ["QT-07"] and "Quy trình tiếp nhận và trả kết quả" in found.text
    assert listed(client.get(f"/t/{world.a1}/documents/?q=DANH GIA")) == ["QT-08"]
    assert listed(client.get(f"/t/{world.a1}/documents/?q=đánh giá")) == ["QT-08"]


def test_filters_and_sort(world, login_as, system_scope):
    client = login_as("a1_secretary")
    create_document(client, world.a1, code="BM-01", title="Phiếu theo dõi", kind="form")
    create_document(client, world.a1, code="QT-01", title="Quy trình", kind="system_procedure")
    assert listed(client.get(f"/t/{world.a1}/documents/?kind=form")) == ["BM-01"]
    assert listed(client.get(f"/t/{world.a1}/documents/?sort=title")) == ["BM-01", "QT-01"]  # Phiếu < Quy
    empty = client.get(f"/t/{world.a1}/documents/?status=obsolete")
    assert listed(empty) == [] and f'href="/t/{world.a1}/documents/"' in empty.text  # "clear the filters"


def test_register_is_a_fixed_number_of_queries(world, login_as, count_queries, system_scope):
    client = login_as("a1_secretary")
    url = f"/t/{world.a1}/documents/"

    def queries():
        client.get(url)
        with count_queries() as counter:
            assert client.get(url).status_code == 200
        return counter.count

    make_documents(world, 10)
    ten = queries()
    make_documents(world, 190, prefix="QT", unit=world.unit_ids["a1"][0])
    assert queries() == ten


def test_export_xlsx(world, login_as, system_scope):
    client = login_as("a1_secretary")
    create_document(client, world.a1, code="QT-07", title="Quy trình tiếp nhận hồ sơ")
    response = client.post(f"/t/{world.a1}/documents/export", data={"q": "tiep nhan"})
    job = client.get(response.location.replace("/jobs/", "/jobs/") + "/status").get_json()
    assert job["status"] == "finished"
    data = client.get(response.location + "/download")
    sheet = load_workbook(io.BytesIO(data.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] in ("Mã", "Code") and rows[1][:2] == ("QT-07", "Quy trình tiếp nhận hồ sơ")
    assert len(rows) == 2


class TestUploads:
    @pytest.fixture
    def draft(self, world, login_as, system_scope):
        client = login_as("a1_secretary")
        document_id = create_document(client, world.a1)
        return client, f"/t/{world.a1}/documents/{document_id}/revisions/{revision_ids(document_id)[0]}", \
            revision_ids(document_id)[0]

    def attach(self, client, base, name, data):
        return client.post(f"{base}/files", data=upload(name, data), content_type="multipart/form-data",
                           follow_redirects=True)

    def stored(self, revision_id):
        from govqms.documents.models import Revision

        return load(Revision, revision_id).files

    def test_accepted_types(self, draft):
        client, base, revision_id = draft
        assert "a.pdf" in self.attach(client, base, "a.pdf", PDF).text
        assert "b.docx" in self.attach(client, base, "b.docx", docx_bytes()).text
        assert len(self.stored(revision_id)) == 2

    def test_executable_renamed_pdf_is_refused(self, draft):
        client, base, revision_id = draft
        page = self.attach(client, base, "virus.pdf", b"MZ\x90\x00\x03" + b"\x00" * 100)
        assert "Nội dung của virus.pdf không phải là tệp PDF." in page.text
        assert self.stored(revision_id) == []

    def test_wrong_extension_for_content_is_refused(self, draft):
        client, base, revision_id = draft
        self.attach(client, base, "bang.xlsx", PDF)
        assert self.stored(revision_id) == []

    def test_oversized_file_is_refused(self, app, draft):
        client, base, revision_id = draft
        limit = app.config["MAX_UPLOAD_BYTES"]
        app.config["MAX_UPLOAD_BYTES"] = 1000
        try:
            page = self.attach(client, base, "big.pdf", PDF + b"0" * 2000)
        finally:
            app.config["MAX_UPLOAD_BYTES"] = limit
        assert "Tệp vượt quá 0.0 MB." in page.text
        assert self.stored(revision_id) == []

    @pytest.mark.parametrize("name", ["../../etc/passwd.pdf", "..\\secret.pdf", "/abs/path.pdf"])
    def test_path_traversal_names_are_refused(self, draft, name):
        client, base, revision_id = draft
        page = self.attach(client, base, name, PDF)
        assert "Tên tệp không được chứa đường dẫn." in page.text
        assert self.stored(revision_id) == []

    def test_content_hash_is_recorded(self, draft):
        import hashlib

        client, base, revision_id = draft
        self.attach(client, base, "a.pdf", PDF)
        assert self.stored(revision_id)[0].sha256 == hashlib.sha256(PDF).hexdigest()


class TestPeriodicReview:
    def effective(self, world, login_as, effective_on: dt.date):
        secretary = login_as("a1_secretary")
        document_id = create_document(secretary, world.a1, code="QT-20", title="Quy trình xem xét")
        (revision_id,) = revision_ids(document_id)
        base = f"/t/{world.a1}/documents/{document_id}/revisions/{revision_id}"
        secretary.post(f"{base}/files", data=upload("a.pdf", PDF), content_type="multipart/form-data")
        secretary.post(f"{base}/submit")
        login_as("a1_qmr").post(f"{base}/review")
        login_as("a1_head").post(f"{base}/approve", data={"effective_on": effective_on.strftime("%d/%m/%Y")})
        return secretary, document_id

    def test_overdue_review_is_flagged_and_counted(self, world, login_as, system_scope):
        from govqms.documents.models import Document
        from govqms.documents.services import overdue_reviews

        secretary, document_id = self.effective(world, login_as, dt.date.today() - dt.timedelta(days=400))
        document = load(Document, document_id)
        assert document.next_review_on < dt.date.today()
        assert overdue_reviews(world.tenant_ids["a1"]) == 1
        register = secretary.get(f"/t/{world.a1}/documents/?overdue=1")
        assert "QT-20" in register.text

    def test_no_change_moves_the_next_review(self, world, login_as, system_scope):
        from govqms.documents.models import Document

        secretary, document_id = self.effective(world, login_as, dt.date(2024, 1, 15))
        response = secretary.post(f"/t/{world.a1}/documents/{document_id}/periodic-review",
                                  data={"outcome": "no_change", "reviewed_on": "20/11/2026", "note": "Còn phù hợp"})
        assert response.status_code == 302
        document = load(Document, document_id)
        assert document.last_reviewed_on == dt.date(2026, 11, 20)
        assert document.next_review_on == dt.date(2027, 11, 20)

    def test_revise_opens_a_new_draft(self, world, login_as, system_scope):
        from govqms.documents.models import Document

        secretary, document_id = self.effective(world, login_as, dt.date(2024, 1, 15))
        secretary.post(f"/t/{world.a1}/documents/{document_id}/periodic-review",
                       data={"outcome": "revise", "reviewed_on": "20/11/2026"})
        revisions = load(Document, document_id).revisions
        assert [r.status for r in revisions] == ["effective", "draft"]


def test_months_are_added_like_a_calendar():
    from govqms.core.clock import add_months

    assert add_months(dt.date(2025, 1, 31), 1) == dt.date(2025, 2, 28)
    assert add_months(dt.date(2024, 11, 30), 3) == dt.date(2025, 2, 28)
    assert add_months(dt.date(2025, 3, 1), 12) == dt.date(2026, 3, 1)
