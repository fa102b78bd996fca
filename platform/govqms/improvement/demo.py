"""Demo: the risk register of the agencies with a history, and the corrective actions of the
nonconformities their internal audits found (the older year's closed and verified, the last year's
second one still open, its action overdue)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from govqms.core.demo import DemoContext, acting, demo_step
from govqms.extensions import db
from govqms.improvement import services
from govqms.improvement.models import NcSource, Nonconformity


@demo_step(46)
def risk_register(ctx: DemoContext) -> int:
    words = ctx.section("risks")
    added = 0
    for agency in ctx.histories():
        if services.risk_register(agency.tenant.id):
            continue
        with acting(agency.drafter):
            for row in words["register"]:
                services.save_risk(agency.tenant.id, None, {**row, "treatment": words["treatment"]})
                added += 1
    return added


@demo_step(55)
def corrective_actions(ctx: DemoContext) -> int:
    words = ctx.section("corrections")
    changed = 0
    for agency in ctx.histories():
        drafter, reviewer = agency.drafter, agency.reviewer
        found = db.session.scalars(select(Nonconformity).where(
            Nonconformity.tenant_id == agency.tenant.id, Nonconformity.source == NcSource.INTERNAL_AUDIT)
            .order_by(Nonconformity.found_on, Nonconformity.id)).all()
        first_of_year: set[int] = set()
        for nc in found:
            first = nc.found_on.year not in first_of_year
            first_of_year.add(nc.found_on.year)
            if nc.root_cause:
                continue  # analysed already
            held = nc.found_on
            closed = first or nc.found_on.year < ctx.today.year - 1
            with acting(drafter):
                services.analyse(nc, words["correction"], words["root_cause"])
                action = services.add_action(agency.tenant.id, nonconformity=nc, owner_id=drafter.id,
                                             description=words["action"], due_on=held + dt.timedelta(days=45))
                if closed:
                    services.complete_action(action, words["completion"], on=held + dt.timedelta(days=30))
            if closed:
                with acting(reviewer):
                    services.verify(nc, effective=True, note=words["verification"], user_id=reviewer.id,
                                    on=held + dt.timedelta(days=60))
                    services.close(nc, on=held + dt.timedelta(days=61))
            changed += 1
    return changed
