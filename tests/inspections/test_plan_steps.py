"""The plan's steps read and write through the inspections' services: the agencies a plan lacks,
the plan's decision, a line loaded only in the jurisdiction whose plan holds it, and a line's
planning fixed once its minutes are signed."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tests.inspections.test_plan_follow_up import agencies_on, inspection_of, make_plan, plan_url, sign_minutes

YEAR = 2026


def test_agencies_missing_from_the_plan_are_counted_then_added(world, login_as, system_scope):
    from govqms.extensions import db
    from govqms.tenancy.models import Jurisdiction, Tenant

    overseer = login_as("p1_overseer")
    created = overseer.post(f"/o/{world.p1}/inspections/plan", data={"year": YEAR, "step": "create"},
                            follow_redirects=True)
    assert "Kế hoạch năm 2026 gồm 2 cơ quan" in created.text  # a1 and a2; a-old is merged, b1 elsewhere
    assert "chưa có trong kế hoạch" not in overseer.get(plan_url(world, YEAR)).text
    p1 = db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == "p1"))
    db.session.add(Tenant(slug="a-new", name="Sở mới thành lập", kind="commune", jurisdiction=p1))
    db.session.commit()
    page = overseer.get(plan_url(world, YEAR))
    assert "1 cơ quan thuộc phạm vi chưa có trong kế hoạch." in page.text and "a-new" not in agencies_on(page)
    added = overseer.post(f"/o/{world.p1}/inspections/plan", data={"year": YEAR, "step": "add_missing"},
                          follow_redirects=True)
    assert "Đã bổ sung 1 cơ quan vào kế hoạch." in added.text
    page = overseer.get(plan_url(world, YEAR))
    assert "chưa có trong kế hoạch" not in page.text and "a-new" in agencies_on(page)


def test_the_plans_decision_is_saved(world, login_as, system_scope):
    from govqms.extensions import db
    from govqms.inspections.models import InspectionPlan

    overseer = login_as("p1_overseer")
    make_plan(overseer, world, YEAR)
    saved = overseer.post(f"/o/{world.p1}/inspections/plan", data={
        "year": YEAR, "step": "decision", "decision_number": "15/QĐ-SKHCN", "approved_on": "20/01/2026"},
        follow_redirects=True)
    assert "Đã lưu kế hoạch." in saved.text
    db.session.expire_all()
    plan = db.session.scalar(select(InspectionPlan).where(InspectionPlan.year == YEAR))
    assert (plan.decision_number, plan.approved_on) == ("15/QĐ-SKHCN", dt.date(2026, 1, 20))
    assert overseer.post(f"/o/{world.p1}/inspections/plan", data={
        "year": YEAR, "step": "decision", "approved_on": "not a date"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(InspectionPlan, plan.id).decision_number == "15/QĐ-SKHCN"


def test_a_line_opens_only_in_the_jurisdiction_whose_plan_holds_it(world, login_as, system_scope):
    from govqms.extensions import db
    from govqms.inspections.services import inspection_in_reach
    from govqms.tenancy.models import Jurisdiction

    overseer = login_as("p1_overseer")
    make_plan(overseer, world, YEAR)
    a1 = inspection_of(world, "a1", YEAR)
    national = login_as("national_overseer")
    assert national.get(f"/o/{world.p1}/inspections/{a1.id}/").status_code == 200
    assert national.get(f"/o/vn/inspections/{a1.id}/").status_code == 404  # an agency below, another's plan
    assert national.get(f"/o/vn/inspections/{a1.id}/drop").status_code == 404
    jurisdictions = {j.code: j for j in db.session.scalars(select(Jurisdiction))}
    inspection, tenant, plan = inspection_in_reach(jurisdictions["p1"], a1.id)
    assert (inspection.id, tenant.slug, plan.year) == (a1.id, "a1", YEAR)
    assert inspection_in_reach(jurisdictions["vn"], a1.id) is None
    assert inspection_in_reach(jurisdictions["p2"], a1.id) is None


def test_planning_is_fixed_once_the_minutes_are_signed(world, login_as, system_scope):
    overseer = login_as("p1_overseer")
    make_plan(overseer, world, YEAR)
    a1 = inspection_of(world, "a1", YEAR)
    sign_minutes(overseer, world, a1, dt.date(YEAR, 3, 10))
    refused = overseer.post(f"/o/{world.p1}/inspections/{a1.id}/", data={
        "step": "planning", "form": "on_site", "cost": "100"}, follow_redirects=True)
    assert "Chưa thể thực hiện bước này: biên bản đã ký; kế hoạch của cuộc kiểm tra không thể thay đổi" in refused.text
    assert inspection_of(world, "a1", YEAR).form == "paper"
