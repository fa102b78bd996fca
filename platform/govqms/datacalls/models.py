"""Data calls (công văn đề nghị báo cáo): a request with a deadline, sent by an overseer to chosen
agencies, and each agency's reply with its files."""
from __future__ import annotations

import datetime as dt
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column

from govqms.core.db import AwareDateTime, Base, Timestamps, Versioned
from govqms.core.tenancy import TenantScoped, tenant_reference


class RequestFields:
    """What every request carries, whoever sends it and to whom."""

    title: Mapped[str] = mapped_column(String(500), nullable=False)
    request: Mapped[str] = mapped_column(Text, default="", nullable=False)
    deadline: Mapped[dt.date] = mapped_column(Date, nullable=False)
    sent_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    template_key: Mapped[str | None] = mapped_column(String(255))
    template_name: Mapped[str | None] = mapped_column(String(255))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    archived_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())


class DataCall(RequestFields, Timestamps, Base):
    """The request, owned by the jurisdiction that sent it."""

    __tablename__ = "data_call"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdiction.id", ondelete="RESTRICT"), index=True,
                                                 nullable=False)

    def __standing_tenants__(self):
        """The agencies whose compliance a change of this call (its deadline, its withdrawal) touches."""
        return select(DataCallReply.tenant_id).where(DataCallReply.call_id == self.id)


class ReplyState(StrEnum):
    ON_TIME = "on_time"
    LATE = "late"
    AWAITED = "awaited"   # deadline not reached
    MISSING = "missing"   # deadline passed, no reply


STATE_LABELS = {ReplyState.ON_TIME: _l("Answered on time"), ReplyState.LATE: _l("Answered late"),
                ReplyState.AWAITED: _l("Not answered yet"), ReplyState.MISSING: _l("Not answered, overdue")}


class ReplyFields:
    """A reply: created empty when the request is sent, filled by whoever answers."""

    note: Mapped[str] = mapped_column(Text, default="", nullable=False)
    files: Mapped[list] = mapped_column(JSON, default=list, nullable=False)  # [{key, name, size}]
    submitted_on: Mapped[dt.date | None] = mapped_column(Date)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    revisions: Mapped[int] = mapped_column(Integer, default=0, nullable=False)

    def state(self, deadline: dt.date, today: dt.date) -> ReplyState:
        if self.submitted_on is not None:
            return ReplyState.ON_TIME if self.submitted_on <= deadline else ReplyState.LATE
        return ReplyState.MISSING if today > deadline else ReplyState.AWAITED


class DataCallReply(Versioned, ReplyFields, TenantScoped, Timestamps, Base):
    """One agency's reply to a data call, in the agency's own file."""

    __tablename__ = "data_call_reply"
    __table_args__ = (UniqueConstraint("tenant_id", "id"), UniqueConstraint("call_id", "tenant_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("data_call.id", ondelete="RESTRICT"), index=True, nullable=False)


class UnitCall(RequestFields, TenantScoped, Timestamps, Base):
    """A department head's request to the agency's own units (phòng, ban), with a deadline."""

    __tablename__ = "unit_call"
    __audited__ = True
    __table_args__ = (UniqueConstraint("tenant_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)


class UnitCallReply(Versioned, ReplyFields, TenantScoped, Timestamps, Base):
    """One unit's reply to a :class:`UnitCall`."""

    __tablename__ = "unit_call_reply"
    __table_args__ = (UniqueConstraint("tenant_id", "id"), UniqueConstraint("call_id", "unit_id"),
                      tenant_reference("call_id", "unit_call"), tenant_reference("unit_id", "unit"))

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(Integer, index=True, nullable=False)
    unit_id: Mapped[int] = mapped_column(Integer, nullable=False)
