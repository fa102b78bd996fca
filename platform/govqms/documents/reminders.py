"""What documents remind people of: periodic reviews coming due."""
from __future__ import annotations

from sqlalchemy import select

from govqms.documents.models import Document, DocumentStatus
from govqms.extensions import db
from govqms.notifications.reminders import Due, due_source


@due_source("document_review")
def _document_reviews(ids, today, until):
    for document in db.session.scalars(select(Document).where(
            Document.tenant_id.in_(ids), Document.status == DocumentStatus.EFFECTIVE,
            Document.next_review_on.is_not(None), Document.next_review_on <= until)):
        yield Due("document_review", f"document-review:{document.id}:{document.next_review_on.isoformat()}",
                  document.tenant_id, document.next_review_on, {"title": str(document)},
                  ("documents.detail", {"document_id": document.id}))
