from __future__ import annotations

from io import BytesIO

from docx import Document as Docx
from flask_babel import force_locale, gettext as _
from sqlalchemy import select

from govqms.audits.clauses import clause_title
from govqms.audits.models import FINDING_LABELS, Audit
from govqms.conformity.services import edition_applied
from govqms.extensions import db
from govqms.jobs.services import task
from govqms.tenancy.models import Tenant, Unit

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _date(value):
    return value.strftime("%d/%m/%Y") if value else ""


@task("audits.report_docx")
def report_docx(job, tenant_id: int, audit_id: int, locale: str = "vi") -> None:
    """The internal audit report (báo cáo đánh giá nội bộ) as DOCX."""
    audit = db.session.scalar(select(Audit).where(Audit.id == audit_id, Audit.tenant_id == tenant_id))
    tenant = db.session.get(Tenant, tenant_id)
    units = {u.id: u.name for u in db.session.scalars(select(Unit).where(Unit.tenant_id == tenant_id))}
    edition = edition_applied(tenant_id, audit.planned_start)
    doc = Docx()
    with force_locale(locale):
        doc.add_paragraph(tenant.name.upper())
        doc.add_heading(_("Internal audit report"), level=1)
        doc.add_paragraph(audit.title)
        doc.add_paragraph(_("Audit dates: %(start)s – %(end)s", start=_date(audit.actual_start or audit.planned_start),
                            end=_date(audit.actual_end or audit.planned_end)))
        doc.add_paragraph(_("Standard: TCVN ISO 9001:%(edition)s", edition=edition))
        doc.add_paragraph(_("Units audited: %(units)s", units=", ".join(units.get(u, "") for u in audit.unit_ids)))
        doc.add_paragraph(_("Lead auditor: %(name)s", name=audit.lead_auditor.name if audit.lead_auditor else ""))
        doc.add_heading(_("Findings"), level=2)
        table = doc.add_table(rows=1, cols=5)
        table.style = "Table Grid"
        titles = (_("Row no."), _("Kind of finding"), _("Clause"), _("Unit"), _("Finding"))
        for cell, title in zip(table.rows[0].cells, titles, strict=True):
            cell.text = title
        for number, finding in enumerate(audit.findings, start=1):
            row = table.add_row().cells
            clause = f"{finding.clause} {clause_title(edition, finding.clause, locale)}".strip()
            row[0].text, row[1].text, row[2].text = str(number), str(FINDING_LABELS[finding.type]), clause
            row[3].text = units.get(finding.unit_id, "")
            row[4].text = finding.description + (f"\n{finding.evidence}" if finding.evidence else "")
        doc.add_heading(_("Checklist"), level=2)
        for item in audit.checklist:
            doc.add_paragraph(f"{item.question}: {item.result}" if item.result else item.question,
                              style="List Bullet")
        doc.add_heading(_("Conclusion"), level=2)
        doc.add_paragraph(audit.conclusion or "")
    out = BytesIO()
    doc.save(out)
    job.set_result(out.getvalue(), f"bao-cao-danh-gia-noi-bo-{audit.id}.docx", DOCX)
