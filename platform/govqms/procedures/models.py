"""The catalogue of administrative procedures (thủ tục hành chính) the QMS must cover."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from govqms.core.db import AwareDateTime, Base, Timestamps, Versioned
from govqms.core.tenancy import TenantScoped, tenant_reference


class AdminProcedure(Versioned, TenantScoped, Timestamps, Base):
    __tablename__ = "admin_procedure"
    __table_args__ = (UniqueConstraint("tenant_id", "code"), tenant_reference("work_procedure_id", "document"))

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    field: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    work_procedure_id: Mapped[int | None] = mapped_column(Integer)
    archived_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    search_key: Mapped[str] = mapped_column(Text, default="", nullable=False)

    work_procedure = relationship(
        "Document", primaryjoin="and_(AdminProcedure.tenant_id == Document.tenant_id, "
        "AdminProcedure.work_procedure_id == Document.id)", foreign_keys="[AdminProcedure.work_procedure_id]",
        viewonly=True)
