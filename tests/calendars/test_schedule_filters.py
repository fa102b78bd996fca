"""The timeline's query string is loaded by its filter schema (a filter that does not parse is as
if not given, a page beyond the last is the last), and a feed is revoked only by its owner, from the
page of what it shows."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tests.calendars.test_schedule import TODAY, plan, uids


def test_timeline_filters_that_do_not_parse_are_ignored(world, login_as, system_scope):
    from govqms.extensions import db

    plan(db, world.tenant_ids["a1"], "Đánh giá nội bộ đợt 1", dt.date(TODAY.year, 3, 10))
    plan(db, world.tenant_ids["a2"], "Đánh giá nội bộ Sở Y tế", dt.date(TODAY.year, 5, 4))
    client = login_as("p1_overseer")
    url = f"/o/{world.p1}/schedule/"
    everything = uids(client.get(url))
    assert len(everything) == 4
    for query in ("?kind=bogus", "?kind=", "?agency_kind=", "?kind=+", "?page=abc", "?page=-2", "?page=999",
                  f"?page={10**30}"):
        page = client.get(url + query)
        assert page.status_code == 200 and uids(page) == everything, query
    audits = uids(client.get(url + "?kind=internal_audit&page=2"))  # one page: the second is the last
    assert len(audits) == 2 and all(u.startswith("audit-") for u in audits)
    assert uids(client.get(url + "?agency_kind=no-such-kind")) == []


def test_a_feed_is_revoked_from_the_page_of_what_it_shows(world, login_as, system_scope):
    from govqms.calendars.models import CalendarFeed
    from govqms.extensions import db

    overseer = login_as("p1_overseer")
    assert overseer.post(f"/o/{world.p1}/schedule/feeds", data={"label": "Tỉnh"}).status_code == 200
    feed = db.session.scalar(select(CalendarFeed).where(CalendarFeed.label == "Tỉnh"))
    national = login_as("national_overseer")
    assert national.post(f"/o/{world.p1}/schedule/feeds/{feed.id}/revoke").status_code == 404  # not its owner
    assert overseer.get(f"/o/{world.p2}/schedule/feeds/{feed.id}/revoke").status_code == 404
    assert overseer.get(f"/o/{world.p1}/schedule/feeds/{feed.id}/revoke").status_code == 200
    assert overseer.post(f"/o/{world.p1}/schedule/feeds/{feed.id}/revoke").status_code == 302
    assert overseer.post(f"/o/{world.p1}/schedule/feeds/{feed.id}/revoke").status_code == 404  # revoked already
    # the owner's feed of the country is not revoked from a province's page
    assert national.post("/o/vn/schedule/feeds", data={"label": "Cả nước"}).status_code == 200
    country = db.session.scalar(select(CalendarFeed).where(CalendarFeed.label == "Cả nước"))
    assert national.get(f"/o/{world.p1}/schedule/feeds/{country.id}/revoke").status_code == 404
    assert national.post(f"/o/{world.p1}/schedule/feeds/{country.id}/revoke").status_code == 404
    assert national.get(f"/o/vn/schedule/feeds/{country.id}/revoke").status_code == 200


def test_an_overseer_makes_no_feed_of_an_agency(world, login_as, system_scope):
    """An agency's calendar addresses are its own people's: an overseer reading the agency neither sees
    the form nor can post it (the database refuses it too, on PostgreSQL)."""
    from sqlalchemy import func, select

    from govqms.calendars.models import CalendarFeed
    from govqms.extensions import db

    overseer = login_as("p1_overseer")
    page = overseer.get(f"/t/{world.a1}/calendar/")
    assert page.status_code == 200 and f'action="/t/{world.a1}/calendar/feeds"' not in page.text
    assert overseer.post(f"/t/{world.a1}/calendar/feeds", data={"label": "x"}).status_code == 403
    assert db.session.scalar(select(func.count()).select_from(CalendarFeed)) == 0
    secretary = login_as("a1_secretary")
    assert f'action="/t/{world.a1}/calendar/feeds"' in secretary.get(f"/t/{world.a1}/calendar/").text
