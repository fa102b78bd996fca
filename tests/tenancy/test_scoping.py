"""The ORM walls: reads filtered by scope, writes refused outside it."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from govqms.core.tenancy import ScopeViolation, TenantScope, scoped


@pytest.fixture
def session(app):
    from govqms.extensions import db

    with app.app_context():
        yield db.session


def test_select_sees_only_scoped_tenant(session, world):
    from govqms.tenancy.models import Unit

    with scoped(TenantScope.tenant(world.tenant_ids["a1"]), session):
        tenant_ids = set(session.scalars(select(Unit.tenant_id)).all())
        assert tenant_ids == {world.tenant_ids["a1"]}
        assert session.get(Unit, world.unit_ids["b1"][0]) is None
        # aggregates and explicit filters on the other tenant find nothing either
        other = session.scalar(select(func.count(Unit.id)).where(Unit.tenant_id == world.tenant_ids["b1"]))
        assert other == 0


def test_relationship_loads_are_filtered(session, world):
    from govqms.tenancy.models import Tenant

    with scoped(TenantScope.tenant(world.tenant_ids["a1"]), session):
        b1 = session.scalar(select(Tenant).where(Tenant.slug == world.b1))  # platform record: visible
        assert b1 is not None
        assert b1.units == []
        a1 = session.scalar(select(Tenant).where(Tenant.slug == world.a1))
        assert [u.code for u in a1.units] == ["KHTC", "VP"]


def test_no_scope_sees_no_tenant_row(session, world):
    from govqms.tenancy.models import Unit

    assert session.scalars(select(Unit)).all() == []


def test_insert_takes_tenant_from_scope(session, world):
    from govqms.tenancy.models import Unit

    with scoped(TenantScope.tenant(world.tenant_ids["a1"]), session):
        unit = Unit(code="NEW", name="Phòng mới")
        session.add(unit)
        session.flush()
        assert unit.tenant_id == world.tenant_ids["a1"]


def test_write_to_another_tenant_is_refused(session, world):
    from govqms.tenancy.models import Unit

    with scoped(TenantScope.tenant(world.tenant_ids["a1"]), session):
        session.add(Unit(tenant_id=world.tenant_ids["b1"], code="X", name="x"))
        with pytest.raises(ScopeViolation):
            session.flush()
        session.rollback()


def test_read_only_scope_refuses_changes(session, world):
    from govqms.tenancy.models import Unit

    with scoped(TenantScope.tenant(world.tenant_ids["a1"], read_only=True), session):
        unit = session.get(Unit, world.unit_ids["a1"][0])
        assert unit is not None
        unit.name = "đổi tên"
        with pytest.raises(ScopeViolation):
            session.flush()
        session.rollback()
        session.add(Unit(code="Y", name="y"))
        with pytest.raises(ScopeViolation):
            session.flush()
        session.rollback()


def test_history_of_merged_predecessor_is_readable_from_successor(world, login_as, system_scope):
    """The successor's workspace scope includes its merged predecessors, read-only."""
    from govqms.extensions import db
    from govqms.tenancy.models import Tenant
    from govqms.tenancy.services import predecessor_ids

    a1 = db.session.scalar(select(Tenant).where(Tenant.slug == world.a1))
    assert predecessor_ids(a1) == [world.tenant_ids["a_old"]]
