from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from govqms.compliance.engine import Status, evaluate
from govqms.compliance.models import ComplianceSnapshot
from govqms.core.clock import today
from govqms.extensions import db
from govqms.tenancy.models import Tenant
from govqms.webhooks.services import emit


def snapshot(tenant_ids: list[int], day: dt.date | None = None) -> int:
    """Keep today's status of each agency (replacing an earlier snapshot of the same day)."""
    day = day or today()
    statuses: dict[int, Status] = evaluate(tenant_ids, day)
    existing = {s.tenant_id: s for s in db.session.scalars(select(ComplianceSnapshot).where(
        ComplianceSnapshot.tenant_id.in_(list(statuses) or [0]), ComplianceSnapshot.day == day))}
    before = _levels_before(list(statuses), day)
    changed = []
    for tenant_id, status in statuses.items():
        row = existing.get(tenant_id) or ComplianceSnapshot(tenant_id=tenant_id, day=day)
        previous = row.level if row.level is not None else before.get(tenant_id)
        if previous is not None and previous != status.level:
            changed.append((tenant_id, previous, str(status.level)))
        row.level = status.level
        row.results = {c.rule: c.result.value for c in status.checks}
        db.session.add(row)
    db.session.flush()
    for tenant_id, previous, level in changed:
        emit("status.level_changed", tenant_id=tenant_id, data=lambda links, p=previous, lv=level: {"status": {
            "on": day.isoformat(), "previous_level": p, "level": lv, "url": links.agency("compliance.status")}})
    return len(statuses)


def _levels_before(tenant_ids: list[int], day: dt.date) -> dict[int, str]:
    """Each agency's level in its latest snapshot before *day* (one query)."""
    latest = (select(ComplianceSnapshot.tenant_id, func.max(ComplianceSnapshot.day).label("day"))
              .where(ComplianceSnapshot.tenant_id.in_(tenant_ids or [0]), ComplianceSnapshot.day < day)
              .group_by(ComplianceSnapshot.tenant_id).subquery())
    return dict(db.session.execute(select(ComplianceSnapshot.tenant_id, ComplianceSnapshot.level).join(
        latest, (ComplianceSnapshot.tenant_id == latest.c.tenant_id) & (ComplianceSnapshot.day == latest.c.day))).all())


def jurisdiction_statuses(jurisdiction, on: dt.date) -> list[tuple[Tenant, Status]]:
    """Every agency of *jurisdiction* and the jurisdictions below it that existed on *on*, with its
    status that day, in the Vietnamese order of names: what the overseer's comparison shows."""
    from govqms.core.text import sort_key
    from govqms.tenancy.services import in_scope_on, subtree_tenants_query

    tenants = list(db.session.scalars(subtree_tenants_query(jurisdiction).where(in_scope_on(on))))
    statuses = evaluate([t.id for t in tenants], on)
    return [(t, statuses[t.id]) for t in sorted(tenants, key=lambda t: sort_key(t.name))]


def status_as_dict(tenant: Tenant, status: Status) -> dict:
    """One agency's status as plain data (``govqms compliance status --json``)."""
    from govqms.compliance.engine import RULE_BASIS, RULE_LABELS

    return {
        "agency": tenant.slug,
        "name": tenant.name,
        "on": status.on.isoformat(),
        "level": str(status.level),
        "rule_set": status.rule_set.key,
        "edition": status.edition,
        "checks": [{
            "rule": check.rule,
            "label": str(RULE_LABELS[check.rule]),
            "basis": str(RULE_BASIS[check.rule]),
            "result": str(check.result),
            "reason": check.reason,
            "due": check.due_on.isoformat() if check.due_on else None,
            "records": [{"kind": kind, "id": record_id} for kind, record_id in check.records],
        } for check in status.checks],
    }


def recent_snapshots(tenant_id: int, days: int = 30) -> list[ComplianceSnapshot]:
    """The agency's last daily snapshots, newest first (its status page's history)."""
    return list(db.session.scalars(select(ComplianceSnapshot).where(ComplianceSnapshot.tenant_id == tenant_id)
                                   .order_by(ComplianceSnapshot.day.desc()).limit(days)))
