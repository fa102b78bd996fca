"""row-level security: the visible tenants as a sub-select hashed once per statement

Revision ID: 0014_rls_hashed_scope
Revises: 0013_dated_compliance
Create Date: 2026-11-30 00:00:00

The read policies tested ``tenant_id = any(string_to_array(current_setting(...))::integer[])``,
which PostgreSQL evaluates again for every row: the cost of a row grew with the number of agencies
an overseer sees. ``tenant_id in (select unnest(...))`` is planned as a hashed SubPlan, built once
per statement. Same rows visible; nothing changes on SQLite.
"""
import sqlalchemy as sa
from alembic import op

from govqms.core.rls import ALL, activity_oversight_view_statements, run_statements, select_policy_statements

# revision identifiers, used by Alembic.
revision = '0014_rls_hashed_scope'
down_revision = '0013_dated_compliance'
branch_labels = None
depends_on = None

#: the read policy up to 0013
PER_ROW = f"({ALL} or tenant_id = any (string_to_array(nullif(current_setting('app.tenant_ids', true), ''), ',')::integer[]))"


def _tables() -> list[str]:
    return list(op.get_bind().scalars(sa.text(
        "select tablename from pg_policies where schemaname = current_schema() and policyname = 'tenant_select' "
        "order by tablename")))


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in _tables():
        run_statements(op, select_policy_statements(table))
    run_statements(op, activity_oversight_view_statements())


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in _tables():
        op.execute(f"drop policy if exists tenant_select on {table}")
        op.execute(f"create policy tenant_select on {table} for select using {PER_ROW}")
    op.execute("drop policy if exists tenant_insert on activity_entry")
    op.execute("create policy tenant_insert on activity_entry for insert with check (tenant_id is null or "
               "(coalesce(current_setting('app.all_tenants', true), '') = 'on' or tenant_id = "
               "nullif(current_setting('app.write_tenant_id', true), '')::integer) or (action = 'oversight_view' and "
               f"{PER_ROW}))")
