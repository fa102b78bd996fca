"""Inspection plans and inspections. Overseers write an agency's inspection record, and the
nonconformities its findings raise, in that agency's write scope for that step only."""
from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from sqlalchemy import select

from govqms.core.tenancy import writing_for
from govqms.documents.services import add_months
from govqms.extensions import db
from govqms.improvement.models import NcSource
from govqms.improvement.services import WorkflowRefused, raise_nonconformity
from govqms.inspections.models import (
    REPORT_WITHIN_MONTHS,
    Inspection,
    InspectionForm,
    InspectionPlan,
    InspectionStatus,
)
from govqms.tenancy.models import Jurisdiction, Tenant, TenantStatus
from govqms.tenancy.services import subtree_tenants_query


def plan_for(jurisdiction: Jurisdiction, year: int) -> InspectionPlan | None:
    return db.session.scalar(select(InspectionPlan).where(InspectionPlan.jurisdiction_id == jurisdiction.id,
                                                          InspectionPlan.year == year))


def create_plan(jurisdiction: Jurisdiction, year: int) -> InspectionPlan:
    """The year's plan with every active agency, on paper until the overseer chooses otherwise
    (every agency is inspected at least on paper each year)."""
    plan = InspectionPlan(jurisdiction_id=jurisdiction.id, year=year)
    db.session.add(plan)
    db.session.flush()
    add_missing_agencies(plan, jurisdiction)
    return plan


def add_missing_agencies(plan: InspectionPlan, jurisdiction: Jurisdiction) -> int:
    present = set(db.session.scalars(select(Inspection.tenant_id).where(Inspection.plan_id == plan.id)))
    missing = [t for t in db.session.scalars(subtree_tenants_query(jurisdiction).where(
        Tenant.status == TenantStatus.ACTIVE).order_by(Tenant.name)) if t.id not in present]
    for tenant in missing:
        with writing_for(tenant.id, db.session):
            db.session.add(Inspection(tenant_id=tenant.id, plan_id=plan.id, form=InspectionForm.PAPER))
            db.session.flush()
    return len(missing)


def on_site_share(inspections: list[Inspection]) -> tuple[int, int, bool]:
    """(on site, total, enough?): at least one third of the agencies are inspected on site."""
    on_site = sum(1 for i in inspections if i.form == InspectionForm.ON_SITE)
    return on_site, len(inspections), on_site * 3 >= len(inspections)


def update(inspection: Inspection, **values) -> Inspection:
    with writing_for(inspection.tenant_id, db.session):
        for key, value in values.items():
            setattr(inspection, key, value)
        db.session.flush()
    return inspection


def sign_minutes(inspection: Inspection, *, minutes_on: dt.date, findings: list[dict]) -> Inspection:
    """The minutes are signed: each finding becomes a nonconformity of the agency, due with its
    corrective-action report two months after the minutes (Art. 39)."""
    if inspection.status != InspectionStatus.PLANNED:
        raise WorkflowRefused(_("the minutes of this inspection are already signed"))
    due = add_months(minutes_on, REPORT_WITHIN_MONTHS)
    with writing_for(inspection.tenant_id, db.session):
        recorded = []
        for finding in findings:
            nc = raise_nonconformity(inspection.tenant_id, source=NcSource.PROVINCIAL_INSPECTION,
                                     found_on=minutes_on, description=finding["description"],
                                     clause=finding.get("clause", ""), due_on=due)
            recorded.append({**finding, "nc_id": nc.id})
        inspection.findings = recorded
        inspection.minutes_on = minutes_on
        inspection.held_on = inspection.held_on or minutes_on
        inspection.report_due_on = due
        inspection.status = InspectionStatus.MINUTES_SIGNED
        db.session.flush()
    return inspection


def receive_report(inspection: Inspection, on: dt.date) -> Inspection:
    if inspection.status not in (InspectionStatus.MINUTES_SIGNED, InspectionStatus.NOT_ACCEPTED):
        raise WorkflowRefused(_("no corrective-action report is awaited for this inspection"))
    return update(inspection, report_received_on=on, report_decided_on=None, status=InspectionStatus.REPORT_RECEIVED)


def decide_report(inspection: Inspection, *, accepted: bool, on: dt.date, note: str) -> Inspection:
    """Accepted, or not: then the agency sends a new report (its effectiveness is checked at the
    next inspection either way)."""
    if inspection.status != InspectionStatus.REPORT_RECEIVED:
        raise WorkflowRefused(_("mark the report received first"))
    return update(inspection, report_decided_on=on, report_note=note,
                  status=InspectionStatus.ACCEPTED if accepted else InspectionStatus.NOT_ACCEPTED)
