"""row-level security everywhere: every table with a tenant column has policies, and the scope they read
is proven by the application, not merely set

Revision ID: 0020_rls_everywhere
Revises: 0019_record_versions
Create Date: 2026-11-30 07:00:00

Up to 0019 the policies read ``app.all_tenants``, ``app.tenant_ids`` and ``app.write_tenant_id``, which
any statement of the application role may set: ``set_config('app.all_tenants', 'on', false)`` showed
every agency. Memberships, jobs and calendar feeds had no policy, and anyone could append a platform
entry to the activity log. From here (see ``govqms.core.rls``):

- the schema ``govqms_rls`` (the owner's) holds ``secret``: a random key that seals the scope, made
  here, and the SHA-256 of the application's scope key, which ``govqms grant-app-role`` writes;
- ``govqms_rls.enter_scope(proof, …)`` checks the proof, writes the settings and returns their seal
  (a keyed hash of them, of the backend's pid and of the transaction's start), which the application
  writes as ``app.scope_seal``;
- the policies of every table with a ``tenant_id`` column (found in the catalogue, none exempted) read
  the scope through ``govqms_rls.all_tenants()``, ``visible_tenants()``, ``write_tenant()``,
  ``user_id()`` and ``operator()``, which give the empty scope when the seal does not match;
- jurisdictions and oversight roles, an agency's jurisdiction, status and merger, the operator flag
  of an account, and what a recorded job runs (task, parameters, agency, user, read-only) change only
  in the all-tenants scope.

Run ``govqms grant-app-role ROLE`` after this upgrade (as after every one): until the application's key
is registered, the application role cannot enter any scope. Nothing changes on SQLite.
"""
import sqlalchemy as sa
from alembic import op

from govqms.core import rls

# revision identifiers, used by Alembic.
revision = '0020_rls_everywhere'
down_revision = '0019_record_versions'
branch_labels = None
depends_on = None

S = rls.SCHEMA
#: What runs with the owner's rights (and the trigger) runs with a fixed search path: nothing of the
#: caller's (a schema put first) can stand in for what it calls. The functions inlined into the
#: policies name pg_catalog's functions instead.
PATH = "set search_path = pg_catalog, pg_temp"
#: The settings, as text ('' when unset).
SETTINGS = ", ".join(f"coalesce(current_setting('app.{name}', true), '')"
                     for name in ("all_tenants", "tenant_ids", "write_tenant_id", "user_id"))


def seal(values: str) -> str:
    """The seal of the scope *values* (four text expressions) in this transaction of this backend, under
    the secret key in the PL/pgSQL variable ``key``: keyed inside and outside, as HMAC is."""
    return ("encode(sha256(key || sha256(key || convert_to(concat_ws('|', pg_backend_pid(), "
            f"extract(epoch from transaction_timestamp()), {values}), 'UTF8'))), 'hex')")


def scope_functions(app_schema: str) -> list[str]:
    users = f'{app_schema}."user"'
    return [
        f"create schema {S}",
        f"revoke all on schema {S} from public",
        f"grant usage on schema {S} to public",
        # One row: the seal's key (random, made here, never leaves the database) and the SHA-256 of
        # the application's scope key (grant-app-role). Nobody but the owner may read it.
        f"create table {S}.secret (id smallint primary key default 1 check (id = 1), seal_key bytea not null, "
        "app_key_hash bytea)",
        f"revoke all on {S}.secret from public",
        f"insert into {S}.secret (seal_key) values (sha256(convert_to(gen_random_uuid()::text || "
        "gen_random_uuid()::text || gen_random_uuid()::text || clock_timestamp()::text, 'UTF8')))",
        # The seal of a scope in this transaction of this backend: HMAC-like, the key inside and outside.
        # PL/pgSQL, whose plans last the session: the policies check the seal once per statement.
        f"""create function {S}.sealed() returns boolean language plpgsql stable security definer {PATH} as $$
            declare
                key bytea;
            begin
                select seal_key into key from {S}.secret;
                return key is not null and coalesce(current_setting('app.scope_seal', true), '') = {seal(SETTINGS)};
            end $$""",
        f"""create function {S}.enter_scope(proof text, all_tenants text, tenant_ids text, write_tenant_id text,
                                             user_id text)
            returns text language plpgsql volatile security definer {PATH} as $$
            declare
                expected bytea;
                key bytea;
            begin
                select app_key_hash, seal_key into expected, key from {S}.secret;
                if expected is null or expected <> sha256(convert_to(coalesce(proof, ''), 'UTF8')) then
                    raise exception 'the scope proof does not match the key registered in this database'
                        using errcode = '28000',
                              hint = 'Run "govqms grant-app-role ROLE" as the owner, with the application''s '
                                     'GOVQMS_SECRET_KEY, after each upgrade.';
                end if;
                all_tenants := coalesce(all_tenants, '');
                tenant_ids := coalesce(tenant_ids, '');
                write_tenant_id := coalesce(write_tenant_id, '');
                user_id := coalesce(user_id, '');
                if all_tenants not in ('on', 'off') or tenant_ids !~ '^([0-9]+(,[0-9]+)*)?$'
                        or write_tenant_id !~ '^[0-9]*$' or user_id !~ '^[0-9]*$' then
                    raise exception 'malformed scope' using errcode = '22023';
                end if;
                perform set_config('app.all_tenants', all_tenants, true),
                        set_config('app.tenant_ids', tenant_ids, true),
                        set_config('app.write_tenant_id', write_tenant_id, true),
                        set_config('app.user_id', user_id, true);
                return {seal("all_tenants, tenant_ids, write_tenant_id, user_id")};
            end $$""",
        # What the policies read: plain SQL, inlined into each statement's plan; only the seal is a call.
        f"""create function {S}.all_tenants() returns boolean language sql stable as $$
            select {S}.sealed() and pg_catalog.current_setting('app.all_tenants', true) = 'on' $$""",
        f"""create function {S}.visible_tenants() returns integer[] language sql stable as $$
            select case when {S}.sealed() then coalesce(pg_catalog.string_to_array(
                nullif(pg_catalog.current_setting('app.tenant_ids', true), ''), ',')::integer[], '{{}}')
                else '{{}}'::integer[] end $$""",
        f"""create function {S}.write_tenant() returns integer language sql stable as $$
            select case when {S}.sealed()
                then nullif(pg_catalog.current_setting('app.write_tenant_id', true), '')::integer end $$""",
        f"""create function {S}.user_id() returns integer language sql stable as $$
            select case when {S}.sealed()
                then nullif(pg_catalog.current_setting('app.user_id', true), '')::integer end $$""",
        f"""create function {S}.operator() returns boolean language sql stable as $$
            select exists (select 1 from {users} u where u.id = {S}.user_id() and u.is_operator) $$""",
        # Access data: changed in the all-tenants scope, or by a role that bypasses row-level security
        # (the owner migrating, a superuser).
        f"""create function {S}.refuse_outside_all_tenants() returns trigger language plpgsql {PATH} as $$
            begin
                if {S}.all_tenants()
                        or exists (select 1 from pg_roles r where r.rolname = current_user
                                   and (r.rolsuper or r.rolbypassrls))
                        or pg_has_role(current_user, (select c.relowner from pg_class c where c.oid = tg_relid),
                                       'USAGE') then
                    return new;
                end if;
                raise exception '% of % needs the all-tenants scope', lower(tg_op), tg_table_name
                    using errcode = '42501';
            end $$""",
        f"""create trigger operator_flag_insert before insert on {users} for each row when (new.is_operator)
            execute function {S}.refuse_outside_all_tenants()""",
        f"""create trigger operator_flag_update before update of is_operator on {users} for each row
            when (old.is_operator is distinct from new.is_operator)
            execute function {S}.refuse_outside_all_tenants()""",
        # What the worker will run, for whom, where and how: fixed once a job is recorded.
        f"""create trigger job_fixed_columns before update of task, params, tenant_id, user_id, read_only
            on {app_schema}.job for each row
            when (old.task is distinct from new.task or old.params::text is distinct from new.params::text
                  or old.tenant_id is distinct from new.tenant_id or old.user_id is distinct from new.user_id
                  or old.read_only is distinct from new.read_only)
            execute function {S}.refuse_outside_all_tenants()""",
        f"""create trigger tenant_access_update before update of jurisdiction_id, status, merged_into_id
            on {app_schema}.tenant for each row
            when (old.jurisdiction_id is distinct from new.jurisdiction_id or old.status is distinct from new.status
                  or old.merged_into_id is distinct from new.merged_into_id)
            execute function {S}.refuse_outside_all_tenants()""",
    ]


def _tenant_tables() -> list[str]:
    """Every table of the schema with a tenant column: found, not listed, so none is forgotten."""
    return list(op.get_bind().scalars(sa.text(
        "select c.table_name from information_schema.columns c join information_schema.tables t "
        "on t.table_schema = c.table_schema and t.table_name = c.table_name "
        "where c.table_schema = current_schema() and c.column_name = 'tenant_id' and t.table_type = 'BASE TABLE' "
        "order by c.table_name")))


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    app_schema = op.get_bind().scalar(sa.text("select quote_ident(current_schema())"))
    for statement in scope_functions(app_schema):
        op.execute(statement)
    for table in _tenant_tables():
        rls.run_statements(op, rls.sealed_statements(table))
    for table in rls.ACCESS_TABLES:
        rls.run_statements(op, rls.access_statements(table))


#: Tables that had no policy before this revision.
NEW_TABLES = ("calendar_feed", "job", "membership")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    app_schema = op.get_bind().scalar(sa.text("select quote_ident(current_schema())"))
    for table in rls.ACCESS_TABLES:
        for name in rls.ACCESS_POLICIES:
            op.execute(f"drop policy if exists {name} on {table}")
        op.execute(f"alter table {table} disable row level security")
    op.execute(f'drop trigger if exists operator_flag_insert on {app_schema}."user"')
    op.execute(f'drop trigger if exists operator_flag_update on {app_schema}."user"')
    op.execute(f"drop trigger if exists tenant_access_update on {app_schema}.tenant")
    op.execute(f"drop trigger if exists job_fixed_columns on {app_schema}.job")
    for table in _tenant_tables():
        rls.run_statements(op, rls.drop_statements(table))
        if table == "activity_entry":
            rls.run_statements(op, rls.activity_policy_statements(table)[:2]
                               + rls.activity_oversight_view_statements(table))
        elif table not in NEW_TABLES:
            rls.run_statements(op, rls.policy_statements(table))
    op.execute(f"drop schema {S} cascade")
