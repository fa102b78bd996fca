"""The overseer's words in a report, and a real context to try a replaced template with."""
from __future__ import annotations

from sqlalchemy import select

from govqms.extensions import db
from govqms.reports.documents import INSPECTION_KINDS, context_for, report_text
from govqms.reports.models import NARRATIVE_FIELDS, ReportText
from govqms.tenancy.models import Jurisdiction


def save_report_text(jurisdiction: Jurisdiction, year: int, kind: str, data: dict) -> ReportText:
    text = report_text(jurisdiction, year, kind)
    if text is None:
        text = ReportText(jurisdiction_id=jurisdiction.id, year=year, kind=kind)
        db.session.add(text)
    text.number = data.get("number", "")
    for field in NARRATIVE_FIELDS:
        setattr(text, field, data.get(field, ""))
    db.session.flush()
    return text


def sample_context(jurisdiction: Jurisdiction, kind: str, year: int) -> dict | None:
    """A real context to try a template with: this year's for a year's document, the latest
    inspection's for one inspection's; None when the jurisdiction has nothing to render yet."""
    from govqms.inspections.models import Inspection, InspectionPlan

    try:
        if kind in INSPECTION_KINDS:
            inspection_id = db.session.scalar(
                select(Inspection.id).join(InspectionPlan, InspectionPlan.id == Inspection.plan_id)
                .where(InspectionPlan.jurisdiction_id == jurisdiction.id).order_by(Inspection.id.desc()).limit(1))
            return context_for(jurisdiction, kind, inspection_id=inspection_id) if inspection_id else None
        return context_for(jurisdiction, kind, year=year)
    except LookupError:
        return None


