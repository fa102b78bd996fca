"""The engine on real records: facts for many agencies in a fixed number of queries; pages; snapshots."""
from __future__ import annotations

import datetime as dt
import io

from sqlalchemy import func, select

from govqms.core.clock import today

TODAY = today()


def make_agencies(db, world, n):
    from govqms.tenancy.models import Jurisdiction, Tenant

    p2 = db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == "p2"))
    tenants = [Tenant(slug=f"bulk-{n}-{i}", name=f"Xã {i}", kind="commune", jurisdiction=p2) for i in range(n)]
    db.session.add_all(tenants)
    db.session.commit()
    return tenants


def populate(db, tenant_id):
    from govqms.audits.models import Audit
    from govqms.conformity.models import Declaration
    from govqms.improvement.models import Action, Nonconformity
    from govqms.procedures.models import AdminProcedure
    from govqms.reviews.models import ManagementReview

    db.session.add_all([
        Audit(tenant_id=tenant_id, year=TODAY.year, title="x", planned_start=TODAY, planned_end=TODAY,
              actual_end=TODAY - dt.timedelta(days=30), status="reported", clauses=[], unit_ids=[], process_ids=[],
              team_ids=[]),
        ManagementReview(tenant_id=tenant_id, year=TODAY.year, meeting_on=TODAY - dt.timedelta(days=20),
                         held_on=TODAY - dt.timedelta(days=20), chair="x", inputs={}, notes={},
                         effectiveness_confirmed=True, confirmed_on=TODAY - dt.timedelta(days=20)),
        Declaration(tenant_id=tenant_id, decision_number="1", decided_on=dt.date(2022, 1, 1), edition="2015",
                    dost_notified_on=dt.date(2022, 1, 5), posted_on=dt.date(2022, 1, 5),
                    published_on=dt.date(2022, 1, 5)),
        AdminProcedure(tenant_id=tenant_id, code="P1", name="x"),
    ])
    nc = Nonconformity(tenant_id=tenant_id, source="self_found", found_on=TODAY - dt.timedelta(days=40),
                       description="x")
    db.session.add(nc)
    db.session.flush()
    db.session.add(Action(tenant_id=tenant_id, nonconformity_id=nc.id, description="x",
                          due_on=TODAY - dt.timedelta(days=1)))


def test_same_number_of_queries_for_10_and_300_agencies(app, world, system_scope, count_queries):
    from govqms.compliance.engine import evaluate
    from govqms.extensions import db

    ten = make_agencies(db, world, 10)
    for tenant in ten:
        populate(db, tenant.id)
    db.session.commit()
    small_ids = [t.id for t in ten]
    with count_queries() as small:
        statuses = evaluate(small_ids)
    assert all(s.level == "red" for s in statuses.values())  # the overdue action
    more = make_agencies(db, world, 290)
    for tenant in more[::7]:
        populate(db, tenant.id)
    db.session.commit()
    large_ids = [t.id for t in ten + more]
    with count_queries() as large:
        statuses = evaluate(large_ids)
    assert len(statuses) == 300
    assert large.count == small.count, (small.count, large.count)


def test_facts_come_from_the_records(app, world, system_scope):
    from govqms.compliance.engine import evaluate
    from govqms.extensions import db
    from govqms.tenancy.models import Tenant

    tenant = db.session.get(Tenant, world.tenant_ids["a2"])
    populate(db, tenant.id)
    db.session.commit()
    checks = {c.rule: c for c in evaluate([tenant.id])[tenant.id].checks}
    assert checks["internal_audit"].result == "ok"
    assert checks["management_review"].result == "ok"
    assert checks["confirmation"].result == "ok"
    # P1 was added to the catalogue but not linked to the declaration: declare again
    assert checks["declaration"].result == "overdue"
    assert checks["actions"].result == "overdue"
    assert checks["certification"].result == "not_applicable"


def test_status_page_shows_checks_with_reasons_and_records(world, login_as):
    client = login_as("a1_secretary")
    page = client.get(f"/t/{world.a1}/status/")
    assert page.status_code == 200
    assert 'data-level="red"' in page.text  # nothing recorded yet: no audit, no review, no declaration
    assert 'data-rule="internal_audit" data-result="overdue"' in page.text
    assert 'data-rule="certification" data-result="not_applicable"' in page.text
    overseer = login_as("p1_overseer")
    assert overseer.get(f"/t/{world.a1}/status/").status_code == 200
    merged = login_as("a_old_secretary").get(f"/t/{world.a_old}/status/")
    assert "tình trạng tuân thủ của cơ quan không còn được tính toán" in merged.text


def test_declaring_covers_the_scope(world, login_as, system_scope):
    from govqms.conformity.models import Declaration
    from govqms.extensions import db

    client = login_as("a1_secretary")
    client.post(f"/t/{world.a1}/procedures/new", data={"code": "1.1", "name": "Thủ tục một"})
    response = client.post(f"/t/{world.a1}/conformity/declarations", data={
        "decision_number": "15/QĐ-SKHCN", "decided_on": "01/03/2025", "edition": "2015", "posted_on": "02/03/2025",
        "dost_notified_on": "05/03/2025", "published_on": "02/03/2025",
        "file": (io.BytesIO(b"%PDF-1.4 quyet dinh"), "quyet-dinh.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 302
    declaration = db.session.scalar(select(Declaration).where(Declaration.tenant_id == world.tenant_ids["a1"]))
    assert len(declaration.procedures) == 1 and declaration.posted_on == dt.date(2025, 3, 2)
    status = client.get(f"/t/{world.a1}/status/")
    assert 'data-rule="declaration" data-result="ok"' in status.text
    client.post(f"/t/{world.a1}/procedures/new", data={"code": "1.2", "name": "Thủ tục hai"})
    status = client.get(f"/t/{world.a1}/status/")
    assert 'data-rule="declaration" data-result="overdue"' in status.text  # scope changed: declare again
    bad = client.post(f"/t/{world.a1}/conformity/declarations", data={"decision_number": "", "edition": "2020"})
    assert bad.status_code == 400


def test_certificate_and_external_audit_findings_become_nonconformities(world, login_as, system_scope):
    from govqms.conformity.models import Certificate
    from govqms.extensions import db
    from govqms.improvement.models import Nonconformity

    client = login_as("a1_secretary")
    assert client.post(f"/t/{world.a1}/conformity/certificates", data={
        "body": "QUACERT", "number": "HT 1234", "edition": "2015", "issued_on": "01/12/2024",
        "expires_on": "30/11/2027"}).status_code == 302
    certificate = db.session.scalar(select(Certificate).where(Certificate.tenant_id == world.tenant_ids["a1"]))
    assert client.post(f"/t/{world.a1}/conformity/certificates/{certificate.id}/audits", data={
        "kind": "surveillance", "planned_on": "01/11/2026", "held_on": "05/11/2026", "result": "Duy trì",
        "findings": "Thiếu hồ sơ đào tạo\nChưa cập nhật danh mục tài liệu"}).status_code == 302
    sources = db.session.scalars(select(Nonconformity.source).where(
        Nonconformity.tenant_id == world.tenant_ids["a1"])).all()
    assert sources == ["certification_audit", "certification_audit"]
    page = client.get(f"/t/{world.a1}/status/")
    assert 'data-rule="certification" data-result="ok"' in page.text  # next surveillance by 05/11/2027
    assert client.post(f"/t/{world.a1}/conformity/certificates", data={
        "body": "x", "number": "y", "edition": "2015", "issued_on": "01/12/2024",
        "expires_on": "01/12/2023"}).status_code == 400


def test_daily_snapshot(app, world, system_scope):
    from govqms.compliance.models import ComplianceSnapshot
    from govqms.extensions import db
    from govqms.jobs import services

    job = services.enqueue("compliance.snapshot", tenant_id=None, user_id=None)
    assert db.session.get(type(job), job.id).status == "finished"
    count = db.session.scalar(select(func.count()).select_from(ComplianceSnapshot).where(
        ComplianceSnapshot.day == TODAY))
    assert count == 3  # the active agencies of the world: a1, a2, b1
    services.enqueue("compliance.snapshot", tenant_id=None, user_id=None)  # again the same day: replaced
    assert db.session.scalar(select(func.count()).select_from(ComplianceSnapshot)) == count
    result = app.test_cli_runner().invoke(args=["compliance", "snapshot"])
    assert result.exit_code == 0 and "3" in result.output
