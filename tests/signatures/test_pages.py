"""Signed PDFs uploaded through the pages of the four kinds that carry them (a declaration's decision, a
document revision's file, a management review's signed minutes, an inspection's signed minutes): each
shows its badge and signer next to the file, links to the details, can be checked again; other agencies and
jurisdictions get 404, those who may not upload get 403."""
from __future__ import annotations

import hashlib
import io
import re

import pytest
from sqlalchemy import select

from govqms.core.demo import pdf
from tests.signatures.pki import make_pki, sign_pdf, tampered

SIGNER = "Nguyễn Văn An (Sở Khoa học và Công nghệ Một)"


@pytest.fixture(scope="module")
def pki():
    return make_pki()


@pytest.fixture(scope="module")
def signed(pki):
    return sign_pdf(pdf("Quyet dinh so 15/QD-SKHCN cong bo HTQLCL"), pki)


@pytest.fixture
def anchored(app, pki, tmp_path, monkeypatch):
    """The test root configured as the operator's trust anchor."""
    (tmp_path / "anchors").mkdir()
    (tmp_path / "anchors" / "root-ca.pem").write_bytes(pki.pem())
    monkeypatch.setitem(app.config, "TRUST_ANCHORS", str(tmp_path / "anchors"))
    return tmp_path / "anchors"


def upload(data: bytes, name: str = "quyet-dinh.pdf", **fields):
    return {**fields, "file": (io.BytesIO(data), name)}


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def badge(page_text: str, status: str) -> bool:
    return f'data-signature="{status}"' in page_text


def check_row(tenant_id: int, data: bytes):
    from govqms.core.tenancy import TenantScope, scoped
    from govqms.extensions import db
    from govqms.signatures.models import SignatureCheck

    db.session.expire_all()
    with scoped(TenantScope.system(), db.session):
        return db.session.scalar(select(SignatureCheck).where(SignatureCheck.tenant_id == tenant_id,
                                                              SignatureCheck.sha256 == digest(data)))


def logged(entity: str, action: str | None = None) -> list:
    from govqms.core.activity import ActivityEntry
    from govqms.core.tenancy import TenantScope, scoped
    from govqms.extensions import db

    with scoped(TenantScope.system(), db.session):
        query = select(ActivityEntry).where(ActivityEntry.entity == entity)
        if action:
            query = query.where(ActivityEntry.action == action)
        return list(db.session.scalars(query))


# --- declarations --------------------------------------------------------------------------------

def declare(client, world, data: bytes, number: str, name: str = "quyet-dinh.pdf"):
    return client.post(f"/t/{world.a1}/conformity/declarations", content_type="multipart/form-data",
                       data=upload(data, name, decision_number=number, decided_on="01/03/2025", edition="2015"))


def test_a_signed_declaration_shows_valid_with_its_signer(world, login_as, system_scope, anchored, pki, signed):
    client = login_as("a1_secretary")
    assert client.get(f"/t/{world.a1}/conformity/").status_code == 200
    assert declare(client, world, signed, "15/QĐ-SKHCN").status_code == 302
    page = client.get(f"/t/{world.a1}/conformity/")
    assert badge(page.text, "valid") and SIGNER in page.text
    row = check_row(world.tenant_ids["a1"], signed)
    assert row.status == "valid" and row.signer == SIGNER and row.anchors == [digest(pki.der())]
    assert row.checked_at is not None and row.signed_at is not None
    # the details, linked from the badge
    link = re.search(r'href="([^"]*/signatures/[0-9a-f]{64})"', page.text).group(1)
    details = client.get(link)
    assert details.status_code == 200
    assert 'data-integrity="intact"' in details.text and 'data-chain="trusted"' in details.text
    assert "Nguyễn Văn An" in details.text and "Test Sub CA" in details.text
    # the verification is an entry of the agency's activity log, as the uploader
    entry = logged("signature_check", "create")[0]
    assert entry.tenant_id == world.tenant_ids["a1"] and entry.changes["sha256"][1] == digest(signed)
    # a job did it (run at once without Redis)
    from govqms.extensions import db
    from govqms.jobs.models import Job

    job = db.session.scalar(select(Job).where(Job.task == "signatures.verify"))
    assert job.status == "finished" and job.params == {"digest": digest(signed)}


def test_a_tampered_or_unsigned_decision_shows_so(world, login_as, system_scope, anchored, signed):
    client = login_as("a1_secretary")
    assert declare(client, world, tampered(signed, b"quyet dinh"), "16/QĐ-SKHCN").status_code == 302
    assert declare(client, world, pdf("Quyet dinh khong ky"), "17/QĐ-SKHCN").status_code == 302
    page = client.get(f"/t/{world.a1}/conformity/")
    assert badge(page.text, "invalid") and badge(page.text, "not_signed")
    details = client.get(re.search(r'href="([^"]*/signatures/[0-9a-f]{64})"[^>]*data-signature="invalid"',
                                   page.text).group(1))
    assert 'data-integrity="broken"' in details.text


def test_garbage_with_a_pdf_header_is_unreadable_not_an_error(world, login_as, system_scope, anchored):
    client = login_as("a1_secretary")
    hostile = b"%PDF-1.7\n" + b"1 0 obj << /Length 99999999 >> stream\n" + b"\xff" * 3000
    assert declare(client, world, hostile, "18/QĐ-SKHCN").status_code == 302
    page = client.get(f"/t/{world.a1}/conformity/")
    assert page.status_code == 200 and badge(page.text, "unreadable")
    assert check_row(world.tenant_ids["a1"], hostile).details["problem"]


def test_a_bad_upload_is_explained_with_the_input_kept(world, login_as, system_scope):
    client = login_as("a1_secretary")
    page = declare(client, world, b"not a pdf", "19/QĐ-SKHCN")
    assert page.status_code == 400 and "19/QĐ-SKHCN" in page.text and "invalid-feedback" in page.text


def test_declarations_of_another_agency_and_viewers(world, login_as, system_scope, anchored, signed):
    assert declare(login_as("a1_secretary"), world, signed, "15/QĐ-SKHCN").status_code == 302
    assert declare(login_as("a1_viewer"), world, signed, "20/QĐ-SKHCN").status_code == 403
    viewer = login_as("a1_viewer")
    assert badge(viewer.get(f"/t/{world.a1}/conformity/").text, "valid")
    assert viewer.get(f"/t/{world.a1}/signatures/{digest(signed)}").status_code == 200
    assert viewer.post(f"/t/{world.a1}/signatures/{digest(signed)}/check").status_code == 403
    other = login_as("b1_secretary")
    assert other.get(f"/t/{world.a1}/signatures/{digest(signed)}").status_code == 404
    assert other.get(f"/t/{world.b1}/signatures/{digest(signed)}").status_code == 404  # a1's file, not b1's
    assert other.post(f"/t/{world.b1}/signatures/{digest(signed)}/check").status_code == 404
    assert login_as("p2_overseer").get(f"/t/{world.a1}/signatures/{digest(signed)}").status_code == 404
    assert login_as("p1_overseer").get(f"/t/{world.a1}/signatures/{digest(signed)}").status_code == 200
    assert login_as("a1_secretary").get(f"/t/{world.a1}/signatures/{'0' * 64}").status_code == 404
    assert login_as("a1_secretary").get(f"/t/{world.a1}/signatures/not-a-digest").status_code == 404


# --- checking again ------------------------------------------------------------------------------

def test_check_again_after_the_anchors_change(app, world, login_as, system_scope, pki, signed, tmp_path,
                                              monkeypatch):
    monkeypatch.setitem(app.config, "TRUST_ANCHORS", None)
    client = login_as("a1_secretary")
    assert declare(client, world, signed, "15/QĐ-SKHCN").status_code == 302
    assert badge(client.get(f"/t/{world.a1}/conformity/").text, "untrusted")
    assert check_row(world.tenant_ids["a1"], signed).anchors == []
    details = client.get(f"/t/{world.a1}/signatures/{digest(signed)}")
    assert 'data-chain="untrusted"' in details.text and "data-outdated" not in details.text
    # the operator configures the government root: the result says it was computed without it
    (tmp_path / "root.pem").write_bytes(pki.pem())
    monkeypatch.setitem(app.config, "TRUST_ANCHORS", str(tmp_path / "root.pem"))
    details = client.get(f"/t/{world.a1}/signatures/{digest(signed)}")
    assert "data-outdated" in details.text and "/check" in details.text
    again = client.post(f"/t/{world.a1}/signatures/{digest(signed)}/check")
    assert again.status_code == 302 and again.location.endswith(f"/signatures/{digest(signed)}")
    assert check_row(world.tenant_ids["a1"], signed).status == "valid"
    assert badge(client.get(f"/t/{world.a1}/conformity/").text, "valid")
    assert "update" in [e.action for e in logged("signature_check")]
    # only a PDF the agency stored can be checked
    assert client.post(f"/t/{world.a1}/signatures/{'1' * 64}/check").status_code == 404


# --- document revisions ----------------------------------------------------------------------------

def test_a_revision_s_signed_pdf_shows_its_badge(world, login_as, system_scope, anchored, signed):
    from tests.documents.helpers import create_document, docx_bytes, revision_ids

    client = login_as("a1_secretary")
    document_id = create_document(client, world.a1)
    (revision_id,) = revision_ids(document_id)
    base = f"/t/{world.a1}/documents/{document_id}/revisions/{revision_id}"
    assert client.get(f"{base}/edit").status_code == 200
    for name, data in (("QT-01.pdf", signed), ("QT-01-ban-nhap.pdf", pdf("Ban nhap")), ("QT-01.docx", docx_bytes())):
        assert client.post(f"{base}/files", data=upload(data, name), content_type="multipart/form-data"
                           ).status_code == 302
    revision_page = client.get(f"{base}/edit")
    assert badge(revision_page.text, "valid") and badge(revision_page.text, "not_signed")
    assert revision_page.text.count("data-signature=") == 2  # a DOCX carries no PDF signature
    document_page = client.get(f"/t/{world.a1}/documents/{document_id}")
    assert badge(document_page.text, "valid") and SIGNER in document_page.text
    refused = client.post(f"{base}/files", data=upload(b"%PDF-", "QT-01.docx"), content_type="multipart/form-data")
    assert refused.status_code == 400
    assert login_as("a1_viewer").post(f"{base}/files", data=upload(signed, "x.pdf"),
                                      content_type="multipart/form-data").status_code == 403
    assert login_as("b1_secretary").get(f"/t/{world.b1}/documents/{document_id}").status_code == 404


# --- management reviews ----------------------------------------------------------------------------

def new_review(client, world, meeting_on: str = "15/12/2025") -> str:
    response = client.post(f"/t/{world.a1}/reviews/new", data={
        "year": "2025", "meeting_on": meeting_on, "chair": "Nguyễn Văn An", "attendees": "Lãnh đạo"})
    assert response.status_code == 302
    return response.location.split("?")[0].rstrip("/")


def test_a_review_s_signed_minutes(world, login_as, system_scope, anchored, signed):
    client = login_as("a1_secretary")
    review = new_review(client, world)
    page = client.get(review)
    assert page.status_code == 200 and 'id="f-signed-minutes"' in page.text
    bad = client.post(f"{review}/signed-minutes", data=upload(b"PK\x03\x04 not a pdf", "bien-ban.pdf"),
                      content_type="multipart/form-data")
    assert bad.status_code == 400 and "is-invalid" in bad.text and 'id="f-signed-minutes"' in bad.text
    done = client.post(f"{review}/signed-minutes", data=upload(signed, "bien-ban-hop.pdf"),
                       content_type="multipart/form-data")
    assert done.status_code == 302 and done.location.endswith("#signed-minutes")
    page = client.get(review)
    assert 'data-testid="signed-minutes"' in page.text and "bien-ban-hop.pdf" in page.text
    assert badge(page.text, "valid") and SIGNER in page.text
    download = client.get(f"{review}/signed-minutes")
    assert download.status_code == 200 and download.data == signed
    (entry,) = logged("management_review", "upload")
    assert entry.note == "bien-ban-hop.pdf" and entry.changes["signed_minutes_name"] == [None, "bien-ban-hop.pdf"]
    # the head reads it; a viewer may not upload; another agency does not find it
    assert badge(login_as("a1_head").get(review).text, "valid")
    assert login_as("a1_viewer").post(f"{review}/signed-minutes", data=upload(signed, "x.pdf"),
                                      content_type="multipart/form-data").status_code == 403
    foreign = review.replace(f"/t/{world.a1}/", f"/t/{world.b1}/")
    other = login_as("b1_secretary")
    assert other.get(f"{foreign}/signed-minutes").status_code == 404
    assert other.post(f"{foreign}/signed-minutes", data=upload(signed, "x.pdf"),
                      content_type="multipart/form-data").status_code == 404


def test_a_planned_review_takes_no_signed_minutes(world, login_as, system_scope, signed):
    client = login_as("a1_secretary")
    review = new_review(client, world, meeting_on="15/12/2099")
    assert 'id="f-signed-minutes"' not in client.get(review).text
    refused = client.post(f"{review}/signed-minutes", data=upload(signed, "x.pdf"), content_type="multipart/form-data")
    assert refused.status_code == 409 and "alert-danger" in refused.text
    assert client.get(f"{review}/signed-minutes").status_code == 404


# --- inspections -----------------------------------------------------------------------------------

def signed_inspection(world, login_as):
    from tests.inspections.test_inspections import inspection_of, make_plan

    overseer = login_as("p1_overseer")
    make_plan(overseer, world)
    inspection = inspection_of(world, "a1")
    assert overseer.post(f"/o/{world.p1}/inspections/{inspection.id}/", data={
        "step": "minutes", "held_on": "15/09/2026", "minutes_on": "16/09/2026", "signed": "true",
        "findings": "", "conclusion": "Đáp ứng"}).status_code == 302
    return overseer, inspection.id


def test_an_inspection_s_signed_minutes(world, login_as, system_scope, anchored, signed):
    overseer, inspection_id = signed_inspection(world, login_as)
    base = f"/o/{world.p1}/inspections/{inspection_id}"
    page = overseer.get(f"{base}/")
    assert page.status_code == 200 and 'id="f-signed-minutes"' in page.text
    bad = overseer.post(f"{base}/signed-minutes", data=upload(b"%PDF-1.4", "bien-ban.docx"),
                        content_type="multipart/form-data")
    assert bad.status_code == 400 and "is-invalid" in bad.text
    done = overseer.post(f"{base}/signed-minutes", data=upload(signed, "BBKT-a1.pdf"),
                         content_type="multipart/form-data")
    assert done.status_code == 302
    page = overseer.get(f"{base}/")
    assert badge(page.text, "valid") and SIGNER in page.text and "BBKT-a1.pdf" in page.text
    assert f"/t/{world.a1}/signatures/{digest(signed)}" in page.text  # the details, in the agency's workspace
    assert overseer.get(f"{base}/signed-minutes").data == signed
    # written into the agency's file, as the overseer
    (entry,) = logged("inspection", "upload")
    assert entry.tenant_id == world.tenant_ids["a1"] and entry.note == "BBKT-a1.pdf"
    assert check_row(world.tenant_ids["a1"], signed).status == "valid"
    # the agency sees it on its inspections page, and downloads it
    agency = login_as("a1_secretary")
    mine = agency.get(f"/t/{world.a1}/inspections/")
    assert 'data-testid="signed-minutes"' in mine.text and badge(mine.text, "valid")
    assert agency.get(f"/t/{world.a1}/inspections/{inspection_id}/signed-minutes").data == signed
    # checked again by the overseer
    assert overseer.post(f"{base}/signed-minutes/check").status_code == 302
    # another jurisdiction's overseer, another agency: 404
    assert login_as("p2_overseer").get(f"/o/{world.p1}/inspections/{inspection_id}/signed-minutes").status_code == 404
    assert login_as("p2_overseer").post(f"/o/{world.p2}/inspections/{inspection_id}/signed-minutes",
                                        data=upload(signed, "x.pdf"),
                                        content_type="multipart/form-data").status_code == 404
    assert login_as("b1_secretary").get(f"/t/{world.b1}/inspections/{inspection_id}/signed-minutes"
                                        ).status_code == 404
    # the agency cannot upload the overseer's minutes (the oversight pages are not its own)
    assert agency.post(f"/o/{world.p1}/inspections/{inspection_id}/signed-minutes",
                       data=upload(signed, "x.pdf"), content_type="multipart/form-data").status_code == 404


def test_minutes_are_uploaded_once_recorded(world, login_as, system_scope, signed):
    from tests.inspections.test_inspections import inspection_of, make_plan

    overseer = login_as("p1_overseer")
    make_plan(overseer, world)
    inspection = inspection_of(world, "a2")
    base = f"/o/{world.p1}/inspections/{inspection.id}"
    assert 'id="f-signed-minutes"' not in overseer.get(f"{base}/").text
    refused = overseer.post(f"{base}/signed-minutes", data=upload(signed, "x.pdf"), content_type="multipart/form-data")
    assert refused.status_code == 302 and inspection_of(world, "a2").signed_minutes_key is None
    assert overseer.get(f"{base}/signed-minutes").status_code == 404
    assert overseer.post(f"{base}/signed-minutes/check").status_code == 404


# --- the back office -------------------------------------------------------------------------------

def test_the_back_office_shows_the_anchors(app, login_as, pki, anchored, tmp_path, monkeypatch):
    operator = login_as("operator")
    page = operator.get("/admin/trust_anchors/")
    assert page.status_code == 200
    fingerprint = hashlib.sha256(pki.der()).hexdigest()
    assert f'data-anchor="{fingerprint}"' in page.text and "Test Root CA" in page.text
    assert ":".join(fingerprint[i:i + 2] for i in range(0, 64, 2)).upper() in page.text
    monkeypatch.setitem(app.config, "TRUST_ANCHORS", None)
    assert 'data-testid="no-anchors"' in operator.get("/admin/trust_anchors/").text
    (tmp_path / "broken.pem").write_text("not a certificate")
    monkeypatch.setitem(app.config, "TRUST_ANCHORS", str(tmp_path / "broken.pem"))
    broken = operator.get("/admin/trust_anchors/")
    assert broken.status_code == 200 and 'data-testid="anchors-error"' in broken.text and "broken.pem" in broken.text
    assert login_as("a1_secretary").get("/admin/trust_anchors/").status_code == 403


def test_the_operator_checks_every_outdated_result_again(app, world, login_as, system_scope, pki, signed, tmp_path,
                                                         monkeypatch):
    monkeypatch.setitem(app.config, "TRUST_ANCHORS", None)
    assert declare(login_as("a1_secretary"), world, signed, "15/QĐ-SKHCN").status_code == 302
    unsigned = pdf("Quyet dinh khong ky")
    (tmp_path / "root.pem").write_bytes(pki.pem())
    monkeypatch.setitem(app.config, "TRUST_ANCHORS", str(tmp_path / "root.pem"))
    assert declare(login_as("a1_secretary"), world, unsigned, "16/QĐ-SKHCN").status_code == 302  # today's anchors
    before = check_row(world.tenant_ids["a1"], unsigned).checked_at
    assert check_row(world.tenant_ids["a1"], signed).status == "untrusted"
    done = login_as("operator").post("/admin/trust_anchors/")
    assert done.status_code == 302
    assert check_row(world.tenant_ids["a1"], signed).status == "valid"
    assert check_row(world.tenant_ids["a1"], unsigned).checked_at == before  # already checked with these anchors
    from govqms.extensions import db
    from govqms.jobs.models import Job

    job = db.session.scalar(select(Job).where(Job.task == "signatures.recheck_outdated"))
    assert job.status == "finished" and job.tenant_id is None and "1" in job.message
    assert login_as("a1_secretary").post("/admin/trust_anchors/").status_code == 403


def test_who_sees_the_upload_and_check_forms(world, login_as, system_scope, anchored, signed):
    secretary = login_as("a1_secretary")
    review = new_review(secretary, world)
    assert declare(secretary, world, signed, "15/QĐ-SKHCN").status_code == 302
    details = f"/t/{world.a1}/signatures/{digest(signed)}"
    for handle in ("a1_head", "a1_qmr", "a1_secretary"):
        client = login_as(handle)
        assert 'id="f-signed-minutes"' in client.get(review).text, handle
        assert f'action="{details}/check"' in client.get(details).text, handle
        assert client.post(f"{details}/check").status_code == 302, handle
    for handle in ("a1_auditor", "a1_staff", "a1_viewer"):
        client = login_as(handle)
        assert 'id="f-signed-minutes"' not in client.get(review).text, handle
        page = client.get(details)
        assert page.status_code == 200 and badge(page.text, "valid") and "/check" not in page.text, handle
        assert client.post(f"{details}/check").status_code == 403, handle
        assert client.post(f"{review}/signed-minutes", data=upload(signed, "x.pdf"),
                           content_type="multipart/form-data").status_code == 403, handle
    # the merged predecessor's history is read-only, even for its own secretary
    assert login_as("a_old_secretary").post(f"/t/{world.a_old}/signatures/{digest(signed)}/check"
                                            ).status_code in (403, 404)
