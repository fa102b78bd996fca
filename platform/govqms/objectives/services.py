"""Policy versions, objectives, measurements, evaluations; values and statuses for many objectives at once.

``values_for`` loads what every objective of a list measured, typed or computed from the agency's
service results and surveys, in a fixed number of queries; ``judge`` turns it into statuses.
"""
from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from govqms.core.storage import get_storage
from govqms.core.uploads import CheckedFile
from govqms.documents.services import today
from govqms.extensions import db
from govqms.objectives import rules
from govqms.objectives.models import Evaluation, EvaluationKind, Measurement, Objective, QualityPolicy, Source
from govqms.performance.models import SatisfactionSurvey, ServiceResult


class MeasurementRefused(ValueError):
    """The measurement cannot be recorded; the message says why."""


# --- policy -----------------------------------------------------------------------------------

def policy_versions(tenant_id: int) -> list[QualityPolicy]:
    return list(db.session.scalars(select(QualityPolicy).where(QualityPolicy.tenant_id == tenant_id)
                                   .order_by(QualityPolicy.issued_on.desc(), QualityPolicy.id.desc())))


def issue_policy(tenant_id: int, **values) -> QualityPolicy:
    policy = QualityPolicy(tenant_id=tenant_id, **values)
    db.session.add(policy)
    db.session.flush()
    return policy


# --- objectives ---------------------------------------------------------------------------------

def objectives_of_year(tenant_id: int, year: int) -> list[Objective]:
    from sqlalchemy.orm import selectinload

    return list(db.session.scalars(
        select(Objective).where(Objective.tenant_id == tenant_id, Objective.year == year,
                                Objective.archived_at.is_(None))
        .options(selectinload(Objective.unit), selectinload(Objective.owner), selectinload(Objective.measurements))
        .order_by(Objective.unit_id.is_not(None), Objective.unit_id, Objective.id)))


def save_objective(objective: Objective, **values) -> Objective:
    for key, value in values.items():
        setattr(objective, key, value)
    db.session.add(objective)
    db.session.flush()
    return objective


def copy_year(tenant_id: int, year: int) -> int:
    """Copy the year's objectives into the next year (without measurements); skip those already there."""
    existing = {(o.unit_id, o.statement) for o in db.session.scalars(
        select(Objective).where(Objective.tenant_id == tenant_id, Objective.year == year + 1))}
    copied = 0
    for source in db.session.scalars(select(Objective).where(Objective.tenant_id == tenant_id, Objective.year == year,
                                                             Objective.archived_at.is_(None))):
        if (source.unit_id, source.statement) in existing:
            continue
        db.session.add(Objective(
            tenant_id=tenant_id, year=year + 1, unit_id=source.unit_id, statement=source.statement,
            indicator=source.indicator, comparator=source.comparator, target=source.target,
            unit_of_measure=source.unit_of_measure, frequency=source.frequency, source=source.source,
            owner_id=source.owner_id, plan=source.plan))
        copied += 1
    db.session.flush()
    return copied


def record_measurement(objective: Objective, *, period_index: int, value: float, note: str, user_id: int | None,
                       evidence: CheckedFile | None = None, on: dt.date | None = None) -> Measurement:
    if objective.source != Source.TYPED:
        raise MeasurementRefused(_l("This objective's values are computed from the agency's data."))
    period = next((p for p in rules.periods(objective.year, objective.frequency) if p.index == period_index), None)
    if period is None:
        raise MeasurementRefused(_l("Choose a period of %(year)s.", year=objective.year))
    if period.first_day > (on or today()):
        raise MeasurementRefused(_l("%(period)s has not started yet.", period=period.label(objective.frequency)))
    measurement = db.session.scalar(select(Measurement).where(
        Measurement.tenant_id == objective.tenant_id, Measurement.objective_id == objective.id,
        Measurement.period_index == period_index))
    if measurement is None:
        measurement = Measurement(tenant_id=objective.tenant_id, objective_id=objective.id, period_index=period_index)
        db.session.add(measurement)
    measurement.value, measurement.note, measurement.recorded_by_id = value, note, user_id
    if evidence is not None:
        measurement.evidence_key = get_storage().put(objective.tenant_id, evidence.data)
        measurement.evidence_name, measurement.evidence_mimetype = evidence.filename, evidence.mimetype
        measurement.evidence_sha256 = evidence.sha256
    db.session.flush()
    db.session.expire(objective, ["measurements"])
    return measurement


# --- values and statuses ------------------------------------------------------------------------

def monthly_service_totals(tenant_id: int, years: set[int]) -> dict[tuple[int, int], tuple[int, int, int]]:
    """(year, month) → (early, on time, late), all procedures together: one query."""
    if not years:
        return {}
    rows = db.session.execute(
        select(ServiceResult.year, ServiceResult.month, func.sum(ServiceResult.resolved_early),
               func.sum(ServiceResult.resolved_on_time), func.sum(ServiceResult.resolved_late))
        .where(ServiceResult.tenant_id == tenant_id, ServiceResult.year.in_(sorted(years)))
        .group_by(ServiceResult.year, ServiceResult.month))
    return {(y, m): (int(e or 0), int(o or 0), int(late or 0)) for y, m, e, o, late in rows}


def monthly_satisfaction(tenant_id: int, years: set[int]) -> dict[tuple[int, int], tuple[int, int]]:
    """(year, month) → (responses, satisfied): one query."""
    if not years:
        return {}
    rows = db.session.execute(
        select(SatisfactionSurvey.year, SatisfactionSurvey.month, SatisfactionSurvey.responses,
               SatisfactionSurvey.satisfied)
        .where(SatisfactionSurvey.tenant_id == tenant_id, SatisfactionSurvey.year.in_(sorted(years))))
    return {(y, m): (r, s) for y, m, r, s in rows}


def _computed(objective: Objective, services, surveys) -> dict[int, float]:
    values = {}
    for period in rules.periods(objective.year, objective.frequency):
        keys = [(objective.year, m) for m in period.months]
        if objective.source == Source.ON_TIME_RATE:
            early = sum(services.get(k, (0, 0, 0))[0] for k in keys)
            on_time = sum(services.get(k, (0, 0, 0))[1] for k in keys)
            late = sum(services.get(k, (0, 0, 0))[2] for k in keys)
            resolved = early + on_time + late
            if resolved:
                values[period.index] = round((early + on_time) * 100 / resolved, 1)
        else:
            responses = sum(surveys.get(k, (0, 0))[0] for k in keys)
            satisfied = sum(surveys.get(k, (0, 0))[1] for k in keys)
            if responses:
                values[period.index] = round(satisfied * 100 / responses, 1)
    return values


def values_for(tenant_id: int, objectives: list[Objective]) -> dict[int, dict[int, float]]:
    """Objective id → {period index: value}: typed (already loaded) or computed (two queries)."""
    computed_years = {o.year for o in objectives if o.source != Source.TYPED}
    services = monthly_service_totals(tenant_id, computed_years) if any(
        o.source == Source.ON_TIME_RATE for o in objectives) else {}
    surveys = monthly_satisfaction(tenant_id, computed_years) if any(
        o.source == Source.SATISFACTION_RATE for o in objectives) else {}
    out = {}
    for objective in objectives:
        if objective.source == Source.TYPED:
            out[objective.id] = {m.period_index: m.value for m in objective.measurements}
        else:
            out[objective.id] = _computed(objective, services, surveys)
    return out


def judge_all(tenant_id: int, objectives: list[Objective], on: dt.date | None = None):
    on = on or today()
    values = values_for(tenant_id, objectives)
    return values, {o.id: rules.judge(o.year, o.frequency, o.target, o.comparator, values[o.id], on)
                    for o in objectives}


def evaluate(objective: Objective, kind: str, comment: str, user_id: int | None) -> Evaluation:
    """Record the half-year or year-end evaluation, keeping the computed result of that moment."""
    as_of = dt.date(objective.year, 7, 1) if kind == EvaluationKind.HALF_YEAR else dt.date(objective.year + 1, 1, 1)
    if today() < as_of:
        raise MeasurementRefused(_l("This evaluation is possible from %(date)s.", date=as_of.strftime("%d/%m/%Y")))
    values = values_for(objective.tenant_id, [objective])[objective.id]
    if kind == EvaluationKind.HALF_YEAR:  # the first half only
        first_half = {p.index for p in rules.periods(objective.year, objective.frequency) if p.last_day < as_of}
        values = {k: v for k, v in values.items() if k in first_half}
    judgement = rules.judge(objective.year, objective.frequency, objective.target, objective.comparator, values, as_of)
    evaluation = db.session.scalar(select(Evaluation).where(
        Evaluation.tenant_id == objective.tenant_id, Evaluation.objective_id == objective.id, Evaluation.kind == kind))
    if evaluation is None:
        evaluation = Evaluation(tenant_id=objective.tenant_id, objective_id=objective.id, kind=kind)
        db.session.add(evaluation)
    evaluation.evaluated_on, evaluation.status = today(), judgement.status
    evaluation.value, evaluation.achievement = judgement.latest_value, judgement.achievement
    evaluation.comment, evaluation.evaluated_by_id = comment, user_id
    db.session.flush()
    return evaluation

