"""Row-level security for tenant tables on PostgreSQL.

Migrations call :func:`enable_tenant_rls` for every table that carries ``tenant_id``;
a test walks the metadata and fails if one lacks its policies. The policies read the
transaction-local settings written by :mod:`govqms.core.tenancy`:

- ``app.all_tenants = 'on'``: operators and system tasks see and write every row;
- ``app.tenant_ids``: comma-separated tenants the transaction may read;
- ``app.write_tenant_id``: the single tenant it may write (empty for overseers).

Unset settings read as empty, so a connection with no scope sees no tenant row. Table
owners bypass these policies (no FORCE): migrations run as the owner, the application as
a separate role (see deploy/postgresql-roles.sql).
"""
from __future__ import annotations

ALL = "coalesce(current_setting('app.all_tenants', true), '') = 'on'"
#: The visible tenants as an uncorrelated sub-select: PostgreSQL parses the setting once per
#: statement and probes a hash of it for each row ("hashed SubPlan"), so a row costs the same for
#: an overseer of 5,000 agencies as for one agency. (``= any(string_to_array(…))`` parsed the list
#: again for every row: 84 s instead of 67 ms for 300,000 rows and 5,000 agencies.)
VISIBLE = (
    f"({ALL} or {{col}} in (select unnest(string_to_array(nullif(current_setting('app.tenant_ids', true), ''), "
    "',')::integer[])))"
)
WRITABLE = f"({ALL} or {{col}} = nullif(current_setting('app.write_tenant_id', true), '')::integer)"

POLICIES = ("tenant_select", "tenant_insert", "tenant_update", "tenant_delete")


def policy_statements(table: str, column: str = "tenant_id") -> list[str]:
    visible = VISIBLE.format(col=column)
    writable = WRITABLE.format(col=column)
    return [
        f"alter table {table} enable row level security",
        f"create policy tenant_select on {table} for select using {visible}",
        f"create policy tenant_insert on {table} for insert with check {writable}",
        f"create policy tenant_update on {table} for update using {writable} with check {writable}",
        f"create policy tenant_delete on {table} for delete using {writable}",
    ]


def activity_policy_statements(table: str = "activity_entry") -> list[str]:
    """The activity log: tenant entries as tenant data; platform entries (no tenant) may be
    appended by anyone signed in (a password change) and read only in the all-tenants scope.
    There is no update or delete policy: both are refused."""
    visible = VISIBLE.format(col="tenant_id")
    writable = WRITABLE.format(col="tenant_id")
    return [
        f"alter table {table} enable row level security",
        f"create policy tenant_select on {table} for select using {visible}",
        f"create policy tenant_insert on {table} for insert with check (tenant_id is null or {writable})",
    ]


def activity_oversight_view_statements(table: str = "activity_entry") -> list[str]:
    """Let a read-only overseer append the one entry that records their visit to an agency
    they can see (``action = 'oversight_view'``); any other entry still needs write access."""
    visible = VISIBLE.format(col="tenant_id")
    writable = WRITABLE.format(col="tenant_id")
    return [
        f"drop policy if exists tenant_insert on {table}",
        f"create policy tenant_insert on {table} for insert with check "
        f"(tenant_id is null or {writable} or (action = 'oversight_view' and {visible}))",
    ]


def activity_insert_statements(table: str = "activity_entry") -> list[str]:
    """The insert policy before :func:`activity_oversight_view_statements` (for downgrades)."""
    writable = WRITABLE.format(col="tenant_id")
    return [
        f"drop policy if exists tenant_insert on {table}",
        f"create policy tenant_insert on {table} for insert with check (tenant_id is null or {writable})",
    ]


def select_policy_statements(table: str, column: str = "tenant_id") -> list[str]:
    """Replace a table's read policy with the current :data:`VISIBLE` (migration 0014)."""
    return [f"drop policy if exists tenant_select on {table}",
            f"create policy tenant_select on {table} for select using {VISIBLE.format(col=column)}"]


def drop_statements(table: str) -> list[str]:
    return [f"drop policy if exists {name} on {table}" for name in POLICIES] + [
        f"alter table {table} disable row level security"
    ]


def enable_tenant_rls(op, table: str, column: str = "tenant_id") -> None:
    """Alembic helper: no-op on SQLite, policies on PostgreSQL."""
    _run(op, policy_statements(table, column))


def enable_activity_rls(op, table: str = "activity_entry") -> None:
    _run(op, activity_policy_statements(table))


def _run(op, statements: list[str]) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in statements:
        op.execute(statement)


def run_statements(op, statements: list[str]) -> None:
    """Alembic helper for hand-written policy changes: PostgreSQL only."""
    _run(op, statements)


def disable_tenant_rls(op, table: str) -> None:
    _run(op, drop_statements(table))


APP_ROLE_GRANTS = [
    "grant usage on schema public to {role}",
    "grant select, insert, update, delete on all tables in schema public to {role}",
    "grant usage, select on all sequences in schema public to {role}",
    # The activity log is append-only for the application, whatever the trigger says.
    "revoke update, delete on activity_entry from {role}",
]


def grant_app_role(connection, role: str) -> None:
    """Give the application role what it needs on the current schema (run as owner)."""
    from sqlalchemy import text

    quoted = connection.dialect.identifier_preparer.quote(role)
    for statement in APP_ROLE_GRANTS:
        connection.execute(text(statement.format(role=quoted)))
