"""What jobs need of tenancy: the scope of a job run for an overseer's jurisdiction."""
from __future__ import annotations

from govqms.accounts.models import User
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
