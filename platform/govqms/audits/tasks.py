from __future__ import annotations

from flask_babel import force_locale, gettext as _
from sqlalchemy import select

from govqms.core.clock import today
from govqms.core.text import sort_key
from govqms.extensions import db
from govqms.jobs.services import task
from govqms.official.issuing import LANGUAGE, agency_context, paragraphs_of, produce_for_agency
from govqms.tenancy.models import Tenant


def report_context(tenant: Tenant, audit_id: int) -> dict:
    """What the internal audit report says: the audit, its findings (kinds and clauses in Vietnamese,
    the language of the document) and its checklist."""
    from govqms.accounts.models import User
    from govqms.audits.clauses import clause_title
    from govqms.audits.models import FINDING_LABELS, Audit
    from govqms.conformity.services import edition_applied
    from govqms.tenancy.models import Unit

    audit = db.session.scalar(select(Audit).where(Audit.id == audit_id, Audit.tenant_id == tenant.id))
    units = {u.id: u.name for u in db.session.scalars(select(Unit).where(Unit.tenant_id == tenant.id))}
    edition = edition_applied(tenant.id, audit.planned_start)
    end = audit.actual_end or audit.planned_end
    context = agency_context(tenant, "audit-report", end if end and end <= today() else today())
    team = sorted(db.session.scalars(select(User.name).where(User.id.in_(audit.team_ids))), key=sort_key) \
        if audit.team_ids else []
    with force_locale(LANGUAGE):
        findings = [{"stt": stt, "kind": str(FINDING_LABELS[f.type]),
                     "clause": f"{f.clause} {clause_title(edition, f.clause, LANGUAGE)}".strip(),
                     "unit": units.get(f.unit_id, ""),
                     "description": f.description + (f" ({f.evidence})" if f.evidence else "")}
                    for stt, f in enumerate(audit.findings, start=1)]
    context.update(
        audit={"title": audit.title, "edition": edition, "start": audit.actual_start or audit.planned_start,
               "end": end, "units": ", ".join(sorted((units.get(u, "") for u in audit.unit_ids), key=sort_key)),
               "lead": audit.lead_auditor.name if audit.lead_auditor else "", "team": ", ".join(team)},
        findings=findings, year=audit.year,
        checklist=[f"- {item.question}" + (f": {item.result}" if item.result else "") for item in audit.checklist]
        or [context["empty"]],
        conclusion=paragraphs_of(audit.conclusion, context["empty"]))
    return context


@task("audits.report_docx")
def report_docx(job, tenant_id: int, audit_id: int, locale: str = "vi") -> None:
    """The internal audit report (báo cáo đánh giá nội bộ) as DOCX, in the administrative format of
    ND 30/2020 (:mod:`govqms.official`)."""
    with force_locale(locale):
        job.progress(1, 2, _("Writing the document"))
    tenant = db.session.get(Tenant, tenant_id)
    document = produce_for_agency(tenant, "audit-report", audit_id, report_context(tenant, audit_id))
    job.set_result(document.data, document.file_name, document.mimetype)
