"""Daily snapshots of each agency's computed compliance status, for trends."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Date, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from govqms.core.db import Base, Timestamps
from govqms.core.tenancy import TenantScoped


class ComplianceSnapshot(TenantScoped, Timestamps, Base):
    __tablename__ = "compliance_snapshot"
    __table_args__ = (UniqueConstraint("tenant_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, nullable=False, index=True)
    level: Mapped[str] = mapped_column(String(8), nullable=False)
    #: rule → result ("ok", "due_soon", "overdue", "not_applicable")
    results: Mapped[dict] = mapped_column(JSON, default=dict, nullable=False)
