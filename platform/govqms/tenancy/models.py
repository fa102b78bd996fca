"""Jurisdictions, tenants (agencies), their units, and who belongs where."""
from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, String, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from govqms.core.db import AwareDateTime, Base, Timestamps, Versioned
from govqms.core.permissions import OversightRoleKind, TenantRole
from govqms.core.tenancy import TenantScoped


class JurisdictionLevel(StrEnum):
    NATIONAL = "national"
    PROVINCE = "province"
    MINISTRY = "ministry"


class TenantKind(StrEnum):
    """Department kinds; each has its template in ``tenants/kinds/<kind>.yaml`` (a test checks)."""

    SCIENCE_TECHNOLOGY = "science_technology"
    INFORMATION_COMMUNICATIONS = "information_communications"
    HOME_AFFAIRS = "home_affairs"
    LABOUR = "labour"
    HEALTH = "health"
    JUSTICE = "justice"
    PEOPLES_COMMITTEE_OFFICE = "peoples_committee_office"
    COMMUNE = "commune"
    MINISTRY_UNIT = "ministry_unit"
    FINANCE = "finance"
    PLANNING_INVESTMENT = "planning_investment"
    CONSTRUCTION = "construction"
    AGRICULTURE_ENVIRONMENT = "agriculture_environment"
    EDUCATION_TRAINING = "education_training"
    CULTURE_SPORTS_TOURISM = "culture_sports_tourism"
    INDUSTRY_TRADE = "industry_trade"
    OTHER_DEPARTMENT = "other_department"


class TenantStatus(StrEnum):
    ACTIVE = "active"
    MERGED = "merged"
    ARCHIVED = "archived"


class IsoEdition(StrEnum):
    ISO_2008 = "2008"
    ISO_2015 = "2015"


LEVEL_LABELS = {
    JurisdictionLevel.NATIONAL: _l("National"),
    JurisdictionLevel.PROVINCE: _l("Province"),
    JurisdictionLevel.MINISTRY: _l("Ministry"),
}
KIND_LABELS = {
    TenantKind.SCIENCE_TECHNOLOGY: _l("Department of Science and Technology"),
    TenantKind.INFORMATION_COMMUNICATIONS: _l("Department of Information and Communications"),
    TenantKind.HOME_AFFAIRS: _l("Department of Home Affairs"),
    TenantKind.LABOUR: _l("Department of Labour, Invalids and Social Affairs"),
    TenantKind.HEALTH: _l("Department of Health"),
    TenantKind.JUSTICE: _l("Department of Justice"),
    TenantKind.PEOPLES_COMMITTEE_OFFICE: _l("Office of the People's Committee"),
    TenantKind.COMMUNE: _l("Commune People's Committee"),
    TenantKind.MINISTRY_UNIT: _l("Ministry unit"),
    TenantKind.FINANCE: _l("Department of Finance"),
    TenantKind.PLANNING_INVESTMENT: _l("Department of Planning and Investment"),
    TenantKind.CONSTRUCTION: _l("Department of Construction"),
    TenantKind.AGRICULTURE_ENVIRONMENT: _l("Department of Agriculture and Environment"),
    TenantKind.EDUCATION_TRAINING: _l("Department of Education and Training"),
    TenantKind.CULTURE_SPORTS_TOURISM: _l("Department of Culture, Sports and Tourism"),
    TenantKind.INDUSTRY_TRADE: _l("Department of Industry and Trade"),
    TenantKind.OTHER_DEPARTMENT: _l("Other department"),
}
STATUS_LABELS = {
    TenantStatus.ACTIVE: _l("Active"),
    TenantStatus.MERGED: _l("Merged"),
    TenantStatus.ARCHIVED: _l("Archived"),
}


class Jurisdiction(Timestamps, Base):
    """An overseeing scope: the nation, a province or a ministry. Forms a tree."""

    __tablename__ = "jurisdiction"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    level: Mapped[str] = mapped_column(String(16), nullable=False)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("jurisdiction.id", ondelete="RESTRICT"), index=True)
    #: materialised path of codes, e.g. ``/vn/khanh-hoa/``: a subtree is a prefix
    path: Mapped[str] = mapped_column(String(512), unique=True, nullable=False)

    parent: Mapped["Jurisdiction | None"] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list["Jurisdiction"]] = relationship(back_populates="parent")
    tenants: Mapped[list["Tenant"]] = relationship(back_populates="jurisdiction")

    def ancestor_paths(self) -> list[str]:
        parts = [p for p in self.path.split("/") if p]
        return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<Jurisdiction {self.path}>"


# Code and parent are fixed once created (the path, and every URL, depends on them).
@event.listens_for(Jurisdiction, "before_insert")
def _jurisdiction_path(mapper, connection, target: Jurisdiction) -> None:
    parent_path = target.parent.path if target.parent is not None else "/"
    target.path = f"{parent_path}{target.code}/"


class Tenant(Timestamps, Base):
    """One agency running its own QMS."""

    __tablename__ = "tenant"
    __audited__ = True
    __table_args__ = (
        CheckConstraint("(status = 'merged') = (merged_into_id is not null)", name="merge_consistent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdiction.id", ondelete="RESTRICT"), index=True)
    #: the day the agency came into being (its records before are history of its predecessors);
    #: unknown for agencies provisioned without it: taken as always existing
    established_on: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default=TenantStatus.ACTIVE, nullable=False)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("tenant.id", ondelete="RESTRICT"), index=True)
    #: the agency's last day is the day before (its end date): judged like any other agency until then
    merged_on: Mapped[dt.date | None] = mapped_column(Date)
    #: a new random token whenever a record of the agency changes (tenancy.versions): what is computed
    #: from its records (its standing in the comparison) is cached under it and never goes stale
    standing_version: Mapped[str | None] = mapped_column(String(32), default=lambda: uuid.uuid4().hex)

    jurisdiction: Mapped[Jurisdiction] = relationship(back_populates="tenants")
    merged_into: Mapped["Tenant | None"] = relationship(remote_side=[id], back_populates="predecessors")
    predecessors: Mapped[list["Tenant"]] = relationship(back_populates="merged_into")
    #: filtered by the tenant scope like every tenant-scoped load
    units: Mapped[list["Unit"]] = relationship(viewonly=True, order_by="Unit.code")

    @property
    def activity_tenant_id(self) -> int:
        return self.id

    @property
    def writable(self) -> bool:
        return self.status == TenantStatus.ACTIVE

    def exists_on(self, day: dt.date) -> bool:
        """Whether the agency existed on *day*: established by then and not yet merged or archived."""
        if self.status == TenantStatus.ARCHIVED:
            return False
        return (self.established_on is None or self.established_on <= day) and (
            self.merged_on is None or day < self.merged_on)

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<Tenant {self.slug}>"


class Unit(Versioned, TenantScoped, Timestamps, Base):
    """A division (phòng) of a tenant, owning documents, objectives and actions."""

    __tablename__ = "unit"
    __table_args__ = (UniqueConstraint("tenant_id", "code"), UniqueConstraint("tenant_id", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), nullable=False)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    archived_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())

    tenant: Mapped[Tenant] = relationship(viewonly=True)

    def __str__(self) -> str:
        return f"{self.code} – {self.name}"


class Membership(Timestamps, Base):
    """A user's role in a tenant. Access data, so read before any tenant scope exists."""

    __tablename__ = "membership"
    __audited__ = True
    __table_args__ = (UniqueConstraint("user_id", "tenant_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(32), nullable=False)

    user = relationship("User")
    tenant: Mapped[Tenant] = relationship()

    @validates("role")
    def _valid_role(self, key, value):
        return TenantRole(value).value


class OversightRole(Timestamps, Base):
    """A user's oversight of a jurisdiction subtree (read-only over its tenants)."""

    __tablename__ = "oversight_role"
    __audited__ = True
    __table_args__ = (UniqueConstraint("user_id", "jurisdiction_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdiction.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(32), nullable=False)

    user = relationship("User")
    jurisdiction: Mapped[Jurisdiction] = relationship()

    @validates("role")
    def _valid_role(self, key, value):
        return OversightRoleKind(value).value


class TenantMerge(Base):
    """One agency merged into another: what moved, so an operator can still undo it."""

    __tablename__ = "tenant_merge"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="RESTRICT"), index=True)
    successor_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="RESTRICT"), index=True)
    merged_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    performed_at: Mapped[dt.datetime] = mapped_column(AwareDateTime(), nullable=False)
    performed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    #: the memberships moved to the successor: [{"user_id", "role", "created"}]
    moved_members: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    reverted_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    reverted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    source: Mapped[Tenant] = relationship(foreign_keys=[source_id])
    successor: Mapped[Tenant] = relationship(foreign_keys=[successor_id])

    @property
    def activity_tenant_id(self) -> int:
        return self.successor_id

    def __str__(self) -> str:
        return f"{self.source} → {self.successor} ({self.merged_on:%d/%m/%Y})"
