"""Demo: three years of monthly service results and satisfaction surveys for the agencies with a
history, with a few months of late dossiers and dissatisfied citizens."""
from __future__ import annotations

from govqms.core.demo import DemoContext, demo_step, noise
from govqms.performance import services
from govqms.performance.periods import Period


@demo_step(30)
def service_results(ctx: DemoContext) -> int:
    added = 0
    for agency in ctx.histories():
        tenant = agency.tenant
        if services.results_of_year(tenant.id, 2023):
            continue
        for year in range(2023, ctx.today.year + 1):
            for month in range(1, 13):
                if (year, month) >= (ctx.today.year, ctx.today.month):
                    break
                value = noise(tenant.slug, year, month)
                received = 60 + value
                late = 2 if value > 92 else (1 if value > 85 else 0)
                pending = value % 7
                early = received // 3
                services.save_result(tenant.id, None, Period.month(year, month), {
                    "received": received, "resolved_early": early, "resolved_late": late, "pending": pending,
                    "resolved_on_time": received - early - late - pending})
                responses = 20 + value % 40
                dissatisfied = 1 if value > 88 else 0
                services.save_survey(tenant.id, None, year, month, {"responses": responses,
                                                                     "satisfied": responses - dissatisfied})
                added += 2
    return added
