"""Walks every registered route and tries to reach another tenant's or jurisdiction's data.

New routes are covered automatically. A route whose URL carries an argument this walk does
not know fails the test: add the argument to FOREIGN_VALUES (with a record of tenant b1 or
jurisdiction p2) so the route is probed like the others.
"""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

PROBE_METHODS = ("GET", "POST")
SKIP_ENDPOINTS = {"static", "bootstrap.static"}


@pytest.fixture
def foreign(app, world, system_scope):
    """Values that belong to tenant b1 / jurisdiction p2 (or to their users)."""
    from govqms.accounts.models import User
    from govqms.extensions import db
    from govqms.jobs.models import Job

    owner = db.session.scalar(select(User).where(User.email == world.email("b1_secretary")))
    records = make_b1_records(world, owner.id)
    job = Job(task="activity.export_csv", tenant_id=world.tenant_ids["b1"], user_id=owner.id, status="finished",
              result=b"secret of b1", result_name="b1.csv", result_mimetype="text/csv")
    db.session.add(job)
    from govqms.calendars.models import CalendarFeed

    feed = CalendarFeed(token_hash="0" * 64, label="b1", user_id=owner.id, tenant_id=world.tenant_ids["b1"])
    db.session.add(feed)
    from govqms.inspections.models import Inspection, InspectionPlan
    from govqms.tenancy.models import Jurisdiction

    p2 = db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == world.p2))
    plan = InspectionPlan(jurisdiction_id=p2.id, year=2026)
    db.session.add(plan)
    db.session.flush()
    inspection = Inspection(tenant_id=world.tenant_ids["b1"], plan_id=plan.id)
    db.session.add(inspection)
    from govqms.datacalls.models import DataCall, DataCallReply
    from govqms.official.models import DocumentTemplate

    # p2 replaced its yearly report's template (the one of every kind, for the URLs' ``kind``)
    db.session.add(DocumentTemplate(jurisdiction_id=p2.id, kind="yearly", file_name="p2.docx", data=b"secret of b1"))
    call = DataCall(jurisdiction_id=p2.id, title="b1", deadline=dt.date(2030, 1, 1), sent_on=dt.date(2026, 1, 1),
                    template_key="0/aa/secret", template_name="b1.xlsx")
    db.session.add(call)
    db.session.flush()
    reply = DataCallReply(tenant_id=world.tenant_ids["b1"], call_id=call.id,
                          files=[{"key": "x/aa/secret", "name": "b1.pdf", "size": 1}])
    db.session.add(reply)
    from govqms.datacalls.models import UnitCall, UnitCallReply

    unit_call = UnitCall(tenant_id=world.tenant_ids["b1"], title="b1", deadline=dt.date(2030, 1, 1),
                         sent_on=dt.date(2026, 1, 1), template_key="x/aa/secret", template_name="b1.xlsx")
    db.session.add(unit_call)
    db.session.flush()
    unit_reply = UnitCallReply(tenant_id=world.tenant_ids["b1"], call_id=unit_call.id,
                               unit_id=world.unit_ids["b1"][0], files=[{"key": "x/aa/secret", "name": "b1.pdf"}])
    db.session.add(unit_reply)
    from govqms.notifications.models import Notification

    notification = Notification(user_id=owner.id, kind="action", event_key="action:secret", step="due",
                                params={"title": "secret of b1"}, link_endpoint="improvement.nonconformities",
                                link_args={"tenant_slug": world.b1})
    db.session.add(notification)
    from govqms.accounts.models import UserSession

    browser = UserSession(user_id=owner.id, token_hash="1" * 64, method="password")  # b1's secretary's browser
    db.session.add(browser)
    from govqms.api import tokens
    from govqms.tenancy.models import Tenant

    api_token, _secret = tokens.issue(owner, name="b1", access="write", days=30,
                                      agency=db.session.get(Tenant, world.tenant_ids["b1"]))
    from govqms.webhooks import services as webhooks

    # webhooks of agency b1 and of province p2, each with a delivery in its log
    b1_hook, _secret = webhooks.create(webhooks.Owner(tenant_id=world.tenant_ids["b1"]), url="https://example.org/b1",
                                       events=["nonconformity.opened"], user_id=owner.id)
    p2_hook, _secret = webhooks.create(webhooks.Owner(jurisdiction_id=p2.id), url="https://example.org/p2",
                                       events=["nonconformity.opened"], user_id=None)
    db.session.flush()
    db.session.commit()
    return {
        "tenant_slug": world.b1,
        "jurisdiction_code": world.p2,
        "unit_id": world.unit_ids["b1"][0],
        "job_id": job.id,
        "feed_id": feed.id,
        "inspection_id": inspection.id,
        "call_id": call.id,
        "reply_id": reply.id,
        "index": 0,
        "unit_call_id": unit_call.id,
        "unit_reply_id": unit_reply.id,
        "notification_id": notification.id,
        "session_id": browser.id,
        "token_id": api_token.id,
        "subscription_id": b1_hook.id,
        "jurisdiction_subscription_id": p2_hook.id,
        # an invitation token is its own secret and belongs to no tenant: an unknown one is not found
        "token": "not-a-valid-invitation-token",
        # an official document of jurisdiction p2 (its narrative, its templates)
        "kind": "yearly",
        "year": 2026,
        **records,
    }


def make_b1_records(world, owner_id: int) -> dict[str, int]:
    """One record of every kind in tenant b1, written through the services as b1 would."""
    import datetime as dt
    import hashlib

    from govqms.audits.models import Audit
    from govqms.competence.models import Qualification
    from govqms.conformity.models import Certificate, Declaration
    from govqms.core.storage import get_storage
    from govqms.core.tenancy import TenantScope, scoped
    from govqms.core.uploads import CheckedFile
    from govqms.documents import services as documents
    from govqms.extensions import db
    from govqms.improvement.models import Action, Nonconformity, Risk
    from govqms.legal.models import LegalChange
    from govqms.legal.services import save as save_legal
    from govqms.objectives.models import Measurement, Objective
    from govqms.performance.models import SatisfactionSurvey, ServiceResult
    from govqms.procedures.models import AdminProcedure
    from govqms.procedures.services import save as save_procedure
    from govqms.records.models import RecordEntry
    from govqms.reviews.models import ManagementReview

    tenant_id = world.tenant_ids["b1"]
    with scoped(TenantScope.tenant(tenant_id), db.session):
        document = documents.create_document(tenant_id, code="QT-B1", title="Quy trình bí mật của B",
                                             kind="system_procedure", owner_unit_id=None,
                                             review_interval_months=12, drafter_id=owner_id)
        revision = document.revisions[0]
        stored = documents.add_file(revision, CheckedFile(b"%PDF-1.4 secret of b1", "b1.pdf", "pdf",
                                                          "application/pdf", "0" * 64))
        procedure = save_procedure(AdminProcedure(tenant_id=tenant_id), code="TTHC-B1", name="Thủ tục của B",
                                   field="", work_procedure_id=document.id)
        entry = RecordEntry(tenant_id=tenant_id, name="Hồ sơ của B", retention="5 năm")
        db.session.add(entry)
        change = save_legal(LegalChange(tenant_id=tenant_id), [document.id], number="1/2025/B", title="Luật của B",
                            effective_on=dt.date(2025, 1, 1))
        objective = Objective(tenant_id=tenant_id, year=2025, statement="Mục tiêu của B", indicator="x",
                              comparator=">=", target=1, frequency="year")
        db.session.add(objective)
        db.session.flush()
        measurement = Measurement(tenant_id=tenant_id, objective_id=objective.id, period_index=1, value=1,
                                  evidence_key=get_storage().put(tenant_id, b"secret of b1"), evidence_name="b.pdf",
                                  evidence_mimetype="application/pdf")
        result = ServiceResult.of_month(tenant_id=tenant_id, year=2025, month=1, received=1, resolved_early=0,
                               resolved_on_time=1, resolved_late=0, pending=0)
        survey = SatisfactionSurvey(tenant_id=tenant_id, year=2025, month=1, responses=1, satisfied=1)
        upload = b"Ky;Tiep nhan\n01/2025;1\n"
        get_storage().put(tenant_id, upload)
        db.session.add_all([measurement, result, survey])
        db.session.flush()
        audit = Audit(tenant_id=tenant_id, year=2025, title="Đánh giá của B", planned_start=dt.date(2025, 6, 1),
                      planned_end=dt.date(2025, 6, 2), clauses=["9.2"], unit_ids=[], process_ids=[], team_ids=[])
        nc = Nonconformity(tenant_id=tenant_id, source="self_found", found_on=dt.date(2025, 1, 1),
                           description="Điểm không phù hợp của B", status="analysed", root_cause="x")
        risk = Risk(tenant_id=tenant_id, kind="risk", description="Rủi ro của B", likelihood=1, impact=1)
        review = ManagementReview(tenant_id=tenant_id, year=2025, meeting_on=dt.date(2025, 12, 1), chair="B",
                                  inputs={}, notes={})
        qualification = Qualification(tenant_id=tenant_id, user_id=owner_id, kind="internal_auditor", course="x",
                                      completed_on=dt.date(2024, 1, 1))
        declaration = Declaration(tenant_id=tenant_id, decision_number="B", decided_on=dt.date(2025, 1, 1),
                                  edition="2015", file_key=get_storage().put(tenant_id, b"secret of b1"),
                                  file_name="b.pdf")
        certificate = Certificate(tenant_id=tenant_id, body="B", number="B", edition="2015",
                                  issued_on=dt.date(2025, 1, 1), expires_on=dt.date(2028, 1, 1))
        db.session.add_all([audit, nc, risk, review, qualification, declaration, certificate])
        db.session.flush()
        action = Action(tenant_id=tenant_id, nonconformity_id=nc.id, description="Việc của B", owner_id=owner_id,
                        due_on=dt.date(2025, 2, 1))
        db.session.add(action)
        db.session.commit()
        return {"document_id": document.id, "revision_id": revision.id, "file_id": stored.id,
                "procedure_id": procedure.id, "entry_id": entry.id, "change_id": change.id,
                "objective_id": objective.id, "measurement_id": measurement.id, "result_id": result.id,
                "survey_id": survey.id, "digest": hashlib.sha256(upload).hexdigest(), "audit_id": audit.id,
                "nc_id": nc.id, "action_id": action.id, "risk_id": risk.id, "review_id": review.id,
                "qualification_id": qualification.id, "declaration_id": declaration.id,
                "certificate_id": certificate.id}


def _rules(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIP_ENDPOINTS or rule.endpoint.startswith("admin") or not rule.arguments:
            continue
        if rule.rule.startswith("/admin"):
            continue
        yield rule


def _urls(rule, foreign, own_slug):
    missing = rule.arguments - foreign.keys()
    assert not missing, f"{rule.rule}: add a foreign value for {sorted(missing)} to the isolation walk"
    values = {arg: foreign[arg] for arg in rule.arguments}
    yield rule.rule, _build(rule, values)
    # The other tenant's record under one's own tenant URL (id tampering).
    if "tenant_slug" in rule.arguments and len(rule.arguments) > 1:
        yield rule.rule + " (own slug)", _build(rule, {**values, "tenant_slug": own_slug})


def _build(rule, values):
    url = rule.rule
    for arg, value in values.items():
        url = url.replace(f"<{arg}>", str(value)).replace(f"<int:{arg}>", str(value))
    assert "<" not in url, url
    return url


@pytest.mark.parametrize("handle", ["a1_secretary", "a1_head", "p1_overseer"])
def test_no_route_reaches_another_tenant(app, world, foreign, login_as, handle):
    client = login_as(handle)
    api = api_headers(world, handle)
    checked, leaks = 0, []
    for rule in _rules(app):
        for label, url in _urls(rule, foreign, world.a1):
            for method in PROBE_METHODS:
                if method not in rule.methods:
                    continue
                response = client.open(url, method=method, data={"code": "X", "name": "x", "entity": ""},
                                       headers=api if url.startswith("/api/") else {})
                checked += 1
                if response.status_code not in (403, 404):
                    leaks.append(f"{method} {url} [{label}] -> {response.status_code}")
                assert b"secret of b1" not in response.data
    assert checked >= 10
    assert not leaks, "reachable across tenants:\n" + "\n".join(leaks)


def api_headers(world, handle: str) -> dict:
    """A write token of the person's own place (agency a1, or province p1 for its overseer): the API
    routes are walked with it, as a script of theirs would call them."""
    from govqms.accounts.models import User
    from govqms.api import tokens
    from govqms.extensions import db
    from govqms.tenancy.models import Jurisdiction, Tenant

    user = db.session.scalar(select(User).where(User.email == world.email(handle)))
    if handle.startswith("p1"):
        place = {"jurisdiction": db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == world.p1))}
    else:
        place = {"agency": db.session.get(Tenant, world.tenant_ids["a1"])}
    _token, secret = tokens.issue(user, name="walk", access="write", days=1, **place)
    db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def test_the_walk_reaches_own_tenant(app, world, login_as):
    """Guards the walk itself: the same URLs with one's own values do answer."""
    client = login_as("a1_secretary")
    assert client.get(f"/t/{world.a1}/units/{world.unit_ids['a1'][0]}/edit").status_code == 200
    assert client.get(f"/t/{world.a1}/").status_code == 200


@pytest.mark.parametrize("handle", ["a1_secretary", "p1_overseer", "b1_secretary"])
def test_back_office_refuses_non_operators(app, login_as, handle):
    client = login_as(handle)
    admin_rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/admin") and "<" not in r.rule]
    assert len(admin_rules) > 10
    for rule in admin_rules:
        response = client.get(rule.rule)
        assert response.status_code in (403, 404, 405), f"{rule.rule} -> {response.status_code}"


def test_back_office_sends_anonymous_to_login(client):
    response = client.get("/admin/")
    assert response.status_code == 302 and "/login" in response.location


def test_back_office_open_to_operator(login_as):
    client = login_as("operator")
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/tenant/").status_code == 200


def test_overseer_of_other_province_sees_nothing_of_p1(world, login_as):
    client = login_as("p2_overseer")
    assert client.get(f"/o/{world.p1}/").status_code == 404
    assert client.get(f"/t/{world.a1}/").status_code == 404
    page = client.get(f"/o/{world.p2}/")
    assert page.status_code == 200
    assert "Sở Khoa học và Công nghệ Hai" in page.text
    assert "Sở Khoa học và Công nghệ Một" not in page.text


def test_national_overseer_sees_subtree(world, login_as):
    client = login_as("national_overseer")
    assert client.get(f"/t/{world.a1}/").status_code == 200
    assert client.get(f"/t/{world.b1}/").status_code == 200
    assert client.get(f"/o/{world.p1}/").status_code == 200
