"""Policy versions, objectives, measurements, evaluations.

The values and statuses of objectives, and the service figures they are computed from, come from
``govqms.objectives.valuation``: one valuation for every page, export and overseer.
"""
from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from govqms.core.clock import today
from govqms.core.db import save_record
from govqms.core.errors import Refused
from govqms.core.storage import get_storage
from govqms.core.uploads import CheckedFile
from govqms.extensions import db
from govqms.objectives import rules
from govqms.objectives.models import Evaluation, EvaluationKind, Measurement, Objective, QualityPolicy, Source
from govqms.objectives.valuation import valuate


class MeasurementRefused(Refused):
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
        .options(selectinload(Objective.unit), selectinload(Objective.owner))
        .order_by(Objective.unit_id.is_not(None), Objective.unit_id, Objective.id)))


def save_objective(objective: Objective, **values) -> Objective:
    return save_record(objective, values)


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


# --- evaluations ---------------------------------------------------------------------------------

def evaluate(objective: Objective, kind: str, comment: str, user_id: int | None) -> Evaluation:
    """Record the half-year or year-end evaluation, keeping the computed result of that moment."""
    as_of = dt.date(objective.year, 7, 1) if kind == EvaluationKind.HALF_YEAR else dt.date(objective.year + 1, 1, 1)
    if today() < as_of:
        raise MeasurementRefused(_l("This evaluation is possible from %(date)s.", date=as_of.strftime("%d/%m/%Y")))
    values = valuate([objective.tenant_id], objective.year, as_of,
                     objective_ids=[objective.id])[objective.tenant_id].objectives[objective.id].values
    if kind == EvaluationKind.HALF_YEAR:  # the first half only
        first_half = {p.index for p in rules.periods(objective.year, objective.frequency) if p.last_day < as_of}
        values = {k: v for k, v in values.items() if k in first_half}
    judgement = rules.assess(objective.year, objective.frequency, objective.target, objective.comparator, values, as_of)
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


def evaluations_of(objective: Objective) -> dict[str, Evaluation]:
    """The objective's evaluations by kind (half-year, year)."""
    return {e.kind: e for e in db.session.scalars(select(Evaluation).where(
        Evaluation.tenant_id == objective.tenant_id, Evaluation.objective_id == objective.id))}
