"""Demo: in the agencies with a history, the secretary and the management representative are trained
internal auditors, and everyone of the three has a home unit (so audit teams can be checked)."""
from __future__ import annotations

from govqms.competence import services
from govqms.core.demo import DemoContext, demo_step
from govqms.tenancy.services import active_units


@demo_step(45)
def internal_auditors(ctx: DemoContext) -> int:
    words = ctx.section("competence")
    added = 0
    for agency in ctx.histories():
        tenant = agency.tenant
        if services.qualified_auditors(tenant.id):
            continue
        units = active_units(tenant.id)
        home = units[0]
        for person, unit in ((agency.drafter, home), (agency.reviewer, units[-1]), (agency.approver, home)):
            services.save_profile(tenant.id, person.id, unit.id, "")
        for person in (agency.drafter, agency.reviewer):
            services.add_qualification(tenant.id, user_id=person.id, kind="internal_auditor",
                                       course=words["internal_auditor_course"], completed_on=words["completed_on"],
                                       certificate=f"{words['certificate_prefix']}-{person.id:04d}")
        added += 2
    return added
