"""Inspections (TT 26/2014 Art. 33–40): the yearly plan, the minutes, findings as the agency's
nonconformities with the 2-month deadline, and the report received and accepted."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

YEAR = 2026


def make_plan(client, world):
    response = client.post(f"/o/{world.p1}/inspections/plan", data={"year": YEAR, "step": "create"})
    assert response.status_code == 302, response.text


def inspection_of(world, key):
    from govqms.core.tenancy import TenantScope, scoped
    from govqms.extensions import db
    from govqms.inspections.models import Inspection

    db.session.expire_all()  # the views changed it in their own sessions
    with scoped(TenantScope.system(), db.session):
        return db.session.scalar(select(Inspection).where(Inspection.tenant_id == world.tenant_ids[key]))


def test_plan_lists_every_agency_and_warns_under_one_third_on_site(world, login_as, system_scope):
    client = login_as("p1_overseer")
    empty = client.get(f"/o/{world.p1}/inspections/?year={YEAR}")
    assert "Create the" in empty.text or "Lập kế hoạch" in empty.text
    make_plan(client, world)
    page = client.get(f"/o/{world.p1}/inspections/?year={YEAR}")
    assert 'data-agency="a1"' in page.text and 'data-agency="a2"' in page.text
    assert 'data-agency="a-old"' not in page.text and 'data-agency="b1"' not in page.text  # merged; other province
    assert 'data-testid="on-site-warning"' in page.text  # nobody on site yet
    a1 = inspection_of(world, "a1")
    response = client.post(f"/o/{world.p1}/inspections/{a1.id}/", data={
        "step": "planning", "form": "on_site", "inspecting_unit": "Chi cục Tiêu chuẩn Đo lường Chất lượng",
        "planned_start": "10/03/2026", "planned_end": "11/03/2026", "cost": "2500000"})
    assert response.status_code == 302
    page = client.get(f"/o/{world.p1}/inspections/?year={YEAR}")
    assert 'data-testid="on-site-ok"' in page.text and "2.500.000" in page.text
    # creating the same plan twice does nothing
    assert client.post(f"/o/{world.p1}/inspections/plan", data={"year": YEAR, "step": "create"}).status_code == 400


def test_bad_planning_input_is_explained_and_kept(world, login_as, system_scope):
    client = login_as("p1_overseer")
    make_plan(client, world)
    a1 = inspection_of(world, "a1")
    page = client.post(f"/o/{world.p1}/inspections/{a1.id}/", data={
        "step": "planning", "form": "on_site", "inspecting_unit": "Chi cục TĐC", "planned_start": "12/03/2026",
        "planned_end": "10/03/2026", "cost": "1000"})
    assert page.status_code == 422
    assert "Chi cục TĐC" in page.text and 'id="f-end" name="planned_end"' in page.text
    assert page.text.count("invalid-feedback d-block") == 1
    negative = client.post(f"/o/{world.p1}/inspections/{a1.id}/", data={
        "step": "planning", "form": "on_site", "cost": "-5"})
    assert negative.status_code == 422 and 'value="-5"' in negative.text


def test_minutes_turn_findings_into_the_agencys_nonconformities(world, login_as, system_scope):
    from govqms.compliance.engine import evaluate
    from govqms.improvement.models import Nonconformity

    overseer = login_as("p1_overseer")
    make_plan(overseer, world)
    a2 = inspection_of(world, "a2")
    unsigned = overseer.post(f"/o/{world.p1}/inspections/{a2.id}/", data={
        "step": "minutes", "held_on": "15/09/2026", "minutes_on": "16/09/2026", "findings": "7.2: Chưa đào tạo"})
    assert unsigned.status_code == 422  # the minutes must be declared signed
    response = overseer.post(f"/o/{world.p1}/inspections/{a2.id}/", data={
        "step": "minutes", "held_on": "15/09/2026", "minutes_on": "16/09/2026", "signed": "true",
        "check-scope": "met", "check-training": "not_met", "note-training": "Chưa tập huấn tài liệu mới",
        "findings": "7.2: Chưa đào tạo công chức về tài liệu sửa đổi\nChưa công bố lại khi thay đổi phạm vi",
        "conclusion": "Cơ bản đáp ứng"})
    assert response.status_code == 302
    inspection = inspection_of(world, "a2")
    assert inspection.status == "minutes_signed" and inspection.report_due_on == dt.date(2026, 11, 16)
    assert inspection.checklist["training"] == {"result": "not_met", "note": "Chưa tập huấn tài liệu mới"}
    from govqms.extensions import db

    ncs = db.session.scalars(select(Nonconformity).where(Nonconformity.tenant_id == world.tenant_ids["a2"],
                                                         Nonconformity.source == "provincial_inspection")).all()
    assert sorted((nc.clause, nc.due_on) for nc in ncs) == [("", dt.date(2026, 11, 16)), ("7.2", dt.date(2026, 11, 16))]
    assert {f["nc_id"] for f in inspection.findings} == {nc.id for nc in ncs}
    # the agency sees its findings, each linked to its nonconformity, and the compliance rule counts them
    page = login_as("a1_secretary").get(f"/t/{world.a2}/inspections/")
    assert page.status_code == 404
    from govqms.accounts.models import User
    from govqms.tenancy.models import Membership

    user = db.session.scalar(select(User).where(User.email == world.email("a1_viewer")))
    db.session.add(Membership(user_id=user.id, tenant_id=world.tenant_ids["a2"], role="viewer"))
    db.session.commit()
    agency = login_as("a1_viewer").get(f"/t/{world.a2}/inspections/")
    assert "Chưa đào tạo công chức về tài liệu sửa đổi" in agency.text and "16/11/2026" in agency.text
    check = next(c for c in evaluate([world.tenant_ids["a2"]], dt.date(2026, 12, 1))[world.tenant_ids["a2"]].checks
                 if c.rule == "inspection_actions")
    assert check.result == "overdue" and check.due_on == dt.date(2026, 11, 16)
    # the activity log of the agency says who raised them
    from govqms.core.activity import ActivityEntry

    raised = db.session.scalars(select(ActivityEntry).where(
        ActivityEntry.tenant_id == world.tenant_ids["a2"], ActivityEntry.entity == "nonconformity")).all()
    assert len(raised) == 2 and all(e.actor_label == world.email("p1_overseer") for e in raised)
    # signing twice is refused
    again = overseer.post(f"/o/{world.p1}/inspections/{a2.id}/", data={
        "step": "minutes", "held_on": "15/09/2026", "minutes_on": "16/09/2026", "signed": "true", "findings": "x"},
        follow_redirects=True)
    assert len(db.session.scalars(select(Nonconformity).where(
        Nonconformity.tenant_id == world.tenant_ids["a2"])).all()) == 2 and again.status_code == 200


def test_report_received_then_accepted_or_not(world, login_as, system_scope):
    overseer = login_as("p1_overseer")
    make_plan(overseer, world)
    a1 = inspection_of(world, "a1")
    url = f"/o/{world.p1}/inspections/{a1.id}/"
    overseer.post(url, data={"step": "minutes", "held_on": "01/09/2026", "minutes_on": "01/09/2026",
                             "signed": "true", "findings": "Thiếu hồ sơ"})
    # deciding before receiving is refused
    overseer.post(url, data={"step": "report", "outcome": "accepted", "on": "20/10/2026"})
    assert inspection_of(world, "a1").status == "minutes_signed"
    overseer.post(url, data={"step": "report", "outcome": "received", "on": "20/10/2026"})
    overseer.post(url, data={"step": "report", "outcome": "not_accepted", "on": "22/10/2026",
                             "note": "Chưa phân tích nguyên nhân"})
    inspection = inspection_of(world, "a1")
    assert inspection.status == "not_accepted" and inspection.report_note == "Chưa phân tích nguyên nhân"
    overseer.post(url, data={"step": "report", "outcome": "received", "on": "01/11/2026"})
    overseer.post(url, data={"step": "report", "outcome": "accepted", "on": "03/11/2026"})
    inspection = inspection_of(world, "a1")
    assert inspection.status == "accepted" and inspection.report_received_on == dt.date(2026, 11, 1)


def test_only_the_jurisdictions_overseers_manage_inspections(world, login_as, system_scope):
    from govqms.extensions import db
    from govqms.improvement.models import Nonconformity

    make_plan(login_as("p1_overseer"), world)
    a1 = inspection_of(world, "a1")
    # another province's overseer: nothing to see, nothing to change
    other = login_as("p2_overseer")
    assert other.get(f"/o/{world.p1}/inspections/").status_code == 404
    assert other.get(f"/o/{world.p2}/inspections/{a1.id}/").status_code == 404
    assert other.post(f"/o/{world.p2}/inspections/{a1.id}/", data={
        "step": "minutes", "held_on": "01/09/2026", "minutes_on": "01/09/2026", "signed": "true",
        "findings": "x"}).status_code == 404
    # the agency's own members cannot reach the oversight pages
    assert login_as("a1_head").get(f"/o/{world.p1}/inspections/").status_code == 404
    opened = select(Nonconformity).where(Nonconformity.tenant_id == world.tenant_ids["a1"])
    assert db.session.scalars(opened).all() == []
    # inspections appear on the schedule and in the agency's calendar
    login_as("p1_overseer").post(f"/o/{world.p1}/inspections/{a1.id}/", data={
        "step": "planning", "form": "paper", "planned_start": "10/03/2026", "planned_end": "10/03/2026", "cost": "0"})
    calendar = login_as("a1_staff").get(f"/t/{world.a1}/calendar/?year=2026")
    assert f'data-uid="inspection-{a1.id}"' in calendar.text
