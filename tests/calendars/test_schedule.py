"""The schedule of a jurisdiction or an agency, and its iCalendar feeds."""
from __future__ import annotations

import datetime as dt
import re

from icalendar import Calendar
from sqlalchemy import select

from govqms.core.clock import today

TODAY = today()


def plan(db, tenant_id: int, title: str, day: dt.date):
    from govqms.audits.models import Audit
    from govqms.reviews.models import ManagementReview

    db.session.add_all([
        Audit(tenant_id=tenant_id, year=day.year, title=title, planned_start=day,
              planned_end=day + dt.timedelta(days=2), status="planned", clauses=[], unit_ids=[], process_ids=[],
              team_ids=[]),
        ManagementReview(tenant_id=tenant_id, year=day.year, meeting_on=day + dt.timedelta(days=10),
                         chair="Giám đốc", inputs={}, notes={}),
    ])
    db.session.commit()


def uids(page) -> list[str]:
    return re.findall(r'data-uid="([^"]+)"', page.text)


def feed_address(page) -> str:
    match = re.search(r'value="(http[^"]+\.ics)"', page.text)
    assert match, "the new address is shown once"
    return match.group(1).replace("http://localhost", "")


def parse(body: bytes) -> Calendar:
    return Calendar.from_ical(body)


def test_jurisdiction_timeline_shows_every_agency_of_the_year(world, login_as, system_scope):
    from govqms.extensions import db

    plan(db, world.tenant_ids["a1"], "Đánh giá nội bộ đợt 1", dt.date(TODAY.year, 3, 10))
    plan(db, world.tenant_ids["a2"], "Đánh giá nội bộ Sở Y tế", dt.date(TODAY.year, 5, 4))
    plan(db, world.tenant_ids["b1"], "Đánh giá của tỉnh khác", dt.date(TODAY.year, 4, 1))
    client = login_as("p1_overseer")
    page = client.get(f"/o/{world.p1}/schedule/")
    assert page.status_code == 200
    assert "Đánh giá nội bộ đợt 1" in page.text and "Đánh giá nội bộ Sở Y tế" in page.text
    assert "Đánh giá của tỉnh khác" not in page.text
    assert len([u for u in uids(page) if u.startswith("audit-")]) == 2
    assert len([u for u in uids(page) if u.startswith("review-")]) == 2
    # filters: what, kind of agency, year
    audits_only = client.get(f"/o/{world.p1}/schedule/?kind=internal_audit")
    assert all(u.startswith("audit-") for u in uids(audits_only)) and len(uids(audits_only)) == 2
    health = client.get(f"/o/{world.p1}/schedule/?agency_kind=health")
    assert "Đánh giá nội bộ Sở Y tế" in health.text and "Đánh giá nội bộ đợt 1" not in health.text
    assert uids(client.get(f"/o/{world.p1}/schedule/?year={TODAY.year - 3}")) == []


def test_agency_calendar_shows_its_own_events_only(world, login_as, system_scope):
    from govqms.extensions import db

    plan(db, world.tenant_ids["a1"], "Đánh giá nội bộ đợt 1", dt.date(TODAY.year, 3, 10))
    plan(db, world.tenant_ids["a2"], "Đánh giá nội bộ Sở Y tế", dt.date(TODAY.year, 5, 4))
    page = login_as("a1_staff").get(f"/t/{world.a1}/calendar/")
    assert "Đánh giá nội bộ đợt 1" in page.text and "Đánh giá nội bộ Sở Y tế" not in page.text
    assert login_as("a1_staff").get(f"/t/{world.a2}/calendar/").status_code == 404


def test_jurisdiction_feed_parses_and_holds_the_schedule(world, login_as, system_scope, client):
    from govqms.extensions import db

    plan(db, world.tenant_ids["a2"], "Đánh giá nội bộ Sở Y tế", dt.date(TODAY.year, 5, 4))
    plan(db, world.tenant_ids["b1"], "Đánh giá của tỉnh khác", dt.date(TODAY.year, 4, 1))
    overseer = login_as("p1_overseer")
    address = feed_address(overseer.post(f"/o/{world.p1}/schedule/feeds", data={"label": "Outlook"}))
    response = client.get(address)  # no session: calendar apps do not sign in
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    calendar = parse(response.data)
    events = calendar.walk("VEVENT")
    summaries = [str(e["SUMMARY"]) for e in events]
    assert any("Đánh giá nội bộ Sở Y tế" in s and "Sở Y tế Một" in s for s in summaries)
    assert not any("tỉnh khác" in s for s in summaries)
    audit = next(e for e in events if "Đánh giá nội bộ Sở Y tế" in str(e["SUMMARY"]))
    assert audit.decoded("DTSTART") == dt.date(TODAY.year, 5, 4)
    assert audit.decoded("DTEND") == dt.date(TODAY.year, 5, 7)  # three days, end exclusive
    assert str(audit["URL"]).endswith("/t/a2/audits/" + str(audit["UID"]).split("-")[1].split("@")[0])
    # stable identifiers: a second fetch updates, never duplicates
    again = parse(client.get(address).data)
    assert sorted(str(e["UID"]) for e in again.walk("VEVENT")) == sorted(str(e["UID"]) for e in events)


def test_feed_is_revocable_and_follows_access(world, login_as, system_scope, client):
    from govqms.accounts.models import User
    from govqms.calendars.models import CalendarFeed
    from govqms.extensions import db
    from govqms.tenancy.models import Membership

    member = login_as("a1_staff")
    page = member.post(f"/t/{world.a1}/calendar/feeds", data={"label": "Lịch Google"})
    address = feed_address(page)
    assert client.get(address).status_code == 200
    feed = db.session.scalar(select(CalendarFeed).where(CalendarFeed.label == "Lịch Google"))
    assert feed.token_hash not in address  # only the hash is kept
    # someone else cannot revoke it; its owner is asked first
    assert login_as("a1_head").post(f"/t/{world.a1}/calendar/feeds/{feed.id}/revoke").status_code == 404
    confirm = member.get(f"/t/{world.a1}/calendar/feeds/{feed.id}/revoke")
    assert confirm.status_code == 200 and "Lịch Google" in confirm.text
    assert member.post(f"/t/{world.a1}/calendar/feeds/{feed.id}/revoke").status_code == 302
    assert client.get(address).status_code == 404
    # a second address stops when its owner loses access to the agency
    address = feed_address(member.post(f"/t/{world.a1}/calendar/feeds", data={"label": "Điện thoại"}))
    assert client.get(address).status_code == 200
    staff = db.session.scalar(select(User).where(User.email == world.email("a1_staff")))
    db.session.execute(Membership.__table__.delete().where(Membership.user_id == staff.id))
    db.session.commit()
    assert client.get(address).status_code == 404
    assert client.get("/calendar/not-a-token.ics").status_code == 404


def test_feed_needs_a_name(world, login_as):
    page = login_as("a1_staff").post(f"/t/{world.a1}/calendar/feeds", data={"label": "  "})
    assert page.status_code == 422 and "is-invalid" in page.text


def test_schedule_queries_do_not_grow_with_agencies(world, login_as, system_scope, count_queries):
    from govqms.extensions import db
    from tests.oversight.test_comparison import add_agencies

    client = login_as("p1_overseer")
    url = f"/o/{world.p1}/schedule/"

    def queries():
        client.get(url)
        with count_queries() as counter:
            assert client.get(url).status_code == 200
        return counter.count

    add_agencies(db, "p1", 5, "few")
    few = queries()
    add_agencies(db, "p1", 120, "more", every=3)
    assert queries() == few
