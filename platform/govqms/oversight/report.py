"""The figures of a jurisdiction's year, for the December report to the Ministry of Science and
Technology (annex II of QĐ 19/2014/QĐ-TTg) and the November inspection summary."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select

from govqms.core.clock import today
from govqms.core.db import vi_order
from govqms.datacalls.models import DataCall, DataCallReply
from govqms.extensions import db
from govqms.inspections.models import Inspection, InspectionForm, InspectionPlan, InspectionStatus
from govqms.oversight import comparison
from govqms.tenancy.models import Jurisdiction, Tenant


@dataclass
class YearFigures:
    year: int
    on: dt.date  # the day the situation is taken: 31/12, or today for the current year
    counts: dict[str, int]
    rows: list[comparison.Row]
    inspections: list[tuple[Inspection, Tenant]] = field(default_factory=list)
    inspection_counts: dict[str, int] = field(default_factory=dict)
    data_calls: dict[str, int] = field(default_factory=dict)


def situation_day(year: int) -> dt.date:
    return min(today(), dt.date(year, 12, 31))


def figures(jurisdiction: Jurisdiction, year: int) -> YearFigures:
    on = situation_day(year)
    rows = comparison.compare(jurisdiction, on)
    counts = comparison.counts(rows, on)
    counts["confirmed_this_year"] = sum(1 for r in rows if r.confirmed_years and year in r.confirmed_years)
    inspections = list(db.session.execute(
        select(Inspection, Tenant).join(Tenant, Tenant.id == Inspection.tenant_id)
        .join(InspectionPlan, InspectionPlan.id == Inspection.plan_id)
        .where(InspectionPlan.jurisdiction_id == jurisdiction.id, InspectionPlan.year == year)
        .order_by(vi_order(Tenant.name))))
    done = [i for i, _t in inspections if i.minutes_on is not None]
    inspection_counts = {
        "planned": len(inspections),
        "planned_on_site": sum(1 for i, _t in inspections if i.form == InspectionForm.ON_SITE),
        "inspected_on_paper": sum(1 for i in done if i.form == InspectionForm.PAPER),
        "inspected_on_site": sum(1 for i in done if i.form == InspectionForm.ON_SITE),
        "findings": sum(len(i.findings) for i in done),
        "reports_received": sum(1 for i in done if i.report_received_on is not None),
        "reports_accepted": sum(1 for i in done if i.status == InspectionStatus.ACCEPTED),
        "cost": sum(i.cost for i, _t in inspections),
    }
    calls = {"sent": 0, "replies": 0, "on_time": 0, "late": 0, "missing": 0}
    call_ids = set()
    for slot, call in db.session.execute(
            select(DataCallReply, DataCall).join(DataCall, DataCall.id == DataCallReply.call_id)
            .where(DataCall.jurisdiction_id == jurisdiction.id, DataCall.archived_at.is_(None),
                   DataCall.sent_on.between(dt.date(year, 1, 1), dt.date(year, 12, 31)))):
        call_ids.add(call.id)
        calls["replies"] += 1
        state = slot.state(call.deadline, on)
        if state in ("on_time", "late", "missing"):
            calls[state] += 1
    calls["sent"] = len(call_ids)
    return YearFigures(year, on, counts, rows, inspections, inspection_counts, calls)
