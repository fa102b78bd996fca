from __future__ import annotations

from io import BytesIO

from docx import Document as Docx
from flask_babel import force_locale, gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from govqms.extensions import db
from govqms.improvement.models import DECISION_LABELS, Action
from govqms.jobs.services import task
from govqms.reviews.models import ManagementReview
from govqms.reviews.summary import section_lines, section_titles
from govqms.tenancy.models import Tenant

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@task("reviews.minutes_docx")
def minutes_docx(job, tenant_id: int, review_id: int, locale: str = "vi") -> None:
    """Minutes of the management review (biên bản họp xem xét của lãnh đạo) as DOCX."""
    review = db.session.scalar(select(ManagementReview).where(ManagementReview.id == review_id,
                                                              ManagementReview.tenant_id == tenant_id))
    tenant = db.session.get(Tenant, tenant_id)
    decisions = db.session.scalars(select(Action).where(Action.tenant_id == tenant_id, Action.review_id == review.id)
                                   .options(selectinload(Action.owner)).order_by(Action.id)).all()
    doc = Docx()
    with force_locale(locale):
        doc.add_paragraph(tenant.name.upper())
        doc.add_heading(_("Minutes of the management review %(year)s", year=review.year), level=1)
        doc.add_paragraph(_("Date: %(date)s", date=review.meeting_on.strftime("%d/%m/%Y")))
        doc.add_paragraph(_("Chair: %(name)s", name=review.chair))
        doc.add_paragraph(_("Attendees: %(names)s", names=review.attendees))
        doc.add_heading(_("I. Inputs"), level=2)
        titles = section_titles()
        for number, section in enumerate(section_lines(review.inputs), start=1):
            key, lines = section
            doc.add_heading(f"{number}. {titles[key]}", level=3)
            for line in lines:
                doc.add_paragraph(line, style="List Bullet")
            note = review.notes.get(key)
            if note:
                doc.add_paragraph(_("Discussion: %(note)s", note=note))
        doc.add_heading(_("II. Decisions"), level=2)
        table = doc.add_table(rows=1, cols=4)
        table.style = "Table Grid"
        for cell, title in zip(table.rows[0].cells, (_("Category"), _("Decision"), _("Responsible"), _("Due date")),
                               strict=True):
            cell.text = title
        for action in decisions:
            row = table.add_row().cells
            row[0].text = str(DECISION_LABELS.get(action.category, ""))
            row[1].text, row[2].text = action.description, action.owner.name if action.owner else ""
            row[3].text = action.due_on.strftime("%d/%m/%Y")
        doc.add_heading(_("III. Conclusion"), level=2)
        doc.add_paragraph(review.conclusion or "")
        if review.effectiveness_confirmed:
            doc.add_paragraph(_("The head of the agency confirms that the quality management system was effective "
                                "in %(year)s (%(date)s).", year=review.year,
                                date=review.confirmed_on.strftime("%d/%m/%Y")))
    out = BytesIO()
    doc.save(out)
    job.set_result(out.getvalue(), f"bien-ban-xem-xet-lanh-dao-{review.year}.docx", DOCX)
