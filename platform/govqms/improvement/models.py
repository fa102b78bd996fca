"""Nonconformities and corrective actions (ISO 9001 clause 10.2), risks and opportunities (6.1), and the
actions that answer them, the management review's decisions included."""
from __future__ import annotations

import datetime as dt
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from govqms.core.db import AwareDateTime, Base, Timestamps, Versioned
from govqms.core.tenancy import TenantScoped, tenant_reference


class NcSource(StrEnum):
    INTERNAL_AUDIT = "internal_audit"
    PROVINCIAL_INSPECTION = "provincial_inspection"
    COMPLAINT = "complaint"
    MANAGEMENT_REVIEW = "management_review"
    SELF_FOUND = "self_found"
    CERTIFICATION_AUDIT = "certification_audit"


class NcStatus(StrEnum):
    OPEN = "open"
    ANALYSED = "analysed"
    ACTIONS_PLANNED = "actions_planned"
    IMPLEMENTED = "implemented"
    VERIFIED = "verified"
    CLOSED = "closed"


SOURCE_LABELS = {NcSource.INTERNAL_AUDIT: _l("Internal audit"),
                 NcSource.PROVINCIAL_INSPECTION: _l("Provincial inspection"), NcSource.COMPLAINT: _l("Complaint"),
                 NcSource.MANAGEMENT_REVIEW: _l("Management review"), NcSource.SELF_FOUND: _l("Found by the agency"),
                 NcSource.CERTIFICATION_AUDIT: _l("Certification body audit")}
NC_STATUS_LABELS = {NcStatus.OPEN: _l("Open"), NcStatus.ANALYSED: _l("Cause analysed"),
                    NcStatus.ACTIONS_PLANNED: _l("Actions planned"), NcStatus.IMPLEMENTED: _l("Implemented"),
                    NcStatus.VERIFIED: _l("Verified effective"), NcStatus.CLOSED: _l("Closed")}


class Nonconformity(Versioned, TenantScoped, Timestamps, Base):
    __tablename__ = "nonconformity"
    __table_args__ = (UniqueConstraint("tenant_id", "id"), tenant_reference("unit_id", "unit"))

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(32), nullable=False)
    found_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    clause: Mapped[str] = mapped_column(String(16), default="", nullable=False)
    unit_id: Mapped[int | None] = mapped_column(Integer)
    severity: Mapped[str] = mapped_column(String(16), default="", nullable=False)  # major_nc / minor_nc for audits
    correction: Mapped[str] = mapped_column(Text, default="", nullable=False)
    root_cause: Mapped[str] = mapped_column(Text, default="", nullable=False)
    status: Mapped[str] = mapped_column(String(16), default=NcStatus.OPEN, nullable=False)
    #: when the corrective-action report is due (e.g. 2 months after a provincial inspection)
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    verified_on: Mapped[dt.date | None] = mapped_column(Date)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    verification_note: Mapped[str] = mapped_column(Text, default="", nullable=False)
    reopened: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)

    unit = relationship("Unit", primaryjoin="and_(Nonconformity.tenant_id == Unit.tenant_id, "
                        "Nonconformity.unit_id == Unit.id)", foreign_keys="[Nonconformity.unit_id]", viewonly=True)
    actions: Mapped[list["Action"]] = relationship(
        primaryjoin="and_(Nonconformity.tenant_id == Action.tenant_id, Nonconformity.id == Action.nonconformity_id)",
        foreign_keys="[Action.nonconformity_id]", order_by="Action.id", viewonly=True)


class RiskKind(StrEnum):
    RISK = "risk"
    OPPORTUNITY = "opportunity"


class Risk(Versioned, TenantScoped, Timestamps, Base):
    __tablename__ = "risk"
    __table_args__ = (UniqueConstraint("tenant_id", "id"), tenant_reference("unit_id", "unit"))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    process: Mapped[str] = mapped_column(String(500), default="", nullable=False)
    unit_id: Mapped[int | None] = mapped_column(Integer)
    likelihood: Mapped[int] = mapped_column(Integer, nullable=False)
    impact: Mapped[int] = mapped_column(Integer, nullable=False)
    treatment: Mapped[str] = mapped_column(Text, default="", nullable=False)
    archived_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())

    unit = relationship("Unit", primaryjoin="and_(Risk.tenant_id == Unit.tenant_id, Risk.unit_id == Unit.id)",
                        foreign_keys="[Risk.unit_id]", viewonly=True)
    actions: Mapped[list["Action"]] = relationship(
        primaryjoin="and_(Risk.tenant_id == Action.tenant_id, Risk.id == Action.risk_id)",
        foreign_keys="[Action.risk_id]", order_by="Action.id", viewonly=True)

    @property
    def level(self) -> int:
        return self.likelihood * self.impact

    @property
    def band(self) -> str:
        return "high" if self.level >= 15 else "medium" if self.level >= 8 else "low"


class ActionStatus(StrEnum):
    OPEN = "open"
    DONE = "done"


class DecisionCategory(StrEnum):
    IMPROVEMENT = "improvement"
    QMS_CHANGE = "qms_change"
    RESOURCES = "resources"


DECISION_LABELS = {DecisionCategory.IMPROVEMENT: _l("Improvement"),
                   DecisionCategory.QMS_CHANGE: _l("Change to the QMS"), DecisionCategory.RESOURCES: _l("Resources")}


class Action(TenantScoped, Timestamps, Base):
    """Something someone must do by a date: for a nonconformity, a risk, or a management review decision."""

    __tablename__ = "action"
    __table_args__ = (tenant_reference("nonconformity_id", "nonconformity"), tenant_reference("risk_id", "risk"),
                      tenant_reference("review_id", "management_review"))

    id: Mapped[int] = mapped_column(primary_key=True)
    nonconformity_id: Mapped[int | None] = mapped_column(Integer, index=True)
    risk_id: Mapped[int | None] = mapped_column(Integer, index=True)
    review_id: Mapped[int | None] = mapped_column(Integer, index=True)
    category: Mapped[str | None] = mapped_column(String(16))  # for review decisions
    description: Mapped[str] = mapped_column(Text, nullable=False)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    due_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    status: Mapped[str] = mapped_column(String(16), default=ActionStatus.OPEN, nullable=False)
    done_on: Mapped[dt.date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="", nullable=False)

    owner = relationship("User")

    def overdue(self, today: dt.date) -> bool:
        return self.status == ActionStatus.OPEN and self.due_on < today
