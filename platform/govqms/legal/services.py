from __future__ import annotations

import datetime as dt
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from govqms.core.clock import add_months, today
from govqms.core.listing import page_of
from govqms.documents.models import Document, DocumentStatus
from govqms.extensions import db
from govqms.legal.models import UPDATE_WITHIN_MONTHS, LegalChange, LegalChangeDocument


class LegalStatus(StrEnum):
    APPLIED = "applied"    # the QMS was updated in time
    LATE = "late"          # updated, but after the deadline
    PENDING = "pending"    # not yet, still within the deadline
    OVERDUE = "overdue"    # not yet, and the deadline has passed


STATUS_LABELS = {
    LegalStatus.APPLIED: _l("Applied in time"),
    LegalStatus.LATE: _l("Applied late"),
    LegalStatus.PENDING: _l("To apply"),
    LegalStatus.OVERDUE: _l("Overdue"),
}


def deadline(change: LegalChange) -> dt.date:
    return add_months(change.effective_on, UPDATE_WITHIN_MONTHS)


def status(change: LegalChange, on: dt.date | None = None) -> LegalStatus:
    on = on or today()
    if change.qms_updated_on is not None:
        return LegalStatus.APPLIED if change.qms_updated_on <= deadline(change) else LegalStatus.LATE
    return LegalStatus.OVERDUE if on > deadline(change) else LegalStatus.PENDING


def save(change: LegalChange, document_ids: list[int], **values) -> LegalChange:
    for key, value in values.items():
        setattr(change, key, value)
    if change.id is None:
        db.session.add(change)
        db.session.flush()
    current = {link.document_id: link for link in db.session.scalars(
        select(LegalChangeDocument).where(LegalChangeDocument.tenant_id == change.tenant_id,
                                          LegalChangeDocument.legal_change_id == change.id))}
    for document_id in set(document_ids) - current.keys():
        db.session.add(LegalChangeDocument(tenant_id=change.tenant_id, legal_change_id=change.id,
                                           document_id=document_id))
    for document_id in current.keys() - set(document_ids):
        db.session.delete(current[document_id])  # a link, not a record: the change itself keeps its history
    db.session.flush()
    return change


def list_query(tenant_id: int):
    """The agency's legal changes not archived, newest first, with the documents each touches."""
    return (select(LegalChange).where(LegalChange.tenant_id == tenant_id, LegalChange.archived_at.is_(None))
            .options(selectinload(LegalChange.links).selectinload(LegalChangeDocument.document))
            .order_by(LegalChange.effective_on.desc(), LegalChange.id.desc()))


def changes_page(tenant_id: int, args: dict, per_page: int = 50):
    """A page of the agency's legal changes, newest first."""
    return page_of(list_query(tenant_id), args, per_page=per_page)


def documents_in_force(tenant_id: int) -> list[Document]:
    """The documents a legal change may touch: every one not obsolete, by code."""
    return list(db.session.scalars(select(Document).where(Document.tenant_id == tenant_id,
                                                          Document.status != DocumentStatus.OBSOLETE)
                                   .order_by(Document.code)))
