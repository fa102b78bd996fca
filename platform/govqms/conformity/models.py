"""Conformity: declarations (công bố), certification history, the ISO steering committee, consultants."""
from __future__ import annotations

import datetime as dt
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from govqms.core.db import AwareDateTime, Base, Timestamps
from govqms.core.tenancy import TenantScoped, tenant_reference


class Declaration(TenantScoped, Timestamps, Base):
    """A declaration that the QMS conforms to TCVN ISO 9001 (công bố HTQLCL phù hợp)."""

    __tablename__ = "declaration"
    __table_args__ = (UniqueConstraint("tenant_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_number: Mapped[str] = mapped_column(String(100), nullable=False)
    decided_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    edition: Mapped[str] = mapped_column(String(4), nullable=False)
    scope_note: Mapped[str] = mapped_column(Text, default="", nullable=False)
    #: the three steps that make a declaration public (QĐ 19/2014/QĐ-TTg, Art. 6), each with its day
    dost_notified_on: Mapped[dt.date | None] = mapped_column(Date)
    posted_on: Mapped[dt.date | None] = mapped_column(Date)
    published_on: Mapped[dt.date | None] = mapped_column(Date)
    file_name: Mapped[str | None] = mapped_column(String(255))
    file_key: Mapped[str | None] = mapped_column(String(255))
    archived_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())

    procedures: Mapped[list["DeclarationProcedure"]] = relationship(
        primaryjoin="and_(Declaration.tenant_id == DeclarationProcedure.tenant_id, "
        "Declaration.id == DeclarationProcedure.declaration_id)",
        foreign_keys="[DeclarationProcedure.declaration_id]", viewonly=True)


class DeclarationProcedure(TenantScoped, Base):
    """An administrative procedure covered by a declaration's scope."""

    __tablename__ = "declaration_procedure"
    __table_args__ = (UniqueConstraint("tenant_id", "declaration_id", "procedure_id"),
                      tenant_reference("declaration_id", "declaration", ondelete="CASCADE"))

    id: Mapped[int] = mapped_column(primary_key=True)
    declaration_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    procedure_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)


class Certificate(TenantScoped, Timestamps, Base):
    """A certificate issued by a certification body (3-year cycle)."""

    __tablename__ = "certificate"
    __table_args__ = (UniqueConstraint("tenant_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str] = mapped_column(String(255), nullable=False)
    number: Mapped[str] = mapped_column(String(100), nullable=False)
    edition: Mapped[str] = mapped_column(String(4), nullable=False)
    scope: Mapped[str] = mapped_column(Text, default="", nullable=False)
    issued_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    expires_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    #: a certificate withdrawn by its body or not renewed by the agency stops on this day
    ended_on: Mapped[dt.date | None] = mapped_column(Date)
    end_reason: Mapped[str | None] = mapped_column(String(16))

    audits: Mapped[list["ExternalAudit"]] = relationship(
        primaryjoin="and_(Certificate.tenant_id == ExternalAudit.tenant_id, "
        "Certificate.id == ExternalAudit.certificate_id)", foreign_keys="[ExternalAudit.certificate_id]",
        order_by="ExternalAudit.planned_on", viewonly=True)


class CertificateEnd(StrEnum):
    WITHDRAWN = "withdrawn"
    NOT_RENEWED = "not_renewed"


CERTIFICATE_END_LABELS = {CertificateEnd.WITHDRAWN: _l("Withdrawn by the certification body"),
                          CertificateEnd.NOT_RENEWED: _l("Not renewed")}


class ExternalAuditKind(StrEnum):
    INITIAL = "initial"
    SURVEILLANCE = "surveillance"
    RECERTIFICATION = "recertification"
    TRANSITION = "transition"
    SCOPE_EXTENSION = "scope_extension"


EXTERNAL_AUDIT_LABELS = {ExternalAuditKind.INITIAL: _l("Initial certification"),
                         ExternalAuditKind.SURVEILLANCE: _l("Surveillance"),
                         ExternalAuditKind.RECERTIFICATION: _l("Recertification"),
                         ExternalAuditKind.TRANSITION: _l("Transition"),
                         ExternalAuditKind.SCOPE_EXTENSION: _l("Scope extension")}


class ExternalAudit(TenantScoped, Timestamps, Base):
    __tablename__ = "external_audit"
    __table_args__ = (tenant_reference("certificate_id", "certificate"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    planned_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    held_on: Mapped[dt.date | None] = mapped_column(Date)
    result: Mapped[str] = mapped_column(Text, default="", nullable=False)


class SteeringCommittee(TenantScoped, Timestamps, Base):
    """A decision establishing or renewing the ISO steering committee (Ban chỉ đạo ISO)."""

    __tablename__ = "steering_committee"
    __table_args__ = (UniqueConstraint("tenant_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_number: Mapped[str] = mapped_column(String(100), nullable=False)
    decided_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    management_representative: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    members: Mapped[str] = mapped_column(Text, default="", nullable=False)  # one "name – role" per line


class Consultant(TenantScoped, Timestamps, Base):
    """A consulting organisation or expert, with the card that allows them to consult (3 years)."""

    __tablename__ = "consultant"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    organisation: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    card_number: Mapped[str] = mapped_column(String(100), default="", nullable=False)
    card_expires_on: Mapped[dt.date | None] = mapped_column(Date)
    archived_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
