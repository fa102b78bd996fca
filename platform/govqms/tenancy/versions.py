"""Which agencies a unit of work changed: each gets a new ``Tenant.standing_version`` in the same
transaction, so anything computed from an agency's records and cached under its version (the
comparison's rows, :mod:`govqms.oversight.standing`) is simply not found once they change.

A random token rather than a counter: a rolled-back transaction's version is never seen again, so
nothing computed inside it can be mistaken for the state of a later one.

Changed are the agencies of every tenant-scoped row written, the agency itself when its own row
changes (a merger, its establishment day), and the agencies a model names through
``__standing_tenants__`` (a data call's deadline is the recipients' business).
"""
from __future__ import annotations

import uuid

from sqlalchemy import event, update
from sqlalchemy.orm import Session

from govqms.core.tenancy import TenantScoped
from govqms.tenancy.models import Tenant

#: the session's writes this transaction made (read by the cache: nothing is stored meanwhile)
BUMPED = "govqms_standing_bumped"


def changed_tenants(session: Session) -> set[int]:
    found: set[int] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, TenantScoped):
            if obj.tenant_id is not None:
                found.add(obj.tenant_id)
        elif isinstance(obj, Tenant):
            if obj.id is not None and (obj in session.new or obj in session.deleted or session.is_modified(obj)):
                found.add(obj.id)
        elif hasattr(obj, "__standing_tenants__") and (obj in session.new or session.is_modified(obj)):
            with session.no_autoflush:
                found.update(session.scalars(obj.__standing_tenants__()))
    return found


def _bump(session: Session, flush_context, instances) -> None:
    ids = changed_tenants(session)
    if not ids:
        return
    # one statement, the ids in order: two transactions renewing the same agencies lock them alike
    session.connection().execute(update(Tenant.__table__).where(Tenant.__table__.c.id.in_(sorted(ids)))
                                 .values(standing_version=uuid.uuid4().hex))
    session.info[BUMPED] = True


def _forget(session: Session, *args) -> None:
    session.info.pop(BUMPED, None)


def install(session_class=Session) -> None:
    if getattr(session_class, "_govqms_versions_installed", False):
        return
    # before_flush sees the objects with their pending changes (after_flush no longer knows them)
    event.listen(session_class, "before_flush", _bump)
    event.listen(session_class, "after_commit", _forget)
    event.listen(session_class, "after_rollback", _forget)
    session_class._govqms_versions_installed = True
