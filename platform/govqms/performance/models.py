"""The agency's performance data: administrative-procedure handling and citizens' satisfaction."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from govqms.core.db import Base, Timestamps, Versioned
from govqms.core.tenancy import TenantScoped
from govqms.performance.periods import Period


class ServiceResult(Versioned, TenantScoped, Timestamps, Base):
    """Dossiers of one reporting period, as the report gave it (a month, a quarter, a half-year, a year
    or a range of whole months), for one field (lĩnh vực) or procedure, or for the agency as a whole
    when both are empty. A period longer than a month is kept as that period, never spread over its
    months; the periods of an agency never overlap unless they are the same period (the import
    replaces what a new period covers), so summing them never counts a dossier twice."""

    __tablename__ = "service_result"
    __table_args__ = (UniqueConstraint("tenant_id", "year", "first_month", "last_month", "field", "procedure_code",
                                       name="uq_service_result_period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    first_month: Mapped[int] = mapped_column(Integer, nullable=False)
    last_month: Mapped[int] = mapped_column(Integer, nullable=False)
    #: the days the report covers (15/06–14/09 for a third quarter by the reporting convention)
    period_start: Mapped[dt.date] = mapped_column(Date, nullable=False)
    period_end: Mapped[dt.date] = mapped_column(Date, nullable=False)
    field: Mapped[str] = mapped_column(String(255), default="", server_default="", nullable=False)
    procedure_code: Mapped[str] = mapped_column(String(64), default="", nullable=False)
    received: Mapped[int] = mapped_column(Integer, nullable=False)
    resolved_early: Mapped[int] = mapped_column(Integer, nullable=False)
    resolved_on_time: Mapped[int] = mapped_column(Integer, nullable=False)
    resolved_late: Mapped[int] = mapped_column(Integer, nullable=False)
    pending: Mapped[int] = mapped_column(Integer, nullable=False)

    @classmethod
    def of_month(cls, year: int, month: int, **values) -> ServiceResult:
        """The figures of one calendar month."""
        result = cls(**values)
        result.period = Period.month(year, month)
        return result

    @property
    def period(self) -> Period:
        return Period(self.year, self.first_month, self.last_month, self.period_start, self.period_end)

    @period.setter
    def period(self, period: Period) -> None:
        self.year, self.first_month, self.last_month = period.year, period.first_month, period.last_month
        self.period_start, self.period_end = period.start, period.end


class SatisfactionSurvey(Versioned, TenantScoped, Timestamps, Base):
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
