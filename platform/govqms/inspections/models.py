"""Inspections of agencies by the provincial DOST or a ministry (TT 26/2014/TT-BKHCN, Art. 33–40)."""
from __future__ import annotations

import datetime as dt
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from govqms.core.db import Base, Timestamps, Versioned
from govqms.core.tenancy import TenantScoped


class InspectionForm(StrEnum):
    PAPER = "paper"
    ON_SITE = "on_site"


class InspectionStatus(StrEnum):
    PLANNED = "planned"
    MINUTES_SIGNED = "minutes_signed"  # findings sent to the agency; its report due in 2 months
    REPORT_RECEIVED = "report_received"
    ACCEPTED = "accepted"
    NOT_ACCEPTED = "not_accepted"


FORM_LABELS = {InspectionForm.PAPER: _l("On paper"), InspectionForm.ON_SITE: _l("On site")}
STATUS_LABELS = {
    InspectionStatus.PLANNED: _l("Planned"),
    InspectionStatus.MINUTES_SIGNED: _l("Minutes signed, report awaited"),
    InspectionStatus.REPORT_RECEIVED: _l("Report received"),
    InspectionStatus.ACCEPTED: _l("Report accepted"),
    InspectionStatus.NOT_ACCEPTED: _l("Report not accepted"),
}
#: The agency reports its corrective actions within this many months of the minutes (Art. 39).
REPORT_WITHIN_MONTHS = 2


class InspectionPlan(Timestamps, Base):
    """The year's inspection plan of a jurisdiction (form Mẫu 19 KHKT)."""

    __tablename__ = "inspection_plan"
    __audited__ = True
    __table_args__ = (UniqueConstraint("jurisdiction_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdiction.id", ondelete="RESTRICT"), nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    decision_number: Mapped[str] = mapped_column(String(100), default="", nullable=False)
    approved_on: Mapped[dt.date | None] = mapped_column(Date)


class Inspection(Versioned, TenantScoped, Timestamps, Base):
    """One agency's inspection in a plan: planned by the overseer, part of the agency's file.

    Overseers write it through :mod:`govqms.inspections.services`, which takes the agency's
    write scope for that one record; the agency reads it like its other records.
    """

    __tablename__ = "inspection"
    __table_args__ = (UniqueConstraint("tenant_id", "id"), UniqueConstraint("plan_id", "tenant_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("inspection_plan.id", ondelete="RESTRICT"), index=True)
    form: Mapped[str] = mapped_column(String(16), default=InspectionForm.PAPER, nullable=False)
    inspecting_unit: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    planned_start: Mapped[dt.date | None] = mapped_column(Date)
    planned_end: Mapped[dt.date | None] = mapped_column(Date)
    cost: Mapped[int] = mapped_column(Integer, default=0, nullable=False)  # VND
    status: Mapped[str] = mapped_column(String(16), default=InspectionStatus.PLANNED, nullable=False)
    decision_number: Mapped[str] = mapped_column(String(100), default="", nullable=False)  # Mẫu 20 QĐKT
    decision_on: Mapped[dt.date | None] = mapped_column(Date)
    team: Mapped[str] = mapped_column(Text, default="", nullable=False)  # one member a line: name, post, role
    # a paper inspection: the written request for the agency's report (its number, date and deadline)
    request_number: Mapped[str] = mapped_column(String(100), default="", nullable=False)
    request_on: Mapped[dt.date | None] = mapped_column(Date)
    request_deadline: Mapped[dt.date | None] = mapped_column(Date)
    held_on: Mapped[dt.date | None] = mapped_column(Date)
    checklist: Mapped[dict] = mapped_column(JSON, default=dict, nullable=False)  # key -> {result, note}
    findings: Mapped[list] = mapped_column(JSON, default=list, nullable=False)  # [{description, clause, nc_id}]
    conclusion: Mapped[str] = mapped_column(Text, default="", nullable=False)
    minutes_on: Mapped[dt.date | None] = mapped_column(Date)  # Mẫu 21 BBKT signed by both sides
    #: those minutes as signed digitally (a PDF in core.storage, its signatures checked), and its name
    signed_minutes_key: Mapped[str | None] = mapped_column(String(255))
    signed_minutes_name: Mapped[str | None] = mapped_column(String(255))
    report_due_on: Mapped[dt.date | None] = mapped_column(Date)
    report_received_on: Mapped[dt.date | None] = mapped_column(Date)
    report_decided_on: Mapped[dt.date | None] = mapped_column(Date)
    report_note: Mapped[str] = mapped_column(Text, default="", nullable=False)
