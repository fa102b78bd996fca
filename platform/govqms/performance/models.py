"""The agency's performance data: administrative-procedure handling and citizens' satisfaction."""
from __future__ import annotations

from sqlalchemy import Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from govqms.core.db import Base, Timestamps
from govqms.core.tenancy import TenantScoped


class ServiceResult(TenantScoped, Timestamps, Base):
    """Dossiers of one month (for one procedure, or the agency's total when the code is empty)."""

    __tablename__ = "service_result"
    __table_args__ = (UniqueConstraint("tenant_id", "year", "month", "procedure_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    month: Mapped[int] = mapped_column(Integer, nullable=False)
    procedure_code: Mapped[str] = mapped_column(String(64), default="", nullable=False)
    received: Mapped[int] = mapped_column(Integer, nullable=False)
    resolved_early: Mapped[int] = mapped_column(Integer, nullable=False)
    resolved_on_time: Mapped[int] = mapped_column(Integer, nullable=False)
    resolved_late: Mapped[int] = mapped_column(Integer, nullable=False)
    pending: Mapped[int] = mapped_column(Integer, nullable=False)


class SatisfactionSurvey(TenantScoped, Timestamps, Base):
    """Satisfaction measured in one month: responses and how many were satisfied."""

    __tablename__ = "satisfaction_survey"
    __table_args__ = (UniqueConstraint("tenant_id", "year", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    month: Mapped[int] = mapped_column(Integer, nullable=False)
    responses: Mapped[int] = mapped_column(Integer, nullable=False)
    satisfied: Mapped[int] = mapped_column(Integer, nullable=False)
    note: Mapped[str] = mapped_column(Text, default="", nullable=False)


def on_time_rate(early: int, on_time: int, late: int) -> float | None:
    """Share of resolved dossiers resolved early or on time, in percent (None when none resolved)."""
    resolved = early + on_time + late
    return None if resolved == 0 else round((early + on_time) * 100 / resolved, 1)


def satisfaction_rate(responses: int, satisfied: int) -> float | None:
    return None if responses == 0 else round(satisfied * 100 / responses, 1)
