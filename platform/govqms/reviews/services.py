"""The management review: inputs compiled from the records (not retyped), decisions, confirmation.

``compile_inputs`` gathers what ISO 9001 clause 9.3.2 asks for, from the same services the pages
use, so the numbers in the review are the numbers on the objectives, audits and actions pages.
The result is stored with the review as a dated snapshot the meeting annotates.
"""
from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from govqms.audits.models import Audit, AuditStatus, Finding, FindingType
from govqms.core.clock import today
from govqms.core.errors import Refused
from govqms.core.uploads import CheckedFile
from govqms.documents.models import Document, DocumentStatus, Revision, RevisionStatus
from govqms.extensions import db
from govqms.improvement.models import Action, ActionStatus, NcStatus, Nonconformity, Risk
from govqms.improvement.services import action_counts
from govqms.legal.models import LegalChange
from govqms.legal.services import LegalStatus, status as legal_status
from govqms.objectives import services as objectives
from govqms.objectives.valuation import AgencyValuation, valuate
from govqms.reviews.models import ManagementReview
from govqms.signatures.services import attach_signed_pdf

SECTIONS = ("previous_actions", "changes", "objectives", "satisfaction", "service_results", "audits",
            "nonconformities", "risks", "resources", "improvement")


def _objectives(tenant_id: int, year: int, valued: AgencyValuation) -> dict:
    items = objectives.objectives_of_year(tenant_id, year)
    judgements = valued.judgements()
    return {"total": valued.objectives_total, **{str(k): n for k, n in valued.status_counts().items()},
            "items": [{"statement": o.statement, "target": f"{o.comparator} {o.target:g} {o.unit_of_measure}".strip(),
                       "latest": judgements[o.id].latest_value, "achievement": judgements[o.id].achievement,
                       "status": judgements[o.id].status, "reason": judgements[o.id].reason}
                      for o in items if o.id in judgements]}


def _service(valued: AgencyValuation) -> dict:
    service = valued.service
    return {"received": service.received, "early": service.early, "on_time": service.on_time, "late": service.late,
            "pending": service.pending, "on_time_rate": valued.on_time_rate}


def _satisfaction(valued: AgencyValuation) -> dict:
    return {"responses": valued.satisfaction.responses, "satisfied": valued.satisfaction.satisfied,
            "rate": valued.satisfaction_rate}


def _audits(tenant_id: int, year: int) -> dict:
    audits = db.session.scalars(select(Audit).where(Audit.tenant_id == tenant_id, Audit.year == year,
                                                    Audit.archived_at.is_(None))).all()
    findings = dict(db.session.execute(
        select(Finding.type, func.count()).join(Audit, (Audit.id == Finding.audit_id)
                                               & (Audit.tenant_id == Finding.tenant_id))
        .where(Finding.tenant_id == tenant_id, Audit.year == year).group_by(Finding.type)).all())
    return {"planned": len(audits), "reported": sum(1 for a in audits if a.status == AuditStatus.REPORTED),
            "findings": {t.value: int(findings.get(t.value, 0)) for t in FindingType}}


def _nonconformities(tenant_id: int, year: int, on: dt.date) -> dict:
    by_status = dict(db.session.execute(
        select(Nonconformity.status, func.count()).where(Nonconformity.tenant_id == tenant_id)
        .group_by(Nonconformity.status)).all())
    found = db.session.scalar(select(func.count()).select_from(Nonconformity).where(
        Nonconformity.tenant_id == tenant_id, func.extract("year", Nonconformity.found_on) == year))
    return {"found_this_year": found, "by_status": {s.value: int(by_status.get(s.value, 0)) for s in NcStatus},
            **action_counts(tenant_id, on)}


def _previous_actions(tenant_id: int, year: int, before: dt.date, on: dt.date) -> dict:
    previous = db.session.scalar(select(ManagementReview).where(
        ManagementReview.tenant_id == tenant_id, ManagementReview.meeting_on < before)
        .order_by(ManagementReview.meeting_on.desc()))
    if previous is None:
        return {"review": None, "total": 0, "done": 0, "open": 0, "overdue": 0}
    actions = db.session.scalars(select(Action).where(Action.tenant_id == tenant_id,
                                                      Action.review_id == previous.id)).all()
    return {"review": previous.meeting_on.isoformat(), "total": len(actions),
            "done": sum(1 for a in actions if a.status == ActionStatus.DONE),
            "open": sum(1 for a in actions if a.status == ActionStatus.OPEN),
            "overdue": sum(1 for a in actions if a.overdue(on))}


def _changes(tenant_id: int, year: int, on: dt.date) -> dict:
    issued = db.session.scalar(select(func.count()).select_from(Revision).where(
        Revision.tenant_id == tenant_id, Revision.status.in_([RevisionStatus.EFFECTIVE, RevisionStatus.SUPERSEDED]),
        func.extract("year", Revision.effective_on) == year))
    overdue_reviews = db.session.scalar(select(func.count()).select_from(Document).where(
        Document.tenant_id == tenant_id, Document.status == DocumentStatus.EFFECTIVE, Document.next_review_on < on))
    changes = db.session.scalars(select(LegalChange).where(LegalChange.tenant_id == tenant_id,
                                                           LegalChange.archived_at.is_(None))).all()
    this_year = [c for c in changes if c.effective_on.year == year]
    return {"revisions_issued": issued, "document_reviews_overdue": overdue_reviews,
            "legal_changes": len(this_year),
            "legal_overdue": sum(1 for c in changes if legal_status(c, on) == LegalStatus.OVERDUE)}


def _risks(tenant_id: int) -> dict:
    risks = db.session.scalars(select(Risk).where(Risk.tenant_id == tenant_id, Risk.archived_at.is_(None))).all()
    return {"total": len(risks), "high": sum(1 for r in risks if r.band == "high"),
            "medium": sum(1 for r in risks if r.band == "medium"), "low": sum(1 for r in risks if r.band == "low"),
            "opportunities": sum(1 for r in risks if r.kind == "opportunity")}


def compile_inputs(tenant_id: int, year: int, meeting_on: dt.date, on: dt.date | None = None) -> dict:
    on = on or today()
    valued = valuate([tenant_id], year, on)[tenant_id]
    return {
        "compiled_on": on.isoformat(),
        "year": year,
        "previous_actions": _previous_actions(tenant_id, year, meeting_on, on),
        "changes": _changes(tenant_id, year, on),
        "objectives": _objectives(tenant_id, year, valued),
        "satisfaction": _satisfaction(valued),
        "service_results": _service(valued),
        "audits": _audits(tenant_id, year),
        "nonconformities": _nonconformities(tenant_id, year, on),
        "risks": _risks(tenant_id),
    }


class ReviewRefused(Refused):
    """The step is not allowed for the review as it stands."""


def create_review(tenant_id: int, *, year: int, meeting_on: dt.date, chair: str, attendees: str) -> ManagementReview:
    """A review recorded with a meeting day that has passed was held that day; a later one is planned."""
    review = ManagementReview(tenant_id=tenant_id, year=year, meeting_on=meeting_on, chair=chair, attendees=attendees,
                              held_on=meeting_on if meeting_on <= today() else None,
                              inputs=compile_inputs(tenant_id, year, meeting_on), inputs_compiled_on=today(),
                              notes={})
    db.session.add(review)
    db.session.flush()
    return review


def save_notes(review: ManagementReview, notes: dict[str, str], conclusion: str) -> ManagementReview:
    """The minutes: a note per section of the inputs (others dropped), and the conclusion."""
    review.notes = {section: (notes.get(section) or "").strip()[:5000] for section in SECTIONS}
    review.conclusion = conclusion
    db.session.flush()
    return review


def recompile(review: ManagementReview) -> ManagementReview:
    review.inputs = compile_inputs(review.tenant_id, review.year, review.meeting_on)
    review.inputs_compiled_on = today()
    db.session.flush()
    return review


def hold(review: ManagementReview, held_on: dt.date) -> ManagementReview:
    """Record that the planned meeting took place on *held_on* (not a day still to come)."""
    if review.held_on is not None:
        raise ReviewRefused(_l("This management review is already recorded as held."))
    if held_on > today():
        raise ReviewRefused(_l("A meeting cannot be recorded as held on a day still to come."))
    review.held_on = held_on
    db.session.flush()
    return review


def confirm_effectiveness(review: ManagementReview, user_id: int, on: dt.date | None = None) -> ManagementReview:
    """The head confirms the QMS effective for the review's year, at or after the meeting."""
    on = on or today()
    if review.held_on is None or review.held_on > on:
        raise ReviewRefused(_l("The effectiveness can be confirmed once the management review has been held."))
    review.effectiveness_confirmed, review.confirmed_by_id, review.confirmed_on = True, user_id, on
    db.session.flush()
    return review


def attach_signed_minutes(review: ManagementReview, file: CheckedFile) -> ManagementReview:
    """The minutes of the meeting as the chair signed them digitally (a PDF, replacing one uploaded
    before): kept, and their signatures verified (commits, with the job that verifies them)."""
    if review.held_on is None:
        raise ReviewRefused(_l("The signed minutes are uploaded once the management review has been held."))
    attach_signed_pdf(review, file)
    return review


def confirmed_years(tenant_id: int) -> set[int]:
    return set(db.session.scalars(select(ManagementReview.year).where(
        ManagementReview.tenant_id == tenant_id, ManagementReview.effectiveness_confirmed.is_(True))))


def reviews_of(tenant_id: int) -> list[ManagementReview]:
    return list(db.session.scalars(select(ManagementReview).where(ManagementReview.tenant_id == tenant_id)
                                   .order_by(ManagementReview.meeting_on.desc())))


def decisions_of(review: ManagementReview) -> list[Action]:
    """The actions the review decided, with their owners."""
    return list(db.session.scalars(select(Action).where(Action.tenant_id == review.tenant_id,
                                                        Action.review_id == review.id)
                                   .options(selectinload(Action.owner)).order_by(Action.id)))
