"""Internal audits (ISO 9001 clause 9.2): scope, team, checklist, findings."""
from __future__ import annotations

import datetime as dt
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from govqms.core.db import AwareDateTime, Base, Timestamps, Versioned
from govqms.core.tenancy import TenantScoped, tenant_reference


class AuditStatus(StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    REPORTED = "reported"


class FindingType(StrEnum):
    STRENGTH = "strength"
    MAJOR = "major_nc"
    MINOR = "minor_nc"
    OBSERVATION = "observation"
    OPPORTUNITY = "opportunity"


NONCONFORMITIES = frozenset({FindingType.MAJOR, FindingType.MINOR})
AUDIT_STATUS_LABELS = {AuditStatus.PLANNED: _l("Planned"), AuditStatus.IN_PROGRESS: _l("In progress"),
                       AuditStatus.REPORTED: _l("Reported")}
FINDING_LABELS = {FindingType.STRENGTH: _l("Strength"), FindingType.MAJOR: _l("Major nonconformity"),
                  FindingType.MINOR: _l("Minor nonconformity"), FindingType.OBSERVATION: _l("Observation"),
                  FindingType.OPPORTUNITY: _l("Opportunity for improvement")}


class Audit(Versioned, TenantScoped, Timestamps, Base):
    __tablename__ = "audit"
    __table_args__ = (UniqueConstraint("tenant_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    title: Mapped[str] = mapped_column(String(500), nullable=False)
    planned_start: Mapped[dt.date] = mapped_column(Date, nullable=False)
    planned_end: Mapped[dt.date] = mapped_column(Date, nullable=False)
    actual_start: Mapped[dt.date | None] = mapped_column(Date)
    actual_end: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default=AuditStatus.PLANNED, nullable=False)
    #: the ISO edition's clauses audited, and the units and processes (document ids) in scope
    clauses: Mapped[list] = mapped_column(JSON, default=list, nullable=False)
    unit_ids: Mapped[list] = mapped_column(JSON, default=list, nullable=False)
    process_ids: Mapped[list] = mapped_column(JSON, default=list, nullable=False)
    lead_auditor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    team_ids: Mapped[list] = mapped_column(JSON, default=list, nullable=False)
    conclusion: Mapped[str] = mapped_column(Text, default="", nullable=False)
    archived_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())

    lead_auditor = relationship("User")
    checklist: Mapped[list["ChecklistItem"]] = relationship(
        primaryjoin="and_(Audit.tenant_id == ChecklistItem.tenant_id, Audit.id == ChecklistItem.audit_id)",
        foreign_keys="[ChecklistItem.audit_id]", order_by="ChecklistItem.position", viewonly=True)
    findings: Mapped[list["Finding"]] = relationship(
        primaryjoin="and_(Audit.tenant_id == Finding.tenant_id, Audit.id == Finding.audit_id)",
        foreign_keys="[Finding.audit_id]", order_by="Finding.id", viewonly=True)


class ChecklistItem(TenantScoped, Timestamps, Base):
    __tablename__ = "audit_checklist_item"
    __table_args__ = (tenant_reference("audit_id", "audit"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    audit_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    clause: Mapped[str] = mapped_column(String(16), default="", nullable=False)
    question: Mapped[str] = mapped_column(Text, nullable=False)
    result: Mapped[str] = mapped_column(Text, default="", nullable=False)


class Finding(TenantScoped, Timestamps, Base):
    __tablename__ = "audit_finding"
    __table_args__ = (tenant_reference("audit_id", "audit"), tenant_reference("unit_id", "unit"))

    id: Mapped[int] = mapped_column(primary_key=True)
    audit_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    type: Mapped[str] = mapped_column(String(16), nullable=False)
    clause: Mapped[str] = mapped_column(String(16), default="", nullable=False)
    unit_id: Mapped[int | None] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    evidence: Mapped[str] = mapped_column(Text, default="", nullable=False)
    nonconformity_id: Mapped[int | None] = mapped_column(Integer)

    unit = relationship("Unit", primaryjoin="and_(Finding.tenant_id == Unit.tenant_id, Finding.unit_id == Unit.id)",
                        foreign_keys="[Finding.unit_id]", viewonly=True)
