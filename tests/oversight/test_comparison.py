"""The comparison view of a jurisdiction: figures, heatmap, filters, export, roll-up, drill-down."""
from __future__ import annotations

import io
import re

from openpyxl import load_workbook
from sqlalchemy import select

from tests.compliance.test_engine import populate


def agencies_on(page) -> list[str]:
    """The agency slugs of the comparison table, in the order shown."""
    if 'data-testid="comparison"' not in page.text:
        return []
    table = page.text.split('data-testid="comparison"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<tr data-agency="([^"]+)"', table)


def count(page, key: str) -> int:
    return int(re.search(rf'data-testid="{key}" data-count="(\d+)"', page.text).group(1))


def add_agencies(db, code: str, n: int, prefix: str, every: int = 1) -> list[int]:
    """*n* communes in jurisdiction *code*; every *every*-th gets a year of records (see populate)."""
    from govqms.tenancy.models import Jurisdiction, Tenant

    jurisdiction = db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == code))
    tenants = [Tenant(slug=f"{prefix}-{i}", name=f"Xã {prefix} {i}", kind="commune", jurisdiction=jurisdiction)
               for i in range(n)]
    db.session.add_all(tenants)
    db.session.flush()
    for tenant in tenants[::every]:
        populate(db, tenant.id)
    db.session.commit()
    return [t.id for t in tenants]


def test_one_row_per_agency_with_its_figures(world, login_as, system_scope):
    from govqms.extensions import db

    populate(db, world.tenant_ids["a2"])
    db.session.commit()
    page = login_as("p1_overseer").get(f"/o/{world.p1}/")
    assert page.status_code == 200
    # a_old was merged into a1 in 2025: history, not a row; b1 belongs to the other province
    assert sorted(agencies_on(page)) == ["a1", "a2"]
    assert "Sở Khoa học và Công nghệ Hai" not in page.text
    assert 'href="/t/a-old/"' in page.text
    assert count(page, "in-scope") == 2
    assert count(page, "declared") == 1
    assert count(page, "audited-this-year") == 1
    assert count(page, "reviewed-this-year") == 1
    assert count(page, "with-overdue-actions") == 1
    assert count(page, "on-2015") == 1  # from the declarations: a1 has none, so no edition
    row = page.text.split('<tr data-agency="a2"', 1)[1].split("</tr>", 1)[0]
    assert "01/01/2022" in row  # declared on
    assert "1 / <span" in row  # one open action, overdue


def test_heatmap_cells_are_the_engine_checks(world, login_as, system_scope):
    from govqms.compliance.engine import RULES, evaluate
    from govqms.extensions import db

    populate(db, world.tenant_ids["a2"])
    db.session.commit()
    page = login_as("p1_overseer").get(f"/o/{world.p1}/")
    heatmap = page.text.split('data-testid="heatmap"', 1)[1].split("</table>", 1)[0]
    row = heatmap.split('<tr data-agency="a2"', 1)[1].split("</tr>", 1)[0]
    shown = dict(re.findall(r'data-rule="([a-z_]+)" data-result="([a-z_]+)"', row))
    expected = {c.rule: str(c.result) for c in evaluate([world.tenant_ids["a2"]])[world.tenant_ids["a2"]].checks}
    assert shown == expected and len(shown) == len(RULES)
    assert shown["actions"] == "overdue" and shown["internal_audit"] == "ok"


def test_filters_and_order(world, login_as, system_scope):
    from govqms.extensions import db

    populate(db, world.tenant_ids["a2"])
    db.session.commit()
    client = login_as("p1_overseer")
    assert agencies_on(client.get(f"/o/{world.p1}/?overdue=actions")) == ["a2"]
    assert agencies_on(client.get(f"/o/{world.p1}/?overdue=internal_audit")) == ["a1"]
    assert agencies_on(client.get(f"/o/{world.p1}/?kind=health")) == ["a2"]
    assert agencies_on(client.get(f"/o/{world.p1}/?sort=name")) == ["a1", "a2"]  # Khoa học before Y tế
    assert agencies_on(client.get(f"/o/{world.p1}/?sort=audit")) == ["a1", "a2"]  # never audited first
    empty = client.get(f"/o/{world.p1}/?edition=2008")
    assert "No agency matches these filters." in empty.text or "Không có cơ quan nào khớp" in empty.text
    # unknown values are ignored, not errors
    assert sorted(agencies_on(client.get(f"/o/{world.p1}/?overdue=nothing&sort=x&level=purple"))) == ["a1", "a2"]


def test_same_queries_for_10_and_300_agencies(world, login_as, system_scope, count_queries):
    from govqms.extensions import db

    client = login_as("p1_overseer")
    url = f"/o/{world.p1}/?sort=name"

    def queries():
        client.get(url)
        with count_queries() as counter:
            response = client.get(url)
        assert response.status_code == 200
        return counter.count, response

    add_agencies(db, "p1", 8, "ten")
    few, _page = queries()
    add_agencies(db, "p1", 290, "many", every=7)
    many, page = queries()
    assert few == many, (few, many)
    assert count(page, "in-scope") == 300
    assert len(agencies_on(page)) == 100  # a page of the comparison
    assert len(agencies_on(client.get(url + "&page=3"))) == 100


def rollup_of(page) -> dict[str, dict[str, int]]:
    """The national view's totals: jurisdiction code -> {count key: number, level: number}."""
    table = page.text.split('data-testid="rollup"', 1)[1].split("</table>", 1)[0]
    out = {}
    for code, row in re.findall(r'<tr data-jurisdiction="([^"]+)">(.*?)</tr>', table, re.S):
        figures = {key: int(n) for key, n in re.findall(r'data-key="(\w+)">(\d+)<', row)}
        figures.update({level: int(n) for level, n in re.findall(r'data-level="(\w+)"[^>]*>(\d+)<', row)})
        out[code] = figures
    return out


def test_national_roll_up(world, login_as, system_scope):
    """The nation reads its provinces' totals with a drill-down, not every agency one by one."""
    from govqms.extensions import db

    populate(db, world.tenant_ids["b1"])
    db.session.commit()
    page = login_as("national_overseer").get("/o/vn/")
    rollup = rollup_of(page)
    assert set(rollup) == {world.p1, world.p2}
    assert rollup[world.p1]["in_scope"] == 2 and rollup[world.p1]["declared"] == 0  # a1, a2 (a_old merged)
    assert rollup[world.p2]["in_scope"] == 1 and rollup[world.p2]["declared"] == 1
    assert sum(rollup[world.p2][level] for level in ("red", "amber", "green")) == 1
    assert agencies_on(page) == []  # no agency lies directly under the nation
    assert count(page, "in-scope") == 3 and count(page, "declared") == 1
    assert f'href="/o/{world.p2}/?on=' in page.text  # drill-down, at the same date
    assert 'data-testid="check-distribution"' in page.text
    assert login_as("p1_overseer").get("/o/vn/").status_code == 404
    assert login_as("p1_overseer").get(f"/o/{world.p2}/").status_code == 404


def test_national_totals_follow_a_write_of_one_agency(world, login_as, system_scope):
    """A province's totals are cached under its agencies' versions: a write in one agency shows at
    once, the other province's totals are read from the cache."""
    from govqms.core.cache import cache
    from govqms.extensions import db

    client = login_as("national_overseer")
    before = rollup_of(client.get("/o/vn/"))
    assert before[world.p1]["declared"] == 0
    stored = []
    real_set_many = type(cache()).set_many

    def spy(self, mapping, *args, **kwargs):
        stored.extend(key for key in mapping if key.startswith("summary:"))
        return real_set_many(self, mapping, *args, **kwargs)

    import pytest

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(type(cache()), "set_many", spy)
        populate(db, world.tenant_ids["a2"])
        db.session.commit()
        after = rollup_of(client.get("/o/vn/"))
    assert after[world.p1]["declared"] == 1 and after[world.p2] == before[world.p2]
    assert len(stored) == 1  # only the province that changed was summed again
    assert count(client.get("/o/vn/"), "declared") == 1


HARNESS = ("SAVEPOINT", "ROLLBACK TO SAVEPOINT", "RELEASE SAVEPOINT", "select set_config")


def test_national_view_costs_the_same_queries_for_more_agencies(world, login_as, system_scope, count_queries):
    from govqms.extensions import db
    from govqms.tenancy.models import Jurisdiction, Tenant

    client = login_as("national_overseer")

    def queries():
        with count_queries() as counter:
            response = client.get("/o/vn/")
        assert response.status_code == 200
        # the page's own statements: the test harness's savepoints re-apply its scope after a request
        return len([s for s in counter.statements if not s.startswith(HARNESS)]), response

    nation = db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == "vn"))
    db.session.add(Tenant(slug="cuc-qg", name="Cục Quốc gia", kind="ministry_unit", jurisdiction=nation))
    populate(db, world.tenant_ids["b1"])  # records of every kind, as the agencies added below have
    db.session.commit()
    cold, _page = queries()
    warm, _page = queries()
    add_agencies(db, world.p2, 40, "nat", every=5)
    more_cold, _page = queries()
    more_warm, page = queries()
    assert (cold, warm) == (more_cold, more_warm), (cold, warm, more_cold, more_warm)
    assert rollup_of(page)[world.p2]["in_scope"] == 41
    assert agencies_on(page) == ["cuc-qg"]  # attached to the nation itself: listed
    assert count(page, "in-scope") == 2 + 41 + 1


def run_export(client, url, data=None):
    response = client.post(url, data=data or {})
    assert response.status_code == 302
    job = client.get(response.location + "/status").get_json()
    assert job["status"] == "finished", job
    book = load_workbook(io.BytesIO(client.get(response.location + "/download").data))
    return list(book.active.iter_rows(values_only=True))


def test_export_is_the_view_as_shown(world, login_as, system_scope):
    from govqms.extensions import db

    populate(db, world.tenant_ids["a2"])
    db.session.commit()
    client = login_as("p1_overseer")
    rows = run_export(client, f"/o/{world.p1}/export")
    names = [r[0] for r in rows[2:]]
    assert sorted(names) == ["Sở Khoa học và Công nghệ Một", "Sở Y tế Một"]
    filtered = run_export(client, f"/o/{world.p1}/export", {"overdue": "actions"})
    assert [r[0] for r in filtered[2:]] == ["Sở Y tế Một"]
    a2 = filtered[2]
    assert a2[3] == "01/01/2022" and a2[8] == 1 and a2[9] == 1  # declared on, open and overdue actions
    # another province's overseer cannot export this one
    assert login_as("p2_overseer").post(f"/o/{world.p1}/export").status_code == 404


def test_export_job_refuses_a_jurisdiction_out_of_reach(world, app, system_scope):
    from govqms.accounts.models import User
    from govqms.extensions import db
    from govqms.jobs.models import Job
    from govqms.jobs.services import run_job
    from govqms.tenancy.models import Jurisdiction

    p2 = db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == "p2"))
    overseer = db.session.scalar(select(User).where(User.email == world.email("p1_overseer")))
    job = Job(id="tampered-oversight-job", task="oversight.export_comparison", tenant_id=None, user_id=overseer.id,
              params={"jurisdiction_id": p2.id, "on": "2026-01-01"}, read_only=True)
    db.session.add(job)
    db.session.commit()
    try:
        run_job(job.id)
    except PermissionError:
        pass
    db.session.refresh(job)
    assert job.status == "failed" and job.result is None


def test_drill_down_is_recorded_in_the_agency_log(world, login_as, system_scope):
    from govqms.core.activity import ActivityEntry
    from govqms.extensions import db

    def views():
        return db.session.scalars(select(ActivityEntry).where(
            ActivityEntry.tenant_id == world.tenant_ids["a1"], ActivityEntry.action == "oversight_view")
            .order_by(ActivityEntry.id)).all()

    overseer = login_as("p1_overseer")
    assert overseer.get(f"/t/{world.a1}/status/").status_code == 200
    assert overseer.get(f"/t/{world.a1}/documents/?q=quy").status_code == 200
    entries = views()
    assert [e.note for e in entries] == [f"/t/{world.a1}/status/", f"/t/{world.a1}/documents/?q=quy"]
    assert all(e.actor_label == world.email("p1_overseer") for e in entries)
    # members' own visits are not logged; another province's overseer gets nothing and leaves nothing
    login_as("a1_secretary").get(f"/t/{world.a1}/status/")
    assert login_as("p2_overseer").get(f"/t/{world.a1}/").status_code == 404
    assert len(views()) == 2
    # an overseer still cannot write: refused, and the refusal adds no view entry
    assert overseer.post(f"/t/{world.a1}/units/new", data={"code": "X", "name": "X"}).status_code in (403, 404, 405)
    assert len(views()) == 2
    # the agency sees who looked, in its activity log
    log = login_as("a1_head").get(f"/t/{world.a1}/activity/")
    assert world.email("p1_overseer") in log.text


def test_charts_from_snapshots_and_checks(world, login_as, system_scope):
    import datetime as dt

    from govqms.compliance.models import ComplianceSnapshot
    from govqms.core.clock import today
    from govqms.extensions import db

    client = login_as("p1_overseer")
    empty = client.get(f"/o/{world.p1}/")
    assert 'data-testid="levels-chart"' not in empty.text  # no snapshot yet: says how they are taken
    populate(db, world.tenant_ids["a2"])
    day = today()
    db.session.add_all([
        ComplianceSnapshot(tenant_id=world.tenant_ids["a1"], day=day - dt.timedelta(days=1), level="red", results={}),
        ComplianceSnapshot(tenant_id=world.tenant_ids["a2"], day=day - dt.timedelta(days=1), level="green", results={}),
        ComplianceSnapshot(tenant_id=world.tenant_ids["a2"], day=day, level="red", results={}),
        ComplianceSnapshot(tenant_id=world.tenant_ids["b1"], day=day, level="green", results={}),  # other province
    ])
    db.session.commit()
    page = client.get(f"/o/{world.p1}/")
    chart = page.text.split('data-testid="levels-chart"', 1)[1].split("</svg>", 1)[0]
    titles = re.findall(r"<title>([^<]+)</title>", chart)
    yesterday, today_label = (day - dt.timedelta(days=1)).strftime("%d/%m"), day.strftime("%d/%m")
    # a1 red and a2 green yesterday, a2 red today; b1's snapshot (another province) is not counted
    assert sorted(t.split(":")[0] for t in titles) == sorted([yesterday, yesterday, today_label])
    distribution = page.text.split('data-testid="check-distribution"', 1)[1].split("</table>", 1)[0]
    actions = distribution.split("Nonconformities and actions on time" if "Nonconformities and actions" in
                                 distribution else "Xử lý sự không phù hợp", 1)[1].split("</tr>", 1)[0]
    assert 'data-result="overdue" data-count="1"' in actions and 'data-result="ok" data-count="1"' in actions
