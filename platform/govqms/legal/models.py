"""The legal change log: laws and decisions the QMS must be updated for, within 3 months."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from govqms.core.db import AwareDateTime, Base, Timestamps, Versioned
from govqms.core.tenancy import TenantScoped, tenant_reference

#: QĐ 19/2014/QĐ-TTg: the QMS is updated within three months of a legal change taking effect.
UPDATE_WITHIN_MONTHS = 3


class LegalChange(Versioned, TenantScoped, Timestamps, Base):
    __tablename__ = "legal_change"
    __table_args__ = (UniqueConstraint("tenant_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(100), nullable=False)
    title: Mapped[str] = mapped_column(Text, nullable=False)
    effective_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    qms_updated_on: Mapped[dt.date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="", nullable=False)
    archived_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())

    links: Mapped[list["LegalChangeDocument"]] = relationship(
        primaryjoin="and_(LegalChange.tenant_id == LegalChangeDocument.tenant_id, "
        "LegalChange.id == LegalChangeDocument.legal_change_id)",
        foreign_keys="[LegalChangeDocument.legal_change_id]", viewonly=True)


class LegalChangeDocument(TenantScoped, Base):
    """A document the legal change affects."""

    __tablename__ = "legal_change_document"
    __table_args__ = (UniqueConstraint("tenant_id", "legal_change_id", "document_id"),
                      tenant_reference("legal_change_id", "legal_change", ondelete="CASCADE"),
                      tenant_reference("document_id", "document"))

    id: Mapped[int] = mapped_column(primary_key=True)
    legal_change_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    document_id: Mapped[int] = mapped_column(Integer, nullable=False)

    document = relationship("Document", primaryjoin="and_(LegalChangeDocument.tenant_id == Document.tenant_id, "
                            "LegalChangeDocument.document_id == Document.id)",
                            foreign_keys="[LegalChangeDocument.document_id]", viewonly=True)
