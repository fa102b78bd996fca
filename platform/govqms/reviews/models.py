"""The management review (ISO 9001 clause 9.3): its compiled inputs, notes, decisions and the head's
confirmation that the QMS is effective for the year."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from govqms.core.db import Base, Timestamps, Versioned
from govqms.core.tenancy import TenantScoped


class ManagementReview(Versioned, TenantScoped, Timestamps, Base):
    __tablename__ = "management_review"
    __table_args__ = (UniqueConstraint("tenant_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    meeting_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    #: the day the meeting was held; empty while it is only planned
    held_on: Mapped[dt.date | None] = mapped_column(Date)
    chair: Mapped[str] = mapped_column(String(255), nullable=False)
    attendees: Mapped[str] = mapped_column(Text, default="", nullable=False)
    #: the inputs as compiled from the records on ``inputs_compiled_on`` (a snapshot: later changes do not alter it)
    inputs: Mapped[dict] = mapped_column(JSON, default=dict, nullable=False)
    inputs_compiled_on: Mapped[dt.date | None] = mapped_column(Date)
    #: the meeting's notes on each input section
    notes: Mapped[dict] = mapped_column(JSON, default=dict, nullable=False)
    conclusion: Mapped[str] = mapped_column(Text, default="", nullable=False)
    effectiveness_confirmed: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    confirmed_on: Mapped[dt.date | None] = mapped_column(Date)
    #: the minutes signed digitally by the chair (a PDF in core.storage, its signatures checked), and its name
    signed_minutes_key: Mapped[str | None] = mapped_column(String(255))
    signed_minutes_name: Mapped[str | None] = mapped_column(String(255))

    confirmed_by = relationship("User")
