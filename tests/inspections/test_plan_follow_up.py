"""The inspection plan follows the year: inspections past their planned time and still not recorded
are flagged and counted; an agency merged by the end of the plan's year whose inspection was never
held can be dropped from the plan (a held inspection stays)."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from govqms.core.clock import today


def ddmmyyyy(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


def plan_url(world, year: int) -> str:
    return f"/o/{world.p1}/inspections/?year={year}"


def make_plan(client, world, year: int) -> None:
    response = client.post(f"/o/{world.p1}/inspections/plan", data={"year": year, "step": "create"})
    assert response.status_code == 302, response.text


def inspection_of(world, key: str, year: int):
    from govqms.core.tenancy import TenantScope, scoped
    from govqms.extensions import db
    from govqms.inspections.models import Inspection, InspectionPlan

    db.session.expire_all()  # the views changed it in their own sessions
    with scoped(TenantScope.system(), db.session):
        return db.session.scalar(select(Inspection).join(InspectionPlan, InspectionPlan.id == Inspection.plan_id)
                                 .where(Inspection.tenant_id == world.tenant_ids[key], InspectionPlan.year == year))


def plan_inspection(client, world, inspection, *, start: dt.date | None, end: dt.date | None, form="paper"):
    response = client.post(f"/o/{world.p1}/inspections/{inspection.id}/", data={
        "step": "planning", "form": form, "planned_start": ddmmyyyy(start) if start else "",
        "planned_end": ddmmyyyy(end) if end else "", "cost": "0"})
    assert response.status_code == 302, response.text


def sign_minutes(client, world, inspection, on: dt.date):
    response = client.post(f"/o/{world.p1}/inspections/{inspection.id}/", data={
        "step": "minutes", "held_on": ddmmyyyy(on), "minutes_on": ddmmyyyy(on), "signed": "true", "findings": ""})
    assert response.status_code == 302, response.text


def merge(world, source: str, successor: str, on: dt.date) -> None:
    from govqms.extensions import db
    from govqms.tenancy.merge import merge_tenant
    from govqms.tenancy.models import Tenant

    merge_tenant(db.session.get(Tenant, world.tenant_ids[source]), db.session.get(Tenant, world.tenant_ids[successor]),
                 on)
    db.session.commit()


def row_of(page, slug: str) -> str:
    table = page.text.split('data-testid="plan"', 1)[1]
    return table.split(f'<tr data-agency="{slug}"', 1)[1].split("</tr>", 1)[0]


def agencies_on(page) -> list[str]:
    table = page.text.split('data-testid="plan"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<tr data-agency="([^"]+)"', table)


def not_recorded_count(page) -> int | None:
    found = re.search(r'data-testid="not-yet-recorded-count" data-count="(\d+)"', page.text)
    return int(found.group(1)) if found else None


# --- inspections past their planned time -------------------------------------------------------

def test_planned_inspections_past_their_time_are_flagged_and_counted(world, login_as, system_scope):
    year, day = today().year, today()
    overseer = login_as("p1_overseer")
    make_plan(overseer, world, year)
    assert not_recorded_count(overseer.get(plan_url(world, year))) is None  # no time fixed yet: nothing late
    a1, a2 = inspection_of(world, "a1", year), inspection_of(world, "a2", year)
    past_start, past_end = day - dt.timedelta(days=20), day - dt.timedelta(days=19)
    plan_inspection(overseer, world, a1, start=past_start, end=past_end, form="on_site")
    plan_inspection(overseer, world, a2, start=day - dt.timedelta(days=1), end=day)  # its last day is today

    page = overseer.get(plan_url(world, year))
    assert not_recorded_count(page) == 1
    assert "chưa ghi nhận" in page.text  # Vietnamese, the default language
    late = row_of(page, "a1")
    assert 'data-testid="not-yet-recorded"' in late
    assert f"{ddmmyyyy(past_start)} – {ddmmyyyy(past_end)}" in late
    assert 'data-testid="not-yet-recorded"' not in row_of(page, "a2")
    # the inspection's own page and the agency's view say the same
    assert 'data-testid="not-yet-recorded"' in overseer.get(f"/o/{world.p1}/inspections/{a1.id}/").text
    agency = login_as("a1_secretary").get(f"/t/{world.a1}/inspections/")
    assert agency.status_code == 200 and 'data-testid="not-yet-recorded"' in agency.text
    assert ddmmyyyy(past_start) in agency.text

    # with only a start date, the start is what is late
    plan_inspection(overseer, world, a2, start=day - dt.timedelta(days=3), end=None)
    page = overseer.get(plan_url(world, year))
    assert not_recorded_count(page) == 2 and 'data-testid="not-yet-recorded"' in row_of(page, "a2")

    # recording the minutes clears the flag
    sign_minutes(overseer, world, a1, past_end)
    page = overseer.get(plan_url(world, year))
    assert not_recorded_count(page) == 1 and 'data-testid="not-yet-recorded"' not in row_of(page, "a1")
    assert 'data-testid="not-yet-recorded"' not in login_as("a1_secretary").get(f"/t/{world.a1}/inspections/").text


# --- agencies merged after the plan was made ---------------------------------------------------

def test_a_merged_agency_is_marked_and_dropped_from_the_plan(world, login_as, system_scope):
    from govqms.core.activity import ActivityEntry
    from govqms.extensions import db

    year = today().year
    overseer = login_as("p1_overseer")
    make_plan(overseer, world, year)
    a2 = inspection_of(world, "a2", year)
    a2_id = a2.id  # the line is deleted below
    plan_inspection(overseer, world, a2, start=dt.date(year, 12, 1), end=dt.date(year, 12, 2), form="on_site")
    page = overseer.get(plan_url(world, year))
    assert 'data-testid="on-site-ok" data-on-site="1" data-total="2"' in page.text
    assert 'data-testid="merged"' not in page.text

    merged_on = dt.date(year, 3, 1)
    merge(world, "a2", "a1", merged_on)
    page = overseer.get(plan_url(world, year))
    line = row_of(page, "a2")
    assert 'data-testid="merged"' in line
    assert "Sở Khoa học và Công nghệ Một" in line and ddmmyyyy(merged_on) in line
    assert f'/o/{world.p1}/inspections/{a2_id}/drop' in line
    assert 'data-testid="merged"' not in row_of(page, "a1")
    assert 'data-testid="on-site-ok" data-on-site="1" data-total="2"' in page.text  # counted until dropped

    # a confirmation first: the page asks, and a post without the confirmation changes nothing
    confirm = overseer.get(f"/o/{world.p1}/inspections/{a2_id}/drop")
    assert confirm.status_code == 200
    assert 'name="confirm" value="1"' in confirm.text and 'name="csrf_token"' in confirm.text
    assert overseer.post(f"/o/{world.p1}/inspections/{a2_id}/drop", data={}).status_code == 400
    assert inspection_of(world, "a2", year) is not None

    response = overseer.post(f"/o/{world.p1}/inspections/{a2_id}/drop", data={"confirm": "1"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/inspections/?year={year}")
    assert inspection_of(world, "a2", year) is None
    page = overseer.get(plan_url(world, year))
    assert agencies_on(page) == ["a1"]
    # the figures no longer count it: 1 agency, none on site
    assert 'data-testid="on-site-warning" data-on-site="0" data-total="1"' in page.text
    # the merged agency's activity log keeps the whole line, who dropped it and why
    entry = db.session.scalar(select(ActivityEntry).where(
        ActivityEntry.entity == "inspection", ActivityEntry.entity_id == str(a2_id), ActivityEntry.action == "delete"))
    assert entry.tenant_id == world.tenant_ids["a2"] and entry.actor_label == world.email("p1_overseer")
    assert entry.changes["form"] == ["on_site", None] and entry.changes["planned_start"][0] == f"{year}-12-01"
    assert "Sở Khoa học và Công nghệ Một" in entry.note and ddmmyyyy(merged_on) in entry.note
    # "add the missing agencies" does not bring a merged agency back
    overseer.post(f"/o/{world.p1}/inspections/plan", data={"year": year, "step": "add_missing"})
    assert inspection_of(world, "a2", year) is None


def test_a_held_inspection_stays_and_other_lines_cannot_be_dropped(world, login_as, system_scope):
    year = today().year
    overseer = login_as("p1_overseer")
    make_plan(overseer, world, year - 1)
    make_plan(overseer, world, year)
    held = inspection_of(world, "a2", year)
    sign_minutes(overseer, world, held, dt.date(year, 1, 20))
    merge(world, "a2", "a1", dt.date(year, 2, 1))

    # held before the merge: it stays, unmarked, and a drop is refused
    page = overseer.get(plan_url(world, year))
    assert 'data-testid="merged"' not in row_of(page, "a2") and "/drop" not in row_of(page, "a2")
    refused = overseer.post(f"/o/{world.p1}/inspections/{held.id}/drop", data={"confirm": "1"})
    assert refused.status_code == 409 and "vẫn thuộc kế hoạch" in refused.text  # the reason, in Vietnamese
    assert inspection_of(world, "a2", year) is not None
    assert overseer.get(f"/o/{world.p1}/inspections/{held.id}/drop").status_code == 302  # nothing to confirm
    # an agency that was not merged stays
    a1 = inspection_of(world, "a1", year)
    assert overseer.post(f"/o/{world.p1}/inspections/{a1.id}/drop", data={"confirm": "1"}).status_code == 409
    assert inspection_of(world, "a1", year) is not None
    # last year's plan: the agency still existed all that year, its inspection was due
    last_year = inspection_of(world, "a2", year - 1)
    assert 'data-testid="merged"' not in row_of(overseer.get(plan_url(world, year - 1)), "a2")
    assert overseer.post(f"/o/{world.p1}/inspections/{last_year.id}/drop", data={"confirm": "1"}).status_code == 409
    assert inspection_of(world, "a2", year - 1) is not None


def test_only_the_jurisdictions_overseers_drop_a_line(world, login_as, system_scope):
    year = today().year
    make_plan(login_as("p1_overseer"), world, year)
    a2 = inspection_of(world, "a2", year)
    merge(world, "a2", "a1", dt.date(year, 1, 1))
    # another province's overseer: not found, under either province
    other = login_as("p2_overseer")
    for url in (f"/o/{world.p1}/inspections/{a2.id}/drop", f"/o/{world.p2}/inspections/{a2.id}/drop"):
        assert other.get(url).status_code == 404
        assert other.post(url, data={"confirm": "1"}).status_code == 404
    # the agencies' own people (the successor's head, the merged agency's former secretary) cannot reach it
    for handle in ("a1_head", "a1_secretary", "a_old_secretary"):
        client = login_as(handle)
        assert client.post(f"/o/{world.p1}/inspections/{a2.id}/drop", data={"confirm": "1"}).status_code == 404
        assert client.post(f"/t/{world.a1}/inspections/{a2.id}/drop", data={"confirm": "1"}).status_code == 404
    assert inspection_of(world, "a2", year) is not None


@pytest.fixture
def csrf_on(app):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        yield
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_dropping_needs_the_csrf_token(world, login_as, system_scope, app, csrf_on):
    year = today().year
    app.config["WTF_CSRF_ENABLED"] = False
    overseer = login_as("p1_overseer")
    make_plan(overseer, world, year)
    app.config["WTF_CSRF_ENABLED"] = True
    a2 = inspection_of(world, "a2", year)
    merge(world, "a2", "a1", dt.date(year, 1, 1))
    url = f"/o/{world.p1}/inspections/{a2.id}/drop"
    assert overseer.post(url, data={"confirm": "1"}).status_code == 400
    assert inspection_of(world, "a2", year) is not None
    token = re.search(r'name="csrf_token" value="([^"]+)"', overseer.get(url).text).group(1)
    assert overseer.post(url, data={"confirm": "1", "csrf_token": token}).status_code == 302
    assert inspection_of(world, "a2", year) is None


# --- a fixed number of queries -----------------------------------------------------------------

def test_plan_page_queries_do_not_grow_with_agencies(world, login_as, system_scope, count_queries):
    from govqms.extensions import db
    from govqms.tenancy.models import Jurisdiction, Tenant

    year, day = today().year, today()
    overseer = login_as("p1_overseer")
    url = plan_url(world, year)

    def queries() -> int:
        overseer.get(url)
        with count_queries() as counter:
            assert overseer.get(url).status_code == 200
        return counter.count

    def add_agencies(prefix: str, n: int) -> None:
        p1 = db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == "p1"))
        db.session.add_all(Tenant(slug=f"{prefix}-{i}", name=f"Xã {prefix} {i}", kind="commune", jurisdiction=p1)
                           for i in range(n))
        db.session.commit()
        overseer.post(f"/o/{world.p1}/inspections/plan", data={"year": year, "step": "add_missing"})

    make_plan(overseer, world, year)
    add_agencies("few", 2)
    few = queries()
    add_agencies("many", 30)
    for i in range(0, 30, 3):  # some late, some merged (each with its successor's name shown)
        plan_inspection(overseer, world, inspection_of_slug(f"many-{i}", year),
                        start=day - dt.timedelta(days=10), end=day - dt.timedelta(days=9))
    merge_slugs([f"many-{i}" for i in range(1, 30, 4)], "a2", dt.date(year, 1, 1))
    many = queries()
    page = overseer.get(url)
    assert len(agencies_on(page)) == 2 + 2 + 30
    assert not_recorded_count(page) == 10 and page.text.count('data-testid="merged"') == 8
    assert few == many, (few, many)


def inspection_of_slug(slug: str, year: int):
    from govqms.core.tenancy import TenantScope, scoped
    from govqms.extensions import db
    from govqms.inspections.models import Inspection, InspectionPlan
    from govqms.tenancy.models import Tenant

    db.session.expire_all()
    with scoped(TenantScope.system(), db.session):
        return db.session.scalar(select(Inspection).join(InspectionPlan, InspectionPlan.id == Inspection.plan_id)
                                 .join(Tenant, Tenant.id == Inspection.tenant_id)
                                 .where(Tenant.slug == slug, InspectionPlan.year == year))


def merge_slugs(slugs: list[str], successor: str, on: dt.date) -> None:
    from govqms.extensions import db
    from govqms.tenancy.merge import merge_tenant
    from govqms.tenancy.models import Tenant

    into = db.session.scalar(select(Tenant).where(Tenant.slug == successor))
    for source in db.session.scalars(select(Tenant).where(Tenant.slug.in_(slugs))).all():
        merge_tenant(source, into, on)
    db.session.commit()
