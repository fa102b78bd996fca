from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from govqms.compliance.engine import Status, evaluate
from govqms.compliance.models import ComplianceSnapshot
from govqms.documents.services import today
from govqms.extensions import db
from govqms.tenancy.models import Tenant, TenantStatus


def active_tenant_ids() -> list[int]:
    return list(db.session.scalars(select(Tenant.id).where(Tenant.status == TenantStatus.ACTIVE)
                                   .order_by(Tenant.id)))


def snapshot(tenant_ids: list[int], day: dt.date | None = None) -> int:
    """Keep today's status of each agency (replacing an earlier snapshot of the same day)."""
    day = day or today()
    statuses: dict[int, Status] = evaluate(tenant_ids, day)
    existing = {s.tenant_id: s for s in db.session.scalars(select(ComplianceSnapshot).where(
        ComplianceSnapshot.tenant_id.in_(list(statuses) or [0]), ComplianceSnapshot.day == day))}
    for tenant_id, status in statuses.items():
        row = existing.get(tenant_id) or ComplianceSnapshot(tenant_id=tenant_id, day=day)
        row.level = status.level
        row.results = {c.rule: c.result.value for c in status.checks}
        db.session.add(row)
    db.session.flush()
    return len(statuses)
