"""Demo: the administrative procedures of the agencies with a history, each covered by its work
procedure, and one the QMS does not cover yet (the catalogue shows the gap)."""
from __future__ import annotations

from govqms.core.demo import DemoContext, demo_step
from govqms.documents import services as documents
from govqms.documents.models import DocumentKind
from govqms.extensions import db
from govqms.procedures import services
from govqms.procedures.models import AdminProcedure


@demo_step(20)
def catalogue(ctx: DemoContext) -> int:
    words = ctx.section("procedures")
    added = 0
    for agency in ctx.histories():
        tenant = agency.tenant
        if db.session.scalars(services.list_query(tenant.id, None, None, False, False).limit(1)).first():
            continue
        work = db.session.scalars(documents.register_query(tenant.id, kind=DocumentKind.WORK_PROCEDURE)).all()
        for index, document in enumerate(work):
            name = document.title.removeprefix(words["title_prefix"]).strip()
            services.save(AdminProcedure(tenant_id=tenant.id), code=f"1.{tenant.id:03}{index:03}",
                          name=name[:1].upper() + name[1:], field="", work_procedure_id=document.id)
        services.save(AdminProcedure(tenant_id=tenant.id), code=f"1.{tenant.id:03}999", name=words["uncovered"],
                      field="", work_procedure_id=None)
        added += len(work) + 1
    return added
