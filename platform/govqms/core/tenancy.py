"""Automatic tenant scoping.

A :class:`TenantScope` says which tenants the current unit of work may read and which one
it writes to. It lives in a context variable set by the request (from the URL and the
user's access), by a job (from the job's tenant id) or by a CLI command. Three walls
enforce it, so nobody has to remember to filter:

1. every ORM SELECT gets ``with_loader_criteria(TenantScoped, tenant_id IN visible)``,
   relationship loads included, so another tenant's row is simply not found;
2. a flush refuses to insert, change or delete tenant rows outside the writable tenant
   (overseers and merged tenants have none);
3. on PostgreSQL each transaction carries ``app.tenant_ids`` / ``app.write_tenant_id``
   through a parameterised, transaction-local ``set_config``, read by row-level security
   policies (see :mod:`govqms.core.rls`).

With no scope set, nothing of any tenant is visible or writable.
"""
from __future__ import annotations

import contextlib
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Iterable, Iterator

from sqlalchemy import ARRAY, ForeignKey, ForeignKeyConstraint, Integer, any_, event, text, type_coerce
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

def _guard_flush(session: Session, flush_context, instances) -> None:
    scope = current_scope()
    for obj in session.new:
        if not isinstance(obj, TenantScoped):
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

_SET_SCOPE_SQL = text(
    "select set_config('app.tenant_ids', :ids, true),"
    " set_config('app.write_tenant_id', :write, true),"
    " set_config('app.all_tenants', :all, true)"
)


def _scope_params(scope: TenantScope) -> dict[str, str]:
    return {
        "ids": ",".join(str(i) for i in sorted(scope.visible or ())),
        "write": "" if scope.writable is None else str(scope.writable),
        "all": "on" if scope.visible is None else "off",
    }


def apply_database_scope(connection, scope: TenantScope | None = None) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(_SET_SCOPE_SQL, _scope_params(scope or current_scope()))


def _after_begin(session: Session, transaction, connection) -> None:
    apply_database_scope(connection)


def refresh_database_scope(session: Session) -> None:
    # One database per deployment, so the session has one connection at most.
    if isinstance(session, scoped_session):
        session = session()
    if session.in_transaction():
        apply_database_scope(session.connection())


def install(session_class=Session) -> None:
    """Register the hooks on a Session class (once per process)."""
    if getattr(session_class, "_govqms_tenancy_installed", False):
        return
    event.listen(session_class, "do_orm_execute", _add_tenant_criteria)
    event.listen(session_class, "before_flush", _guard_flush)
    event.listen(session_class, "after_begin", _after_begin)
    session_class._govqms_tenancy_installed = True
