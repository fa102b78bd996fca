"""Demo: the overseer's inspection plan of the year in the demo province: a third of the agencies or more
on site, the others on paper, and Health inspected a month ago with findings that became its
nonconformities."""
from __future__ import annotations

import datetime as dt

from govqms.core.demo import DemoContext, acting, demo_step, month_day
from govqms.inspections import services
from govqms.tenancy.services import jurisdiction_by_code


@demo_step(80)
def inspection_plan(ctx: DemoContext) -> int:
    words = ctx.section("inspections")
    today = ctx.today
    province = jurisdiction_by_code(words["province"])
    overseer = ctx.user(words["overseer"])
    if province is None or overseer is None or services.plan_for(province, today.year) is not None:
        return 0
    inspected = words["inspected"]
    with acting(overseer):
        plan = services.create_plan(province, today.year)
        services.approve_plan(plan, decision_number=words["decision_number"],
                              approved_on=month_day(today.year, words["approved_on"]))
        for number, line in enumerate(services.plan_lines(plan, today)):
            inspection, tenant = line.inspection, line.tenant
            start = dt.date(today.year, 3 + number % 8, 10 + number % 15)
            if tenant.slug == inspected["agency"]:  # inspected a month ago, whatever the day the demo is loaded
                start = max(dt.date(today.year, 1, 2), today - dt.timedelta(days=30))
            on_site = tenant.slug in words["on_site"]
            services.update(inspection, form="on_site" if on_site else "paper",
                            inspecting_unit=words["inspecting_unit"], planned_start=start,
                            planned_end=start + dt.timedelta(days=1 if on_site else 0),
                            cost=words["cost"]["on_site" if on_site else "paper"])
            if tenant.slug == inspected["agency"]:
                services.update(inspection, decision_number=inspected["decision_number"],
                                decision_on=start - dt.timedelta(days=14), checklist=inspected["checklist"],
                                conclusion=inspected["conclusion"])
                services.sign_minutes(inspection, minutes_on=min(start + dt.timedelta(days=1), today),
                                      findings=inspected["findings"])
    return 1
