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


# --- every table with a tenant column, and a scope the application role cannot widen (migration 0020) ---

def user_id(pg, handle: str, world) -> int:
    return pg.scalar(sa.text('select id from "user" where email = :e'), {"e": world.email(handle)})


def enter(pg, scope: TenantScope, user: int | None = None) -> None:
    """The scope as the application enters it, as *user* (who acts)."""
    from govqms.core.activity import Actor, acting_as

    with acting_as(Actor(user, "tests")):
        apply_database_scope(pg, scope)


def refused(pg, sql: str, **params) -> bool:
    """Whether PostgreSQL refuses the statement (the savepoint keeps the test's transaction usable)."""
    try:
        with pg.begin_nested():
            pg.execute(sa.text(sql), params)
    except sa.exc.DBAPIError:
        return True
    return False


def blocked(pg, sql: str, **params) -> bool:
    """Refused, or (an update the policies hide every row from) changing nothing."""
    try:
        with pg.begin_nested():
            return pg.execute(sa.text(sql), params).rowcount == 0
    except sa.exc.DBAPIError:
        return True


def count(pg, table: str) -> int:
    return pg.scalar(sa.text(f"select count(*) from {table}"))


def tables_with_a_tenant_column() -> set[str]:
    from govqms import import_models
    from govqms.core.db import Base

    import_models()
    return {table.name for table in Base.metadata.tables.values() if "tenant_id" in table.c}


def test_every_table_with_a_tenant_column_has_policies_none_exempted(pg):
    """Walk the metadata and the catalogue: tenant data, the activity log, memberships, jobs and calendar
    feeds alike; and no policy reads a setting itself (only through the sealed scope functions)."""
    from_models = tables_with_a_tenant_column()
    in_database = set(pg.scalars(sa.text(
        "select c.table_name from information_schema.columns c join information_schema.tables t "
        "using (table_schema, table_name) where c.table_schema = current_schema() and c.column_name = 'tenant_id' "
        "and t.table_type = 'BASE TABLE'")))
    assert {"calendar_feed", "job", "membership", "activity_entry", "unit"} <= from_models
    assert from_models <= in_database
    for table in sorted(in_database):
        assert pg.scalar(sa.text("select relrowsecurity from pg_class where oid = cast(:t as regclass)"),
                         {"t": table}), f"row-level security is not enabled on {table}"
        commands = set(pg.scalars(sa.text("select cmd from pg_policies where tablename = :t"), {"t": table}))
        expected = {"SELECT", "INSERT"} if table == "activity_entry" else {"SELECT", "INSERT", "UPDATE", "DELETE"}
        assert expected <= commands, f"{table} lacks policies: has {commands}"
    for table in ("jurisdiction", "oversight_role"):
        commands = set(pg.scalars(sa.text("select cmd from pg_policies where tablename = :t"), {"t": table}))
        assert commands == {"SELECT", "INSERT", "UPDATE", "DELETE"}, table
    direct = pg.execute(sa.text(
        "select tablename, policyname from pg_policies where schemaname = current_schema() "
        "and (coalesce(qual, '') like '%current_setting%' or coalesce(with_check, '') like '%current_setting%')")).all()
    assert direct == [], f"policies reading a setting directly: {direct}"


def test_setting_the_scope_by_hand_shows_nothing(pg, world):
    """``set_config`` by the application role itself, session-wide or for the transaction: no agency's
    row, and no platform entry of the activity log."""
    pg.execute(sa.text("select set_config('app.all_tenants', 'on', false)"))
    pg.execute(sa.text("select set_config('app.tenant_ids', :ids, false)"),
               {"ids": ",".join(str(i) for i in world.tenant_ids.values())})
    for table in ("unit", "activity_entry", "membership", "job"):
        assert count(pg, table) == 0, table


def test_a_scope_changed_by_hand_loses_its_seal(pg, world):
    """An agency's own scope, then the settings widened by hand (all agencies, another agency, another
    user): the transaction sees nothing at all, not even its own agency."""
    a1, b1 = world.tenant_ids["a1"], world.tenant_ids["b1"]
    enter(pg, TenantScope.tenant(a1))
    assert set(pg.scalars(sa.text("select distinct tenant_id from unit"))) == {a1}
    for name, value in (("all_tenants", "on"), ("tenant_ids", f"{a1},{b1}"), ("tenant_ids", str(b1)),
                        ("write_tenant_id", str(b1)), ("user_id", "1")):
        with pg.begin_nested() as savepoint:
            pg.execute(sa.text("select set_config(:name, :value, true)"), {"name": f"app.{name}", "value": value})
            assert count(pg, "unit") == 0, name
            assert refused(pg, "insert into unit (tenant_id, code, name, created_at, updated_at) "
                               "values (:t, 'RLS', 'x', now(), now())", t=b1), name
            savepoint.rollback()
    assert set(pg.scalars(sa.text("select distinct tenant_id from unit"))) == {a1}  # the seal is back


def test_a_seal_is_worthless_in_the_next_transaction(app, backend, world):
    """Everything a system-scope transaction holds, settings and seal, copied into the next one by hand:
    it sees nothing (the seal names the transaction)."""
    from govqms.extensions import db

    names = ("all_tenants", "tenant_ids", "write_tenant_id", "user_id", "scope_seal")
    with app.app_context(), db.engine.connect() as conn:
        with conn.begin():
            apply_database_scope(conn, TenantScope.system())
            assert count(conn, "unit") > 0
            held = {name: conn.scalar(sa.text("select current_setting(:n)"), {"n": f"app.{name}"}) for name in names}
        with conn.begin():
            for name, value in held.items():
                conn.execute(sa.text("select set_config(:n, :v, true)"), {"n": f"app.{name}", "v": value})
            assert count(conn, "unit") == 0


def test_the_scope_function_wants_the_applications_proof(pg):
    """Calling the owner's function without the proof derived from the secret key is an error; the secret
    it checks against (and seals with) is out of the application role's reach."""
    for proof in ("", "guess", "0" * 64):
        assert refused(pg, "select govqms_rls.enter_scope(:p, 'on', '', '', '')", p=proof)
    assert refused(pg, "select * from govqms_rls.secret")
    assert not pg.scalar(sa.text("select has_table_privilege('govqms_rls.secret', 'select')"))
    assert not pg.scalar(sa.text("select has_schema_privilege('govqms_rls', 'create')"))
    assert count(pg, "unit") == 0


def test_the_scope_key_is_the_one_registered(app, backend):
    from govqms.core.rls import scope_key
    from govqms.core.tenancy import _proof
    from govqms.extensions import db

    with app.app_context(), db.engine.connect() as conn:
        assert _proof(conn) == scope_key(app.config["SECRET_KEY"])
    assert scope_key("one secret") != scope_key("another secret")


def test_platform_activity_entries_are_appended_only_as_who_acts(pg, world):
    """An entry with no agency (a password change, a calendar feed) is the acting user's own, or no one's
    when no one is signed in; in anyone else's name only in the all-tenants scope. An overseer's
    'opened the agency' entry is theirs, for an agency they see."""
    staff, head = user_id(pg, "a1_staff", world), user_id(pg, "a1_head", world)
    overseer = user_id(pg, "p1_overseer", world)
    insert = ("insert into activity_entry (tenant_id, at, actor_id, actor_label, entity, entity_id, action, changes) "
              "values (:t, now(), :actor, 'x', 'user', '1', :action, '{}')")
    enter(pg, TenantScope.tenant(world.tenant_ids["a1"]), staff)
    assert not refused(pg, insert, t=None, actor=staff, action="update")
    assert not refused(pg, insert, t=world.tenant_ids["a1"], actor=staff, action="update")
    assert refused(pg, insert, t=None, actor=head, action="update")
    assert refused(pg, insert, t=None, actor=None, action="update")
    assert refused(pg, insert, t=world.tenant_ids["a1"], actor=head, action="update")
    assert refused(pg, insert, t=world.tenant_ids["b1"], actor=staff, action="update")
    enter(pg, TenantScope.none())  # nobody signed in: a sign-in, an invitation accepted
    assert not refused(pg, insert, t=None, actor=None, action="update")
    assert refused(pg, insert, t=None, actor=staff, action="update")
    enter(pg, TenantScope.tenant(world.tenant_ids["a1"], read_only=True), overseer)
    assert not refused(pg, insert, t=world.tenant_ids["a1"], actor=overseer, action="oversight_view")
    assert refused(pg, insert, t=world.tenant_ids["a1"], actor=staff, action="oversight_view")
    assert refused(pg, insert, t=world.tenant_ids["b1"], actor=overseer, action="oversight_view")
    assert refused(pg, insert, t=world.tenant_ids["a1"], actor=overseer, action="update")
    enter(pg, TenantScope.system())
    assert not refused(pg, insert, t=None, actor=head, action="update")


def test_memberships_are_a_persons_own_or_their_agencys(pg, world):
    """Before any agency is in scope a person reads their own memberships (sign-in, the home page, the
    workspace's door), nobody else's; in an agency's scope, the agency's; written only where writable."""
    staff, secretary_b1 = user_id(pg, "a1_staff", world), user_id(pg, "b1_secretary", world)
    enter(pg, TenantScope.none())
    assert count(pg, "membership") == 0
    enter(pg, TenantScope.none(), staff)
    assert set(pg.scalars(sa.text("select user_id from membership"))) == {staff}
    enter(pg, TenantScope.tenant(world.tenant_ids["a1"]), staff)
    assert set(pg.scalars(sa.text("select distinct tenant_id from membership"))) == {world.tenant_ids["a1"]}
    assert count(pg, "membership") > 1  # the agency's people
    insert = ("insert into membership (user_id, tenant_id, role, created_at, updated_at) "
              "values (:u, :t, 'head', now(), now())")
    assert refused(pg, insert, u=staff, t=world.tenant_ids["b1"])  # into another agency
    updated = pg.execute(sa.text("update membership set tenant_id = :a where user_id = :u"),
                         {"a": world.tenant_ids["a1"], "u": secretary_b1})
    assert updated.rowcount == 0  # b1's rows cannot even be targeted
    enter(pg, TenantScope.tenant(world.tenant_ids["a1"], read_only=True), staff)
    assert refused(pg, insert, u=secretary_b1, t=world.tenant_ids["a1"])  # read-only: nothing written
    enter(pg, TenantScope.system())
    assert not refused(pg, insert, u=staff, t=world.tenant_ids["b1"])  # the back office


def test_an_overseer_cannot_record_a_calendar_feed_for_an_agency(pg, world):
    """An overseer sees agencies read-only: no feed of an agency in their scope (neither the province's
    nor an agency's drill-down), a jurisdiction's feed for themselves only."""
    overseer, other = user_id(pg, "p1_overseer", world), user_id(pg, "p2_overseer", world)
    p1 = pg.scalar(sa.text("select id from jurisdiction where code = :c"), {"c": world.p1})
    insert = ("insert into calendar_feed (token_hash, label, user_id, tenant_id, jurisdiction_id, created_at) "
              "values (md5(random()::text) || md5(random()::text), 'x', :u, :t, :j, now())")
    a1 = world.tenant_ids["a1"]
    province = [world.tenant_ids[k] for k in ("a1", "a2", "a_old")]
    for scope in (TenantScope.readonly(province), TenantScope.tenant(a1, read_only=True)):
        enter(pg, scope, overseer)
        assert refused(pg, insert, u=overseer, t=a1, j=None)
        assert not refused(pg, insert, u=overseer, t=None, j=p1)
        assert refused(pg, insert, u=other, t=None, j=p1)  # in someone else's name
    staff = user_id(pg, "a1_staff", world)
    enter(pg, TenantScope.tenant(a1), staff)  # a member, in the agency's workspace
    assert not refused(pg, insert, u=staff, t=a1, j=None)
    assert refused(pg, insert, u=staff, t=world.tenant_ids["b1"], j=None)


def test_an_overseer_asking_for_an_agencys_calendar_address_is_told_it_is_read_only(world, login_as, system_scope):
    from sqlalchemy import select

    from govqms.calendars.models import CalendarFeed
    from govqms.extensions import db

    overseer = login_as("p1_overseer")
    response = overseer.post(f"/t/{world.a1}/calendar/feeds", data={"label": "Outlook"})
    assert response.status_code == 403
    assert db.session.scalar(select(CalendarFeed).where(CalendarFeed.label == "Outlook")) is None
    member = login_as("a1_staff")
    assert member.post(f"/t/{world.a1}/calendar/feeds", data={"label": "Lịch"}).status_code == 200


def test_a_job_reaches_no_agency_its_recorder_could_not(pg, world):
    """The worker runs a job in the scope its row records, and its result may hold an agency's data."""
    staff, secretary_b1 = user_id(pg, "a1_staff", world), user_id(pg, "b1_secretary", world)
    a1, b1 = world.tenant_ids["a1"], world.tenant_ids["b1"]
    enter(pg, TenantScope.system())
    pg.execute(sa.text("insert into job (id, task, params, tenant_id, user_id, read_only, status, progress, attempts, "
                       "created_at, result) values ('b1-export', 'activity.export_csv', '{}', :b1, :u, true, "
                       "'finished', 100, 1, now(), 'secret of b1')"), {"b1": b1, "u": secretary_b1})
    insert = ("insert into job (id, task, params, tenant_id, user_id, read_only, status, progress, attempts, "
              "created_at) values (md5(random()::text), 'procedures.import', '{}', :t, :u, :ro, 'queued', 0, 0, now())")
    enter(pg, TenantScope.tenant(a1), staff)
    assert pg.scalar(sa.text("select count(*) from job where id = 'b1-export'")) == 0
    assert refused(pg, insert, t=b1, u=staff, ro=False)
    assert not refused(pg, insert, t=a1, u=staff, ro=False)
    assert refused(pg, insert, t=None, u=secretary_b1, ro=False)  # platform work in someone else's name
    enter(pg, TenantScope.tenant(a1, read_only=True), staff)  # an overseer's export, read-only
    assert not refused(pg, insert, t=a1, u=staff, ro=True)
    assert refused(pg, insert, t=a1, u=staff, ro=False)
    enter(pg, TenantScope.tenant(a1), staff)
    mine = pg.scalar(sa.text("select id from job where tenant_id = :a and user_id = :u limit 1"), {"a": a1, "u": staff})
    if mine is None:
        pg.execute(sa.text(insert.replace("md5(random()::text)", "'mine'")), {"t": a1, "u": staff, "ro": False})
        mine = "mine"
    for column, value in (("tenant_id", b1), ("task", "'maintenance.cleanup'"), ("user_id", secretary_b1),
                          ("read_only", "not read_only"), ("params", "'{\"x\": 1}'")):
        assert refused(pg, f"update job set {column} = {value} where id = :id", id=mine), column
    assert not refused(pg, "update job set progress = 50 where id = :id", id=mine)
    enter(pg, TenantScope.system())
    assert not refused(pg, f"update job set user_id = {staff} where id = 'b1-export'")


def test_access_data_changes_only_in_the_all_tenants_scope(pg, world):
    """What decides what a person may see: oversight roles, jurisdictions, an agency's jurisdiction,
    status and merger, the operator flag."""
    staff = user_id(pg, "a1_staff", world)
    a1, b1 = world.tenant_ids["a1"], world.tenant_ids["b1"]
    vn = pg.scalar(sa.text("select id from jurisdiction where code = 'vn'"))
    writes = {
        "oversight": ("insert into oversight_role (user_id, jurisdiction_id, role, created_at, updated_at) "
                      "values (:u, :vn, 'overseer', now(), now())"),
        "jurisdiction": "update jurisdiction set path = path where id = :vn",
        "merged into mine": "update tenant set status = 'merged', merged_into_id = :a1 where id = :b1",
        "moved": "update tenant set jurisdiction_id = :vn where id = :b1",
        "operator": 'update "user" set is_operator = true where id = :u',
        "new operator": ('insert into "user" (email, name, is_operator, active, locale, created_at, updated_at) '
                         "values ('x@example.org', 'x', true, true, 'vi', now(), now())"),
    }
    params = {"u": staff, "vn": vn, "a1": a1, "b1": b1}
    enter(pg, TenantScope.tenant(a1), staff)
    for name, sql in writes.items():
        assert blocked(pg, sql, **{k: v for k, v in params.items() if f":{k}" in sql}), name
    assert not refused(pg, "update tenant set standing_version = 'x' where id = :a1", a1=a1)  # every write does
    enter(pg, TenantScope.system())
    for name, sql in writes.items():
        assert not blocked(pg, sql, **{k: v for k, v in params.items() if f":{k}" in sql}), name


def test_the_scope_functions_run_once_per_statement(pg, world):
    """The sealed scope costs a statement, not a row: an InitPlan for the all-tenants test and the
    hashed SubPlan of the visible agencies, and no scope function in the per-row filter."""
    enter(pg, TenantScope.readonly(list(world.tenant_ids.values())))
    plan = "\n".join(pg.scalars(sa.text("explain (verbose) select count(*) from unit")))
    assert "InitPlan" in plan and "hashed SubPlan" in plan, plan
    row_filter = next(line for line in plan.splitlines() if "Filter:" in line)
    assert "govqms_rls" not in row_filter and "current_setting" not in row_filter, plan


def test_sign_in_home_workspace_oversight_and_back_office_still_work(world, login_as):
    home = login_as("a1_staff").get("/")
    assert home.status_code == 200 and "Sở Khoa học và Công nghệ Một" in home.text
    assert "Sở Khoa học và Công nghệ Hai" not in home.text
    assert login_as("a1_staff").get(f"/t/{world.a1}/").status_code == 200
    assert login_as("a1_staff").get(f"/t/{world.b1}/").status_code == 404
    assert login_as("p1_overseer").get(f"/o/{world.p1}/").status_code == 200
    assert login_as("p1_overseer").get(f"/t/{world.a2}/").status_code == 200
    assert login_as("operator").get("/admin/").status_code == 200


def test_a_wrong_key_is_an_error_that_does_not_show_the_proof(app, backend, world):
    """A database whose registered key is not the application's (a SECRET_KEY changed without running
    grant-app-role again) refuses every scope, and the error names no proof."""
    from govqms.core import tenancy
    from govqms.extensions import db

    with app.app_context(), db.engine.connect() as conn:
        proof = conn.info[tenancy._PROOF]
        conn.info[tenancy._PROOF] = "not the application's proof"
        try:
            with pytest.raises(sa.exc.DBAPIError) as refusal:
                with conn.begin():
                    apply_database_scope(conn, TenantScope.system())
        finally:
            conn.info[tenancy._PROOF] = proof
        assert "scope proof does not match" in str(refusal.value)
        assert "not the application's proof" not in str(refusal.value) and proof not in str(refusal.value)
