"""What inspections remind overseers of: corrective-action reports awaited from inspected agencies."""
from __future__ import annotations

from sqlalchemy import select

from govqms.extensions import db
from govqms.inspections.models import Inspection, InspectionPlan
from govqms.notifications.reminders import Due, due_source
from govqms.tenancy.models import Jurisdiction


@due_source("inspection_report")
def _inspection_reports(ids, today, until):
    """The overseer waits for each inspected agency's corrective-action report (2 months)."""
    for inspection, plan, code in db.session.execute(
            select(Inspection, InspectionPlan, Jurisdiction.code)
            .join(InspectionPlan, InspectionPlan.id == Inspection.plan_id)
            .join(Jurisdiction, Jurisdiction.id == InspectionPlan.jurisdiction_id)
            .where(Inspection.tenant_id.in_(ids), Inspection.report_due_on.is_not(None),
                   Inspection.report_received_on.is_(None), Inspection.report_due_on <= until)):
        yield Due("inspection_report", f"inspection-report:{inspection.id}:{inspection.report_due_on.isoformat()}",
                  inspection.tenant_id, inspection.report_due_on, {"title": plan.year},
                  ("inspections.detail", {"inspection_id": inspection.id, "jurisdiction_code": code}),
                  overseen_by=plan.jurisdiction_id)
