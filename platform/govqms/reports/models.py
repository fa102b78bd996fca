"""The overseer's words in a yearly report."""
from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from govqms.core.db import Base, Timestamps, Versioned

#: The narrative sections of the reports the overseer writes before generating them.
NARRATIVE_FIELDS = ("direction", "assessment", "difficulties", "recommendations")


class ReportText(Versioned, Timestamps, Base):
    """The overseer's words in a yearly report: its number, and the narrative sections."""

    __tablename__ = "report_text"
    __audited__ = True
    __table_args__ = (UniqueConstraint("jurisdiction_id", "year", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdiction.id", ondelete="RESTRICT"), nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    number: Mapped[str] = mapped_column(String(40), default="", nullable=False)
    direction: Mapped[str] = mapped_column(Text, default="", nullable=False)
    assessment: Mapped[str] = mapped_column(Text, default="", nullable=False)
    difficulties: Mapped[str] = mapped_column(Text, default="", nullable=False)
    recommendations: Mapped[str] = mapped_column(Text, default="", nullable=False)
