"""A new agency receives its kind's starter documents, as drafts for its ISO secretary to finish."""
from __future__ import annotations

from sqlalchemy import select

from govqms.documents.services import create_document
from govqms.extensions import db
from govqms.tenancy.models import Tenant, Unit
from govqms.tenancy.sync import tenant_seeder


@tenant_seeder(order=10)
def seed_documents(tenant: Tenant, kind: dict) -> None:
    units = {u.code: u.id for u in db.session.scalars(select(Unit).where(Unit.tenant_id == tenant.id))}
    for entry in kind.get("documents", []):
        create_document(tenant.id, code=entry["code"], title=entry["title"], kind=entry["type"],
                        owner_unit_id=units.get(entry.get("unit")), review_interval_months=12, drafter_id=None)
