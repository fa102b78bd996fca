"""The records catalogue: listing and keeping its entries."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from govqms.core.db import save_record, vi_order
from govqms.core.listing import page_of
from govqms.documents.models import Document
from govqms.extensions import db
from govqms.records.models import RecordEntry


def list_query(tenant_id: int, archived: bool):
    return (select(RecordEntry).where(RecordEntry.tenant_id == tenant_id,
                                      RecordEntry.archived_at.is_not(None) if archived
                                      else RecordEntry.archived_at.is_(None))
            .options(selectinload(RecordEntry.document), selectinload(RecordEntry.keeper_unit))
            .order_by(vi_order(RecordEntry.name)))


def entries_page(tenant_id: int, args: dict, per_page: int = 50):
    """A page of the catalogue by name: its current entries, or the archived ones (``args["archived"]``)."""
    return page_of(list_query(tenant_id, args["archived"]), args, per_page=per_page)


def documents_of(tenant_id: int) -> list[Document]:
    """The documents a record may belong to, by code."""
    return list(db.session.scalars(select(Document).where(Document.tenant_id == tenant_id).order_by(Document.code)))


def form_problems(data: dict, documents: list, units: list) -> dict[str, str]:
    """What the catalogue refuses in an entry's form (loaded by ``RecordEntrySchema``), by field: a
    document or keeper unit not among the choices the form offered (the agency's)."""
    if data["document_id"] is not None and data["document_id"] not in {d.id for d in documents}:
        return {"document_id": str(_l("Choose a document from the list."))}
    if data["keeper_unit_id"] is not None and data["keeper_unit_id"] not in {u.id for u in units}:
        return {"keeper_unit_id": str(_l("Choose a unit from the list."))}
    return {}


def save(tenant_id: int, entry: RecordEntry | None, data: dict) -> RecordEntry:
    return save_record(entry or RecordEntry(tenant_id=tenant_id), data)
