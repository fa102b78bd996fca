"""Merging an agency into its successor, and undoing it while that is still safe.

After a merge the source is read-only history: its records stay its own and are readable
from the successor's workspace; its members move to the successor. An operator may undo a
merge until records have been added to the successor after it.
"""
from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select

from govqms.core import activity
from govqms.core.activity import ActivityEntry, current_actor
from govqms.core.db import Base, utcnow
from govqms.core.errors import Refused
from govqms.core.tenancy import TenantScoped
from govqms.extensions import db
from govqms.tenancy.models import Membership, Tenant, TenantMerge, TenantStatus


class MergeRefused(Refused):
    """The merge (or its reversal) would break the lineage; the message says why."""


def _ancestors_of(tenant: Tenant) -> set[int]:
    seen, current = set(), tenant
    while current is not None and current.id not in seen:
        seen.add(current.id)
        current = current.merged_into
    return seen


def merge_tenant(source: Tenant, successor: Tenant, on: dt.date) -> TenantMerge:
    if source.id == successor.id:
        raise MergeRefused(_l("An agency cannot be merged into itself."))
    if source.status != TenantStatus.ACTIVE:
        raise MergeRefused(_l("%(name)s is not active (already merged or archived).", name=source.name))
    if successor.status != TenantStatus.ACTIVE:
        raise MergeRefused(_l("%(name)s is not active: merge into its own successor instead.", name=successor.name))
    if source.id in _ancestors_of(successor):
        raise MergeRefused(_l("This merge would make a cycle."))
    moved = []
    for membership in db.session.scalars(select(Membership).where(Membership.tenant_id == source.id)).all():
        already = db.session.scalar(select(Membership).where(
            Membership.tenant_id == successor.id, Membership.user_id == membership.user_id,
            Membership.role == membership.role))
        if already is None:
            db.session.add(Membership(user_id=membership.user_id, tenant_id=successor.id, role=membership.role))
        moved.append({"user_id": membership.user_id, "role": membership.role, "created": already is None})
        db.session.delete(membership)
    source.status, source.merged_into, source.merged_on = TenantStatus.MERGED, successor, on
    activity.label(source, "merge", note=f"→ {successor.slug} ({on.isoformat()})")
    record = TenantMerge(source_id=source.id, successor_id=successor.id, merged_on=on, performed_at=utcnow(),
                         performed_by_id=current_actor().user_id, moved_members=moved)
    db.session.add(record)
    db.session.flush()
    return record


def _tenant_tables() -> list[str]:
    return sorted({m.local_table.name for m in Base.registry.mappers if issubclass(m.class_, TenantScoped)})


def records_added_since(merge: TenantMerge) -> bool:
    """Has anyone created tenant records in the successor since the merge?"""
    return bool(db.session.scalar(select(exists().where(
        ActivityEntry.tenant_id == merge.successor_id,
        ActivityEntry.action == "create",
        ActivityEntry.entity.in_(_tenant_tables()),
        ActivityEntry.at > merge.performed_at,
    ))))


def unmerge_refusal(merge: TenantMerge) -> str | None:
    if merge.reverted_at is not None:
        return str(_l("This merge has already been undone."))
    if merge.source.merged_into_id != merge.successor_id:
        return str(_l("The agency's lineage changed since this merge."))
    if records_added_since(merge):
        return str(_l("Records have been added to %(name)s since the merge: it can no longer be undone.",
                      name=merge.successor.name))
    return None


def unmerge(merge: TenantMerge) -> None:
    refusal = unmerge_refusal(merge)
    if refusal:
        raise MergeRefused(refusal)
    source, successor = merge.source, merge.successor
    for moved in merge.moved_members:
        if moved["created"]:
            membership = db.session.scalar(select(Membership).where(
                Membership.tenant_id == successor.id, Membership.user_id == moved["user_id"],
                Membership.role == moved["role"]))
            if membership is not None:
                db.session.delete(membership)
        db.session.add(Membership(user_id=moved["user_id"], tenant_id=source.id, role=moved["role"]))
    source.status, source.merged_into, source.merged_on = TenantStatus.ACTIVE, None, None
    activity.label(source, "unmerge", note=f"← {successor.slug}")
    merge.reverted_at, merge.reverted_by_id = utcnow(), current_actor().user_id
    db.session.flush()


def latest_merge_of(source: Tenant) -> TenantMerge | None:
    return db.session.scalar(select(TenantMerge).where(TenantMerge.source_id == source.id,
                                                       TenantMerge.reverted_at.is_(None))
                             .order_by(TenantMerge.performed_at.desc()))
