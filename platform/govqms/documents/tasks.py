from __future__ import annotations

from io import BytesIO

from flask_babel import force_locale, gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from govqms.core.exports import append_row
from govqms.documents import services
from govqms.documents.models import DOCUMENT_STATUS_LABELS, KIND_LABELS, Document
from govqms.extensions import db
from govqms.jobs.services import task

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _date(value):
    return value.strftime("%d/%m/%Y") if value else ""


@task("documents.export_register")
def export_register(job, tenant_id: int, q=None, kind=None, unit_id=None, status=None, review_overdue=False,
                    sort="code", locale: str = "vi") -> None:
    """The document register as an XLSX workbook, with the filters the user had set."""
    query = services.register_query(tenant_id, q=q, kind=kind, unit_id=unit_id, status=status,
                                    review_overdue=review_overdue, sort=sort)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    book = Workbook()
    sheet = book.active
    with force_locale(locale):
        sheet.title = _("Document register")[:31]
        sheet.append([_("Code"), _("Title"), _("Document kind"), _("Owning unit"), _("Status"), _("Revision"),
                      _("Effective on"), _("Next review"), _("Review interval (months)")])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        done = 0
        for document in db.session.scalars(query.options(selectinload(Document.owner_unit),
                                                         selectinload(Document.revisions))):
            current = services.current_revision(document)
            append_row(sheet, [document.code, document.title, str(KIND_LABELS.get(document.kind, document.kind)),
                               document.owner_unit.name if document.owner_unit else "",
                               str(DOCUMENT_STATUS_LABELS.get(document.status, document.status)),
                               current.number if current else "", _date(document.effective_on),
                               _date(document.next_review_on), document.review_interval_months])
            done += 1
            if done % 200 == 0:
                job.progress(done, total)
    for column, width in zip("ABCDEFGHI", (12, 60, 24, 30, 16, 10, 14, 14, 12), strict=True):
        sheet.column_dimensions[column].width = width
    out = BytesIO()
    book.save(out)
    job.set_result(out.getvalue(), "so-dang-ky-tai-lieu.xlsx" if locale == "vi" else "document-register.xlsx", XLSX)


@task("documents.activate_due", read_only=False)
def activate_due(job, tenant_id: int) -> None:
    """Approved revisions whose effective date has come take effect."""
    services.activate_due(tenant_id)
