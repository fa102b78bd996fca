"""Demo: the legal changes of the last years for the agencies with a history, each touching their first
two work procedures, one not yet reflected in the QMS."""
from __future__ import annotations

from govqms.core.demo import DemoContext, demo_step
from govqms.documents import services as documents
from govqms.documents.models import DocumentKind
from govqms.extensions import db
from govqms.legal import services
from govqms.legal.models import LegalChange


@demo_step(25)
def legal_changes(ctx: DemoContext) -> int:
    changes = ctx.content.get("legal_changes") or []
    added = 0
    for agency in ctx.histories():
        tenant = agency.tenant
        if db.session.scalars(services.list_query(tenant.id).limit(1)).first():
            continue
        work = db.session.scalars(documents.register_query(tenant.id, kind=DocumentKind.WORK_PROCEDURE).limit(2))
        affected = [document.id for document in work]
        for change in changes:
            services.save(LegalChange(tenant_id=tenant.id), affected, number=change["number"], title=change["title"],
                          effective_on=change["effective_on"], qms_updated_on=change["qms_updated_on"])
        added += len(changes)
    return added
