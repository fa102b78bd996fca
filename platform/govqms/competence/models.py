"""People's place and competence in an agency: unit and job title, qualifications, requirements."""
from __future__ import annotations

import datetime as dt
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from govqms.core.db import AwareDateTime, Base, Timestamps
from govqms.core.tenancy import TenantScoped, tenant_reference


class StaffProfile(TenantScoped, Timestamps, Base):
    """Where a member works in the agency: the unit (for auditor independence) and the job title."""

    __tablename__ = "staff_profile"
    __table_args__ = (UniqueConstraint("tenant_id", "user_id"), tenant_reference("unit_id", "unit"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), nullable=False)
    unit_id: Mapped[int | None] = mapped_column(Integer)
    job_title: Mapped[str] = mapped_column(String(255), default="", nullable=False)

    user = relationship("User")
    unit = relationship("Unit", primaryjoin="and_(StaffProfile.tenant_id == Unit.tenant_id, "
                        "StaffProfile.unit_id == Unit.id)", foreign_keys="[StaffProfile.unit_id]", viewonly=True)


class QualificationKind(StrEnum):
    AWARENESS = "awareness"
    INTERNAL_AUDITOR = "internal_auditor"
    OTHER = "other"


QUALIFICATION_LABELS = {QualificationKind.AWARENESS: _l("ISO 9001 awareness"),
                        QualificationKind.INTERNAL_AUDITOR: _l("Internal auditor"),
                        QualificationKind.OTHER: _l("Other training")}


class Qualification(TenantScoped, Timestamps, Base):
    """A course a member completed, with its certificate."""

    __tablename__ = "qualification"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    course: Mapped[str] = mapped_column(String(500), nullable=False)
    completed_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    certificate: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    archived_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())

    user = relationship("User")


class CompetenceRequirement(TenantScoped, Timestamps, Base):
    """What a job title requires (education, training, experience)."""

    __tablename__ = "competence_requirement"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_title: Mapped[str] = mapped_column(String(255), nullable=False)
    requirement: Mapped[str] = mapped_column(Text, nullable=False)
    archived_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
