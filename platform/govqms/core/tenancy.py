"""Automatic tenant scoping.

A :class:`TenantScope` says which tenants the current unit of work may read and which one
it writes to. It lives in a context variable set by the request (from the URL and the
user's access), by a job (from the job's tenant id) or by a CLI command. Three walls
enforce it, so nobody has to remember to filter:

1. every ORM SELECT gets ``with_loader_criteria(TenantScoped, tenant_id IN visible)``,
   relationship loads included, so another tenant's row is simply not found;
2. a flush refuses to insert, change or delete tenant rows outside the writable tenant
   (overseers and merged tenants have none), and to record a row that names an agency it may
   not write (a membership, an agency's calendar feed, a job that would write there);
3. on PostgreSQL each transaction enters the scope, with the acting user, through the owner's
   function ``govqms_rls.enter_scope`` and the application's proof (derived from its secret
   key), and row-level security policies read it back only if its seal holds (see
   :mod:`govqms.core.rls`): a statement that writes the settings itself sees nothing.

With no scope set, nothing of any tenant is visible or writable.
"""
from __future__ import annotations

import contextlib
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Iterable, Iterator

from sqlalchemy import ARRAY, ForeignKey, ForeignKeyConstraint, Integer, any_, event, text, type_coerce
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import (
    Mapped,
    ORMExecuteState,
    Session,
    declared_attr,
    mapped_column,
    scoped_session,
    with_loader_criteria,
)


class ScopeViolation(PermissionError):
    """A write outside what the current tenant scope allows."""


@dataclass(frozen=True)
class TenantScope:
    #: tenants whose rows may be read; ``None`` means every tenant (operators, system tasks)
    visible: frozenset[int] | None
    #: the tenant new rows belong to and whose rows may change; ``None``: no tenant writes
    writable: int | None = None

    @classmethod
    def none(cls) -> "TenantScope":
        return cls(visible=frozenset())

    @classmethod
    def system(cls, writable: int | None = None) -> "TenantScope":
        return cls(visible=None, writable=writable)

    @classmethod
    def tenant(cls, tenant_id: int, *, read_only: bool = False, also_visible: Iterable[int] = ()) -> "TenantScope":
        return cls(visible=frozenset({tenant_id, *also_visible}), writable=None if read_only else tenant_id)

    @classmethod
    def readonly(cls, tenant_ids: Iterable[int]) -> "TenantScope":
        return cls(visible=frozenset(tenant_ids))

    @property
    def all_tenants(self) -> bool:
        return self.visible is None

    def can_read(self, tenant_id: int) -> bool:
        return self.visible is None or tenant_id in self.visible

    def can_write(self, tenant_id: int) -> bool:
        # The system scope may write anywhere only when it names no single writable tenant.
        if self.visible is None and self.writable is None:
            return True
        return self.writable == tenant_id


# TenantScope is frozen, so one shared default is safe.
_scope: ContextVar[TenantScope] = ContextVar("govqms_tenant_scope", default=TenantScope.none())  # noqa: B039


def current_scope() -> TenantScope:
    return _scope.get()


def set_scope(scope: TenantScope, session: Session | None = None):
    """Make *scope* current; returns a token for :func:`reset_scope`.

    If *session* is inside a transaction already, the PostgreSQL settings are refreshed
    at once so row-level security follows the new scope within that transaction.
    """
    token = _scope.set(scope)
    if session is not None:
        refresh_database_scope(session)
    return token


def reset_scope(token, session: Session | None = None) -> None:
    _scope.reset(token)
    if session is not None:
        refresh_database_scope(session)


@contextlib.contextmanager
def scoped(scope: TenantScope, session: Session | None = None) -> Iterator[TenantScope]:
    token = set_scope(scope, session)
    try:
        yield scope
    finally:
        reset_scope(token, session)


@contextlib.contextmanager
def writing_for(tenant_id: int, session: Session) -> Iterator[TenantScope]:
    """Write one tenant's records from an oversight view (an inspection's findings, a data call's
    reply slots): the service says so explicitly, for that tenant only, after the view checked the
    oversight role."""
    with scoped(TenantScope.tenant(tenant_id), session) as scope:
        yield scope


def tenant_reference(column: str, table: str, ondelete: str = "RESTRICT") -> ForeignKeyConstraint:
    """A reference from one tenant table to another that includes ``tenant_id``, so the
    database itself refuses a row pointing at another tenant's record. The referenced table
    declares ``UniqueConstraint("tenant_id", "id")``."""
    return ForeignKeyConstraint(["tenant_id", column], [f"{table}.tenant_id", f"{table}.id"], ondelete=ondelete)


class TenantScoped:
    """Mixin for every table that holds one tenant's data."""

    __tenant_scoped__ = True

    @declared_attr
    def tenant_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("tenant.id", ondelete="RESTRICT"), nullable=False, index=True)


# --- wall 1: reads -----------------------------------------------------------------------

#: Models filtered like tenant data although their tenant_id may be empty (activity log).
_extra_filtered: list[type] = []


def filter_like_tenant_data(model: type) -> type:
    _extra_filtered.append(model)
    return model

def _add_tenant_criteria(state: ORMExecuteState) -> None:
    if not state.is_select or state.is_column_load:
        return
    if state.execution_options.get("skip_tenant_scope"):
        return
    scope = current_scope()
    if scope.visible is None:
        return
    if state.session.get_bind().dialect.name == "postgresql":
        # one array parameter, however many agencies an overseer sees: an IN list of thousands of
        # parameters costs its planning on every statement
        visible_ids = sorted(scope.visible)
        criteria = lambda cls: cls.tenant_id == any_(type_coerce(visible_ids, ARRAY(Integer)))  # noqa: E731
    else:
        visible = tuple(sorted(scope.visible))
        criteria = lambda cls: cls.tenant_id.in_(visible)  # noqa: E731
    options = [
        with_loader_criteria(entity, criteria, include_aliases=True, propagate_to_loaders=True)
        for entity in (TenantScoped, *_extra_filtered)
    ]
    state.statement = state.statement.options(*options)


# --- wall 2: writes ----------------------------------------------------------------------

#: Rows that name an agency without being its data, and what recording one asks of the scope: what
#: their row-level security policies ask (govqms.core.rls), said here first so that a refusal is the
#: "read only" page rather than a database error. A job may be recorded read-only for an agency in
#: view (an overseer's export): the worker runs it read-only there.
_NAMING_AN_AGENCY = {
    "membership": lambda scope, row: scope.can_write(row.tenant_id),
    "calendar_feed": lambda scope, row: scope.can_write(row.tenant_id),
    "job": lambda scope, row: scope.can_write(row.tenant_id) or (row.read_only and scope.can_read(row.tenant_id)),
}


def _guard_flush(session: Session, flush_context, instances) -> None:
    scope = current_scope()
    for obj in session.new:
        if not isinstance(obj, TenantScoped):
            allowed = _NAMING_AN_AGENCY.get(getattr(obj, "__tablename__", ""))
            if allowed is not None and obj.tenant_id is not None and not allowed(scope, obj):
                raise ScopeViolation(f"tenant {obj.tenant_id} is not writable here ({type(obj).__name__})")
            continue
        if obj.tenant_id is None:
            if scope.writable is None:
                raise ScopeViolation(f"no writable tenant in scope to create {type(obj).__name__}")
            obj.tenant_id = scope.writable
        if not scope.can_write(obj.tenant_id):
            raise ScopeViolation(f"tenant {obj.tenant_id} is not writable here ({type(obj).__name__})")
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, TenantScoped) and not scope.can_write(obj.tenant_id):
            raise ScopeViolation(f"tenant {obj.tenant_id} is not writable here ({type(obj).__name__})")


# --- wall 3: PostgreSQL row-level security -------------------------------------------------
#
# Every transaction on PostgreSQL enters its scope before its first statement (a hook on the
# engine's "begin", so a bare connection, such as a job's progress report, has one too), and again
# whenever the scope or the acting user changes within it (checked before each ORM statement and
# flush, and at once by set_scope(..., session)). The scope is entered through the owner's function
# govqms_rls.enter_scope with the application's proof (govqms.core.rls): a statement that sets the
# settings itself gets no scope at all.

#: connection.info: the scope (visible, writable, user) the transaction's settings hold now
_APPLIED = "govqms_scope_applied"
#: connection.info: set by the engine's "begin" hook, taken by the session's first after_begin
_FRESH = "govqms_scope_fresh"
#: connection.info: "sealed" (the role is under the policies of migration 0020), "legacy" (before
#: it), or "bypass" (the owner or a superuser, whom no policy concerns)
_MODE = "govqms_rls_mode"
#: connection.info: the application's proof of scope (govqms.core.rls.scope_key)
_PROOF = "govqms_scope_proof"

#: The function checks the proof, writes the settings and returns their seal, written in the same statement.
_ENTER_SQL = text(
    "select set_config('app.scope_seal', govqms_rls.enter_scope(cast(:proof as text), cast(:all as text),"
    " cast(:ids as text), cast(:write as text), cast(:user as text)), true)"
)
#: Up to migration 0019, the settings themselves (no function to prove them by).
_SET_SCOPE_SQL = text(
    "select set_config('app.tenant_ids', :ids, true),"
    " set_config('app.write_tenant_id', :write, true),"
    " set_config('app.all_tenants', :all, true)"
)
_MODE_SQL = text(
    "select coalesce((select rolsuper or rolbypassrls from pg_roles where rolname = current_user), false)"
    " or exists (select 1 from pg_tables where schemaname = current_schema() and tableowner = current_user),"
    " to_regprocedure('govqms_rls.enter_scope(text, text, text, text, text)') is not null"
)

#: Who the database takes as acting, when a service says so (see :func:`reading_as`).
_UNSET = object()
_database_user: ContextVar[object] = ContextVar("govqms_database_user", default=_UNSET)


@contextlib.contextmanager
def reading_as(user_id: int | None) -> Iterator[None]:
    """The statements inside read the database as *user_id*: the rows row-level security gives a
    person of their own (their memberships, jobs and calendar feeds) are theirs, whoever acts. The
    access of a calendar feed's owner is resolved so, in the feed's request, where nobody is signed
    in. Without it, the acting user (:func:`govqms.core.activity.current_actor`) is the one."""
    token = _database_user.set(user_id)
    try:
        yield
    finally:
        _database_user.reset(token)


def database_user() -> int | None:
    """The user the database takes as acting: set by :func:`reading_as`, otherwise the actor."""
    user = _database_user.get()
    if user is not _UNSET:
        return user
    from govqms.core.activity import current_actor  # activity imports this module

    return current_actor().user_id


def _database_key(scope: TenantScope, user_id: int | None) -> tuple:
    return scope.visible, scope.writable, user_id


def _current_key() -> tuple:
    return _database_key(current_scope(), database_user())


def _scope_params(scope: TenantScope, user_id: int | None = None) -> dict[str, str]:
    return {
        "ids": ",".join(str(i) for i in sorted(scope.visible or ())),
        "write": "" if scope.writable is None else str(scope.writable),
        "all": "on" if scope.visible is None else "off",
        "user": "" if user_id is None else str(int(user_id)),
    }


def _mode(connection) -> str:
    mode = connection.info.get(_MODE)
    if mode is None:
        bypass, sealed = connection.execute(_MODE_SQL).one()
        mode = "bypass" if bypass else "sealed" if sealed else "legacy"
        connection.info[_MODE] = mode
    return mode


def _remember_proof(connection) -> None:
    """When a connection is taken in an application context, keep the app's proof of scope with it."""
    if connection.dialect.name != "postgresql" or _PROOF in connection.info:
        return
    from flask import current_app, has_app_context

    if has_app_context():
        from govqms.core.rls import scope_key

        connection.info[_PROOF] = scope_key(current_app.config["SECRET_KEY"])


def _proof(connection) -> str:
    _remember_proof(connection)
    proof = connection.info.get(_PROOF)
    if proof is None:
        raise RuntimeError("no application context: the database scope cannot be proven on this connection")
    return proof


def _apply(connection, key: tuple) -> None:
    visible, writable, user_id = key
    mode = _mode(connection)
    if mode == "sealed":
        params = _scope_params(TenantScope(visible, writable), user_id)
        try:
            connection.execute(_ENTER_SQL, {**params, "proof": _proof(connection)})
        except DBAPIError as error:
            error.hide_parameters, error.params = True, None  # the proof stays out of the logs
            raise
    elif mode == "legacy":
        params = _scope_params(TenantScope(visible, writable))
        connection.execute(_SET_SCOPE_SQL, {k: params[k] for k in ("ids", "write", "all")})
    connection.info[_APPLIED] = key


def apply_database_scope(connection, scope: TenantScope | None = None) -> None:
    """Enter *scope* (the current one by default), as the acting user, in the connection's transaction."""
    if connection.dialect.name != "postgresql":
        return
    _apply(connection, _database_key(scope or current_scope(), database_user()))
    connection.info.pop(_FRESH, None)


def _engine_begin(connection) -> None:
    if connection.dialect.name != "postgresql":
        return
    _apply(connection, _current_key())
    connection.info[_FRESH] = True


def _transaction_ended(connection, *args) -> None:
    # The settings are transaction-local (a rolled-back savepoint takes back what it set): forget them.
    connection.info.pop(_APPLIED, None)
    connection.info.pop(_FRESH, None)


def _after_begin(session: Session, transaction, connection) -> None:
    if connection.dialect.name != "postgresql":
        return
    if connection.info.pop(_FRESH, False) and connection.info.get(_APPLIED) == _current_key():
        return  # the engine's hook entered this very scope as the transaction began
    apply_database_scope(connection)


def _follow_scope(session: Session) -> None:
    """Before a statement or a flush: enter the current scope if the transaction holds another one (the
    actor became known after the transaction began, a service reads as another user, a scope was set
    without naming the session)."""
    if not session.in_transaction() or session.get_bind().dialect.name != "postgresql":
        return
    connection = session.connection()
    key = _current_key()
    if connection.info.get(_APPLIED) != key:
        _apply(connection, key)
        connection.info.pop(_FRESH, None)


def _follow_scope_on_execute(state: ORMExecuteState) -> None:
    _follow_scope(state.session)


def _follow_scope_on_flush(session: Session, flush_context, instances) -> None:
    _follow_scope(session)


def refresh_database_scope(session: Session) -> None:
    # One database per deployment, so the session has one connection at most.
    if isinstance(session, scoped_session):
        session = session()
    if session.in_transaction():
        apply_database_scope(session.connection())


_engine_hooks_installed = False


def install(session_class=Session) -> None:
    """Register the hooks on a Session class and on every engine (once per process)."""
    global _engine_hooks_installed
    if not _engine_hooks_installed:
        event.listen(Engine, "engine_connect", _remember_proof)
        event.listen(Engine, "begin", _engine_begin)
        for name in ("commit", "rollback", "rollback_savepoint"):
            event.listen(Engine, name, _transaction_ended)
        _engine_hooks_installed = True
    if getattr(session_class, "_govqms_tenancy_installed", False):
        return
    event.listen(session_class, "do_orm_execute", _follow_scope_on_execute)
    event.listen(session_class, "do_orm_execute", _add_tenant_criteria)
    event.listen(session_class, "before_flush", _follow_scope_on_flush)
    event.listen(session_class, "before_flush", _guard_flush)
    event.listen(session_class, "after_begin", _after_begin)
    session_class._govqms_tenancy_installed = True
