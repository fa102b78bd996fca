"""Inspections on the timeline and in the calendar feeds."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select

from govqms.calendars.schedule import Event, source
from govqms.extensions import db
from govqms.inspections.models import FORM_LABELS, Inspection


@source("inspection", _l("Inspection"))
def _inspections(ids, start, end):
    for inspection in db.session.scalars(select(Inspection).where(
            Inspection.tenant_id.in_(ids), Inspection.planned_start.is_not(None),
            and_(Inspection.planned_start <= end, or_(Inspection.planned_end >= start,
                                                       Inspection.planned_start >= start)))):
        yield Event("inspection", inspection.planned_start, inspection.tenant_id,
                    str(_l("Inspection (%(form)s)", form=FORM_LABELS.get(inspection.form, inspection.form))),
                    f"inspection-{inspection.id}", inspection.planned_end,
                    ("agency_inspections.index_for_agency", {}), detail=inspection.inspecting_unit)


@source("inspection_report", _l("Corrective-action report due after an inspection"))
def _reports(ids, start, end):
    for inspection in db.session.scalars(select(Inspection).where(
            Inspection.tenant_id.in_(ids), Inspection.report_due_on.between(start, end))):
        yield Event("inspection_report", inspection.report_due_on, inspection.tenant_id,
                    str(_l("Corrective-action report to the inspecting body")),
                    f"inspection-report-{inspection.id}", link=("agency_inspections.index_for_agency", {}))
