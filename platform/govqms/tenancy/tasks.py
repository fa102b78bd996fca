"""What jobs need of tenancy: the scope of a job run for an overseer's jurisdiction."""
from __future__ import annotations

from govqms.accounts.models import User
from govqms.accounts.sessions import ends_sessions
from govqms.accounts.two_factor import access_kinds
from govqms.core.permissions import Action
from govqms.core.tenancy import TenantScope
from govqms.extensions import db
from govqms.jobs.services import oversight_scope
from govqms.tenancy.models import Jurisdiction, Tenant
from govqms.tenancy.services import oversight_access, subtree_tenants_query


@oversight_scope
def jurisdiction_scope(jurisdiction_id: int, user_id: int | None) -> TenantScope:
    """The jurisdiction's agencies, read-only, while the job's user still oversees it (checked again
    when the job runs: a role withdrawn meanwhile fails the job)."""
    jurisdiction = db.session.get(Jurisdiction, jurisdiction_id)
    user = db.session.get(User, user_id) if user_id is not None else None
    if jurisdiction is None or (user is not None and not oversight_access(user, jurisdiction).can(
            Action.OVERSIGHT_VIEW)):
        raise PermissionError(f"no oversight of jurisdiction {jurisdiction_id}")
    return TenantScope.readonly(db.session.scalars(subtree_tenants_query(jurisdiction)
                                                   .with_only_columns(Tenant.id)).all())


@access_kinds
def oversight_kinds(user: User) -> set[str]:
    """An account holding any oversight role is an oversight account (two-factor may be required of it)."""
    from sqlalchemy import select

    from govqms.tenancy.models import OversightRole

    held = db.session.scalar(select(OversightRole.id).where(OversightRole.user_id == user.id).limit(1))
    return {"oversight"} if held is not None else set()


@ends_sessions
def roles_removed(session_) -> set[int]:
    """A membership or oversight role removed, or its role changed: its holder signs in again."""
    from sqlalchemy import inspect

    from govqms.tenancy.models import Membership, OversightRole

    found = {obj.user_id for obj in session_.deleted if isinstance(obj, (Membership, OversightRole))}
    for obj in session_.dirty:
        if isinstance(obj, (Membership, OversightRole)) and inspect(obj).attrs.role.history.deleted:
            found.add(obj.user_id)
    return found
