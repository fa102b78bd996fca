"""Inspection plans and inspections. Overseers write an agency's inspection record, and the
nonconformities its findings raise, in that agency's write scope for that step only."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from govqms.core import activity
from govqms.core.clock import add_months
from govqms.core.db import vi_order
from govqms.core.i18n import format_date
from govqms.core.tenancy import writing_for
from govqms.core.uploads import CheckedFile
from govqms.extensions import db
from govqms.improvement.models import NcSource
from govqms.improvement.services import ImprovementRefused, raise_nonconformity
from govqms.inspections.models import (
    REPORT_WITHIN_MONTHS,
    Inspection,
    InspectionForm,
    InspectionPlan,
    InspectionStatus,
)
from govqms.signatures.models import SignatureCheck
from govqms.signatures.services import attach_signed_pdf, digest_of, request_check
from govqms.tenancy.models import Jurisdiction, Tenant, TenantStatus
from govqms.tenancy.services import active_below_query
from govqms.webhooks.services import emit


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


def approve_plan(plan: InspectionPlan, *, decision_number: str, approved_on: dt.date | None) -> InspectionPlan:
    """The decision that approves the plan (its number and date)."""
    plan.decision_number, plan.approved_on = decision_number, approved_on
    db.session.flush()
    return plan


def plan_size(plan: InspectionPlan) -> int:
    """How many agencies the plan lists."""
    return db.session.scalar(select(func.count()).select_from(Inspection).where(Inspection.plan_id == plan.id))


def missing_from_plan(plan: InspectionPlan, jurisdiction: Jurisdiction) -> list[Tenant]:
    """The active agencies below *jurisdiction* the plan does not list yet (established since it was
    made, say), by name."""
    in_plan = select(Inspection.tenant_id).where(Inspection.plan_id == plan.id)
    return list(db.session.scalars(active_below_query(jurisdiction).where(Tenant.id.not_in(in_plan))))


def add_missing_agencies(plan: InspectionPlan, jurisdiction: Jurisdiction) -> int:
    missing = missing_from_plan(plan, jurisdiction)
    for tenant in missing:
        with writing_for(tenant.id, db.session):
            db.session.add(Inspection(tenant_id=tenant.id, plan_id=plan.id, form=InspectionForm.PAPER))
            db.session.flush()
    return len(missing)


def inspection_in_reach(jurisdiction: Jurisdiction, inspection_id: int
                        ) -> tuple[Inspection, Tenant, InspectionPlan] | None:
    """An inspection of one of *jurisdiction*'s plans, with its agency and its plan; None for an
    inspection of another jurisdiction's plan (even of an agency below this one)."""
    return db.session.execute(
        select(Inspection, Tenant, InspectionPlan).join(Tenant, Tenant.id == Inspection.tenant_id)
        .join(InspectionPlan, InspectionPlan.id == Inspection.plan_id)
        .where(Inspection.id == inspection_id, InspectionPlan.jurisdiction_id == jurisdiction.id)).first()


def inspections_of(tenant_id: int) -> list[tuple[Inspection, InspectionPlan]]:
    """The agency's inspections with their plans, latest year first."""
    return list(db.session.execute(
        select(Inspection, InspectionPlan).join(InspectionPlan, InspectionPlan.id == Inspection.plan_id)
        .where(Inspection.tenant_id == tenant_id).order_by(InspectionPlan.year.desc())))


def not_yet_recorded(inspection: Inspection, on: dt.date) -> bool:
    """Still planned though its planned time is over (its last planned day, or its first when no
    end is set, is before *on*): the inspection was not held, or its minutes were not recorded."""
    last_day = inspection.planned_end or inspection.planned_start
    return inspection.status == InspectionStatus.PLANNED and last_day is not None and last_day < on


def drop_refusal(inspection: Inspection, tenant: Tenant, plan: InspectionPlan) -> str | None:
    """Why this line cannot leave the plan, or None. Only an agency merged by the end of the
    plan's year whose inspection was never held leaves it: a held inspection stays, and so does
    the line of an agency merged later (that year's inspection was still due)."""
    if inspection.minutes_on is not None or inspection.status != InspectionStatus.PLANNED:
        return _("the inspection was held: it stays in the plan")
    if tenant.status != TenantStatus.MERGED or tenant.merged_on is None:
        return _("%(name)s has not been merged: every agency is inspected each year", name=tenant.name)
    if tenant.merged_on > dt.date(plan.year, 12, 31):
        return _("%(name)s was merged after %(year)s: its inspection that year was still due",
                 name=tenant.name, year=plan.year)
    return None


@dataclass(frozen=True)
class PlanLine:
    """One agency's line in a plan, with what the plan page says about it."""

    inspection: Inspection
    tenant: Tenant
    successor: Tenant | None  # the agency it was merged into
    not_yet_recorded: bool
    droppable: bool


def plan_lines(plan: InspectionPlan, on: dt.date) -> list[PlanLine]:
    """The plan's lines by agency name, in one query whatever the number of agencies."""
    successor = aliased(Tenant)
    rows = db.session.execute(
        select(Inspection, Tenant, successor).join(Tenant, Tenant.id == Inspection.tenant_id)
        .outerjoin(successor, successor.id == Tenant.merged_into_id)
        .where(Inspection.plan_id == plan.id).order_by(vi_order(Tenant.name)))
    return [PlanLine(inspection, tenant, merged_into, not_yet_recorded(inspection, on),
                     drop_refusal(inspection, tenant, plan) is None)
            for inspection, tenant, merged_into in rows]


def drop_merged_agency(inspection: Inspection) -> None:
    """Take a merged agency's never-held inspection out of its plan.

    The line is deleted, not archived: it is a plan entry with nothing recorded, the plan's
    figures and the provincial report count every line of the plan, and the agency's activity
    log keeps the whole line with the reason."""
    tenant = db.session.get(Tenant, inspection.tenant_id)
    plan = db.session.get(InspectionPlan, inspection.plan_id)
    refusal = drop_refusal(inspection, tenant, plan)
    if refusal:
        raise ImprovementRefused(refusal)
    successor = db.session.get(Tenant, tenant.merged_into_id)
    with writing_for(inspection.tenant_id, db.session):
        activity.label(inspection, "delete", note=_(
            "Dropped from the %(year)s inspection plan: merged into %(name)s on %(date)s.",
            year=plan.year, name=successor.name, date=format_date(tenant.merged_on)))
        db.session.delete(inspection)
        db.session.flush()


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


def replan(inspection: Inspection, **values) -> Inspection:
    """Change how the inspection is planned (its form, unit, dates, cost, decision): only before
    its minutes are signed."""
    if inspection.status != InspectionStatus.PLANNED:
        raise ImprovementRefused(_("the minutes are signed; the plan of this inspection is fixed"))
    return update(inspection, **values)


def sign_minutes(inspection: Inspection, *, minutes_on: dt.date, findings: list[dict]) -> Inspection:
    """The minutes are signed: each finding becomes a nonconformity of the agency, due with its
    corrective-action report two months after the minutes (Art. 39)."""
    if inspection.status != InspectionStatus.PLANNED:
        raise ImprovementRefused(_("the minutes of this inspection are already signed"))
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
    emit("inspection.minutes_signed", tenant_id=inspection.tenant_id, data=lambda links: {"inspection": {
        "id": inspection.id, "form": inspection.form, "minutes_on": minutes_on.isoformat(),
        "report_due_on": due.isoformat(), "nonconformities": [f["nc_id"] for f in recorded],
        "url": links.agency("agency_inspections.index_for_agency")}})
    return inspection


def receive_report(inspection: Inspection, on: dt.date) -> Inspection:
    if inspection.status not in (InspectionStatus.MINUTES_SIGNED, InspectionStatus.NOT_ACCEPTED):
        raise ImprovementRefused(_("no corrective-action report is awaited for this inspection"))
    return update(inspection, report_received_on=on, report_decided_on=None, status=InspectionStatus.REPORT_RECEIVED)


def decide_report(inspection: Inspection, *, accepted: bool, on: dt.date, note: str) -> Inspection:
    """Accepted, or not: then the agency sends a new report (its effectiveness is checked at the
    next inspection either way)."""
    if inspection.status != InspectionStatus.REPORT_RECEIVED:
        raise ImprovementRefused(_("mark the report received first"))
    return update(inspection, report_decided_on=on, report_note=note,
                  status=InspectionStatus.ACCEPTED if accepted else InspectionStatus.NOT_ACCEPTED)


def attach_signed_minutes(inspection: Inspection, file: CheckedFile) -> Inspection:
    """The minutes (Mẫu 21 BBKT) as both sides signed them digitally, uploaded by the overseer into the
    agency's file (replacing any uploaded before): kept in the agency's storage, their signatures verified
    (commits, with the job that verifies them)."""
    if inspection.minutes_on is None:
        raise ImprovementRefused(_("record the signed minutes first, then upload their signed PDF"))
    with writing_for(inspection.tenant_id, db.session):
        attach_signed_pdf(inspection, file)
    return inspection


def check_signed_minutes_again(inspection: Inspection) -> SignatureCheck:
    """Verify the signed minutes' signatures again (after the trust anchors changed), in the agency's file."""
    digest = digest_of(inspection.signed_minutes_key)
    if digest is None:
        raise ImprovementRefused(_("no signed minutes have been uploaded"))
    with writing_for(inspection.tenant_id, db.session):
        return request_check(inspection.tenant_id, digest, again=True)
