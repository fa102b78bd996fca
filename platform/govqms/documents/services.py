"""The document workflow: draft → in review → approved → effective, periodic review, obsolescence.

Who may act is checked twice: the view asks the permission module for the action, and the
service refuses what no role may do (approving one's own draft, changing a frozen revision).
Every change goes through the session, so the activity log records it; the step names
(submit, review, approve…) are attached with ``activity.label``.
"""
from __future__ import annotations

import datetime as dt
from typing import Callable

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import selectinload

from govqms.core import activity
from govqms.core.activity import ActivityEntry
from govqms.core.clock import add_months, today
from govqms.core.db import utcnow, vi_order
from govqms.core.errors import Refused
from govqms.core.listing import ordering, page_of
from govqms.core.storage import get_storage
from govqms.core.text import fold, search_terms
from govqms.core.uploads import CheckedFile
from govqms.documents.models import (
    Document,
    DocumentReview,
    DocumentStatus,
    ReviewOutcome,
    Revision,
    RevisionFile,
    RevisionStatus,
)
from govqms.extensions import db
from govqms.signatures.services import request_check_of_upload
from govqms.webhooks.services import emit

OPEN = (RevisionStatus.DRAFT, RevisionStatus.IN_REVIEW, RevisionStatus.APPROVED)


class WorkflowRefused(Refused):
    """The step is not allowed now; the message says why, in the user's language."""


#: Records of other packages that refer to a document, shown on its page: each package registers a
#: function (document → records) under the name its part of the page reads (documents import none).
RELATED: dict[str, Callable[[Document], list]] = {}


def related(name: str):
    def decorator(func: Callable[[Document], list]) -> Callable[[Document], list]:
        RELATED[name] = func
        return func

    return decorator


def related_to(document: Document) -> dict[str, list]:
    return {name: func(document) for name, func in RELATED.items()}


def _refresh_derived(document: Document) -> None:
    document.search_key = fold(f"{document.code} {document.title}")
    if document.status == DocumentStatus.OBSOLETE or document.effective_on is None:
        document.next_review_on = None
        return
    base = max(filter(None, (document.effective_on, document.last_reviewed_on)))
    document.next_review_on = add_months(base, document.review_interval_months)


# --- documents -------------------------------------------------------------------------------

def code_taken(tenant_id: int, code: str, except_id: int | None = None) -> bool:
    query = select(func.count()).select_from(Document).where(Document.tenant_id == tenant_id,
                                                              Document.code == code)
    if except_id is not None:
        query = query.where(Document.id != except_id)
    return db.session.scalar(query) > 0


def form_problems(tenant_id: int, data: dict, document: Document | None = None) -> dict[str, str]:
    """What the register's rules refuse in a document's form (loaded by ``DocumentSchema``), by field:
    an owner unit not one of the agency's active units, a code another document uses."""
    from govqms.tenancy.services import active_units

    if data["owner_unit_id"] is not None and data["owner_unit_id"] not in {u.id for u in active_units(tenant_id)}:
        return {"owner_unit_id": str(_l("Choose a unit from the list."))}
    if code_taken(tenant_id, data["code"], except_id=document.id if document else None):
        return {"code": str(_l("Another document already uses this code."))}
    return {}


def create_document(tenant_id: int, *, code: str, title: str, kind: str, owner_unit_id: int | None,
                    review_interval_months: int, drafter_id: int | None) -> Document:
    """A new document with its first revision as a draft."""
    document = Document(tenant_id=tenant_id, code=code, title=title, kind=kind, owner_unit_id=owner_unit_id,
                        review_interval_months=review_interval_months)
    _refresh_derived(document)
    db.session.add(document)
    db.session.flush()
    db.session.add(Revision(tenant_id=tenant_id, document_id=document.id, number=1, drafter_id=drafter_id))
    db.session.flush()
    return document


def update_document(document: Document, **values) -> Document:
    if document.status == DocumentStatus.OBSOLETE:
        raise WorkflowRefused(_l("An obsolete document cannot be changed."))
    for key, value in values.items():
        setattr(document, key, value)
    _refresh_derived(document)
    db.session.flush()
    return document


def open_revision(document: Document) -> Revision | None:
    return next((r for r in document.revisions if r.status in OPEN), None)


def current_revision(document: Document) -> Revision | None:
    return next((r for r in document.revisions if r.id == document.current_revision_id), None)


def new_draft(document: Document, drafter_id: int | None) -> Revision:
    if document.status == DocumentStatus.OBSOLETE:
        raise WorkflowRefused(_l("An obsolete document cannot be revised."))
    if open_revision(document) is not None:
        raise WorkflowRefused(_l("Revision %(n)s is still open: finish it first.", n=open_revision(document).number))
    number = max((r.number for r in document.revisions), default=0) + 1
    revision = Revision(tenant_id=document.tenant_id, document_id=document.id, number=number, drafter_id=drafter_id)
    db.session.add(revision)
    db.session.flush()
    db.session.refresh(document, ["revisions"])
    return revision


def _require(revision: Revision, *statuses: str) -> None:
    if revision.status not in statuses:
        raise WorkflowRefused(_l("Revision %(n)s is %(status)s: this step is not possible now.",
                                 n=revision.number, status=revision.status))


def update_draft(revision: Revision, *, change_summary: str, effective_on: dt.date | None) -> Revision:
    _require(revision, RevisionStatus.DRAFT)
    revision.change_summary, revision.effective_on = change_summary, effective_on
    db.session.flush()
    return revision


def add_file(revision: Revision, checked: CheckedFile) -> RevisionFile:
    _require(revision, RevisionStatus.DRAFT)
    key = get_storage().put(revision.tenant_id, checked.data)
    stored = RevisionFile(tenant_id=revision.tenant_id, revision_id=revision.id, filename=checked.filename,
                          mimetype=checked.mimetype, size=checked.size, sha256=checked.sha256, storage_key=key)
    db.session.add(stored)
    db.session.flush()
    db.session.expire(revision, ["files"])  # a read-only relationship: reload it on next use
    # a signed PDF: its signatures are verified (commits the file with the job that does it)
    request_check_of_upload(revision.tenant_id, key, checked.filename)
    return stored


def remove_file(revision: Revision, stored: RevisionFile) -> None:
    _require(revision, RevisionStatus.DRAFT)
    db.session.delete(stored)  # the bytes stay in storage: another revision may share them
    db.session.flush()
    db.session.expire(revision, ["files"])


def submit(revision: Revision, user_id: int) -> Revision:
    _require(revision, RevisionStatus.DRAFT)
    if not revision.files:
        raise WorkflowRefused(_l("Attach the document's file before sending it for review."))
    if revision.number > 1 and not revision.change_summary.strip():
        raise WorkflowRefused(_l("Describe what changed in this revision."))
    revision.status, revision.submitted_at = RevisionStatus.IN_REVIEW, utcnow()
    revision.drafter_id = revision.drafter_id or user_id
    activity.label(revision, "submit")
    db.session.flush()
    return revision


def _not_the_drafter(revision: Revision, user_id: int, step) -> None:
    if revision.drafter_id == user_id:
        raise WorkflowRefused(step)


def record_review(revision: Revision, user_id: int, comment: str = "") -> Revision:
    _require(revision, RevisionStatus.IN_REVIEW)
    _not_the_drafter(revision, user_id, _l("The drafter cannot review their own draft."))
    revision.reviewer_id, revision.reviewed_at = user_id, utcnow()
    revision.review_comment = comment or revision.review_comment
    activity.label(revision, "review", note=comment or None)
    db.session.flush()
    return revision


def return_to_draft(revision: Revision, user_id: int, comment: str) -> Revision:
    _require(revision, RevisionStatus.IN_REVIEW)
    if not comment.strip():
        raise WorkflowRefused(_l("Say what must change before returning the draft."))
    revision.status, revision.review_comment = RevisionStatus.DRAFT, comment
    revision.reviewer_id = revision.reviewed_at = None
    activity.label(revision, "return", note=comment)
    db.session.flush()
    return revision


def approve(revision: Revision, user_id: int, effective_on: dt.date) -> Revision:
    _require(revision, RevisionStatus.IN_REVIEW)
    _not_the_drafter(revision, user_id, _l("No one may approve their own draft."))
    if revision.reviewer_id is None:
        raise WorkflowRefused(_l("The revision must be reviewed before it is approved."))
    revision.status, revision.approver_id, revision.approved_at = RevisionStatus.APPROVED, user_id, utcnow()
    revision.effective_on = effective_on
    activity.label(revision, "approve")
    db.session.flush()
    if effective_on <= today():
        make_effective(revision)
    return revision


def make_effective(revision: Revision) -> Revision:
    _require(revision, RevisionStatus.APPROVED)
    if revision.effective_on > today():
        raise WorkflowRefused(_l("This revision takes effect on %(date)s.",
                                 date=revision.effective_on.strftime("%d/%m/%Y")))
    document = revision.document
    for other in document.revisions:
        if other.status == RevisionStatus.EFFECTIVE and other.id != revision.id:
            other.status = RevisionStatus.SUPERSEDED
            activity.label(other, "supersede")
    revision.status = RevisionStatus.EFFECTIVE
    activity.label(revision, "take_effect")
    document.status, document.current_revision_id = DocumentStatus.EFFECTIVE, revision.id
    document.effective_on, document.last_reviewed_on = revision.effective_on, None
    _refresh_derived(document)
    db.session.flush()
    emit("document.effective", tenant_id=document.tenant_id, data=lambda links: {"document": {
        "id": document.id, "code": document.code, "title": document.title, "revision": revision.number,
        "effective_on": revision.effective_on.isoformat(), "url": links.agency("documents.detail",
                                                                               document_id=document.id)}})
    return revision


def activate_due(tenant_id: int) -> int:
    """Approved revisions whose effective date has come take effect (the daily job)."""
    due = db.session.scalars(select(Revision).where(Revision.tenant_id == tenant_id,
                                                    Revision.status == RevisionStatus.APPROVED,
                                                    Revision.effective_on <= today())).all()
    for revision in due:
        make_effective(revision)
    return len(due)


def make_obsolete(document: Document, on: dt.date, reason: str) -> Document:
    if document.status == DocumentStatus.OBSOLETE:
        raise WorkflowRefused(_l("The document is already obsolete."))
    if open_revision(document) is not None and open_revision(document).status != RevisionStatus.DRAFT:
        raise WorkflowRefused(_l("Finish or return revision %(n)s first.", n=open_revision(document).number))
    document.status, document.obsolete_on = DocumentStatus.OBSOLETE, on
    activity.label(document, "obsolete", note=reason or None)
    _refresh_derived(document)
    db.session.flush()
    return document


def conclude_review(document: Document, user_id: int, *, outcome: str, on: dt.date, note: str) -> DocumentReview:
    """A periodic review: "no change" moves the next review date; "revise" opens a new draft."""
    if document.status != DocumentStatus.EFFECTIVE:
        raise WorkflowRefused(_l("Only a document in force is reviewed periodically."))
    review = DocumentReview(tenant_id=document.tenant_id, document_id=document.id, reviewed_on=on,
                            reviewer_id=user_id, outcome=outcome, note=note)
    db.session.add(review)
    if outcome == ReviewOutcome.NO_CHANGE:
        document.last_reviewed_on = on
        _refresh_derived(document)
    else:
        new_draft(document, user_id)
    db.session.flush()
    return review


# --- the register ------------------------------------------------------------------------------

REGISTER_ORDERINGS = {
    "code": (Document.code,),
    "title": (vi_order(Document.title), Document.code),
    "effective": (Document.effective_on.desc(), Document.code),
    "review": (Document.next_review_on, Document.code),
}


def register_query(tenant_id: int, *, q: str | None = None, kind: str | None = None, unit_id: int | None = None,
                   status: str | None = None, review_overdue: bool = False, sort: str = "code"):
    query = select(Document).where(Document.tenant_id == tenant_id)
    for term in search_terms(q):
        query = query.where(Document.search_key.contains(term, autoescape=True))
    if kind:
        query = query.where(Document.kind == kind)
    if unit_id:
        query = query.where(Document.owner_unit_id == unit_id)
    if status:
        query = query.where(Document.status == status)
    if review_overdue:
        query = query.where(Document.next_review_on < today())
    return ordering(query, sort, REGISTER_ORDERINGS)


def register_page(tenant_id: int, args: dict, per_page: int = 25):
    """A page of the register filtered by *args* (a loaded ``DocumentFilter``), each document with its
    owner unit and revisions."""
    query = register_query(tenant_id, q=args["q"], kind=args["kind"], unit_id=args["unit_id"],
                           status=args["status"], review_overdue=args["review_overdue"], sort=args["sort"])
    return page_of(query.options(selectinload(Document.owner_unit), selectinload(Document.revisions)), args,
                   per_page=per_page)


def revision_of(document: Document, revision_id: int) -> Revision | None:
    """The revision *revision_id* if it is one of *document*'s."""
    return next((r for r in document.revisions if r.id == revision_id), None)


def overdue_reviews(tenant_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Document).where(
        Document.tenant_id == tenant_id, Document.status == DocumentStatus.EFFECTIVE,
        Document.next_review_on < today()))


def documents_matching(tenant_id: int, text: str) -> list[Document]:
    """For pickers: documents whose code or title contains *text* (folded)."""
    terms = search_terms(text)
    query = select(Document).where(Document.tenant_id == tenant_id, Document.status != DocumentStatus.OBSOLETE)
    if terms:
        query = query.where(or_(*[Document.search_key.contains(t, autoescape=True) for t in terms]))
    return list(db.session.scalars(query.order_by(Document.code).limit(50)))


def reviews_of(document: Document) -> list[DocumentReview]:
    """The document's periodic reviews, newest first."""
    return list(db.session.scalars(select(DocumentReview).where(DocumentReview.document_id == document.id,
                                                              DocumentReview.tenant_id == document.tenant_id)
                                   .order_by(DocumentReview.reviewed_on.desc())))


def history_of(document: Document) -> list[ActivityEntry]:
    revision_ids = [str(r.id) for r in document.revisions]
    return db.session.scalars(
        select(ActivityEntry).where(ActivityEntry.tenant_id == document.tenant_id, or_(
            and_(ActivityEntry.entity == "document", ActivityEntry.entity_id == str(document.id)),
            and_(ActivityEntry.entity == "document_revision", ActivityEntry.entity_id.in_(revision_ids)),
        )).order_by(ActivityEntry.at.desc(), ActivityEntry.id.desc()).limit(200)).all()
