"""One valuation of objectives and service figures: the agency's dashboard, the management review inputs
and the overseer's comparison show the same numbers; its cost does not grow with the agencies; a value dated
after the judged day does not count."""
from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from govqms.core.clock import today

TODAY = today()  # the app's day (Vietnam's date)


def add_objective(db, tenant_id: int, year: int, *, source: str = "typed", frequency: str = "year",
                  target: float = 90, values: dict[int, float] | None = None) -> int:
    from govqms.objectives.models import Measurement, Objective

    objective = Objective(tenant_id=tenant_id, year=year, statement=f"{source} {target}", indicator="x",
                          comparator=">=", target=target, unit_of_measure="%", frequency=frequency, source=source)
    db.session.add(objective)
    db.session.flush()
    db.session.add_all([Measurement(tenant_id=tenant_id, objective_id=objective.id, period_index=index, value=value)
                        for index, value in (values or {}).items()])
    return objective.id


def add_results(db, tenant_id: int, year: int, month: int, early: int, on_time: int, late: int, pending: int = 0,
                code: str = "") -> None:
    from govqms.performance.models import ServiceResult

    db.session.add(ServiceResult.of_month(tenant_id=tenant_id, year=year, month=month, procedure_code=code,
                                 received=early + on_time + late + pending, resolved_early=early,
                                 resolved_on_time=on_time, resolved_late=late, pending=pending))


def add_survey(db, tenant_id: int, year: int, month: int, responses: int, satisfied: int) -> None:
    from govqms.performance.models import SatisfactionSurvey

    db.session.add(SatisfactionSurvey(tenant_id=tenant_id, year=year, month=month, responses=responses,
                                      satisfied=satisfied))


def populate(db, tenant_id: int, year: int) -> None:
    """Four yearly objectives, two on track whatever today's date, and January's results and survey."""
    add_objective(db, tenant_id, year, target=90, values={1: 95})                # on track
    add_objective(db, tenant_id, year, target=99, values={1: 95})                # at risk: misses the target
    add_objective(db, tenant_id, year, source="on_time_rate", target=95)         # 19 / 20 = 95.0: on track
    add_objective(db, tenant_id, year, source="satisfaction_rate", target=95)    # 54 / 60 = 90.0: at risk
    add_results(db, tenant_id, year, 1, early=2, on_time=8, late=0, pending=3)
    add_results(db, tenant_id, year, 1, early=0, on_time=9, late=1, code="P1")
    add_survey(db, tenant_id, year, 1, responses=60, satisfied=54)


def dashboard_figures(page) -> tuple[int, int, float | None, float | None]:
    def attr(testid: str, name: str) -> str:
        return re.search(rf'data-testid="{testid}"[^>]*?\b{name}="([^"]*)"', page.text).group(1)

    def rate(testid: str) -> float | None:
        value = attr(testid, "data-value")
        return float(value) if value else None

    return (int(attr("objectives-on-track", "data-total")), int(attr("objectives-on-track", "data-count")),
            rate("on-time-rate"), rate("satisfaction-rate"))


def test_dashboard_review_and_comparison_show_the_same_numbers(world, login_as, system_scope):
    from govqms.extensions import db
    from govqms.oversight.comparison import compare
    from govqms.reviews.services import compile_inputs
    from govqms.tenancy.models import Jurisdiction

    a1 = world.tenant_ids["a1"]
    populate(db, a1, TODAY.year)
    db.session.commit()

    page = login_as("a1_secretary").get(f"/t/{world.a1}/dashboard/?year={TODAY.year}")
    assert page.status_code == 200
    dashboard = dashboard_figures(page)

    inputs = compile_inputs(a1, TODAY.year, TODAY, on=TODAY)
    review = (inputs["objectives"]["total"], inputs["objectives"]["on_track"],
              inputs["service_results"]["on_time_rate"], inputs["satisfaction"]["rate"])

    p1 = db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == world.p1))
    row = next(r for r in compare(p1, TODAY) if r.tenant.id == a1)
    comparison = (row.objectives_total, row.objectives_on_track, row.on_time_rate, row.satisfaction_rate)

    assert dashboard == review == comparison == (4, 2, 95.0, 90.0)
    assert inputs["service_results"]["received"] == 23 and inputs["service_results"]["pending"] == 3
    assert (inputs["objectives"]["at_risk"], inputs["objectives"]["missed"]) == (2, 0)


def test_queries_do_not_grow_with_the_agencies(world, system_scope, count_queries):
    from govqms.extensions import db
    from govqms.objectives.valuation import valuate
    from govqms.tenancy.models import Jurisdiction, Tenant

    p2 = db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == world.p2))
    tenants = [Tenant(slug=f"valued-{i}", name=f"Xã {i}", kind="commune", jurisdiction=p2) for i in range(20)]
    db.session.add_all(tenants)
    db.session.flush()
    for tenant in tenants:
        populate(db, tenant.id, TODAY.year)
        add_objective(db, tenant.id, TODAY.year, frequency="monthly", values={m: 99 for m in range(1, 13)})
    db.session.commit()
    ids = [t.id for t in tenants]

    with count_queries() as two:
        few = valuate(ids[:2], TODAY.year, TODAY)
    with count_queries() as twenty:
        many = valuate(ids, TODAY.year, TODAY)
    assert two.count == twenty.count, (two.count, twenty.count)
    assert len(few) == 2 and len(many) == 20
    assert all(v.objectives_total == 5 and v.on_time_rate == 95.0 for v in many.values())


def test_a_value_dated_after_the_judged_day_does_not_count(world, system_scope):
    from govqms.extensions import db
    from govqms.objectives.valuation import valuate
    from govqms.reviews.services import compile_inputs

    a1, year = world.tenant_ids["a1"], TODAY.year - 1
    on = dt.date(year, 5, 15)
    typed = add_objective(db, a1, year, frequency="monthly", target=90,
                          values={1: 95, 2: 95, 3: 95, 4: 95, 5: 95, 6: 10})  # June's 10 was measured later
    computed = add_objective(db, a1, year, frequency="quarterly", source="on_time_rate", target=90)
    for month in range(1, 6):  # January to May, May begun on the day: counted
        add_results(db, a1, year, month, early=0, on_time=10, late=0)
    add_results(db, a1, year, 6, early=0, on_time=0, late=50)  # June: after the day
    add_survey(db, a1, year, 5, responses=10, satisfied=10)
    add_survey(db, a1, year, 7, responses=10, satisfied=0)
    db.session.commit()

    valued = valuate([a1], year, on)[a1]
    assert valued.objectives[typed].values == {1: 95, 2: 95, 3: 95, 4: 95, 5: 95}
    assert valued.objectives[typed].status == "on_track"  # June's 10 would put it at risk
    assert valued.objectives[computed].values == {1: 100.0, 2: 100.0}  # Q2: April and May only
    assert (valued.service.received, valued.on_time_rate, valued.satisfaction_rate) == (50, 100.0, 100.0)
    assert sorted(valued.results) == [(m, m) for m in range(1, 6)]  # one-month periods

    # the same day through the management review inputs; the year judged after it ends counts everything
    inputs = compile_inputs(a1, year, on, on=on)
    assert (inputs["service_results"]["received"], inputs["service_results"]["on_time_rate"]) == (50, 100.0)
    assert inputs["objectives"]["on_track"] == 2
    later = valuate([a1], year, dt.date(year + 1, 1, 1))[a1]
    assert later.objectives[typed].values[6] == 10 and later.objectives[typed].status == "missed"
    assert later.service.received == 100 and later.satisfaction_rate == 50.0
