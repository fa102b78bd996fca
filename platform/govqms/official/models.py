"""What a jurisdiction sets for its official documents: who issues and signs them, and the templates
it replaced."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from govqms.core.db import AwareDateTime, Base, Timestamps, Versioned

#: The issuing details a profile holds (ND 30/2020: issuing body, number symbol, place, signer).
PROFILE_FIELDS = ("authority", "name", "title_name", "symbol", "unit_symbol", "unit_name", "place", "area",
                  "superior", "signer_capacity", "signer_title", "signer_name", "decider")
#: The largest template a jurisdiction may upload.
TEMPLATE_MAX_BYTES = 2 * 1024 * 1024


class OfficialProfile(Versioned, Timestamps, Base):
    """Who issues the jurisdiction's documents and who signs them."""

    __tablename__ = "official_profile"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdiction.id", ondelete="RESTRICT"), unique=True,
                                                 nullable=False)
    authority: Mapped[str] = mapped_column(String(255), default="", nullable=False)  # cơ quan chủ quản
    name: Mapped[str] = mapped_column(String(255), default="", nullable=False)  # cơ quan ban hành, capitals
    title_name: Mapped[str] = mapped_column(String(255), default="", nullable=False)  # the same in a sentence
    symbol: Mapped[str] = mapped_column(String(40), default="", nullable=False)
    unit_symbol: Mapped[str] = mapped_column(String(40), default="", nullable=False)
    unit_name: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    place: Mapped[str] = mapped_column(String(100), default="", nullable=False)
    area: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    superior: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    signer_capacity: Mapped[str] = mapped_column(String(100), default="", nullable=False)
    signer_title: Mapped[str] = mapped_column(String(100), default="", nullable=False)
    signer_name: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    decider: Mapped[str] = mapped_column(String(255), default="", nullable=False)


class DocumentTemplate(Timestamps, Base):
    """A DOCX template a jurisdiction uploaded in place of the default of a kind. Replacing or
    resetting archives it; the newest one not archived is in use."""

    __tablename__ = "document_template"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdiction.id", ondelete="RESTRICT"), index=True,
                                                 nullable=False)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    file_name: Mapped[str] = mapped_column(String(255), nullable=False)
    data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    archived_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
