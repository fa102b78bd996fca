"""The agency's records read through the API: documents with their revisions and files, the catalogues,
objectives with their valuation, service results and surveys, audits, risks, management reviews,
declarations and certificates. Each list is paginated and filtered as its page is; another agency's
record is a 404 under one's own agency."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from govqms.core.clock import today
from tests.api.test_tokens_and_scope import bearer, issue, place_of
from tests.documents.helpers import docx_bytes

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
QT01_FILE = docx_bytes()  # a zip's bytes carry the time they were made: made once


@pytest.fixture
def raw(app):
    """A client with no session: what a script is."""
    return app.test_client()


def user_id(world, handle: str) -> int:
    from govqms.accounts.models import User
    from govqms.extensions import db

    return db.session.scalar(select(User.id).where(User.email == world.email(handle)))


def checked(data: bytes, name: str):
    import hashlib

    from govqms.core.uploads import CheckedFile

    return CheckedFile(data, name, name.rsplit(".", 1)[1], DOCX, hashlib.sha256(data).hexdigest())


@pytest.fixture
def a1(world, system_scope):
    """Records of agency a1 of every kind the API reads, written through the services, as a1 would."""
    from govqms.audits import services as audits
    from govqms.audits.models import Audit
    from govqms.competence.models import Qualification
    from govqms.conformity import services as conformity
    from govqms.core.tenancy import TenantScope, scoped
    from govqms.documents import services as documents
    from govqms.extensions import db
    from govqms.improvement import services as improvement
    from govqms.legal.models import LegalChange
    from govqms.legal.services import save as save_legal
    from govqms.objectives import services as objectives
    from govqms.objectives.models import Objective
    from govqms.performance.models import SatisfactionSurvey, ServiceResult
    from govqms.procedures.models import AdminProcedure
    from govqms.procedures.services import save as save_procedure
    from govqms.records.models import RecordEntry
    from govqms.reviews import services as reviews

    tenant_id = world.tenant_ids["a1"]
    secretary, qmr, head = (user_id(world, h) for h in ("a1_secretary", "a1_qmr", "a1_head"))
    year = today().year
    with scoped(TenantScope.tenant(tenant_id), db.session):
        # QT-01 in force for more than a year (its periodic review overdue), QT-02 a draft with a file
        qt01 = documents.create_document(tenant_id, code="QT-01", title="Quy trình tiếp nhận hồ sơ",
                                         kind="system_procedure", owner_unit_id=world.unit_ids["a1"][0],
                                         review_interval_months=12, drafter_id=secretary)
        first = qt01.revisions[0]
        documents.add_file(first, checked(QT01_FILE, "quy-trinh-tiep-nhan.docx"))
        documents.submit(first, secretary)
        documents.record_review(first, qmr, "Đạt")
        documents.approve(first, head, today() - dt.timedelta(days=400))
        qt02 = documents.create_document(tenant_id, code="BM-02", title="Biểu mẫu phiếu hẹn", kind="form",
                                         owner_unit_id=None, review_interval_months=12, drafter_id=secretary)
        draft_file = documents.add_file(qt02.revisions[0], checked(b"PK draft of BM-02", "phieu-hen.docx"))
        covered = save_procedure(AdminProcedure(tenant_id=tenant_id), code="1.001", name="Cấp giấy phép",
                                 field="Khoa học", work_procedure_id=qt01.id)
        save_procedure(AdminProcedure(tenant_id=tenant_id), code="1.002", name="Gia hạn giấy phép",
                       field="Đo lường", work_procedure_id=None)
        db.session.add_all([RecordEntry(tenant_id=tenant_id, name="Sổ theo dõi hồ sơ", retention="5 năm",
                                        document_id=qt01.id, location="Bộ phận một cửa"),
                            RecordEntry(tenant_id=tenant_id, name="Hồ sơ cũ", retention="1 năm",
                                        archived_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))])
        late = save_legal(LegalChange(tenant_id=tenant_id), [qt01.id], number="01/2025/NĐ-CP",
                          title="Nghị định về dịch vụ công", effective_on=dt.date(2025, 1, 1))
        save_legal(LegalChange(tenant_id=tenant_id), [], number="02/2025/TT", title="Thông tư",
                   effective_on=dt.date(2025, 2, 1), qms_updated_on=dt.date(2025, 3, 1))
        typed = objectives.save_objective(
            Objective(tenant_id=tenant_id), year=year, unit_id=None, statement="Tỷ lệ hồ sơ đúng hạn đạt 95%",
            indicator="Tỷ lệ đúng hạn", comparator=">=", target=95, unit_of_measure="%", frequency="monthly",
            source="typed", owner_id=qmr, plan="")
        measured = objectives.record_measurement(typed, period_index=1, value=97, note="Tháng 1", user_id=secretary,
                                                 evidence=checked(b"PK evidence", "bang-tong-hop.docx"),
                                                 on=dt.date(year, 12, 31))
        db.session.add_all([
            ServiceResult.of_month(tenant_id=tenant_id, year=year, month=1, field="Khoa học", procedure_code="1.001",
                                   received=10, resolved_early=2, resolved_on_time=6, resolved_late=2, pending=0),
            ServiceResult.of_month(tenant_id=tenant_id, year=year, month=1, field="Đo lường", received=4,
                                   resolved_early=0, resolved_on_time=4, resolved_late=0, pending=1),
            ServiceResult.of_month(tenant_id=tenant_id, year=year - 1, month=12, received=99, resolved_early=0,
                                   resolved_on_time=99, resolved_late=0, pending=0),
            SatisfactionSurvey(tenant_id=tenant_id, year=year, month=1, responses=50, satisfied=45, note="Phiếu"),
            Qualification(tenant_id=tenant_id, user_id=qmr, kind="internal_auditor", course="ISO 9001",
                          completed_on=dt.date(2024, 1, 1)),
        ])
        db.session.flush()
        audit = Audit(tenant_id=tenant_id, year=year, title="Đánh giá nội bộ lần 1", planned_start=dt.date(year, 6, 1),
                      planned_end=dt.date(year, 6, 2))
        audits.save_audit(audit, edition="2015", lead_auditor_id=qmr, team_ids=[], unit_ids=[world.unit_ids["a1"][0]],
                          clauses_=["7.5", "8.5"], process_ids=[qt01.id])
        audits.build_checklist(audit, "2015")
        finding = audits.add_finding(audit, type="minor_nc", clause="7.5", unit_id=world.unit_ids["a1"][0],
                                     description="Chưa kiểm soát biểu mẫu", evidence="BM-02 chưa ban hành")
        high = improvement.save_risk(tenant_id, None, {"kind": "risk", "description": "Trễ hạn hồ sơ", "process": "",
                                                       "unit_id": None, "likelihood": 4, "impact": 5, "treatment": ""})
        improvement.save_risk(tenant_id, None, {"kind": "opportunity", "description": "Dịch vụ công trực tuyến",
                                                "process": "", "unit_id": None, "likelihood": 2, "impact": 2,
                                                "treatment": ""})
        improvement.add_action(tenant_id, description="Bổ sung nhân lực", owner_id=secretary,
                               due_on=today() - dt.timedelta(days=1), risk_id=high.id)
        review = reviews.create_review(tenant_id, year=year, meeting_on=today(), chair="Giám đốc",
                                       attendees="Lãnh đạo các phòng")
        improvement.add_action(tenant_id, description="Cập nhật quy trình", owner_id=qmr,
                               due_on=today() + dt.timedelta(days=30), review_id=review.id, category="qms_change")
        declaration = conformity.declare(tenant_id, decision_number="123/QĐ-SKHCN", decided_on=dt.date(2025, 5, 1),
                                         edition="2015", scope_note="", procedure_ids=[covered.id],
                                         file=checked(b"PK decision", "quyet-dinh.docx"))
        certificate = conformity.add_certificate(tenant_id, body="QUACERT", number="HT 1234", edition="2015",
                                                 scope="Toàn bộ", issued_on=dt.date(2025, 1, 1),
                                                 expires_on=dt.date(2028, 1, 1))
        conformity.record_external_audit(certificate, findings="", kind="surveillance",
                                         planned_on=dt.date(2026, 1, 10), held_on=None, result="")
        db.session.commit()
        return {"qt01": qt01.id, "qt01_revision": first.id, "qt01_file": first.files[0].id, "qt02": qt02.id,
                "qt02_revision": qt02.revisions[0].id, "draft_file": draft_file.id, "late": late.id,
                "objective": typed.id, "measurement": measured.id, "audit": audit.id, "finding": finding.id,
                "review": review.id, "declaration": declaration.id, "year": year}


@pytest.fixture
def token(world, login_as):
    return bearer(issue(login_as("a1_viewer"), place_of(world, "agency", "a1")))


def url(world, path: str) -> str:
    return f"/api/v1/agencies/{world.a1}{path}"


def test_the_register_is_filtered_and_paginated_as_its_page(world, a1, raw, token):
    listing = raw.get(url(world, "/documents"), headers=token)
    assert listing.status_code == 200
    assert [d["code"] for d in listing.json["items"]] == ["BM-02", "QT-01"]
    qt01 = listing.json["items"][1]
    assert qt01["status"] == "effective" and qt01["current_revision"] == 1 and qt01["review_overdue"] is True
    assert qt01["owner_unit"] and qt01["url"].endswith(f"/api/v1/agencies/{world.a1}/documents/{a1['qt01']}")
    for query, codes in (("q=tiep nhan", ["QT-01"]), ("kind=form", ["BM-02"]), ("status=draft", ["BM-02"]),
                         ("review_overdue=true", ["QT-01"]), ("sort=title", ["BM-02", "QT-01"]),
                         (f"unit_id={world.unit_ids['a1'][0]}", ["QT-01"])):
        found = raw.get(url(world, f"/documents?{query}"), headers=token)
        assert [d["code"] for d in found.json["items"]] == codes, query
    second = raw.get(url(world, "/documents?per_page=1&page=2"), headers=token).json
    assert [d["code"] for d in second["items"]] == ["QT-01"]
    assert second["page"] == {"page": 2, "per_page": 1, "total": 2, "pages": 2}
    invalid = raw.get(url(world, "/documents?kind=novel&per_page=101"), headers=token)
    assert invalid.status_code == 422 and set(invalid.json["errors"]["query"]) == {"kind", "per_page"}


def test_a_document_with_its_revisions_and_their_files(world, a1, raw, token):
    detail = raw.get(url(world, f"/documents/{a1['qt01']}"), headers=token)
    assert detail.status_code == 200 and detail.headers["ETag"].startswith('"document-')
    (revision,) = detail.json["revisions"]
    assert revision["status"] == "effective" and revision["review_comment"] == "Đạt"
    assert (revision["drafted_by"], revision["approved_by"]) != (None, None)
    (stored,) = revision["files"]
    assert stored["filename"] == "quy-trinh-tiep-nhan.docx" and stored["size"] == len(QT01_FILE)
    download = raw.get(stored["url"], headers=token)
    assert download.status_code == 200 and download.data == QT01_FILE
    assert "quy-trinh-tiep-nhan.docx" in download.headers["Content-Disposition"]
    assert download.headers["ETag"] == f'"{stored["sha256"]}"'
    assert raw.get(stored["url"]).status_code == 401  # the link needs the token
    # a draft's file is read as on the page; a file is reached only under its own revision and document
    draft = f"/documents/{a1['qt02']}/revisions/{a1['qt02_revision']}/files/{a1['draft_file']}"
    assert raw.get(url(world, draft), headers=token).data == b"PK draft of BM-02"
    for wrong in (f"/documents/{a1['qt02']}/revisions/{a1['qt02_revision']}/files/{a1['qt01_file']}",
                  f"/documents/{a1['qt01']}/revisions/{a1['qt02_revision']}/files/{a1['draft_file']}",
                  f"/documents/{a1['qt02']}/revisions/{a1['qt01_revision']}/files/{a1['qt01_file']}"):
        assert raw.get(url(world, wrong), headers=token).status_code == 404, wrong


def test_the_catalogues(world, a1, raw, token):
    procedures = raw.get(url(world, "/procedures"), headers=token).json
    assert [(p["code"], p["field"]) for p in procedures["items"]] == [("1.002", "Đo lường"), ("1.001", "Khoa học")]
    covered = next(p for p in procedures["items"] if p["code"] == "1.001")
    assert covered["work_procedure"]["code"] == "QT-01"
    uncovered = raw.get(url(world, "/procedures?uncovered=true"), headers=token).json["items"]
    assert [p["code"] for p in uncovered] == ["1.002"]
    assert [p["code"] for p in raw.get(url(world, "/procedures?q=gia han"), headers=token).json["items"]] == ["1.002"]
    assert [p["code"] for p in raw.get(url(world, "/procedures?field=Khoa học"), headers=token).json["items"]] == [
        "1.001"]
    records = raw.get(url(world, "/records"), headers=token).json["items"]
    assert [(r["name"], r["document"]["code"]) for r in records] == [("Sổ theo dõi hồ sơ", "QT-01")]
    archived = raw.get(url(world, "/records?archived=1"), headers=token).json["items"]
    assert [r["name"] for r in archived] == ["Hồ sơ cũ"] and archived[0]["archived"] is True
    changes = raw.get(url(world, "/legal-changes?per_page=1"), headers=token).json
    assert changes["page"]["total"] == 2 and [c["number"] for c in changes["items"]] == ["02/2025/TT"]
    assert changes["items"][0]["status"] == "applied" and changes["items"][0]["documents"] == []
    older = raw.get(url(world, "/legal-changes?per_page=1&page=2"), headers=token).json["items"][0]
    assert older["status"] == "overdue" and older["deadline"] == "2025-04-01"
    assert [d["code"] for d in older["documents"]] == ["QT-01"]


def test_objectives_with_their_valuation_and_measurements(world, a1, raw, token):
    year = a1["year"]
    listing = raw.get(url(world, "/objectives"), headers=token).json
    (objective,) = listing["items"]
    assert objective["statement"] == "Tỷ lệ hồ sơ đúng hạn đạt 95%" and objective["judgement"]["latest_value"] == 97
    assert objective["judgement"]["status"] in ("on_track", "at_risk") and objective["judgement"]["reason"]
    assert raw.get(url(world, f"/objectives?year={year - 1}"), headers=token).json["items"] == []
    assert raw.get(url(world, "/objectives?year=1999"), headers=token).status_code == 422
    detail = raw.get(url(world, f"/objectives/{a1['objective']}"), headers=token)
    assert detail.status_code == 200 and len(detail.json["periods"]) == 12
    january = detail.json["periods"][0]
    assert january["label"] == f"01/{year}" and january["value"] == 97
    assert january["measurement"]["note"] == "Tháng 1"
    assert january["measurement"]["evidence_name"] == "bang-tong-hop.docx"
    assert detail.json["periods"][1]["measurement"] is None
    assert raw.get(january["measurement"]["evidence"], headers=token).data == b"PK evidence"
    other = url(world, f"/objectives/{a1['objective'] + 999}/measurements/{a1['measurement']}/evidence")
    assert raw.get(other, headers=token).status_code == 404


def test_service_results_and_surveys(world, a1, raw, token):
    rows = raw.get(url(world, "/service-results"), headers=token).json
    assert rows["page"]["total"] == 2  # this year's only
    by_field = {r["field"]: r for r in rows["items"]}
    assert by_field["Khoa học"]["on_time_rate"] == 80.0 and by_field["Khoa học"]["procedure_code"] == "1.001"
    assert by_field["Đo lường"]["period_start"] == f"{a1['year']}-01-01"
    only = raw.get(url(world, "/service-results?field=Đo lường"), headers=token).json["items"]
    assert [r["received"] for r in only] == [4]
    assert [r["field"] for r in raw.get(url(world, "/service-results?procedure_code=1.001"),
                                        headers=token).json["items"]] == ["Khoa học"]
    last_year = raw.get(url(world, f"/service-results?year={a1['year'] - 1}"), headers=token).json["items"]
    assert [r["received"] for r in last_year] == [99]
    (period,) = raw.get(url(world, "/service-results/periods"), headers=token).json["items"]
    assert (period["received"], period["reports"], period["on_time_rate"]) == (14, 2, 85.7)
    fields = raw.get(url(world, "/service-results/fields"), headers=token).json["items"]
    assert {f["field"]: (f["received"], f["procedures_in_catalogue"]) for f in fields} == {
        "Khoa học": (10, 1), "Đo lường": (4, 1)}
    (survey,) = raw.get(url(world, "/satisfaction-surveys"), headers=token).json["items"]
    assert (survey["month"], survey["rate"], survey["note"]) == (1, 90.0, "Phiếu")
    assert raw.get(url(world, "/satisfaction-surveys?year=x"), headers=token).status_code == 422


def test_audits_risks_and_reviews(world, a1, raw, token):
    (audit,) = raw.get(url(world, "/audits"), headers=token).json["items"]
    assert audit["title"] == "Đánh giá nội bộ lần 1" and audit["status"] == "in_progress"
    assert audit["clauses"] == ["7.5", "8.5"] and audit["lead_auditor"]
    detail = raw.get(audit["url"], headers=token)
    assert detail.status_code == 200 and detail.headers["ETag"].startswith('"audit-')
    assert [item["clause"] for item in detail.json["checklist"]] == ["7.5", "8.5", ""]
    assert detail.json["checklist"][2]["question"].startswith("QT-01")
    (finding,) = detail.json["findings"]
    assert finding["type"] == "minor_nc" and finding["nonconformity_id"] and finding["unit"]
    assert [p["code"] for p in detail.json["processes"]] == ["QT-01"] and len(detail.json["units"]) == 1
    risks = raw.get(url(world, "/risks"), headers=token).json["items"]
    assert [(r["level"], r["band"]) for r in risks] == [(20, "high"), (4, "low")]
    assert [(a["description"], a["overdue"]) for a in risks[0]["actions"]] == [("Bổ sung nhân lực", True)]
    (review,) = raw.get(url(world, "/management-reviews"), headers=token).json["items"]
    assert review["chair"] == "Giám đốc" and review["held_on"] == today().isoformat()
    detail = raw.get(review["url"], headers=token).json
    assert {"objectives", "audits", "risks"} <= set(detail["inputs"])
    assert [(d["description"], d["category"]) for d in detail["decisions"]] == [("Cập nhật quy trình", "qms_change")]
    assert detail["signed_minutes"] is None
    minutes = url(world, f"/management-reviews/{a1['review']}/signed-minutes")
    assert raw.get(minutes, headers=token).status_code == 404  # none uploaded


def test_declarations_and_certificates(world, a1, raw, token):
    (declaration,) = raw.get(url(world, "/declarations"), headers=token).json["items"]
    assert declaration["decision_number"] == "123/QĐ-SKHCN" and len(declaration["procedure_ids"]) == 1
    assert declaration["file_name"] == "quyet-dinh.docx"
    assert raw.get(declaration["file"], headers=token).data == b"PK decision"
    (certificate,) = raw.get(url(world, "/certificates"), headers=token).json["items"]
    assert certificate["body"] == "QUACERT" and certificate["in_force"] is (today() < dt.date(2028, 1, 1))
    assert [a["kind"] for a in certificate["audits"]] == ["surveillance"]


def test_another_agencys_records_are_not_found(world, a1, raw, token, system_scope):
    from tests.tenancy.test_isolation_walk import make_b1_records

    b1 = make_b1_records(world, user_id(world, "b1_secretary"))
    for path in (f"/documents/{b1['document_id']}",
                 f"/documents/{b1['document_id']}/revisions/{b1['revision_id']}/files/{b1['file_id']}",
                 f"/documents/{a1['qt02']}/revisions/{a1['qt02_revision']}/files/{b1['file_id']}",
                 f"/objectives/{b1['objective_id']}",
                 f"/objectives/{b1['objective_id']}/measurements/{b1['measurement_id']}/evidence",
                 f"/objectives/{a1['objective']}/measurements/{b1['measurement_id']}/evidence",
                 f"/audits/{b1['audit_id']}", f"/management-reviews/{b1['review_id']}",
                 f"/management-reviews/{b1['review_id']}/signed-minutes",
                 f"/declarations/{b1['declaration_id']}/file"):
        answer = raw.get(url(world, path), headers=token)
        assert answer.status_code == 404 and answer.mimetype == "application/problem+json", path
        assert b"secret of b1" not in answer.data
    for path in ("/documents", "/procedures", "/records", "/legal-changes", "/objectives?year=2025",
                 "/service-results?year=2025", "/satisfaction-surveys?year=2025", "/audits?year=2025", "/risks",
                 "/management-reviews", "/declarations", "/certificates"):
        answer = raw.get(url(world, path), headers=token)
        assert answer.status_code == 200 and "của B" not in answer.text, path
    # b1's own token reads b1's, not a1's
    b1_token = bearer(issue_for(world, "b1_secretary", "b1"))
    assert raw.get(f"/api/v1/agencies/{world.b1}/documents/{b1['document_id']}", headers=b1_token).status_code == 200
    assert raw.get(url(world, f"/documents/{a1['qt01']}"), headers=b1_token).status_code == 404


def issue_for(world, handle: str, agency: str) -> str:
    from govqms.accounts.models import User
    from govqms.api import tokens
    from govqms.extensions import db
    from govqms.tenancy.models import Tenant

    user = db.session.scalar(select(User).where(User.email == world.email(handle)))
    _token, secret = tokens.issue(user, name="test", access="read", days=1,
                                  agency=db.session.get(Tenant, world.tenant_ids[agency]))
    db.session.commit()
    return secret


def test_every_read_is_in_the_openapi_document(app, raw):
    paths = raw.get("/api/v1/openapi.json").json["paths"]
    prefix = "/api/v1/agencies/{tenant_slug}"
    for path in ("/documents", "/documents/{document_id}",
                 "/documents/{document_id}/revisions/{revision_id}/files/{file_id}", "/procedures", "/records",
                 "/legal-changes", "/objectives", "/objectives/{objective_id}", "/service-results",
                 "/service-results/periods", "/service-results/fields", "/satisfaction-surveys", "/audits",
                 "/audits/{audit_id}", "/risks", "/management-reviews", "/management-reviews/{review_id}",
                 "/declarations", "/declarations/{declaration_id}/file", "/certificates"):
        assert paths[prefix + path]["get"]["tags"][0] in {"api_documents", "api_catalogues", "api_objectives",
                                                          "api_improvement", "api_conformity"}, path


LISTS = ("/documents", "/procedures", "/records", "/legal-changes", "/objectives", "/service-results",
         "/service-results/periods", "/service-results/fields", "/satisfaction-surveys", "/audits", "/risks",
         "/management-reviews", "/declarations", "/certificates")


def more_records(world, n: int) -> None:
    """*n* more records of each kind listed, each with what its list shows of its neighbours (owner,
    unit, document, actions, audits)."""
    from govqms.audits.models import Audit
    from govqms.conformity import services as conformity
    from govqms.core.tenancy import TenantScope, scoped
    from govqms.documents import services as documents
    from govqms.extensions import db
    from govqms.improvement import services as improvement
    from govqms.legal.models import LegalChange
    from govqms.legal.services import save as save_legal
    from govqms.objectives.models import Objective
    from govqms.procedures.models import AdminProcedure
    from govqms.procedures.services import save as save_procedure
    from govqms.records.models import RecordEntry
    from govqms.reviews.models import ManagementReview

    tenant_id, unit = world.tenant_ids["a1"], world.unit_ids["a1"][0]
    owner, year = user_id(world, "a1_qmr"), today().year
    with scoped(TenantScope.tenant(tenant_id), db.session):
        for i in range(n):
            document = documents.create_document(tenant_id, code=f"HD-{i}", title=f"Hướng dẫn {i}", kind="form",
                                                 owner_unit_id=unit, review_interval_months=12, drafter_id=owner)
            procedure = save_procedure(AdminProcedure(tenant_id=tenant_id), code=f"2.{i:03d}", name=f"Thủ tục {i}",
                                       field=f"Lĩnh vực {i}", work_procedure_id=document.id)
            save_legal(LegalChange(tenant_id=tenant_id), [document.id], number=f"{i}/2026/TT", title="Thông tư",
                       effective_on=dt.date(2026, 1, 1))
            risk = improvement.save_risk(tenant_id, None, {"kind": "risk", "description": f"Rủi ro {i}",
                                                           "process": "", "unit_id": unit, "likelihood": 3,
                                                           "impact": 3, "treatment": ""})
            improvement.add_action(tenant_id, description="Xử lý", owner_id=owner, due_on=today(), risk_id=risk.id)
            certificate = conformity.add_certificate(tenant_id, body=f"Tổ chức {i}", number=str(i), edition="2015",
                                                     scope="", issued_on=dt.date(2020, 1, 1),
                                                     expires_on=dt.date(2023, 1, 1))
            conformity.record_external_audit(certificate, findings="", kind="initial",
                                             planned_on=dt.date(2020, 1, 1), held_on=None, result="")
            conformity.declare(tenant_id, decision_number=f"{i}/QĐ", decided_on=dt.date(2020, 1, 1), edition="2015",
                               scope_note="", procedure_ids=[procedure.id])
            db.session.add_all([
                RecordEntry(tenant_id=tenant_id, name=f"Hồ sơ {i}", retention="5 năm", document_id=document.id,
                            keeper_unit_id=unit),
                Objective(tenant_id=tenant_id, year=year, unit_id=unit, statement=f"Mục tiêu {i}", indicator="x",
                          comparator=">=", target=1, frequency="quarterly", owner_id=owner),
                Audit(tenant_id=tenant_id, year=year, title=f"Đánh giá {i}", planned_start=dt.date(year, 9, 1),
                      planned_end=dt.date(year, 9, 2), lead_auditor_id=owner),
                ManagementReview(tenant_id=tenant_id, year=year, meeting_on=dt.date(year, 1, 1), chair="Phó giám đốc",
                                 inputs={}, notes={}),
            ])
        db.session.commit()


def test_each_list_is_a_fixed_number_of_queries(world, a1, raw, token, count_queries, system_scope):
    def queries() -> dict[str, int]:
        counts = {}
        for path in LISTS:
            raw.get(url(world, path), headers=token)  # what a first request of the token loads once
            with count_queries() as counter:
                assert raw.get(url(world, path), headers=token).status_code == 200, path
            # the statements that read (the scope's set_config around a request is the harness's, on PostgreSQL)
            counts[path] = sum(1 for s in counter.statements if "set_config" not in s)
        return counts

    few = queries()
    more_records(world, 4)
    assert queries() == few


@pytest.mark.parametrize(("withdrawn", "paths"), [
    ("documents.view", ("/documents", "/procedures", "/records", "/legal-changes")),
    ("objectives.view", ("/objectives", "/service-results", "/service-results/fields", "/satisfaction-surveys")),
    ("improvement.view", ("/audits", "/risks", "/management-reviews", "/declarations", "/certificates")),
])
def test_each_read_asks_the_permission_of_its_page(world, a1, raw, token, monkeypatch, withdrawn, paths):
    """A role without the page's permission is refused its records through the API too (every role has
    them today: the check is tested by taking one away from the viewer)."""
    from govqms.core.permissions import TENANT_ROLE_ACTIONS, Action, TenantRole

    monkeypatch.setitem(TENANT_ROLE_ACTIONS, TenantRole.VIEWER,
                        TENANT_ROLE_ACTIONS[TenantRole.VIEWER] - {Action(withdrawn)})
    files = {"documents.view": f"/documents/{a1['qt01']}/revisions/{a1['qt01_revision']}/files/{a1['qt01_file']}",
             "objectives.view": f"/objectives/{a1['objective']}/measurements/{a1['measurement']}/evidence",
             "improvement.view": f"/declarations/{a1['declaration']}/file"}
    for path in (*paths, files[withdrawn]):
        answer = raw.get(url(world, path), headers=token)
        assert answer.status_code == 403 and answer.mimetype == "application/problem+json", path
    assert raw.get(url(world, "/status"), headers=token).status_code == 200  # the rest is still read
