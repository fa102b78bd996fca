"""A new agency gets its kind's starter set of documents and records."""
from __future__ import annotations

from sqlalchemy import func, select


def test_new_agency_gets_its_kinds_starter_set(app, world, system_scope):
    from govqms.documents.models import Document
    from govqms.extensions import db
    from govqms.records.models import RecordEntry
    from govqms.tenancy import provisioning, sync
    from govqms.tenancy.manifests import load_kinds
    from govqms.tenancy.models import Tenant
    from tests.tenancy.test_manifests import GOOD

    sync.apply(provisioning.plan_texts([("t.yaml", GOOD)]), invite=False)
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == "tt-so-khcn"))
    template = load_kinds()["science_technology"]
    documents = db.session.scalars(select(Document).where(Document.tenant_id == tenant.id)).all()
    assert {d.code for d in documents} == {d["code"] for d in template["documents"]}
    assert all(d.status == "draft" and len(d.revisions) == 1 for d in documents)
    records = db.session.scalar(select(func.count()).select_from(RecordEntry).where(RecordEntry.tenant_id == tenant.id))
    assert records == len(template["records"])
