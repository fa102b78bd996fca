"""Demo: the quality policy, and three years of the objectives of the agencies with a history (the
starter objectives copied back two years), measured period by period and evaluated."""
from __future__ import annotations

from govqms.core.demo import DemoContext, acting, demo_step, noise
from govqms.objectives import rules, services
from govqms.objectives.models import Objective

COPIED = ("statement", "indicator", "comparator", "target", "unit_of_measure", "frequency", "source", "plan")


@demo_step(35)
def quality_policy(ctx: DemoContext) -> int:
    words = ctx.section("quality_policy")
    added = 0
    for agency in ctx.histories():
        if services.policy_versions(agency.tenant.id):
            continue
        with acting(agency.approver):
            services.issue_policy(agency.tenant.id, issued_on=words["issued_on"], issued_by=agency.approver.name,
                                  decision_number=words["decision_number"], posted=True, text=words["text"])
        added += 1
    return added


def _value(objective: Objective, *parts) -> float:
    """The target, missed now and then (by a whole one)."""
    value = objective.target
    if noise(*parts) > 80:
        if objective.comparator == ">=":
            value = objective.target * 0.9 if objective.target >= 10 else objective.target - 1
        else:
            value = objective.target + 1
    return round(value, 1)


@demo_step(40)
def objective_history(ctx: DemoContext) -> int:
    today, added = ctx.today, 0
    for agency in ctx.histories():
        tenant, owner = agency.tenant, agency.drafter
        current = services.objectives_of_year(tenant.id, today.year)
        if not current or services.objectives_of_year(tenant.id, today.year - 1):
            continue
        with acting(owner):
            for year in (today.year - 2, today.year - 1, today.year):
                for template in current:
                    values = {"owner_id": owner.id} if year == today.year else {
                        "year": year, "owner_id": owner.id, **{name: getattr(template, name) for name in COPIED}}
                    objective = services.save_objective(
                        template if year == today.year else Objective(tenant_id=tenant.id), **values)
                    if objective.source != "typed":
                        continue
                    for period in rules.periods(year, objective.frequency):
                        if period.last_day >= today:
                            break
                        services.record_measurement(
                            objective, period_index=period.index, note="", user_id=owner.id, on=today,
                            value=_value(objective, tenant.slug, objective.statement, year, period.index))
                        added += 1
                    if year < today.year:
                        services.evaluate(objective, "half_year", "", owner.id)
                        services.evaluate(objective, "year_end", "", owner.id)
    return added
