"""One valuation of the quality objectives and service figures of agencies, for a year, on a day.

Every reader of these figures asks here: the agency's objectives and dashboard, the dashboard's export, the
management review inputs, the evaluations and the overseer's comparison. An agency's own page and the
overseer's view therefore cannot disagree.

``valuate`` takes any number of agencies and costs four queries whatever their number and the number of
their objectives: the objectives, the typed measurements, the monthly service results and the monthly
surveys. It holds numbers and statuses only; the reason of a status is translated on demand
(``ObjectiveValuation.judgement``), by the pages that show one agency, never for a whole province.

What counts on *on*: a measurement is dated by its period, a service result by its reporting period and a
survey by its month, as recording and import date them (a period, or a month, can be recorded once it has
begun). A value whose period or month had not begun on *on* is not counted, so the situation of a past day
is that day's. Service results come by reporting period (a month, a quarter, a half-year…): an objective's
period counts the reported periods lying within it, and has no value when one straddles it.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from sqlalchemy import and_, func, select

from govqms.core.db import in_ids
from govqms.extensions import db
from govqms.objectives import rules
from govqms.objectives.models import Measurement, Objective, Source
from govqms.performance.models import SatisfactionSurvey, ServiceResult, on_time_rate, satisfaction_rate


@dataclass(frozen=True, slots=True)
class Results:
    """Dossiers handled over one month or more, all procedures together."""

    received: int = 0
    early: int = 0
    on_time: int = 0
    late: int = 0
    pending: int = 0

    @property
    def on_time_rate(self) -> float | None:
        return on_time_rate(self.early, self.on_time, self.late)

    def __add__(self, other: Results) -> Results:
        return Results(self.received + other.received, self.early + other.early, self.on_time + other.on_time,
                       self.late + other.late, self.pending + other.pending)


@dataclass(frozen=True, slots=True)
class Satisfaction:
    """Survey responses over one month or more."""

    responses: int = 0
    satisfied: int = 0

    @property
    def rate(self) -> float | None:
        return satisfaction_rate(self.responses, self.satisfied)

    def __add__(self, other: Satisfaction) -> Satisfaction:
        return Satisfaction(self.responses + other.responses, self.satisfied + other.satisfied)


@dataclass(frozen=True, slots=True)
class ObjectiveValuation:
    objective_id: int
    year: int
    frequency: str
    target: float
    comparator: str
    source: str
    values: dict[int, float]  # period index → value counted on the day
    assessment: rules.Assessment

    @property
    def status(self) -> rules.Status:
        return self.assessment.status

    def judgement(self) -> rules.Judgement:
        """The status with its reason in the user's language."""
        return rules.explained(self.assessment, self.frequency, self.target, self.comparator)


@dataclass(slots=True)
class AgencyValuation:
    tenant_id: int
    year: int
    on: dt.date
    objectives: dict[int, ObjectiveValuation] = field(default_factory=dict)  # by objective id
    #: (first month, last month) → dossiers of that reporting period (a month, a quarter…), periods with results only
    results: dict[tuple[int, int], Results] = field(default_factory=dict)
    surveys: dict[int, Satisfaction] = field(default_factory=dict)  # month → responses, months surveyed only
    service: Results = Results()  # the year's dossiers counted on the day
    satisfaction: Satisfaction = Satisfaction()

    @property
    def objectives_total(self) -> int:
        return len(self.objectives)

    @property
    def objectives_on_track(self) -> int:
        return self.status_counts()[rules.Status.ON_TRACK]

    def status_counts(self) -> dict[rules.Status, int]:
        counts = dict.fromkeys(rules.Status, 0)
        for objective in self.objectives.values():
            counts[objective.status] += 1
        return counts

    @property
    def on_time_rate(self) -> float | None:
        return self.service.on_time_rate

    @property
    def satisfaction_rate(self) -> float | None:
        return self.satisfaction.rate

    def judgements(self) -> dict[int, rules.Judgement]:
        """Objective id → status with its reason: for the pages of one agency."""
        return {objective_id: v.judgement() for objective_id, v in self.objectives.items()}

    def month_rates(self) -> dict[str, list[tuple[int, int, float | None]]]:
        """On-time rate of each reporting period and satisfaction rate of each month surveyed, as
        (first month, last month, rate): a quarter reported as a quarter is one bar over its months."""
        return {"on_time": [(first, last, r.on_time_rate) for (first, last), r in sorted(self.results.items())],
                "satisfaction": [(m, m, s.rate) for m, s in sorted(self.surveys.items())]}

    def results_within(self, months: Collection[int]) -> Results | None:
        """The dossiers of the reporting periods lying within *months*; None when a period reported
        overlaps them only in part (a quarter's figures say nothing of one of its months)."""
        wanted = set(months)
        total, partial = Results(), False
        for (first, last), figures in self.results.items():
            span = set(range(first, last + 1))
            if span <= wanted:
                total = total + figures
            elif span & wanted:
                partial = True
        return None if partial else total


def months_begun(year: int, on: dt.date) -> int:
    """How many months of *year* had begun on *on*: 0 for a year to come, 12 for a year gone."""
    if year < on.year:
        return 12
    return on.month if year == on.year else 0


def valuate(tenant_ids: Iterable[int], year: int, on: dt.date, *,
            objective_ids: Collection[int] | None = None) -> dict[int, AgencyValuation]:
    """Tenant id → its valuation of *year* on *on*, for every agency asked (an agency without data gets an
    empty one). Four queries, whatever the number of agencies and objectives.

    By default the objectives are those of the year that are not archived (the list the agency sees);
    *objective_ids* values only those objectives, archived or not (one objective's page)."""
    ids = sorted(set(tenant_ids))
    if not ids:
        return {}
    last_month = months_begun(year, on)
    which = [in_ids(Objective.tenant_id, ids), Objective.year == year]
    which.append(Objective.id.in_(list(objective_ids)) if objective_ids is not None
                 else Objective.archived_at.is_(None))
    objectives = db.session.execute(
        select(Objective.id, Objective.tenant_id, Objective.frequency, Objective.target, Objective.comparator,
               Objective.source).where(*which).order_by(Objective.tenant_id, Objective.id)).all()
    typed: dict[int, dict[int, float]] = {}
    for objective_id, index, value in db.session.execute(
            select(Measurement.objective_id, Measurement.period_index, Measurement.value)
            .join(Objective, and_(Objective.tenant_id == Measurement.tenant_id,
                                  Objective.id == Measurement.objective_id))
            .where(*which)):
        typed.setdefault(objective_id, {})[index] = value
    out = {tenant_id: AgencyValuation(tenant_id, year, on) for tenant_id in ids}
    for tenant_id, first, last, received, early, on_time, late, pending in db.session.execute(
            select(ServiceResult.tenant_id, ServiceResult.first_month, ServiceResult.last_month,
                   func.sum(ServiceResult.received), func.sum(ServiceResult.resolved_early),
                   func.sum(ServiceResult.resolved_on_time), func.sum(ServiceResult.resolved_late),
                   func.sum(ServiceResult.pending))
            .where(in_ids(ServiceResult.tenant_id, ids), ServiceResult.year == year,
                   ServiceResult.first_month <= last_month)
            .group_by(ServiceResult.tenant_id, ServiceResult.first_month, ServiceResult.last_month)):
        out[tenant_id].results[(first, last)] = Results(int(received or 0), int(early or 0), int(on_time or 0),
                                                        int(late or 0), int(pending or 0))
    for tenant_id, month, responses, satisfied in db.session.execute(
            select(SatisfactionSurvey.tenant_id, SatisfactionSurvey.month, func.sum(SatisfactionSurvey.responses),
                   func.sum(SatisfactionSurvey.satisfied))
            .where(in_ids(SatisfactionSurvey.tenant_id, ids), SatisfactionSurvey.year == year,
                   SatisfactionSurvey.month <= last_month)
            .group_by(SatisfactionSurvey.tenant_id, SatisfactionSurvey.month)):
        out[tenant_id].surveys[month] = Satisfaction(int(responses or 0), int(satisfied or 0))
    for agency in out.values():
        agency.service = sum(agency.results.values(), Results())
        agency.satisfaction = sum(agency.surveys.values(), Satisfaction())
    begun: dict[str, list[rules.Period]] = {}
    for objective_id, tenant_id, frequency, target, comparator, source in objectives:
        if frequency not in begun:
            begun[frequency] = [p for p in rules.periods(year, frequency) if p.first_day <= on]
        agency = out[tenant_id]
        if source == Source.TYPED:
            measured = typed.get(objective_id, {})
            values = {p.index: measured[p.index] for p in begun[frequency] if p.index in measured}
        else:
            values = _computed(source, begun[frequency], agency)
        agency.objectives[objective_id] = ObjectiveValuation(
            objective_id, year, frequency, target, comparator, source, values,
            rules.assess(year, frequency, target, comparator, values, on))
    return out


def _computed(source: str, periods: list[rules.Period], agency: AgencyValuation) -> dict[int, float]:
    """The values of an objective computed from the agency's service results or surveys, by period."""
    values = {}
    for period in periods:
        if source == Source.ON_TIME_RATE:
            within = agency.results_within(period.months)
            rate = within.on_time_rate if within is not None else None
        else:
            rate = sum((agency.surveys.get(m, Satisfaction()) for m in period.months), Satisfaction()).rate
        if rate is not None:
            values[period.index] = rate
    return values
