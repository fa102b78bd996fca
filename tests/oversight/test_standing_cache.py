"""Each agency's standing is computed once per version, day and language, and shared: a write of
the agency's records (or of a data call sent to it) renews its version and only its standing."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests.compliance.test_engine import populate


@pytest.fixture
def computed(monkeypatch):
    """The agencies each call of the engine computed, in order."""
    from govqms.oversight import comparison

    calls: list[list[int]] = []
    real = comparison.evaluate

    def counting(ids, on=None):
        calls.append(sorted(ids))
        return real(ids, on)

    monkeypatch.setattr(comparison, "evaluate", counting)
    return calls


def _province(db, world):
    from govqms.tenancy.models import Jurisdiction

    return db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == world.p1))


def test_a_standing_is_computed_once_and_shared(app, world, system_scope, computed, count_queries):
    from govqms.extensions import db
    from govqms.oversight import comparison

    populate(db, world.tenant_ids["a2"])
    db.session.commit()
    province = _province(db, world)
    with count_queries() as first:
        rows = comparison.compare(province)
    with count_queries() as again:
        cached = comparison.compare(province)
    assert computed == [sorted([world.tenant_ids["a1"], world.tenant_ids["a2"]])]  # once
    assert [(r.tenant.slug, r.level, r.checks, r.last_audit) for r in cached] == \
        [(r.tenant.slug, r.level, r.checks, r.last_audit) for r in rows]
    assert again.count < first.count and again.count == 1  # the agencies, then the cache


def test_a_write_renews_that_agency_only(app, world, system_scope, computed):
    from govqms.audits.models import Audit
    from govqms.extensions import db
    from govqms.oversight import comparison
    from govqms.tenancy.models import Tenant

    province = _province(db, world)
    before = {r.tenant.slug: r for r in comparison.compare(province)}
    versions = {t.slug: t.standing_version for t in db.session.scalars(select(Tenant))}
    held = dt.date.today() - dt.timedelta(days=3)
    db.session.add(Audit(tenant_id=world.tenant_ids["a2"], year=held.year, title="x", planned_start=held,
                         planned_end=held, actual_start=held, actual_end=held, status="reported", clauses=[],
                         unit_ids=[], process_ids=[], team_ids=[]))
    db.session.commit()
    db.session.expire_all()
    renewed = {t.slug: t.standing_version for t in db.session.scalars(select(Tenant))}
    assert renewed["a2"] != versions["a2"] and renewed["a1"] == versions["a1"]
    after = {r.tenant.slug: r for r in comparison.compare(province)}
    assert computed[-1] == [world.tenant_ids["a2"]]  # a1 came from the cache
    assert before["a2"].last_audit is None and after["a2"].last_audit == held
    assert after["a1"].checks == before["a1"].checks


def test_a_data_call_renews_its_recipients(app, world, system_scope):
    from govqms.datacalls.models import DataCall, DataCallReply
    from govqms.extensions import db
    from govqms.tenancy.models import Tenant

    province = _province(db, world)
    call = DataCall(jurisdiction_id=province.id, title="Báo cáo", deadline=dt.date.today(), sent_on=dt.date.today())
    db.session.add(call)
    db.session.flush()
    db.session.add(DataCallReply(tenant_id=world.tenant_ids["a1"], call_id=call.id))
    db.session.commit()
    db.session.expire_all()
    versions = {t.slug: t.standing_version for t in db.session.scalars(select(Tenant))}
    call.deadline = dt.date.today() + dt.timedelta(days=30)
    db.session.commit()
    db.session.expire_all()
    renewed = {t.slug: t.standing_version for t in db.session.scalars(select(Tenant))}
    assert renewed["a1"] != versions["a1"] and renewed["a2"] == versions["a2"]


def test_the_day_and_the_language_are_part_of_the_key(app, world, system_scope, computed):
    from flask_babel import force_locale

    from govqms.extensions import db
    from govqms.oversight import comparison

    province = _province(db, world)
    with force_locale("vi"):
        vi = {r.tenant.slug: r for r in comparison.compare(province)}
    with force_locale("en"):
        en = {r.tenant.slug: r for r in comparison.compare(province)}
    comparison.compare(province, dt.date(2025, 1, 1))
    assert len(computed) == 3
    assert vi["a1"].checks["internal_audit"].reason != en["a1"].checks["internal_audit"].reason
    assert en["a1"].checks["internal_audit"].reason == "No internal audit has been reported."


def test_nothing_is_kept_from_a_transaction_that_wrote(app, world, system_scope, computed):
    from govqms.audits.models import Audit
    from govqms.extensions import db
    from govqms.oversight import comparison

    province = _province(db, world)
    today = dt.date.today()
    db.session.add(Audit(tenant_id=world.tenant_ids["a1"], year=today.year, title="x", planned_start=today,
                         planned_end=today, actual_start=today, actual_end=today, status="reported", clauses=[],
                         unit_ids=[], process_ids=[], team_ids=[]))
    db.session.flush()
    comparison.compare(province)  # sees its own write; must not keep it (it may roll back)
    db.session.rollback()
    comparison.compare(province)
    assert len(computed) == 2


def test_the_overseer_page_is_served_from_the_cache(world, login_as, system_scope, count_queries, computed):
    """The page's body is kept as HTML under the scope's digest: asked again it costs a few queries;
    other filters render again from the cached standings; a write shows at once."""
    from govqms.extensions import db

    client = login_as("p1_overseer")
    with count_queries() as first:
        assert client.get(f"/o/{world.p1}/").status_code == 200
    with count_queries() as warm:
        again = client.get(f"/o/{world.p1}/")
    assert warm.count < first.count - 5, (warm.count, first.count)
    assert len(computed) == 1  # the standings, once
    with count_queries() as other:
        assert client.get(f"/o/{world.p1}/?sort=name").status_code == 200
    assert warm.count < other.count and len(computed) == 1  # rendered again, from the cached standings
    assert 'data-testid="declared" data-count="0"' in again.text
    populate(db, world.tenant_ids["a2"])
    db.session.commit()
    after = client.get(f"/o/{world.p1}/")
    assert 'data-testid="declared" data-count="1"' in after.text and len(computed) == 2
    body = after.text.split('data-testid="counts"', 1)[1].split("</main>", 1)[0]
    assert "csrf_token" not in body  # nothing of one user's session is kept for the others


def test_redis_cache_round_trip_and_outage(app):
    import os

    from govqms.core.cache import RedisCache
    from tests.conftest import REDIS_URL, redis_available, service_unavailable

    problem = redis_available()
    if problem:
        service_unavailable("Redis", problem)
    store = RedisCache(REDIS_URL, prefix=f"govqms:test-cache:{os.getpid()}:")
    store.set_many({"a": {"level": "red"}, "b": [1, 2]})
    assert store.get_many(["a", "b", "c"]) == {"a": {"level": "red"}, "b": [1, 2]}
    store.clear()
    assert store.get_many(["a"]) == {}
    closed = RedisCache("redis://127.0.0.1:1/0")
    assert closed.get_many(["a"]) == {}  # a cache out of reach is a miss, not an error
    assert closed.resting  # and is left alone for a while: one timeout, not one per request
    closed.client = None  # would raise if it were asked
    closed.set_many({"a": 1})
    assert closed.get_many(["a"]) == {}


def test_the_morning_job_fills_the_cache(app, world, system_scope, computed):
    from govqms.extensions import db
    from govqms.jobs import services
    from govqms.oversight import comparison

    job = services.enqueue("oversight.warm_standings", tenant_id=None, user_id=None)
    assert db.session.get(type(job), job.id).status == "finished"
    warmed = len(computed)
    assert warmed >= 1
    comparison.compare(_province(db, world))  # in the default language, as the job computed it
    assert len(computed) == warmed


def test_the_rows_of_the_page_are_rendered_once_per_standing(world, login_as, system_scope, monkeypatch):
    from govqms.audits.models import Audit
    from govqms.extensions import db
    from govqms.oversight import views

    rendered: list[str] = []
    real = views.get_template_attribute

    def counting(template, name):
        macro = real(template, name)

        def call(row, *args):
            rendered.append(row.tenant.slug)
            return macro(row, *args)
        return call

    monkeypatch.setattr(views, "get_template_attribute", counting)
    client = login_as("p1_overseer")

    def table(page):
        return page.text.split('data-testid="comparison"', 1)[1].split("</table>", 1)[0]

    first = client.get(f"/o/{world.p1}/")
    assert sorted(rendered) == ["a1", "a1", "a2", "a2"]  # a row and a heatmap row each
    again = client.get(f"/o/{world.p1}/")
    assert len(rendered) == 4 and table(again) == table(first)  # joined from the cache, the same HTML
    held = dt.date.today() - dt.timedelta(days=2)
    db.session.add(Audit(tenant_id=world.tenant_ids["a2"], year=held.year, title="x", planned_start=held,
                         planned_end=held, actual_start=held, actual_end=held, status="reported", clauses=[],
                         unit_ids=[], process_ids=[], team_ids=[]))
    db.session.commit()
    after = client.get(f"/o/{world.p1}/")
    assert sorted(rendered[4:]) == ["a2", "a2"]  # only the agency that changed
    row = table(after).split('<tr data-agency="a2"', 1)[1].split("</tr>", 1)[0]
    assert held.strftime("%d/%m/%Y") in row
