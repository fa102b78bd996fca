"""Quality policy, quality objectives of a year, their measurements and evaluations."""
from __future__ import annotations

import datetime as dt
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from govqms.core.db import AwareDateTime, Base, Timestamps, Versioned
from govqms.core.tenancy import TenantScoped, tenant_reference


class QualityPolicy(TenantScoped, Timestamps, Base):
    """One version of the quality policy (Chính sách chất lượng). The latest issued is in force."""

    __tablename__ = "quality_policy"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    issued_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    issued_by: Mapped[str] = mapped_column(String(255), nullable=False)
    decision_number: Mapped[str] = mapped_column(String(100), default="", nullable=False)
    posted: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)


class Source(StrEnum):
    """Where an objective's measurements come from."""

    TYPED = "typed"
    ON_TIME_RATE = "on_time_rate"          # computed from service results
    SATISFACTION_RATE = "satisfaction_rate"  # computed from satisfaction surveys


SOURCE_LABELS = {Source.TYPED: _l("Entered by hand"), Source.ON_TIME_RATE: _l("On-time rate (computed)"),
                 Source.SATISFACTION_RATE: _l("Satisfaction rate (computed)")}


class Objective(Versioned, TenantScoped, Timestamps, Base):
    __tablename__ = "objective"
    __table_args__ = (UniqueConstraint("tenant_id", "id"), tenant_reference("unit_id", "unit"))

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    unit_id: Mapped[int | None] = mapped_column(Integer)  # none: the whole agency's objective
    statement: Mapped[str] = mapped_column(Text, nullable=False)
    indicator: Mapped[str] = mapped_column(String(500), nullable=False)
    comparator: Mapped[str] = mapped_column(String(2), nullable=False)
    target: Mapped[float] = mapped_column(Float, nullable=False)
    unit_of_measure: Mapped[str] = mapped_column(String(32), default="", nullable=False)
    frequency: Mapped[str] = mapped_column(String(16), nullable=False)
    source: Mapped[str] = mapped_column(String(32), default=Source.TYPED, nullable=False)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    plan: Mapped[str] = mapped_column(Text, default="", nullable=False)
    archived_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())

    unit = relationship("Unit", primaryjoin="and_(Objective.tenant_id == Unit.tenant_id, "
                        "Objective.unit_id == Unit.id)", foreign_keys="[Objective.unit_id]", viewonly=True)
    owner = relationship("User")
    measurements: Mapped[list["Measurement"]] = relationship(
        primaryjoin="and_(Objective.tenant_id == Measurement.tenant_id, Objective.id == Measurement.objective_id)",
        foreign_keys="[Measurement.objective_id]", order_by="Measurement.period_index", viewonly=True)


class Measurement(TenantScoped, Timestamps, Base):
    __tablename__ = "measurement"
    __table_args__ = (UniqueConstraint("tenant_id", "objective_id", "period_index"),
                      tenant_reference("objective_id", "objective"))

    id: Mapped[int] = mapped_column(primary_key=True)
    objective_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    period_index: Mapped[int] = mapped_column(Integer, nullable=False)
    value: Mapped[float] = mapped_column(Float, nullable=False)
    note: Mapped[str] = mapped_column(Text, default="", nullable=False)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    evidence_name: Mapped[str | None] = mapped_column(String(255))
    evidence_mimetype: Mapped[str | None] = mapped_column(String(100))
    evidence_sha256: Mapped[str | None] = mapped_column(String(64))
    evidence_key: Mapped[str | None] = mapped_column(String(255))


class EvaluationKind(StrEnum):
    HALF_YEAR = "half_year"
    YEAR_END = "year_end"


class Evaluation(TenantScoped, Timestamps, Base):
    """The half-year or year-end evaluation of an objective: the computed result, kept, and a comment."""

    __tablename__ = "objective_evaluation"
    __table_args__ = (UniqueConstraint("tenant_id", "objective_id", "kind"),
                      tenant_reference("objective_id", "objective"))

    id: Mapped[int] = mapped_column(primary_key=True)
    objective_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    evaluated_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    value: Mapped[float | None] = mapped_column(Float)
    achievement: Mapped[float | None] = mapped_column(Float)
    comment: Mapped[str] = mapped_column(Text, default="", nullable=False)
    evaluated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
