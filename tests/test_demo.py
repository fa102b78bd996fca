"""`govqms demo`: the shipped manifests, idempotent, with working logins, isolated like everything else."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.conftest import login


@pytest.fixture
def demo(app, system_scope):
    from govqms.demo import load_demo

    return load_demo("demo-pass-123")


def test_demo_is_idempotent(demo, system_scope):
    from govqms.demo import load_demo
    from govqms.extensions import db
    from govqms.tenancy.models import Tenant

    assert demo.changes > 0
    count = db.session.scalar(select(func.count()).select_from(Tenant))
    again = load_demo("demo-pass-123")
    assert again.changes == 0
    assert db.session.scalar(select(func.count()).select_from(Tenant)) == count
    assert "Demo already up to date" in again.summary()


def test_demo_comes_from_the_manifests(demo, system_scope):
    from govqms.extensions import db
    from govqms.tenancy.models import Jurisdiction, Tenant

    province = db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == "khanh-hoa"))
    ministry = db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == "bo-tu-phap"))
    assert province.parent.code == "vn" and ministry.level == "ministry"
    agencies = db.session.scalars(select(Tenant).where(Tenant.jurisdiction_id == province.id)).all()
    assert len([t for t in agencies if t.kind != "commune"]) >= 10
    assert len([t for t in agencies if t.kind == "commune"]) >= 3
    merged = {t.slug: (t.merged_into.slug, t.merged_on.isoformat()) for t in agencies if t.status == "merged"}
    assert merged["kh-so-tttt"] == ("kh-so-khcn", "2025-03-01")
    assert merged["kh-so-ldtbxh"] == ("kh-so-noivu", "2025-03-01")
    assert len(db.session.scalars(select(Tenant).where(Tenant.jurisdiction_id == ministry.id)).all()) >= 4
    roles = {what.split()[0].rstrip(",") for _, what in demo.logins}
    assert {"head", "qmr", "iso_secretary", "auditor", "staff", "viewer", "overseer",
            "steering_committee", "operator"} <= roles


def test_demo_member_gets_404_on_another_department(app, demo):
    client = login(app.test_client(), "thuky.yte@demo.govqms.vn", "demo-pass-123")
    assert client.get("/t/kh-so-yte/").status_code == 200
    assert client.get("/t/kh-so-khcn/").status_code == 404
    assert client.get("/t/kh-so-khcn/units/").status_code == 404


def test_historical_secretary_works_in_the_successor(app, demo):
    client = login(app.test_client(), "thuky.tttt@demo.govqms.vn", "demo-pass-123")
    page = client.get("/t/kh-so-khcn/")
    assert page.status_code == 200 and "Sở Thông tin và Truyền thông" in page.text  # history from …


def test_demo_logins_work(app, demo):
    for email, _ in demo.logins:
        client = login(app.test_client(), email, "demo-pass-123")
        assert client.get("/").status_code == 200


def test_demo_agencies_show_every_compliance_state(app, demo, system_scope):
    from govqms.compliance.engine import evaluate
    from govqms.extensions import db
    from govqms.tenancy.models import Tenant

    tenants = {t.slug: t for t in db.session.scalars(select(Tenant))}
    statuses = evaluate([t.id for t in tenants.values() if t.status == "active"])

    def check(slug, rule):
        return next(c for c in statuses[tenants[slug].id].checks if c.rule == rule)

    assert statuses[tenants["kh-so-tuphap"].id].level == "green"
    assert check("kh-so-taichinh", "certification").result == "due_soon"
    # certified until 2024, declaring conformity since 2022: the lapsed certificate is history, not a gap
    assert check("kh-so-xaydung", "certification").result == "not_applicable"
    assert check("kh-so-congthuong", "edition").result == "overdue"
    assert check("kh-so-congthuong", "declaration").result == "overdue"
    assert tenants["kh-so-tttt"].status == "merged" and tenants["kh-so-tttt"].id not in statuses
    levels = {s.level for s in statuses.values()}
    assert {"green", "red"} <= levels  # the province shows agencies in order and agencies with gaps


def test_demo_figures_come_from_the_records_on_any_day(app, demo, system_scope):
    """The 2026 report's "on the 2015 edition" is the count of agencies whose declaration (or
    certificate) in force says 2015; on 15/02/2025 the departments merged on 01/03/2025 are judged
    like the others, and the 2024 report includes them while leaving out the agencies of 2025."""
    import datetime as dt

    from govqms.conformity.models import Certificate, Declaration
    from govqms.core.clock import today
    from govqms.extensions import db
    from govqms.oversight import comparison, report
    from govqms.tenancy.models import Jurisdiction, Tenant

    province = db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == "khanh-hoa"))
    day = report.situation_day(today().year)
    existing = [t for t in db.session.scalars(select(Tenant).where(Tenant.jurisdiction_id == province.id))
                if t.exists_on(day)]
    on_2015 = 0
    for tenant in existing:  # counted by hand: the latest declaration or certificate in force that day
        found = [(d.decided_on, d.edition) for d in db.session.scalars(select(Declaration).where(
            Declaration.tenant_id == tenant.id, Declaration.archived_at.is_(None), Declaration.decided_on <= day))]
        found += [(c.issued_on, c.edition) for c in db.session.scalars(select(Certificate).where(
            Certificate.tenant_id == tenant.id, Certificate.issued_on <= day, Certificate.expires_on >= day,
            Certificate.ended_on.is_(None)))]
        on_2015 += bool(found) and max(found)[1] == "2015"
    figures = report.figures(province, today().year)
    assert figures.counts["on_2015"] == on_2015 and figures.counts["in_scope"] == len(existing)

    rows = {r.tenant.slug: r for r in comparison.compare(province, dt.date(2025, 2, 15))}
    for merged in ("kh-so-tttt", "kh-so-ldtbxh", "kh-so-khdt"):
        assert rows[merged].level in {"green", "amber", "red"}
    assert "kh-phuong-nha-trang" not in rows and "kh-so-nnmt" not in rows  # established in 2025
    slugs_2024 = {r.tenant.slug for r in report.figures(province, 2024).rows}
    assert {"kh-so-tttt", "kh-so-ldtbxh", "kh-so-khdt"} <= slugs_2024
    assert "kh-phuong-nha-trang" not in slugs_2024


def test_demo_schedule_feed_validates(app, demo):
    """The province's iCalendar feed parses with the icalendar library and holds the demo schedule."""
    import re

    from icalendar import Calendar

    overseer = login(app.test_client(), "tdc.khanhhoa@demo.govqms.vn", "demo-pass-123")
    page = overseer.post("/o/khanh-hoa/schedule/feeds", data={"label": "Outlook"})
    address = re.search(r'value="(http[^"]+\.ics)"', page.text).group(1).replace("http://localhost", "")
    body = app.test_client().get(address)
    assert body.status_code == 200
    calendar = Calendar.from_ical(body.data)
    events = calendar.walk("VEVENT")
    kinds = {str(e["CATEGORIES"].cats[0]) for e in events}
    assert {"Đánh giá nội bộ", "Xem xét của lãnh đạo"} <= kinds, kinds
    summaries = " ".join(str(e["SUMMARY"]) for e in events)
    assert "Sở Khoa học và Công nghệ tỉnh Khánh Hòa" in summaries and "Sở Y tế tỉnh Khánh Hòa" in summaries
    assert "Sở Tài chính tỉnh Khánh Hòa" in summaries  # its surveillance audit comes due
    assert all(e.get("UID") and e.get("DTSTART") for e in events)


def test_demo_overseer_year(app, demo, system_scope):
    """The province has this year's inspection plan (a third on site, Health inspected with findings
    that became its nonconformities) and the data call of seed 000, answered by some departments."""
    overseer = login(app.test_client(), "tdc.khanhhoa@demo.govqms.vn", "demo-pass-123")
    plan = overseer.get("/o/khanh-hoa/inspections/")
    assert 'data-testid="on-site-ok"' in plan.text and "125/QĐ-SKHCN" in plan.text
    calls = overseer.get("/o/khanh-hoa/data-calls/")
    assert "Rà soát, cập nhật quy trình giải quyết thủ tục hành chính" in calls.text
    health = login(app.test_client(), "thuky.yte@demo.govqms.vn", "demo-pass-123")
    assert "Chưa đào tạo công chức mới" in health.get("/t/kh-so-yte/inspections/").text


def test_demo_inboxes_hold_todays_reminders(app, demo, system_scope):
    from govqms.accounts.models import User
    from govqms.extensions import db
    from govqms.notifications.models import Notification

    told = db.session.scalar(select(func.count(func.distinct(Notification.user_id))))
    assert told >= 3
    demo_emails = [email for email, _ in demo.logins]
    user = db.session.scalars(select(User).join(Notification, Notification.user_id == User.id)
                              .where(User.email.in_(demo_emails))).first()
    client = login(app.test_client(), user.email, "demo-pass-123")
    assert 'data-testid="unread-count"' in client.get("/").text
    assert client.get("/inbox/").text.count('data-testid="notification"') >= 1
