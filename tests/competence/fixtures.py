"""What several packages' tests share: the audit team of agency a1 (trained internal auditors in
two units), the days around today, and planning an audit through the page."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from govqms.core.clock import today

TODAY = today()  # the app's day: Vietnam's date, not the machine's
PAST = (TODAY - dt.timedelta(days=10)).strftime("%d/%m/%Y")
FUTURE = (TODAY + dt.timedelta(days=30)).strftime("%d/%m/%Y")


def user_id(db, world, handle):
    from govqms.accounts.models import User

    return db.session.scalar(select(User.id).where(User.email == world.email(handle)))


@pytest.fixture
def auditors(world, login_as, system_scope):
    """a1_auditor and a1_qmr are trained internal auditors; they work in units VP and KHTC."""
    from govqms.extensions import db

    secretary = login_as("a1_secretary")
    vp, khtc = world.unit_ids["a1"]
    for handle, unit in (("a1_auditor", vp), ("a1_qmr", khtc)):
        uid = user_id(db, world, handle)
        assert secretary.post(f"/t/{world.a1}/competence/profiles",
                              data={"user_id": uid, "unit_id": unit, "job_title": "Chuyên viên"}).status_code == 302
        assert secretary.post(f"/t/{world.a1}/competence/qualifications", data={
            "user_id": uid, "kind": "internal_auditor", "course": "Đánh giá viên nội bộ ISO 9001:2015",
            "completed_on": "01/06/2024", "certificate": "ĐGV-01"}).status_code == 302
    return {"auditor": user_id(db, world, "a1_auditor"), "qmr": user_id(db, world, "a1_qmr"), "vp": vp, "khtc": khtc}


def plan_audit(client, world, lead, team, units, **extra):
    data = {"year": str(TODAY.year), "title": "Đánh giá nội bộ lần 1", "planned_start": PAST, "planned_end": PAST,
            "lead_auditor_id": str(lead), "team_ids": [str(t) for t in team], "unit_ids": [str(u) for u in units],
            "clauses": ["7.5", "9.2"]}
    data.update(extra)
    return client.post(f"/t/{world.a1}/audits/new", data=data)
