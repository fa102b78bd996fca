"""A new agency receives its kind's records catalogue."""
from __future__ import annotations

from sqlalchemy import select

from govqms.documents.models import Document
from govqms.extensions import db
from govqms.records.models import RecordEntry
from govqms.tenancy.models import Tenant, Unit
from govqms.tenancy.sync import tenant_seeder


@tenant_seeder(order=20)
def seed_records(tenant: Tenant, kind: dict) -> None:
    units = {u.code: u.id for u in db.session.scalars(select(Unit).where(Unit.tenant_id == tenant.id))}
    documents = {d.code: d.id for d in db.session.scalars(select(Document).where(Document.tenant_id == tenant.id))}
    for entry in kind.get("records", []):
        db.session.add(RecordEntry(tenant_id=tenant.id, name=entry["name"], retention=entry["retention"],
                                   document_id=documents.get(entry.get("document")),
                                   keeper_unit_id=units.get(entry["kept_by"])))
