"""PostgreSQL row-level security, as the application role (neither superuser nor owner)."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from govqms.core.tenancy import TenantScope, apply_database_scope

pytestmark = pytest.mark.postgresql_only


@pytest.fixture
def pg(app, backend):
    from govqms.extensions import db

    with app.app_context():
        connection = db.engine.connect()
    transaction = connection.begin()
    try:
        yield connection
    finally:
        transaction.rollback()
        connection.close()


def tenant_tables():
    from govqms import import_models
    from govqms.core import tenancy
    from govqms.core.db import Base

    import_models()
    tables = {m.local_table.name for m in Base.registry.mappers if issubclass(m.class_, tenancy.TenantScoped)}
    tables |= {model.__table__.name for model in tenancy._extra_filtered}
    return tables


def test_app_role_is_neither_superuser_nor_owner(pg):
    row = pg.execute(sa.text(
        "select rolsuper, rolbypassrls, current_user from pg_roles where rolname = current_user")).one()
    assert row.rolsuper is False and row.rolbypassrls is False
    owners = set(pg.scalars(sa.text("select tableowner from pg_tables where schemaname = 'public'")))
    assert row.current_user not in owners


def test_every_tenant_table_has_its_policies(pg):
    tables = tenant_tables()
    assert {"unit", "activity_entry"} <= tables
    for table in sorted(tables):
        enabled = pg.scalar(sa.text("select relrowsecurity from pg_class where relname = :t"), {"t": table})
        assert enabled, f"row-level security is not enabled on {table}"
        policies = set(pg.scalars(sa.text("select policyname from pg_policies where tablename = :t"), {"t": table}))
        assert {"tenant_select", "tenant_insert"} <= policies, f"{table} lacks its tenant policies: {policies}"


def test_tenant_context_shows_only_its_rows(pg, world):
    apply_database_scope(pg, TenantScope.tenant(world.tenant_ids["a1"]))
    tenants = set(pg.scalars(sa.text("select distinct tenant_id from unit")))
    assert tenants == {world.tenant_ids["a1"]}
    activity_tenants = set(pg.scalars(sa.text("select distinct tenant_id from activity_entry")))
    assert activity_tenants <= {world.tenant_ids["a1"]}


def test_no_context_shows_no_tenant_row(pg, world):
    for table in sorted(tenant_tables()):
        assert pg.scalar(sa.text(f"select count(*) from {table}")) == 0, table


def test_all_tenants_context_sees_everything(pg, world):
    apply_database_scope(pg, TenantScope.system())
    assert pg.scalar(sa.text("select count(distinct tenant_id) from unit")) == len(world.tenant_ids)


def test_read_only_context_cannot_write(pg, world):
    apply_database_scope(pg, TenantScope.readonly([world.tenant_ids["a1"]]))
    assert pg.scalar(sa.text("select count(*) from unit")) > 0
    with pytest.raises(sa.exc.ProgrammingError, match="row-level security"):
        with pg.begin_nested():
            pg.execute(sa.text("insert into unit (tenant_id, code, name, created_at, updated_at) "
                               "values (:t, 'RLS', 'x', now(), now())"), {"t": world.tenant_ids["a1"]})
    updated = pg.execute(sa.text("update unit set name = 'x' where tenant_id = :t"), {"t": world.tenant_ids["a1"]})
    assert updated.rowcount == 0


def test_cannot_write_into_another_tenant(pg, world):
    apply_database_scope(pg, TenantScope.tenant(world.tenant_ids["a1"]))
    with pytest.raises(sa.exc.ProgrammingError, match="row-level security"):
        with pg.begin_nested():
            pg.execute(sa.text("insert into unit (tenant_id, code, name, created_at, updated_at) "
                               "values (:t, 'RLS', 'x', now(), now())"), {"t": world.tenant_ids["b1"]})
    with pytest.raises(sa.exc.ProgrammingError, match="row-level security"):
        with pg.begin_nested():
            pg.execute(sa.text("update unit set tenant_id = :b where tenant_id = :a"),
                       {"a": world.tenant_ids["a1"], "b": world.tenant_ids["b1"]})
    # and rows of the other tenant cannot even be targeted
    hidden = pg.execute(sa.text("update unit set name = 'x' where tenant_id = :b"), {"b": world.tenant_ids["b1"]})
    assert hidden.rowcount == 0


def test_scope_setting_is_transaction_local(app, backend, world):
    from govqms.extensions import db

    with app.app_context():
        with db.engine.connect() as conn:
            with conn.begin():
                apply_database_scope(conn, TenantScope.system())
                assert conn.scalar(sa.text("select count(*) from unit")) > 0
            with conn.begin():
                assert conn.scalar(sa.text("select count(*) from unit")) == 0


def test_an_overseer_of_thousands_of_agencies_costs_one_hashed_lookup_per_row(pg, world):
    """3,000 visible agencies: the right rows, the policy planned as a hash built once per statement
    (not the id list parsed again for each row), and the ORM's own wall sends one array parameter."""
    jurisdiction = pg.scalar(sa.text("select jurisdiction_id from tenant where id = :t"), {"t": world.tenant_ids["a1"]})
    ids = list(pg.scalars(sa.text(
        "insert into tenant (slug, name, kind, jurisdiction_id, status, created_at, updated_at) "
        "select 'bulk-' || i, 'Xã ' || i, 'commune', :j, 'active', now(), now() from generate_series(1, 3000) i "
        "returning id"), {"j": jurisdiction}))
    apply_database_scope(pg, TenantScope.system())
    pg.execute(sa.text("insert into unit (tenant_id, code, name, created_at, updated_at) "
                       "select id, 'VP', 'Văn phòng', now(), now() from tenant where slug like 'bulk-%'"))
    apply_database_scope(pg, TenantScope.readonly([*ids, world.tenant_ids["a1"]]))
    visible = set(pg.scalars(sa.text("select distinct tenant_id from unit")))
    assert visible == {*ids, world.tenant_ids["a1"]}  # not a2, not b1
    plan = "\n".join(pg.scalars(sa.text("explain select count(*) from unit")))
    assert "hashed SubPlan" in plan, plan


def test_the_orm_scope_is_one_array_parameter_on_postgresql(app, backend, world):
    from govqms.core.tenancy import scoped
    from govqms.extensions import db
    from govqms.tenancy.models import Unit

    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    with app.app_context(), scoped(TenantScope.readonly(list(world.tenant_ids.values()))):
        sa.event.listen(db.engine, "before_cursor_execute", record)
        try:
            units = db.session.scalars(sa.select(Unit)).all()
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", record)
    assert {u.tenant_id for u in units} == set(world.tenant_ids.values())
    sql, parameters = next((s, p) for s, p in statements if "FROM unit" in s)
    assert "= ANY (" in sql and len(parameters) == 1, sql


def test_in_ids_is_one_array_parameter_on_postgresql_and_a_list_on_sqlite(backend):
    from sqlalchemy.dialects import postgresql, sqlite

    from govqms.core.db import in_ids
    from govqms.tenancy.models import Unit

    statement = sa.select(Unit.id).where(in_ids(Unit.tenant_id, range(5000)))
    on_postgresql = statement.compile(dialect=postgresql.dialect())
    assert "= ANY (" in str(on_postgresql) and len(on_postgresql.params) == 1
    assert list(on_postgresql.params.values())[0] == list(range(5000))
    on_sqlite = statement.compile(dialect=sqlite.dialect(), compile_kwargs={"render_postcompile": True})
    assert " IN (" in str(on_sqlite)
