"""The approval workflow through the web views, refusals included."""
from __future__ import annotations

import datetime as dt

import pytest

from tests.documents.helpers import PDF, create_document, docx_bytes, load, revision_ids, upload


@pytest.fixture
def draft(world, login_as, system_scope):
    """QT-01 in a1 with revision 1 drafted by the ISO secretary, file attached."""
    secretary = login_as("a1_secretary")
    document_id = create_document(secretary, world.a1)
    (revision_id,) = revision_ids(document_id)
    response = secretary.post(f"/t/{world.a1}/documents/{document_id}/revisions/{revision_id}/files",
                              data=upload("quy-trinh.pdf", PDF), content_type="multipart/form-data")
    assert response.status_code == 302
    return secretary, document_id, revision_id


def url(world, document_id, revision_id, step):
    return f"/t/{world.a1}/documents/{document_id}/revisions/{revision_id}/{step}"


def test_draft_review_approve_effective(world, login_as, draft):
    from govqms.documents.models import Document, Revision

    secretary, document_id, revision_id = draft
    assert secretary.post(url(world, document_id, revision_id, "submit")).status_code == 302
    qmr, head = login_as("a1_qmr"), login_as("a1_head")
    assert qmr.post(url(world, document_id, revision_id, "review"), data={"comment": "Đạt"}).status_code == 302
    today = dt.date.today().strftime("%d/%m/%Y")
    assert head.post(url(world, document_id, revision_id, "approve"), data={"effective_on": today}).status_code == 302
    revision, document = load(Revision, revision_id), load(Document, document_id)
    assert revision.status == "effective" and document.status == "effective"
    assert document.current_revision_id == revision_id and document.next_review_on is not None
    assert {revision.drafter.email, revision.reviewer.email, revision.approver.email} == {
        world.email("a1_secretary"), world.email("a1_qmr"), world.email("a1_head")}
    page = secretary.get(f"/t/{world.a1}/documents/{document_id}")
    # the history shows every step with the person, in the user's language
    for step in ("gửi xem xét", "kiểm tra", "phê duyệt", "đưa vào hiệu lực"):
        assert step in page.text
    assert world.email("a1_head") in page.text


def test_next_revision_supersedes_the_previous(world, login_as, draft):
    from govqms.documents.models import Revision

    secretary, document_id, first = draft
    qmr, head = login_as("a1_qmr"), login_as("a1_head")
    today = dt.date.today().strftime("%d/%m/%Y")
    secretary.post(url(world, document_id, first, "submit"))
    qmr.post(url(world, document_id, first, "review"))
    head.post(url(world, document_id, first, "approve"), data={"effective_on": today})
    assert secretary.post(f"/t/{world.a1}/documents/{document_id}/revisions").status_code == 302
    second = revision_ids(document_id)[1]
    secretary.post(url(world, document_id, second, "files"), data=upload("v2.docx", docx_bytes()),
                   content_type="multipart/form-data")
    refused = secretary.post(url(world, document_id, second, "submit"))
    assert refused.status_code == 409  # a second revision must say what changed
    secretary.post(url(world, document_id, second, "edit"), data={"change_summary": "Cập nhật biểu mẫu"})
    secretary.post(url(world, document_id, second, "submit"))
    qmr.post(url(world, document_id, second, "review"))
    head.post(url(world, document_id, second, "approve"), data={"effective_on": today})
    assert load(Revision, first).status == "superseded"
    assert load(Revision, second).status == "effective"


def test_no_one_approves_or_reviews_their_own_draft(world, login_as, system_scope):
    head = login_as("a1_head")  # a head may draft too
    document_id = create_document(head, world.a1, code="QT-09")
    (revision_id,) = revision_ids(document_id)
    head.post(url(world, document_id, revision_id, "files"), data=upload("a.pdf", PDF),
              content_type="multipart/form-data")
    head.post(url(world, document_id, revision_id, "submit"))
    assert head.post(url(world, document_id, revision_id, "review")).status_code == 409
    login_as("a1_qmr").post(url(world, document_id, revision_id, "review"))
    today = dt.date.today().strftime("%d/%m/%Y")
    refused = head.post(url(world, document_id, revision_id, "approve"), data={"effective_on": today})
    assert refused.status_code == 409
    from govqms.documents.models import Revision

    assert load(Revision, revision_id).status == "in_review"


def test_approval_needs_a_review_first(world, login_as, draft):
    secretary, document_id, revision_id = draft
    secretary.post(url(world, document_id, revision_id, "submit"))
    today = dt.date.today().strftime("%d/%m/%Y")
    assert login_as("a1_head").post(url(world, document_id, revision_id, "approve"),
                                    data={"effective_on": today}).status_code == 409


@pytest.mark.parametrize("handle", ["a1_staff", "a1_viewer", "a1_auditor", "a1_secretary", "p1_overseer"])
def test_roles_that_may_not_approve(world, login_as, draft, handle):
    secretary, document_id, revision_id = draft
    secretary.post(url(world, document_id, revision_id, "submit"))
    login_as("a1_qmr").post(url(world, document_id, revision_id, "review"))
    client = login_as(handle)
    today = dt.date.today().strftime("%d/%m/%Y")
    assert client.post(url(world, document_id, revision_id, "approve"), data={"effective_on": today}).status_code == 403


@pytest.mark.parametrize("handle", ["a1_staff", "a1_viewer", "p1_overseer"])
def test_roles_that_may_not_draft(world, login_as, handle):
    client = login_as(handle)
    assert client.get(f"/t/{world.a1}/documents/").status_code == 200  # but they read the register
    new = {"code": "X-1", "title": "x", "kind": "form"}
    assert client.post(f"/t/{world.a1}/documents/new", data=new).status_code == 403


def test_approved_revision_is_immutable(world, login_as, draft, system_scope):
    from govqms.documents.models import FrozenRevision, Revision
    from govqms.extensions import db

    secretary, document_id, revision_id = draft
    secretary.post(url(world, document_id, revision_id, "submit"))
    login_as("a1_qmr").post(url(world, document_id, revision_id, "review"))
    future = (dt.date.today() + dt.timedelta(days=10)).strftime("%d/%m/%Y")
    login_as("a1_head").post(url(world, document_id, revision_id, "approve"), data={"effective_on": future})
    assert load(Revision, revision_id).status == "approved"
    # through the views: editing and attaching are refused, nothing stored
    assert secretary.get(url(world, document_id, revision_id, "edit")).status_code == 403
    assert secretary.post(url(world, document_id, revision_id, "edit"),
                          data={"change_summary": "sửa lén"}).status_code == 403
    attach = secretary.post(url(world, document_id, revision_id, "files"), data=upload("b.pdf", PDF),
                            content_type="multipart/form-data")
    assert attach.status_code == 409
    assert len(load(Revision, revision_id).files) == 1
    # and below the views, the flush refuses it
    revision = db.session.get(Revision, revision_id)
    revision.change_summary = "sửa lén"
    with pytest.raises(FrozenRevision):
        db.session.flush()
    db.session.rollback()


def test_returned_draft_goes_back_with_the_comment(world, login_as, draft):
    from govqms.documents.models import Revision

    secretary, document_id, revision_id = draft
    secretary.post(url(world, document_id, revision_id, "submit"))
    qmr = login_as("a1_qmr")
    assert qmr.post(url(world, document_id, revision_id, "return"), data={"comment": ""}).status_code == 400
    assert qmr.post(url(world, document_id, revision_id, "return"),
                    data={"comment": "Bổ sung lưu đồ"}).status_code == 302
    revision = load(Revision, revision_id)
    assert revision.status == "draft" and revision.review_comment == "Bổ sung lưu đồ"


def test_obsolete_document_keeps_its_history(world, login_as, draft):
    from govqms.documents.models import Document

    head = login_as("a1_head")
    _, document_id, _ = draft
    assert "obsolete_on" in head.get(f"/t/{world.a1}/documents/{document_id}/obsolete").text  # confirmation page
    response = head.post(f"/t/{world.a1}/documents/{document_id}/obsolete",
                         data={"obsolete_on": "01/01/2026", "reason": "Thay bằng QT-02"})
    assert response.status_code == 302
    document = load(Document, document_id)
    assert document.status == "obsolete" and len(document.revisions) == 1
    assert head.post(f"/t/{world.a1}/documents/{document_id}/revisions").status_code == 409


def test_files_download_only_within_the_tenant(world, login_as, draft, system_scope):
    from govqms.documents.models import Revision

    secretary, document_id, revision_id = draft
    stored = load(Revision, revision_id).files[0]
    response = secretary.get(f"/t/{world.a1}/documents/files/{stored.id}")
    assert response.status_code == 200 and response.data == PDF and response.mimetype == "application/pdf"
    assert "quy-trinh.pdf" in response.headers["Content-Disposition"]
    assert login_as("b1_secretary").get(f"/t/{world.b1}/documents/files/{stored.id}").status_code == 404
    assert login_as("p1_overseer").get(f"/t/{world.a1}/documents/files/{stored.id}").status_code == 200
