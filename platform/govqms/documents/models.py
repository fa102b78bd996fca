"""Controlled documents (ISO 9001 clause 7.5): documents, their revisions and files, reviews."""
from __future__ import annotations

import datetime as dt
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, event, inspect
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from govqms.core.db import AwareDateTime, Base, Timestamps, Versioned
from govqms.core.errors import Refused
from govqms.core.tenancy import TenantScoped, tenant_reference


class DocumentKind(StrEnum):
    QUALITY_MANUAL = "quality_manual"
    QUALITY_POLICY = "quality_policy"
    SYSTEM_PROCEDURE = "system_procedure"
    WORK_PROCEDURE = "work_procedure"
    FORM = "form"
    EXTERNAL = "external"


class RevisionStatus(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    EFFECTIVE = "effective"
    SUPERSEDED = "superseded"


class DocumentStatus(StrEnum):
    """The document's state, derived from its revisions (kept on the row for the register)."""

    DRAFT = "draft"          # no revision effective yet
    EFFECTIVE = "effective"  # a revision is in force
    OBSOLETE = "obsolete"    # withdrawn: kept, no longer in force


KIND_LABELS = {
    DocumentKind.QUALITY_MANUAL: _l("QMS model or quality manual"),
    DocumentKind.QUALITY_POLICY: _l("Quality policy"),
    DocumentKind.SYSTEM_PROCEDURE: _l("System procedure"),
    DocumentKind.WORK_PROCEDURE: _l("Work procedure"),
    DocumentKind.FORM: _l("Form"),
    DocumentKind.EXTERNAL: _l("External document"),
}
REVISION_STATUS_LABELS = {
    RevisionStatus.DRAFT: _l("Draft"),
    RevisionStatus.IN_REVIEW: _l("In review"),
    RevisionStatus.APPROVED: _l("Approved"),
    RevisionStatus.EFFECTIVE: _l("Effective"),
    RevisionStatus.SUPERSEDED: _l("Superseded"),
}
DOCUMENT_STATUS_LABELS = {
    DocumentStatus.DRAFT: _l("Not yet in force"),
    DocumentStatus.EFFECTIVE: _l("In force"),
    DocumentStatus.OBSOLETE: _l("Obsolete"),
}
#: Revisions in these states are part of the record: they and their files never change.
FROZEN = frozenset({RevisionStatus.APPROVED, RevisionStatus.EFFECTIVE, RevisionStatus.SUPERSEDED})


class Document(Versioned, TenantScoped, Timestamps, Base):
    __tablename__ = "document"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code"),
        UniqueConstraint("tenant_id", "id"),
        tenant_reference("owner_unit_id", "unit"),
        Index("ix_document_tenant_next_review", "tenant_id", "next_review_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), nullable=False)
    title: Mapped[str] = mapped_column(String(500), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    owner_unit_id: Mapped[int | None] = mapped_column(Integer)
    review_interval_months: Mapped[int] = mapped_column(Integer, default=12, nullable=False)
    status: Mapped[str] = mapped_column(String(16), default=DocumentStatus.DRAFT, nullable=False)
    obsolete_on: Mapped[dt.date | None] = mapped_column(Date)
    # Kept by the services so the register is one query: the revision in force and its dates.
    current_revision_id: Mapped[int | None] = mapped_column(Integer)
    effective_on: Mapped[dt.date | None] = mapped_column(Date)
    last_reviewed_on: Mapped[dt.date | None] = mapped_column(Date)
    next_review_on: Mapped[dt.date | None] = mapped_column(Date)
    #: code and title without diacritics, lowercase: what the register search matches
    search_key: Mapped[str] = mapped_column(Text, default="", nullable=False)

    owner_unit = relationship("Unit", primaryjoin="and_(Document.tenant_id == Unit.tenant_id, "
                              "Document.owner_unit_id == Unit.id)", foreign_keys="[Document.owner_unit_id]",
                              viewonly=True)
    revisions: Mapped[list["Revision"]] = relationship(
        back_populates="document", order_by="Revision.number",
        primaryjoin="and_(Document.tenant_id == Revision.tenant_id, Document.id == Revision.document_id)",
        foreign_keys="[Revision.document_id]", overlaps="document")

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class Revision(Versioned, TenantScoped, Timestamps, Base):
    """One issue (lần ban hành) of a document."""

    __tablename__ = "document_revision"
    __table_args__ = (
        UniqueConstraint("tenant_id", "document_id", "number"),
        UniqueConstraint("tenant_id", "id"),
        tenant_reference("document_id", "document"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(16), default=RevisionStatus.DRAFT, nullable=False)
    change_summary: Mapped[str] = mapped_column(Text, default="", nullable=False)
    effective_on: Mapped[dt.date | None] = mapped_column(Date)
    drafter_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    approver_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    submitted_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    approved_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    review_comment: Mapped[str | None] = mapped_column(Text)

    document: Mapped[Document] = relationship(
        back_populates="revisions",
        primaryjoin="and_(Document.tenant_id == Revision.tenant_id, Document.id == Revision.document_id)",
        foreign_keys="[Revision.document_id]")
    drafter = relationship("User", foreign_keys=[drafter_id])
    reviewer = relationship("User", foreign_keys=[reviewer_id])
    approver = relationship("User", foreign_keys=[approver_id])
    files: Mapped[list["RevisionFile"]] = relationship(
        primaryjoin="and_(Revision.tenant_id == RevisionFile.tenant_id, Revision.id == RevisionFile.revision_id)",
        foreign_keys="[RevisionFile.revision_id]", order_by="RevisionFile.id", viewonly=True)

    @property
    def frozen(self) -> bool:
        return self.status in FROZEN


class RevisionFile(TenantScoped, Timestamps, Base):
    __tablename__ = "document_file"
    __table_args__ = (tenant_reference("revision_id", "document_revision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    revision_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    mimetype: Mapped[str] = mapped_column(String(100), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    storage_key: Mapped[str] = mapped_column(String(255), nullable=False)


class ReviewOutcome(StrEnum):
    NO_CHANGE = "no_change"
    REVISE = "revise"


class DocumentReview(TenantScoped, Timestamps, Base):
    """A periodic review of a document: confirmed unchanged, or a new draft opened."""

    __tablename__ = "document_review"
    __table_args__ = (tenant_reference("document_id", "document"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    reviewed_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    outcome: Mapped[str] = mapped_column(String(16), nullable=False)
    note: Mapped[str] = mapped_column(Text, default="", nullable=False)

    reviewer = relationship("User")


# --- approved revisions are immutable ---------------------------------------------------------

#: the only changes a frozen revision may still undergo
_ALLOWED_MOVES = {(RevisionStatus.APPROVED, RevisionStatus.EFFECTIVE),
                  (RevisionStatus.EFFECTIVE, RevisionStatus.SUPERSEDED)}


class FrozenRevision(Refused, PermissionError):
    """An approved revision, or its files, was about to change."""


def _committed_status(revision: Revision) -> str | None:
    history = inspect(revision).attrs.status.history
    return history.deleted[0] if history.deleted else revision.status


def _guard_frozen(session, flush_context, instances) -> None:
    for obj in session.dirty:
        if not isinstance(obj, Revision) or not session.is_modified(obj):
            continue
        before = _committed_status(obj)
        if before not in FROZEN:
            continue
        state = inspect(obj)
        changed = {a.key for a in state.mapper.column_attrs
                   if state.attrs[a.key].history.has_changes() and a.key != "updated_at"}
        if changed - {"status"} or (changed and (before, obj.status) not in _ALLOWED_MOVES):
            raise FrozenRevision(f"revision {obj.id} is {before}: it cannot change ({sorted(changed)})")
    for obj in list(session.new) + list(session.deleted):
        if isinstance(obj, RevisionFile):
            revision = session.get(Revision, obj.revision_id)
            if revision is not None and _committed_status(revision) in FROZEN:
                raise FrozenRevision(f"the files of revision {revision.id} cannot change")
        if isinstance(obj, Revision) and obj in session.deleted and _committed_status(obj) in FROZEN:
            raise FrozenRevision(f"revision {obj.id} cannot be deleted")


event.listen(Session, "before_flush", _guard_frozen)
