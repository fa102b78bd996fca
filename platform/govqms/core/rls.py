"""Row-level security on PostgreSQL: the database's own wall around each agency's rows.

Every table with a ``tenant_id`` column has policies, whatever the column means there: tenant data
(``TenantScoped`` models) and the rows that name an agency without being its data, the activity log,
memberships, jobs and calendar feeds. A test walks the metadata and the catalogue and fails if one
lacks them; none is exempted. The access data that decides what a person may see (oversight roles,
jurisdictions, an agency's place and merger, the operator flag) and what a recorded job runs, for whom
and where, change only in the all-tenants scope.

**A scope is proven, not declared** (migration 0020). Up to 0019 the policies read the settings
``app.all_tenants``, ``app.tenant_ids`` and ``app.write_tenant_id`` directly, so any statement of the
application role, an injected one included, could ``set_config('app.all_tenants', 'on', false)`` and
read every agency. Now:

- the application enters a scope only through ``govqms_rls.enter_scope(proof, all, ids, write, user)``
  (:func:`govqms.core.tenancy.apply_database_scope`, at the start of each transaction and whenever
  the scope or the acting user changes). The function belongs to the owner and runs with the
  owner's rights (SECURITY DEFINER). *proof* is derived from the application's ``SECRET_KEY``
  (:func:`scope_key`); the database keeps only its SHA-256, in ``govqms_rls.secret``, which the
  application role cannot read (``govqms grant-app-role`` writes it). A wrong proof is an error.
- it writes the settings as before, with ``app.user_id`` (who acts), and returns their seal, which
  the same statement writes as ``app.scope_seal``: a keyed hash of the settings, of the backend's
  process id and of the transaction's start, under a random key of ``govqms_rls.secret`` that never
  leaves the database.
- the policies read the scope only through ``govqms_rls.all_tenants()``, ``visible_tenants()``,
  ``write_tenant()``, ``user_id()`` and ``operator()``, which give the empty scope unless the seal
  matches the settings. A bare ``set_config`` changes a setting, not its seal: the transaction then
  sees no agency's row at all, not even its own. A seal read in one transaction is worthless in the
  next, and in another connection.

The cost is a statement's, never a row's: the policies call those functions in uncorrelated
sub-selects (an InitPlan), and the visible agencies stay a sub-select that PostgreSQL hashes once per
statement (``hashed SubPlan``), as the read policy has done since migration 0014. They are plain SQL,
inlined into the statement's plan; only ``govqms_rls.sealed()`` is a call, in PL/pgSQL (its plan lasts
the session), twice a statement: about 15 µs. Counting 300,000 rows of 3,000 agencies as their
overseer takes about 55 ms, against 78 ms with the policies of 0014, whose every row read
``app.all_tenants`` again.

Table owners bypass the policies (no FORCE): migrations run as the owner, the application as a
separate role (deploy/postgresql-roles.sql). Nothing here applies to SQLite.

The helpers used by migrations 0001-0019 (:data:`ALL`, :data:`VISIBLE`, :data:`WRITABLE`,
:func:`policy_statements`, the activity helpers and :func:`select_policy_statements`) keep writing
the policies of their time, so that an empty database still migrates step by step; 0020 replaces them
all. :func:`enable_tenant_rls` writes the current policies once the ``govqms_rls`` schema exists, so a
table added by a later migration gets them.
"""
from __future__ import annotations

import hashlib
import hmac
import os

from sqlalchemy import text

# --- the policies of migrations 0001-0019 (settings read directly; kept for those migrations) --------

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


# --- the policies from migration 0020: the scope through the sealed functions ------------------------

#: The schema of the scope's functions and of its secret (owned by the owner; the application role
#: may use the functions, never read the secret).
SCHEMA = "govqms_rls"
#: A statement of the all-tenants scope (operators, system tasks): every row.
SEALED_ALL = f"(select {SCHEMA}.all_tenants())"
#: The agencies the statement may read, hashed once per statement as since 0014.
SEALED_IN_VISIBLE = f"{{col}} in (select unnest({SCHEMA}.visible_tenants()))"
SEALED_VISIBLE = f"({SEALED_ALL} or {SEALED_IN_VISIBLE})"
#: The one agency the statement may write (none for overseers and merged agencies).
SEALED_IS_WRITABLE = f"{{col}} = (select {SCHEMA}.write_tenant())"
SEALED_WRITABLE = f"({SEALED_ALL} or {SEALED_IS_WRITABLE})"
#: Who acts: the signed-in user of the request, the user a job runs for (empty for no one).
SESSION_USER = f"(select {SCHEMA}.user_id())"
#: Whether who acts is an operator.
SESSION_OPERATOR = f"(select {SCHEMA}.operator())"
#: The policies of the access data (no tenant): everyone reads, only the all-tenants scope writes.
ACCESS_POLICIES = ("access_select", "access_insert", "access_update", "access_delete")
ACCESS_TABLES = ("jurisdiction", "oversight_role")


def _four(table: str, select: str, insert: str, update_using: str, update_check: str, delete: str | None,
          names: tuple[str, ...] = POLICIES) -> list[str]:
    statements = [f"drop policy if exists {name} on {table}" for name in names] + [
        f"alter table {table} enable row level security",
        f"create policy {names[0]} on {table} for select using ({select})",
        f"create policy {names[1]} on {table} for insert with check ({insert})",
        f"create policy {names[2]} on {table} for update using ({update_using}) with check ({update_check})",
    ]
    if delete is not None:
        statements.append(f"create policy {names[3]} on {table} for delete using ({delete})")
    return statements


def tenant_data_statements(table: str, column: str = "tenant_id") -> list[str]:
    """An agency's data: read in the agencies the scope sees, written in the one it writes."""
    visible, writable = SEALED_VISIBLE.format(col=column), SEALED_WRITABLE.format(col=column)
    return _four(table, visible, writable, writable, writable, writable)


def activity_statements(table: str = "activity_entry") -> list[str]:
    """The activity log, append-only (no update or delete policy; the application role has neither
    privilege either). An agency's entries are read like its data. An entry is appended as who acts
    (``actor_id`` is the session's user, or empty when no one is signed in): into the writable agency;
    as a platform entry with no agency (a person's own password, their calendar feeds, a sign-in); or,
    by an overseer, the one entry saying they opened an agency they see (``oversight_view``). Only the
    all-tenants scope appends anything else, e.g. in another person's name."""
    acting = f"actor_id is not distinct from {SESSION_USER}"
    where = (f"tenant_id is null or {SEALED_IS_WRITABLE.format(col='tenant_id')} "
             f"or (action = 'oversight_view' and {SEALED_IN_VISIBLE.format(col='tenant_id')})")
    return [f"drop policy if exists {name} on {table}" for name in POLICIES] + [
        f"alter table {table} enable row level security",
        f"create policy tenant_select on {table} for select using {SEALED_VISIBLE.format(col='tenant_id')}",
        f"create policy tenant_insert on {table} for insert with check ({SEALED_ALL} or ({acting} and ({where})))",
    ]


def membership_statements(table: str = "membership") -> list[str]:
    """Memberships: access data, read before any agency is in scope. A row is read when its agency is
    visible, or when it is the acting user's own: signing in, the home page and the workspace's door
    (``tenancy.services.access_for``) read a person's memberships across agencies before the scope of
    one agency exists, and nobody else's. Written only in the writable agency or the all-tenants scope
    (in practice the back office, the manifests' sync and mergers, all in the all-tenants scope)."""
    visible, writable = SEALED_VISIBLE.format(col="tenant_id"), SEALED_WRITABLE.format(col="tenant_id")
    return _four(table, f"{visible} or user_id = {SESSION_USER}", writable, writable, writable, writable)


def job_statements(table: str = "job") -> list[str]:
    """Jobs: the worker runs one in the scope its row records, so recording or changing a row is a way
    to reach an agency, and its result may hold an agency's data.

    - read: the acting user's own jobs, the jobs of agencies in scope, the platform's jobs of no one
      (housekeeping: no result), every job for an operator, and any job still queued (the outbox is
      relayed by whichever request or worker runs next; a queued job has no result yet);
    - record: anything for the writable agency; read-only work in an agency in scope (an overseer's
      export) and platform work, for the acting user or for no one (the worker works an oversight
      job's scope out again from its user's roles); anything in the all-tenants scope;
    - change: the acting user's own jobs, the writable agency's, the jobs of no one of an agency in
      scope (the runner records the outcome in the job's own scope, read-only for an export), and
      queued jobs without giving them a result (the relay); what a job runs, for whom, where and how
      (task, parameters, agency, user, read-only) only in the all-tenants scope (a trigger);
    - delete: the all-tenants scope (the nightly cleanup).
    """
    writable = SEALED_IS_WRITABLE.format(col="tenant_id")
    in_scope = SEALED_IN_VISIBLE.format(col="tenant_id")
    mine = f"user_id = {SESSION_USER}"
    read = (f"{SEALED_ALL} or {mine} or {in_scope} or (user_id is null and tenant_id is null) "
            f"or status = 'queued' or {SESSION_OPERATOR}")
    record = (f"{SEALED_ALL} or {writable} "
              f"or ((user_id is null or {mine}) and (tenant_id is null or (read_only and {in_scope})))")
    runs_here = f"{mine} or {writable} or (user_id is null and {in_scope})"
    change = f"{SEALED_ALL} or {runs_here} or status = 'queued'"
    changed = f"{SEALED_ALL} or {runs_here} or (status = 'queued' and result is null)"
    return _four(table, read, record, change, changed, SEALED_ALL)


def calendar_feed_statements(table: str = "calendar_feed") -> list[str]:
    """Calendar feeds: a person's subscription to an agency's schedule (``tenant_id``) or to a
    jurisdiction's (no agency). An agency's feeds are made, revoked and removed in its writable
    workspace only (or in the all-tenants scope), so an overseer, who reads agencies, makes none; a
    jurisdiction's feed by its person only, for themselves. Read: the acting user's own feeds and the
    writable agency's; and, in a transaction where no one is signed in, any feed: the calendar
    address is opened by a calendar application that cannot sign in, and it finds its feed by the
    hash of the secret token in the address (the row holds no secret)."""
    mine = f"user_id = {SESSION_USER}"
    writable = SEALED_IS_WRITABLE.format(col="tenant_id")
    read = f"{SEALED_ALL} or {mine} or {writable} or {SESSION_USER} is null"
    made = f"{SEALED_ALL} or {writable} or (tenant_id is null and {mine})"
    kept = (f"{SEALED_ALL} or {writable} "
            f"or ({mine} and (tenant_id is null or {SEALED_IN_VISIBLE.format(col='tenant_id')}))")
    return _four(table, read, made, f"{SEALED_ALL} or {mine} or {writable}", kept,
                 f"{SEALED_ALL} or {mine} or {writable}")


def access_statements(table: str) -> list[str]:
    """Jurisdictions and oversight roles: read by everyone (who oversees what is resolved before any
    scope), written only in the all-tenants scope (the manifests' sync, the back office): a row here
    widens what someone may read."""
    return _four(table, "true", SEALED_ALL, SEALED_ALL, SEALED_ALL, SEALED_ALL, names=ACCESS_POLICIES)


#: The tables with a ``tenant_id`` whose policies are their own; every other one is tenant data.
SPECIAL_TABLES = {
    "activity_entry": activity_statements,
    "membership": membership_statements,
    "job": job_statements,
    "calendar_feed": calendar_feed_statements,
}


def sealed_statements(table: str, column: str = "tenant_id") -> list[str]:
    """The current policies of a table with a tenant column (replacing whatever it had)."""
    special = SPECIAL_TABLES.get(table)
    return special(table) if special is not None else tenant_data_statements(table, column)


def _sealed_scope_installed(op) -> bool:
    return bool(op.get_bind().scalar(text(f"select to_regnamespace('{SCHEMA}') is not null")))


# --- migration helpers ----------------------------------------------------------------------------

def enable_tenant_rls(op, table: str, column: str = "tenant_id") -> None:
    """Alembic helper: no-op on SQLite; on PostgreSQL the table's policies (the sealed ones once
    migration 0020 has run, those of their time before)."""
    if op.get_bind().dialect.name != "postgresql":
        return
    _run(op, sealed_statements(table, column) if _sealed_scope_installed(op) else policy_statements(table, column))


def enable_activity_rls(op, table: str = "activity_entry") -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _run(op, activity_statements(table) if _sealed_scope_installed(op) else activity_policy_statements(table))


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


# --- the application role -------------------------------------------------------------------------

APP_ROLE_GRANTS = [
    "grant usage on schema public to {role}",
    "grant select, insert, update, delete on all tables in schema public to {role}",
    "grant usage, select on all sequences in schema public to {role}",
    # The activity log is append-only for the application, whatever the trigger says.
    "revoke update, delete on activity_entry from {role}",
    # No temporary table or view: it would come first in the connection's search path, ahead of the
    # real table of the same name (a way for an injected statement to feed the application its rows).
    "revoke temporary on database {database} from public",
    "revoke temporary on database {database} from {role}",
]


def configured_secret_key() -> str:
    """The application's ``SECRET_KEY``: the app's setting in an application context, otherwise
    ``GOVQMS_SECRET_KEY`` (the owner's command line runs with the application's environment)."""
    from flask import current_app, has_app_context

    if has_app_context():
        return current_app.config["SECRET_KEY"]
    key = os.environ.get("GOVQMS_SECRET_KEY")
    if not key:
        raise RuntimeError("GOVQMS_SECRET_KEY is not set: the application's scope key cannot be registered")
    return key


def scope_key(secret_key: str | bytes) -> str:
    """The proof of scope the application gives PostgreSQL with every scope it enters: derived from its
    ``SECRET_KEY`` (never stored anywhere); the database keeps only its SHA-256. Rotating the secret key
    means running ``govqms grant-app-role`` again."""
    raw = secret_key.encode() if isinstance(secret_key, str) else bytes(secret_key)
    return hmac.new(raw, b"govqms: row-level security scope", hashlib.sha256).hexdigest()


def grant_app_role(connection, role: str, secret_key: str | bytes | None = None) -> None:
    """Give the application role what it needs on the current schema, and register the application's
    scope key (run as the owner, after every migration, with the application's ``SECRET_KEY``)."""
    preparer = connection.dialect.identifier_preparer
    quoted = preparer.quote(role)
    database = preparer.quote(connection.scalar(text("select current_database()")))
    for statement in APP_ROLE_GRANTS:
        connection.execute(text(statement.format(role=quoted, database=database)))
    if connection.scalar(text(f"select to_regclass('{SCHEMA}.secret') is not null")):
        proof = scope_key(secret_key if secret_key is not None else configured_secret_key())
        connection.execute(text(f"update {SCHEMA}.secret set app_key_hash = :digest"),
                           {"digest": hashlib.sha256(proof.encode()).digest()})
