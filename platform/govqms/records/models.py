"""The records catalogue (danh mục hồ sơ): which records the QMS keeps, where, by whom, how long."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from govqms.core.db import AwareDateTime, Base, Timestamps, Versioned
from govqms.core.tenancy import TenantScoped, tenant_reference


class RecordEntry(Versioned, TenantScoped, Timestamps, Base):
    __tablename__ = "record_entry"
    __table_args__ = (tenant_reference("document_id", "document"), tenant_reference("keeper_unit_id", "unit"))

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(500), nullable=False)
    document_id: Mapped[int | None] = mapped_column(Integer)
    location: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    keeper_unit_id: Mapped[int | None] = mapped_column(Integer)
    keeper: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    retention: Mapped[str] = mapped_column(String(100), nullable=False)
    note: Mapped[str] = mapped_column(Text, default="", nullable=False)
    archived_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())

    document = relationship("Document", primaryjoin="and_(RecordEntry.tenant_id == Document.tenant_id, "
                            "RecordEntry.document_id == Document.id)", foreign_keys="[RecordEntry.document_id]",
                            viewonly=True)
    keeper_unit = relationship("Unit", primaryjoin="and_(RecordEntry.tenant_id == Unit.tenant_id, "
                               "RecordEntry.keeper_unit_id == Unit.id)", foreign_keys="[RecordEntry.keeper_unit_id]",
                               viewonly=True)
