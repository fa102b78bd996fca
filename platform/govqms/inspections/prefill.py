"""The inspection checklist pre-filled from the agency's records.

``prefill`` suggests, for each item of the checklist, a result and a note citing its evidence with
dates and counts, judged on the inspection's day. The inspector confirms or changes each; what is
saved is what the minutes form submits, and a checklist once signed is never recomputed.

Sources fill the items, each item from one source. The compliance engine registers the items its
checks judge (declaration, re-declaration, edition, audits, reviews and overdue actions, the head's
confirmation, legal changes, consultant), so they say what the agency's status page says
(``compliance`` sits above this package: it registers here, it is not imported). This module reads
what no rule covers: the previous inspection and the nonconformities its findings raised, the
procedures catalogue, training records, complaints, service results, improvement decisions and the
management review. Each source costs a fixed number of queries, whatever the number of records.
An item no source can judge is left empty, with a note saying what to check on site.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, or_, select

from govqms.competence.models import Qualification, QualificationKind, StaffProfile
from govqms.core.clock import VIETNAM, add_months, today
from govqms.core.db import in_ids
from govqms.core.i18n import format_date
from govqms.extensions import db
from govqms.improvement.models import Action, DecisionCategory, NcSource, NcStatus, Nonconformity
from govqms.inspections import services
from govqms.inspections.checklist import ART36_KEYS
from govqms.inspections.models import REPORT_WITHIN_MONTHS, Inspection, InspectionStatus
from govqms.objectives.valuation import valuate
from govqms.procedures.models import AdminProcedure
from govqms.reviews.models import ManagementReview
from govqms.tenancy.models import Tenant

MET, NOT_MET, NOT_APPLICABLE, ON_SITE = "met", "not_met", "not_applicable", ""


@dataclass(frozen=True)
class Suggestion:
    #: a key of ``checklist.RESULTS``, or "" when the records cannot tell: the inspectors judge on site
    result: str
    note: str


Source = Callable[[Inspection, Tenant, dt.date], dict[str, Suggestion]]
_SOURCES: dict[str, Source] = {}

#: What to check on site for an item the records do not settle.
CHECK_ON_SITE = {
    "scope": _l("Check on site that the QMS covers every administrative procedure the agency handles."),
    "training": _l("Check on site that the staff were trained on the current QMS documents."),
    "conformity": _l("Check on site the quality policy, the objectives and the procedures against the standard."),
    "processes": _l("Check on site, on a sample of dossiers, that the processes run as documented."),
    "review_audit_capa": _l("Check on site the reports of the internal audit and the management review."),
    "previous_actions": _l("Check on site the corrective actions taken after the previous inspection."),
    "complaints": _l("Check on site how the complaints received were handled."),
    "improvement": _l("Check on site the improvements made to the QMS."),
    "leadership": _l("Check on site how the leadership takes part in the QMS."),
    "confirmation": _l("Check on site the head's confirmation of the effectiveness of the QMS."),
    "declaration": _l("Check on site the declaration, its notification to the DOST, its posting and publication."),
    "legal_updates": _l("Check on site that changes to the legal texts were applied to the QMS."),
    "redeclaration": _l("Check on site whether the scope changed since the declaration."),
    "consultant": _l("Check on site whether a consultant was engaged and held a valid card."),
}


def suggestion_source(source: Source) -> Source:
    """Register *source*: ``(inspection, agency, day) -> {item key: Suggestion}`` for the items it judges."""
    _SOURCES[f"{source.__module__}.{source.__qualname__}"] = source
    return source


def judged_on(inspection: Inspection) -> dt.date:
    """The day the checklist is judged on: the inspection's day, or its first planned day, or today."""
    return inspection.held_on or inspection.planned_start or today()


def prefill(inspection: Inspection, tenant: Tenant, on: dt.date) -> dict[str, Suggestion]:
    """Each item of the checklist, in its order, with the suggestion the agency's records give on *on*."""
    found: dict[str, Suggestion] = {}
    for source in _SOURCES.values():
        found.update(source(inspection, tenant, on))
    return {key: found.get(key) or Suggestion(ON_SITE, str(CHECK_ON_SITE[key])) for key in ART36_KEYS}


def _sentences(*parts) -> str:
    return " ".join(str(part) for part in parts if part)


def _end_of(day: dt.date) -> dt.datetime:
    """Midnight after *day* in Vietnam, to compare with timestamps."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), VIETNAM)


# --- the previous inspection's corrective actions ---------------------------------------------------

def _settled(status: str, verified_on: dt.date | None, on: dt.date) -> bool:
    """Verified effective by *on* (a closed nonconformity was verified first)."""
    return status in (NcStatus.VERIFIED, NcStatus.CLOSED) and verified_on is not None and verified_on <= on


@suggestion_source
def previous_actions(inspection: Inspection, tenant: Tenant, on: dt.date) -> dict[str, Suggestion]:
    """The latest earlier inspection whose minutes were signed by *on*: its corrective-action report
    (received by its due date, accepted) and the nonconformities its findings raised (verified effective)."""
    earlier = [i for i, _plan in services.inspections_of(tenant.id)
               if i.id != inspection.id and i.minutes_on is not None and i.minutes_on <= on]
    if not earlier:
        return {"previous_actions": Suggestion(NOT_APPLICABLE, str(_l(
            "No earlier inspection of the agency is recorded.")))}
    previous = max(earlier, key=lambda i: (i.minutes_on, i.id))
    due = previous.report_due_on or add_months(previous.minutes_on, REPORT_WITHIN_MONTHS)
    received, decided = (day if day is not None and day <= on else None
                         for day in (previous.report_received_on, previous.report_decided_on))
    parts = [_l("Previous inspection: minutes signed on %(minutes)s, corrective-action report due by %(due)s.",
                minutes=format_date(previous.minutes_on), due=format_date(due))]
    gap = pending = False
    if received is None:
        gap, pending = due < on, due >= on
        parts.append(_l("No report received by %(date)s.", date=format_date(on)))
    else:
        gap = received > due
        parts.append(_l("Report received on %(date)s, after its due date.", date=format_date(received)) if gap else
                     _l("Report received on %(date)s, on time.", date=format_date(received)))
        if decided is not None and previous.status == InspectionStatus.ACCEPTED:
            parts.append(_l("Accepted on %(date)s.", date=format_date(decided)))
        elif decided is not None and previous.status == InspectionStatus.NOT_ACCEPTED:
            gap = True
            parts.append(_l("Not accepted on %(date)s.", date=format_date(decided)))
        else:
            pending = True
            parts.append(_l("Its acceptance is awaited."))
    nc_ids = [finding["nc_id"] for finding in previous.findings if finding.get("nc_id")]
    ncs = db.session.execute(select(Nonconformity.status, Nonconformity.verified_on, Nonconformity.due_on).where(
        Nonconformity.tenant_id == tenant.id, in_ids(Nonconformity.id, nc_ids))).all() if nc_ids else []
    if not ncs:
        parts.append(_l("Its minutes raised no nonconformity."))
    else:
        still_open = [due_on for status, verified_on, due_on in ncs if not _settled(status, verified_on, on)]
        parts.append(_l("%(n)s nonconformity(ies) raised by its findings: %(settled)s verified effective.",
                        n=len(ncs), settled=len(ncs) - len(still_open)))
        if still_open:
            gap = True
            parts.append(_l("%(open)s still open, %(late)s of them past their due date.", open=len(still_open),
                            late=sum(1 for due_on in still_open if due_on is not None and due_on < on)))
    result = NOT_MET if gap else ON_SITE if pending else MET
    return {"previous_actions": Suggestion(result, _sentences(*parts))}


# --- what the records of other domains show ---------------------------------------------------------

@suggestion_source
def catalogue(inspection: Inspection, tenant: Tenant, on: dt.date) -> dict[str, Suggestion]:
    """The scope: each administrative procedure of the catalogue on *on* covered by a work procedure."""
    until = _end_of(on)
    total, uncovered = db.session.execute(
        select(func.count(), func.coalesce(func.sum(case((AdminProcedure.work_procedure_id.is_(None), 1), else_=0)), 0))
        .where(AdminProcedure.tenant_id == tenant.id, AdminProcedure.created_at < until,
               or_(AdminProcedure.archived_at.is_(None), AdminProcedure.archived_at >= until))).one()
    if not total:
        return {"scope": Suggestion(ON_SITE, _sentences(_l(
            "No administrative procedure is in the agency's catalogue on %(date)s.", date=format_date(on)),
            CHECK_ON_SITE["scope"]))}
    if uncovered:
        return {"scope": Suggestion(NOT_MET, str(_l(
            "The catalogue lists %(total)s administrative procedure(s) on %(date)s; %(n)s of them have no work "
            "procedure.", total=total, date=format_date(on), n=uncovered)))}
    return {"scope": Suggestion(MET, str(_l(
        "Each of the %(total)s administrative procedure(s) of the catalogue on %(date)s has a work procedure.",
        total=total, date=format_date(on))))}


@suggestion_source
def training(inspection: Inspection, tenant: Tenant, on: dt.date) -> dict[str, Suggestion]:
    """Staff trained in ISO 9001 awareness (the competence records), and the qualified internal auditors."""
    done = [Qualification.tenant_id == tenant.id, Qualification.archived_at.is_(None), Qualification.completed_on <= on]
    courses = {kind: (people, latest) for kind, people, latest in db.session.execute(
        select(Qualification.kind, func.count(Qualification.user_id.distinct()), func.max(Qualification.completed_on))
        .where(*done).group_by(Qualification.kind))}
    aware = select(Qualification.id).where(
        *done, Qualification.user_id == StaffProfile.user_id, Qualification.kind == QualificationKind.AWARENESS)
    staff, trained = db.session.execute(
        select(func.count(), func.coalesce(func.sum(case((aware.exists(), 1), else_=0)), 0))
        .where(StaffProfile.tenant_id == tenant.id)).one()
    if QualificationKind.AWARENESS not in courses:
        return {"training": Suggestion(ON_SITE, _sentences(_l(
            "No ISO 9001 awareness training is recorded by %(date)s.", date=format_date(on)),
            CHECK_ON_SITE["training"]))}
    people, latest = courses[QualificationKind.AWARENESS]
    auditors = courses.get(QualificationKind.INTERNAL_AUDITOR, (0, None))[0]
    evidence = [_l("%(n)s member(s) trained in ISO 9001 awareness, the latest course completed on %(date)s.",
                   n=people, date=format_date(latest)),
                _l("%(n)s qualified internal auditor(s).", n=auditors) if auditors else None]
    if staff and trained >= staff:
        return {"training": Suggestion(MET, _sentences(*evidence, _l(
            "Every one of the %(n)s staff on record is trained.", n=staff)))}
    return {"training": Suggestion(ON_SITE, _sentences(*evidence, _l(
        "%(trained)s of the %(n)s staff on record are trained.", trained=trained, n=staff),
        CHECK_ON_SITE["training"]))}


@suggestion_source
def complaints(inspection: Inspection, tenant: Tenant, on: dt.date) -> dict[str, Suggestion]:
    """Complaints recorded as nonconformities in the 12 months before *on*, or still open then."""
    since = add_months(on, -12)
    rows = db.session.execute(select(Nonconformity.found_on, Nonconformity.status, Nonconformity.verified_on,
                                     Nonconformity.due_on).where(
        Nonconformity.tenant_id == tenant.id, Nonconformity.source == NcSource.COMPLAINT,
        Nonconformity.found_on <= on)).all()
    counted = [(found, _settled(status, verified_on, on), due) for found, status, verified_on, due in rows]
    counted = [(settled, due) for found, settled, due in counted if found > since or not settled]
    if not counted:
        return {"complaints": Suggestion(ON_SITE, _sentences(_l(
            "No complaint is recorded as a nonconformity between %(since)s and %(date)s.",
            since=format_date(since), date=format_date(on)), CHECK_ON_SITE["complaints"]))}
    late = sum(1 for settled, due in counted if not settled and due is not None and due < on)
    note = _l("%(n)s complaint(s) recorded as nonconformities since %(since)s or still open: %(settled)s verified "
              "effective, %(late)s past their due date.", n=len(counted), since=format_date(since),
              settled=sum(1 for settled, _due in counted if settled), late=late)
    return {"complaints": Suggestion(NOT_MET if late else MET, str(note))}


@suggestion_source
def service_results(inspection: Inspection, tenant: Tenant, on: dt.date) -> dict[str, Suggestion]:
    """Dossiers resolved late in the year of *on* (the previous year early in a year without results yet):
    the same figures as the agency's dashboard and the provincial comparison."""
    for year in (on.year, on.year - 1):
        service = valuate([tenant.id], year, on)[tenant.id].service
        resolved = service.early + service.on_time + service.late
        if resolved:
            break
    else:
        return {"processes": Suggestion(ON_SITE, _sentences(_l(
            "No service results are recorded for %(last)s or %(year)s.", last=on.year - 1, year=on.year),
            CHECK_ON_SITE["processes"]))}
    note = _l("Service results of %(year)s: %(resolved)s dossier(s) resolved, %(late)s late (on-time rate "
              "%(rate)s %%).", year=year, resolved=resolved, late=service.late, rate=f"{service.on_time_rate:.1f}")
    return {"processes": Suggestion(NOT_MET if service.late else MET,
                                    _sentences(note, CHECK_ON_SITE["processes"]))}


def _reviews_held(tenant: Tenant, on: dt.date, since: dt.date | None = None):
    """The agency's management reviews held by *on* (and after *since*)."""
    held = and_(ManagementReview.tenant_id == tenant.id, ManagementReview.held_on.is_not(None),
                ManagementReview.held_on <= on)
    return held if since is None else and_(held, ManagementReview.held_on > since)


@suggestion_source
def improvement(inspection: Inspection, tenant: Tenant, on: dt.date) -> dict[str, Suggestion]:
    """Improvement decisions of the management reviews held in the 12 months before *on*, done or late."""
    since = add_months(on, -12)
    rows = db.session.execute(select(Action.due_on, Action.done_on).join(
        ManagementReview, and_(ManagementReview.tenant_id == Action.tenant_id, ManagementReview.id == Action.review_id))
        .where(Action.tenant_id == tenant.id, Action.category == DecisionCategory.IMPROVEMENT,
               _reviews_held(tenant, on, since))).all()
    if not rows:
        return {"improvement": Suggestion(ON_SITE, _sentences(_l(
            "No improvement decision of a management review held between %(since)s and %(date)s is recorded.",
            since=format_date(since), date=format_date(on)), CHECK_ON_SITE["improvement"]))}
    done = sum(1 for _due, done_on in rows if done_on is not None and done_on <= on)
    late = sum(1 for due, done_on in rows if (done_on is None or done_on > on) and due < on)
    return {"improvement": Suggestion(NOT_MET if late else MET, str(_l(
        "%(n)s improvement decision(s) of the management reviews held since %(since)s: %(done)s done, %(late)s past "
        "their due date.", n=len(rows), since=format_date(since), done=done, late=late)))}


@suggestion_source
def leadership(inspection: Inspection, tenant: Tenant, on: dt.date) -> dict[str, Suggestion]:
    """The last management review: who chaired it and how many decisions it took (the rest is seen on site)."""
    decisions = (select(func.count()).select_from(Action).where(
        Action.tenant_id == ManagementReview.tenant_id, Action.review_id == ManagementReview.id).scalar_subquery())
    last = db.session.execute(select(ManagementReview.held_on, ManagementReview.chair, decisions).where(
        _reviews_held(tenant, on)).order_by(ManagementReview.held_on.desc()).limit(1)).first()
    if last is None:
        return {"leadership": Suggestion(ON_SITE, _sentences(_l(
            "No management review is recorded by %(date)s.", date=format_date(on)), CHECK_ON_SITE["leadership"]))}
    held, chair, count = last
    return {"leadership": Suggestion(ON_SITE, _sentences(_l(
        "Last management review held on %(date)s, chaired by %(chair)s, with %(n)s decision(s).",
        date=format_date(held), chair=chair, n=count), CHECK_ON_SITE["leadership"]))}
