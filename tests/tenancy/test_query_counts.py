"""Pages cost a fixed number of queries, whatever the number of tenants or rows."""
from __future__ import annotations


def add_units(db, tenant_id, n, prefix="Q"):
    from govqms.tenancy.models import Unit

    db.session.add_all([Unit(tenant_id=tenant_id, code=f"{prefix}{i:03}", name=f"Phòng {i}") for i in range(n)])
    db.session.commit()


def add_tenants(db, n, jurisdiction_code="p1"):
    from sqlalchemy import select

    from govqms.tenancy.models import Jurisdiction, Tenant

    jurisdiction = db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == jurisdiction_code))
    tenants = [Tenant(slug=f"x{jurisdiction_code}-{i}", name=f"Xã {i}", kind="commune", jurisdiction=jurisdiction)
               for i in range(n)]
    db.session.add_all(tenants)
    db.session.flush()
    for tenant in tenants:
        add_units(db, tenant.id, 2, prefix="U")


def queries_for(client, url, count_queries):
    client.get(url)  # warm caches (user loader, first-time compilation)
    with count_queries() as counter:
        response = client.get(url)
    assert response.status_code == 200
    return counter.count


def test_units_page_is_flat(world, login_as, system_scope, count_queries):
    from govqms.extensions import db

    client = login_as("a1_secretary")
    url = f"/t/{world.a2}/units/"
    client = login_as("p1_overseer")
    few = queries_for(client, url, count_queries)
    add_units(db, world.tenant_ids["a2"], 40)
    many = queries_for(client, url, count_queries)
    assert few == many, (few, many)


def test_oversight_overview_is_flat(world, login_as, system_scope, count_queries):
    from govqms.extensions import db

    client = login_as("p1_overseer")
    url = f"/o/{world.p1}/"
    few = queries_for(client, url, count_queries)
    add_tenants(db, 30)
    many = queries_for(client, url, count_queries)
    assert few == many, (few, many)


def test_home_and_workspace_are_flat(world, login_as, system_scope, count_queries):
    from govqms.extensions import db

    client = login_as("national_overseer")
    before = [queries_for(client, url, count_queries) for url in ("/", f"/t/{world.a1}/", f"/t/{world.a1}/members/")]
    add_tenants(db, 20, "p2")
    add_units(db, world.tenant_ids["a1"], 20)
    after = [queries_for(client, url, count_queries) for url in ("/", f"/t/{world.a1}/", f"/t/{world.a1}/members/")]
    assert before == after


def test_activity_page_is_flat(world, login_as, system_scope, count_queries):
    from govqms.extensions import db

    client = login_as("a1_head")
    url = f"/t/{world.a1}/activity/"
    few = queries_for(client, url, count_queries)
    add_units(db, world.tenant_ids["a1"], 60)  # 60 more activity entries
    assert queries_for(client, url, count_queries) == few
