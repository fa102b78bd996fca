"""The compliance status of agencies: the rules of QĐ 19/2014 and TT 26/2014, computed, never typed.

Every rule is a function of dated records and of the day it judges: ``gather`` loads, for any
number of agencies in a fixed number of queries, the records each rule needs with the dates of
their changes (a declaration's decision, a legal change's application, an action's completion, a
review's meeting, a certificate's end), and each rule keeps only what was true on that day. So a
past day is judged with what was known to be true then, not with today's state.

The rules are grouped in :class:`RuleSet` s, each naming the legal texts it implements and the
days it applies on: a text replacing QĐ 19/2014 becomes a new rule set, and judging a day uses
the set in force on that day. ``evaluate`` runs them; the overall level is red when any check is
overdue, amber when any is due soon, green otherwise.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Callable
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select

from govqms.audits.models import Audit, AuditStatus
from govqms.conformity.models import Certificate, Consultant, Declaration, DeclarationProcedure, ExternalAudit
from govqms.core.clock import add_months, today
from govqms.core.db import in_ids
from govqms.datacalls.models import DataCall, DataCallReply
from govqms.documents.models import Document, DocumentReview, DocumentStatus, Revision
from govqms.extensions import db
from govqms.improvement.models import Action, Nonconformity
from govqms.inspections.models import REPORT_WITHIN_MONTHS, Inspection, InspectionPlan, InspectionStatus
from govqms.legal.models import UPDATE_WITHIN_MONTHS, LegalChange
from govqms.procedures.models import AdminProcedure
from govqms.reviews.models import ManagementReview
from govqms.tenancy.models import Jurisdiction, JurisdictionLevel

#: The 2015 transition: agencies had to move to TCVN ISO 9001:2015 by this day.
TRANSITION_DEADLINE = dt.date(2021, 6, 30)
#: A certificate runs three years: surveillance audits in years 1 and 2, then recertification.
SURVEILLANCES_PER_CYCLE = 2
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
#: How many records a check lists and links (the count in its reason covers them all).
RECORDS_SHOWN = 20


class Result(StrEnum):
    OK = "ok"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    NOT_APPLICABLE = "not_applicable"


class Level(StrEnum):
    GREEN = "green"
    AMBER = "amber"
    RED = "red"


RESULT_LABELS = {Result.OK: _l("OK"), Result.DUE_SOON: _l("Due soon"), Result.OVERDUE: _l("Overdue"),
                 Result.NOT_APPLICABLE: _l("Not applicable")}
LEVEL_LABELS = {Level.GREEN: _l("Green"), Level.AMBER: _l("Amber"), Level.RED: _l("Red")}

Ref = tuple[str, int]


@dataclass(frozen=True)
class Check:
    rule: str
    result: Result
    reason: str
    ref: Ref | None = None  # the record it rests on: (kind, id)
    due_on: dt.date | None = None
    #: every record the check counted, (kind, id), at most RECORDS_SHOWN of them
    records: tuple[Ref, ...] = ()


@dataclass
class Facts:
    """What the rules need to know about one agency, each record with its dates."""

    tenant_id: int
    audits: list[tuple[int, dt.date]] = field(default_factory=list)          # reported: (id, ended)
    #: (id, held on or None while planned, year, confirmed on or None)
    reviews: list[tuple[int, dt.date | None, int, dt.date | None]] = field(default_factory=list)
    #: (id, decided, edition, DOST notified, posted at the office, published online), by decision day
    declarations: list[tuple[int, dt.date, str, dt.date | None, dt.date | None, dt.date | None]] = field(
        default_factory=list)
    #: for the declaration in force on the day judged: procedures outside its scope, and procedures of
    #: its scope withdrawn from the catalogue since (both ask for a new declaration)
    undeclared_procedures: int = 0
    withdrawn_procedures: int = 0
    legal_changes: list[tuple[int, dt.date, dt.date | None]] = field(default_factory=list)  # (id, effective, applied)
    #: inspections whose minutes are signed: (id, level of the inspecting jurisdiction, minutes, report due,
    #: report received, decided on, status)
    inspections: list[tuple[int, str, dt.date, dt.date, dt.date | None, dt.date | None, str]] = field(
        default_factory=list)
    #: open on the day judged, with a due date: (id, due)
    nonconformities: list[tuple[int, dt.date]] = field(default_factory=list)
    corrective_actions: list[tuple[int, dt.date]] = field(default_factory=list)
    other_actions: list[tuple[int, dt.date]] = field(default_factory=list)   # from risks and reviews
    #: documents in force on the day judged: (id, next periodic review)
    documents: list[tuple[int, dt.date]] = field(default_factory=list)
    #: (id, issued, expires, ended on, end reason, edition)
    certificates: list[tuple[int, dt.date, dt.date, dt.date | None, str | None, str]] = field(default_factory=list)
    certificate_audits: dict[int, list[tuple[str, dt.date]]] = field(default_factory=dict)  # held audits
    data_calls: list[tuple[int, dt.date, dt.date | None]] = field(default_factory=list)  # (reply, deadline, sent)
    consultants: list[tuple[int, str, dt.date]] = field(default_factory=list)  # (id, name, card expires)

    # --- what was in force on a day (shared by the rules and the comparison) -------------------

    def declaration_on(self, day: dt.date):
        declared = [d for d in self.declarations if d[1] <= day]
        return declared[-1] if declared else None

    def certificate_on(self, day: dt.date):
        """The certificate in force on *day*: issued, not expired, not ended (the latest issued)."""
        current = [c for c in self.certificates
                   if c[1] <= day <= c[2] and (c[3] is None or day < c[3])]
        return max(current, key=lambda c: c[1], default=None)

    def edition_on(self, day: dt.date) -> tuple[str, Ref] | None:
        """The edition of TCVN ISO 9001 the agency applies on *day*: that of the declaration in force,
        or of the certificate in force for a certified unit, whichever is the more recent."""
        found = []
        declaration = self.declaration_on(day)
        if declaration:
            found.append((declaration[1], declaration[2], ("declaration", declaration[0])))
        certificate = self.certificate_on(day)
        if certificate:
            found.append((certificate[1], certificate[5], ("certificate", certificate[0])))
        if not found:
            return None
        _day, edition, ref = max(found, key=lambda f: f[0])
        return edition, ref


@dataclass(frozen=True)
class Context:
    today: dt.date
    due_soon_days: int

    def judge_due(self, due: dt.date) -> Result:
        if due < self.today:
            return Result.OVERDUE
        return Result.DUE_SOON if (due - self.today).days <= self.due_soon_days else Result.OK


def _d(day: dt.date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else ""


def _end_of(day: dt.date) -> dt.datetime:
    """The end of *day* in Vietnam (midnight after it), to compare with timestamps."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), VIETNAM)


# --- gathering facts: a fixed number of queries for any number of agencies ----------------------

def gather(tenant_ids: list[int], on: dt.date, due_soon_days: int = 30) -> dict[int, Facts]:
    """The records of each agency that the rules judge *on* needs (records dated later are left out
    where their date says they did not exist yet)."""
    facts = {tenant_id: Facts(tenant_id) for tenant_id in dict.fromkeys(tenant_ids)}
    ids = list(facts)
    if not ids:
        return facts
    until = _end_of(on)
    for tenant_id, audit_id, ended in db.session.execute(
            select(Audit.tenant_id, Audit.id, func.coalesce(Audit.actual_end, Audit.actual_start))
            .where(in_ids(Audit.tenant_id, ids), Audit.status == AuditStatus.REPORTED, Audit.archived_at.is_(None))):
        facts[tenant_id].audits.append((audit_id, ended))
    for tenant_id, review_id, held, year, confirmed, confirmed_on in db.session.execute(
            select(ManagementReview.tenant_id, ManagementReview.id, ManagementReview.held_on,
                   ManagementReview.year, ManagementReview.effectiveness_confirmed, ManagementReview.confirmed_on)
            .where(in_ids(ManagementReview.tenant_id, ids))):
        facts[tenant_id].reviews.append((review_id, held, year, (confirmed_on or held) if confirmed else None))
    in_force = _declarations(facts, ids, on)
    declared = list(in_force.values())
    if declared:
        in_scope = and_(DeclarationProcedure.tenant_id == AdminProcedure.tenant_id,
                        DeclarationProcedure.procedure_id == AdminProcedure.id,
                        in_ids(DeclarationProcedure.declaration_id, [d for d, _ in declared]))
        current = and_(AdminProcedure.created_at < until,
                       or_(AdminProcedure.archived_at.is_(None), AdminProcedure.archived_at >= until))
        for tenant_id, count in db.session.execute(
                select(AdminProcedure.tenant_id, func.count()).where(
                    in_ids(AdminProcedure.tenant_id, list(in_force)), current,
                    ~select(DeclarationProcedure.id).where(in_scope).exists())
                .group_by(AdminProcedure.tenant_id)):
            facts[tenant_id].undeclared_procedures = count
        for tenant_id, count in db.session.execute(
                select(AdminProcedure.tenant_id, func.count()).join(DeclarationProcedure, in_scope)
                .where(in_ids(AdminProcedure.tenant_id, list(in_force)), AdminProcedure.archived_at < until)
                .group_by(AdminProcedure.tenant_id)):
            facts[tenant_id].withdrawn_procedures = count
    for tenant_id, change_id, effective, applied in db.session.execute(
            select(LegalChange.tenant_id, LegalChange.id, LegalChange.effective_on, LegalChange.qms_updated_on)
            .where(in_ids(LegalChange.tenant_id, ids), LegalChange.archived_at.is_(None))):
        facts[tenant_id].legal_changes.append((change_id, effective, applied))
    for row in db.session.execute(
            select(Inspection.tenant_id, Inspection.id, Jurisdiction.level, Inspection.minutes_on,
                   Inspection.report_due_on, Inspection.report_received_on, Inspection.report_decided_on,
                   Inspection.status)
            .join(InspectionPlan, InspectionPlan.id == Inspection.plan_id)
            .join(Jurisdiction, Jurisdiction.id == InspectionPlan.jurisdiction_id)
            .where(in_ids(Inspection.tenant_id, ids), Inspection.minutes_on <= on)):
        inspection_id, level, minutes, due = row[1], row[2], row[3], row[4]
        facts[row[0]].inspections.append(
            (inspection_id, level, minutes, due or add_months(minutes, REPORT_WITHIN_MONTHS), *row[5:]))
    # a nonconformity is settled on the day it is verified or closed, or when every action it has is done
    actions_left = (select(func.count()).select_from(Action).where(
        Action.tenant_id == Nonconformity.tenant_id, Action.nonconformity_id == Nonconformity.id,
        or_(Action.done_on.is_(None), Action.done_on > on)).scalar_subquery())
    actions_any = (select(func.count()).select_from(Action).where(
        Action.tenant_id == Nonconformity.tenant_id, Action.nonconformity_id == Nonconformity.id)
        .scalar_subquery())
    for tenant_id, nc_id, due in db.session.execute(
            select(Nonconformity.tenant_id, Nonconformity.id, Nonconformity.due_on)
            .where(in_ids(Nonconformity.tenant_id, ids), Nonconformity.due_on.is_not(None),
                   Nonconformity.found_on <= on,
                   or_(Nonconformity.closed_on.is_(None), Nonconformity.closed_on > on),
                   or_(Nonconformity.verified_on.is_(None), Nonconformity.verified_on > on),
                   or_(actions_any == 0, actions_left > 0))
            .order_by(Nonconformity.due_on, Nonconformity.id)):
        facts[tenant_id].nonconformities.append((nc_id, due))
    for tenant_id, action_id, due, corrective in db.session.execute(
            select(Action.tenant_id, Action.id, Action.due_on, Action.nonconformity_id.is_not(None))
            .where(in_ids(Action.tenant_id, ids), or_(Action.done_on.is_(None), Action.done_on > on))
            .order_by(Action.due_on, Action.id)):
        f = facts[tenant_id]
        (f.corrective_actions if corrective else f.other_actions).append((action_id, due))
    _documents(facts, ids, on, until)
    _certificates(facts, ids, on)
    for tenant_id, reply_id, deadline, submitted in db.session.execute(
            select(DataCallReply.tenant_id, DataCallReply.id, DataCall.deadline, DataCallReply.submitted_on)
            .join(DataCall, DataCall.id == DataCallReply.call_id)
            .where(in_ids(DataCallReply.tenant_id, ids), DataCall.archived_at.is_(None), DataCall.sent_on <= on)):
        facts[tenant_id].data_calls.append((reply_id, deadline, submitted))
    for tenant_id, consultant_id, name, expires in db.session.execute(
            select(Consultant.tenant_id, Consultant.id, Consultant.name, Consultant.card_expires_on)
            .where(in_ids(Consultant.tenant_id, ids), Consultant.archived_at.is_(None),
                   Consultant.card_expires_on.is_not(None))):
        facts[tenant_id].consultants.append((consultant_id, name, expires))
    return facts


def gather_certification(tenant_ids: list[int], on: dt.date) -> dict[int, Facts]:
    """Only the facts the certification rule reads (declarations, certificates and their external
    audits): the schedule's due dates, in three queries rather than the whole gathering."""
    facts = {tenant_id: Facts(tenant_id) for tenant_id in dict.fromkeys(tenant_ids)}
    if facts:
        _declarations(facts, list(facts), on)
        _certificates(facts, list(facts), on)
    return facts


def _declarations(facts: dict[int, Facts], ids: list[int], on: dt.date) -> dict[int, tuple[int, dt.date]]:
    """Every declaration of the agencies; returns the one in force on *on* of each (id, decided on)."""
    in_force: dict[int, tuple[int, dt.date]] = {}
    for row in db.session.execute(
            select(Declaration.tenant_id, Declaration.id, Declaration.decided_on, Declaration.edition,
                   Declaration.dost_notified_on, Declaration.posted_on, Declaration.published_on)
            .where(in_ids(Declaration.tenant_id, ids), Declaration.archived_at.is_(None))
            .order_by(Declaration.decided_on, Declaration.id)):
        facts[row[0]].declarations.append(tuple(row[1:]))
        if row[2] <= on:
            in_force[row[0]] = (row[1], row[2])
    return in_force


def _certificates(facts: dict[int, Facts], ids: list[int], on: dt.date) -> None:
    for row in db.session.execute(
            select(Certificate.tenant_id, Certificate.id, Certificate.issued_on, Certificate.expires_on,
                   Certificate.ended_on, Certificate.end_reason, Certificate.edition)
            .where(in_ids(Certificate.tenant_id, ids), Certificate.issued_on <= on)):
        facts[row[0]].certificates.append(tuple(row[1:]))
    for tenant_id, certificate_id, kind, held in db.session.execute(
            select(ExternalAudit.tenant_id, ExternalAudit.certificate_id, ExternalAudit.kind, ExternalAudit.held_on)
            .where(in_ids(ExternalAudit.tenant_id, ids), ExternalAudit.held_on <= on)):
        facts[tenant_id].certificate_audits.setdefault(certificate_id, []).append((kind, held))


def _documents(facts: dict[int, Facts], ids: list[int], on: dt.date, until: dt.datetime) -> None:
    """Each document in force on *on* with its next periodic review. Today the stored date says it;
    a past day takes the last issue and the last review before that day from their history."""
    if on == today():
        for tenant_id, document_id, due in db.session.execute(
                select(Document.tenant_id, Document.id, Document.next_review_on)
                .where(in_ids(Document.tenant_id, ids), Document.status == DocumentStatus.EFFECTIVE,
                       Document.next_review_on.is_not(None))):
            facts[tenant_id].documents.append((document_id, due))
        return
    issued = (select(func.max(Revision.effective_on)).where(
        Revision.tenant_id == Document.tenant_id, Revision.document_id == Document.id,
        Revision.approved_at < until, Revision.effective_on <= on).scalar_subquery())
    reviewed = (select(func.max(DocumentReview.reviewed_on)).where(
        DocumentReview.tenant_id == Document.tenant_id, DocumentReview.document_id == Document.id,
        DocumentReview.reviewed_on <= on).scalar_subquery())
    for tenant_id, document_id, interval, issued_on, reviewed_on in db.session.execute(
            select(Document.tenant_id, Document.id, Document.review_interval_months, issued, reviewed)
            .where(in_ids(Document.tenant_id, ids), or_(Document.obsolete_on.is_(None), Document.obsolete_on > on))):
        if issued_on is not None:
            base = max(issued_on, reviewed_on) if reviewed_on else issued_on
            facts[tenant_id].documents.append((document_id, add_months(base, interval)))


# --- the rules ------------------------------------------------------------------------------------

def _within_twelve_months(rule: str, last: tuple[int, dt.date] | None, kind: str, ctx: Context, none_reason,
                          reason) -> Check:
    if last is None:
        return Check(rule, Result.OVERDUE, str(none_reason))
    due = add_months(last[1], 12)
    return Check(rule, ctx.judge_due(due), str(reason(last[1], due)), (kind, last[0]), due, ((kind, last[0]),))


def internal_audit(f: Facts, ctx: Context) -> Check:
    last = max(((i, d) for i, d in f.audits if d and d <= ctx.today), key=lambda a: a[1], default=None)
    return _within_twelve_months(
        "internal_audit", last, "audit", ctx, _l("No internal audit has been reported."),
        lambda held, due: _l("Last internal audit ended on %(held)s; the next is due by %(due)s.",
                             held=_d(held), due=_d(due)))


def management_review(f: Facts, ctx: Context) -> Check:
    last = max(((i, held) for i, held, _y, _c in f.reviews if held and held <= ctx.today),
               key=lambda r: r[1], default=None)
    return _within_twelve_months(
        "management_review", last, "review", ctx, _l("No management review has been held."),
        lambda held, due: _l("Last management review held on %(held)s; the next is due by %(due)s.",
                             held=_d(held), due=_d(due)))


def declaration(f: Facts, ctx: Context) -> Check:
    current = f.declaration_on(ctx.today)
    if current is None:
        return Check("declaration", Result.OVERDUE, str(_l("No declaration of conformity has been recorded.")))
    declaration_id, decided, declared_edition, notified, posted, published = current
    ref = ("declaration", declaration_id)
    if declared_edition != "2015" and ctx.today > TRANSITION_DEADLINE:
        return Check("declaration", Result.OVERDUE, str(_l(
            "The declaration of %(date)s is on TCVN ISO 9001:%(edition)s: declare again on the 2015 edition.",
            date=_d(decided), edition=declared_edition)), ref, TRANSITION_DEADLINE, (ref,))
    if f.undeclared_procedures or f.withdrawn_procedures:
        parts = []
        if f.undeclared_procedures:
            parts.append(str(_l("%(n)s administrative procedure(s) are outside the scope declared on %(date)s",
                                n=f.undeclared_procedures, date=_d(decided))))
        if f.withdrawn_procedures:
            parts.append(str(_l("%(n)s procedure(s) of that scope have been withdrawn since",
                                n=f.withdrawn_procedures)))
        return Check("declaration", Result.OVERDUE, str(_l("%(what)s: declare again.", what="; ".join(parts))),
                     ref, None, (ref,))
    missing = [str(label) for day, label in ((notified, _l("notify the DOST in writing")),
                                             (posted, _l("post it at the office")),
                                             (published, _l("publish it on the website")))
               if day is None or day > ctx.today]
    if missing:
        # the law sets no period for these steps: they are due with the declaration, and the platform
        # allows its usual "due soon" window before calling them late
        due = decided + dt.timedelta(days=ctx.due_soon_days)
        return Check("declaration", Result.OVERDUE if due < ctx.today else Result.DUE_SOON, str(_l(
            "Declared on %(date)s; still to do: %(steps)s.", date=_d(decided), steps=", ".join(missing))),
            ref, due, (ref,))
    return Check("declaration", Result.OK, str(_l(
        "Declared on %(date)s, notified, posted and published; the scope covers every procedure.",
        date=_d(decided))), ref, None, (ref,))


def edition(f: Facts, ctx: Context) -> Check:
    found = f.edition_on(ctx.today)
    if found is None:
        return Check("edition", Result.NOT_APPLICABLE, str(_l(
            "No declaration or certificate in force states the edition applied.")))
    applied, ref = found
    if applied == "2015":
        return Check("edition", Result.OK, str(_l("Applies TCVN ISO 9001:2015 (%(record)s).",
                                                  record=_REF_WORDS[ref[0]])), ref, None, (ref,))
    result = ctx.judge_due(TRANSITION_DEADLINE)
    reason = (_l("On TCVN ISO 9001:2008 (%(record)s); the transition to 2015 was due by %(date)s.",
                 record=_REF_WORDS[ref[0]], date=_d(TRANSITION_DEADLINE)) if result == Result.OVERDUE else
              _l("On TCVN ISO 9001:2008 (%(record)s); move to 2015 by %(date)s.",
                 record=_REF_WORDS[ref[0]], date=_d(TRANSITION_DEADLINE)))
    return Check("edition", result, str(reason), ref, TRANSITION_DEADLINE, (ref,))


_REF_WORDS = {"declaration": _l("the declaration in force"), "certificate": _l("the certificate in force")}


def legal_changes(f: Facts, ctx: Context) -> Check:
    pending, late_applied = [], []
    for change_id, effective, applied in f.legal_changes:
        due = add_months(effective, UPDATE_WITHIN_MONTHS)
        if applied is None or applied > ctx.today:
            pending.append((due, change_id))
        elif applied > due:
            late_applied.append((due, change_id))
    if not pending:
        if late_applied:
            return Check("legal_changes", Result.OK, str(_l(
                "Every recorded legal change has been applied; %(n)s of them later than 3 months after taking "
                "effect.", n=len(late_applied))), None, None, tuple(("legal", i) for _d_, i in late_applied))
        return Check("legal_changes", Result.OK, str(_l(
            "Every recorded legal change was applied within 3 months.")))
    pending.sort()
    first, change_id = pending[0]
    late = [i for due, i in pending if due < ctx.today]
    result = ctx.judge_due(first)
    if result == Result.OVERDUE:
        reason = _l("%(n)s legal change(s) not applied within 3 months; the first was due by %(date)s.",
                    n=len(late), date=_d(first))
    else:
        reason = _l("%(n)s legal change(s) to apply; the first by %(date)s.", n=len(pending), date=_d(first))
    return Check("legal_changes", result, str(reason), ("legal", change_id), first,
                 tuple(("legal", i) for _due, i in pending[:RECORDS_SHOWN]))


def _inspecting_body(level: str):
    if level == JurisdictionLevel.PROVINCE:
        return _l("the provincial Department of Science and Technology")
    if level == JurisdictionLevel.MINISTRY:
        return _l("the ministry's ISO steering committee")
    return _l("the Ministry of Science and Technology")


def inspection_actions(f: Facts, ctx: Context) -> Check:
    """Judged on the agency's report of its corrective actions to the inspecting body after the latest
    inspection whose minutes were signed (the next inspection checks their effectiveness)."""
    if not f.inspections:
        return Check("inspection_actions", Result.NOT_APPLICABLE,
                     str(_l("No inspection minutes call for a report of corrective actions.")))
    inspection_id, level, minutes, due, received, decided, status = max(f.inspections, key=lambda i: (i[2], i[0]))
    ref = ("inspection", inspection_id)
    body = _inspecting_body(level)
    if received is None or received > ctx.today:
        return Check("inspection_actions", ctx.judge_due(due), str(_l(
            "The report of corrective actions to %(body)s is due by %(date)s (2 months after the minutes of "
            "%(minutes)s).", body=body, date=_d(due), minutes=_d(minutes))), ref, due, (ref,))
    timing = (_l("on time") if received <= due else _l("late (due %(date)s)", date=_d(due)))
    if decided is not None and decided <= ctx.today and status == InspectionStatus.NOT_ACCEPTED:
        return Check("inspection_actions", Result.OVERDUE, str(_l(
            "%(body)s did not accept the report of %(received)s on %(decided)s: the corrective actions must be "
            "reported again.", body=body, received=_d(received), decided=_d(decided))), ref, due, (ref,))
    if decided is not None and decided <= ctx.today and status == InspectionStatus.ACCEPTED:
        reason = _l("Report received by %(body)s on %(received)s, %(timing)s, and accepted on %(decided)s.",
                    body=body, received=_d(received), timing=timing, decided=_d(decided))
    else:
        reason = _l("Report received by %(body)s on %(received)s, %(timing)s; its acceptance is awaited.",
                    body=body, received=_d(received), timing=timing)
    return Check("inspection_actions", Result.OK, str(reason), ref, None, (ref,))


def _overdue_check(rule: str, items: list[tuple[Ref, dt.date]], ctx: Context, overdue_reason, soon_reason,
                   ok_reason) -> Check:
    items = sorted(items, key=lambda i: (i[1], i[0]))
    late = [ref for ref, due in items if due < ctx.today]
    soon = [ref for ref, due in items if ctx.today <= due and (due - ctx.today).days <= ctx.due_soon_days]
    next_due = items[0][1] if items else None
    if late:
        return Check(rule, Result.OVERDUE, str(overdue_reason(late)), late[0], next_due, tuple(late[:RECORDS_SHOWN]))
    if soon:
        return Check(rule, Result.DUE_SOON, str(soon_reason(soon)), soon[0], next_due, tuple(soon[:RECORDS_SHOWN]))
    return Check(rule, Result.OK, str(ok_reason), None, next_due)


def overdue_actions(f: Facts, ctx: Context) -> Check:
    """Nonconformities past their own due date, and corrective actions past theirs (rule 7)."""
    items = ([(("nonconformity", i), due) for i, due in f.nonconformities]
             + [(("action", i), due) for i, due in f.corrective_actions])

    def words(refs, late: bool):
        ncs = sum(1 for kind, _i in refs if kind == "nonconformity")
        actions = len(refs) - ncs
        if late:
            return _l("%(ncs)s nonconformity(ies) and %(actions)s corrective action(s) past their due date.",
                      ncs=ncs, actions=actions)
        return _l("%(ncs)s nonconformity(ies) and %(actions)s corrective action(s) due within %(days)s days.",
                  ncs=ncs, actions=actions, days=ctx.due_soon_days)

    return _overdue_check("actions", items, ctx, lambda refs: words(refs, True), lambda refs: words(refs, False),
                          _l("No nonconformity or corrective action is overdue."))


def other_actions(f: Facts, ctx: Context) -> Check:
    """Actions on risks and opportunities and from management review decisions."""
    return _overdue_check(
        "other_actions", [(("action", i), due) for i, due in f.other_actions], ctx,
        lambda refs: _l("%(n)s action(s) on risks or review decisions past their due date.", n=len(refs)),
        lambda refs: _l("%(n)s action(s) on risks or review decisions due within %(days)s days.", n=len(refs),
                        days=ctx.due_soon_days),
        _l("No action on risks or review decisions is overdue."))


def document_reviews(f: Facts, ctx: Context) -> Check:
    return _overdue_check(
        "document_reviews", [(("document", i), due) for i, due in f.documents], ctx,
        lambda refs: _l("%(n)s document(s) past their periodic review date.", n=len(refs)),
        lambda refs: _l("%(n)s document(s) due for periodic review within %(days)s days.", n=len(refs),
                        days=ctx.due_soon_days),
        _l("No document is past its review date."))


def certification(f: Facts, ctx: Context) -> Check:
    """Surveillance in years 1 and 2 of a certificate's cycle, recertification before it expires in year 3.
    Certification is voluntary since QĐ 19/2014: a certificate that ended, or that expired while the
    agency declares conformity, is history, not a gap."""
    day = ctx.today
    if not f.certificates:
        return Check("certification", Result.NOT_APPLICABLE, str(_l("Not certified by a certification body.")))
    current = f.certificate_on(day)
    if current is None:
        certificate_id, _issued, expires, ended, reason, _edition = max(f.certificates, key=lambda c: c[1])
        ref = ("certificate", certificate_id)
        if ended is not None and ended <= day:
            words = _l("withdrawn") if reason == "withdrawn" else _l("not renewed")
            return Check("certification", Result.NOT_APPLICABLE, str(_l(
                "The certificate ended on %(date)s (%(why)s): certification is history.", date=_d(ended),
                why=words)), ref, None, (ref,))
        declared = f.declaration_on(day)
        if declared is not None:
            return Check("certification", Result.NOT_APPLICABLE, str(_l(
                "The certificate expired on %(date)s; the agency declares its conformity since %(declared)s "
                "(certification is voluntary).", date=_d(expires), declared=_d(declared[1]))), ref, None, (ref,))
        return Check("certification", Result.OVERDUE, str(_l(
            "The certificate expired on %(date)s without recertification: record the new certificate, or mark "
            "this one not renewed.", date=_d(expires))), ref, expires, (ref,))
    certificate_id, issued, expires, _ended, _reason, _edition = current
    ref = ("certificate", certificate_id)
    held = sorted(d for kind, d in f.certificate_audits.get(certificate_id, [])
                  if kind == "surveillance" and issued < d <= day)
    recertified = [d for kind, d in f.certificate_audits.get(certificate_id, [])
                   if kind == "recertification" and issued < d <= day]
    if recertified:
        return Check("certification", Result.OK, str(_l(
            "Recertification audit held on %(held)s; record the new certificate before %(date)s.",
            held=_d(max(recertified)), date=_d(expires))), ref, expires, (ref,))
    surveillance = add_months(held[-1] if held else issued, 12)
    if len(held) >= SURVEILLANCES_PER_CYCLE or surveillance >= expires:
        return Check("certification", ctx.judge_due(expires), str(_l(
            "Last year of the cycle: recertification is due before the certificate expires on %(date)s.",
            date=_d(expires))), ref, expires, (ref,))
    return Check("certification", ctx.judge_due(surveillance), str(_l(
        "Surveillance audit %(n)s of 2 due by %(date)s; the certificate expires on %(expires)s.",
        n=len(held) + 1, date=_d(surveillance), expires=_d(expires))), ref, surveillance, (ref,))


def data_calls(f: Facts, ctx: Context) -> Check:
    if not f.data_calls:
        return Check("data_calls", Result.NOT_APPLICABLE, str(_l("No data call has been sent to this agency.")))
    waiting = sorted((deadline, reply_id) for reply_id, deadline, sent in f.data_calls
                     if sent is None or sent > ctx.today)
    if not waiting:
        late = [reply_id for reply_id, deadline, sent in f.data_calls if sent and sent > deadline]
        reason = (_l("Every data call is answered; %(n)s answered late.", n=len(late)) if late
                  else _l("Every data call was answered on time."))
        return Check("data_calls", Result.OK, str(reason), None, None, tuple(("data_call", i) for i in late))
    deadline, reply_id = waiting[0]
    result = ctx.judge_due(deadline)
    if result == Result.OVERDUE:
        reason = _l("%(n)s data call(s) not answered; the first was due by %(date)s.",
                    n=sum(1 for d, _r in waiting if d < ctx.today), date=_d(deadline))
    else:
        reason = _l("%(n)s data call(s) to answer; the first by %(date)s.", n=len(waiting), date=_d(deadline))
    return Check("data_calls", result, str(reason), ("data_call", reply_id), deadline,
                 tuple(("data_call", i) for _d_, i in waiting[:RECORDS_SHOWN]))


def confirmation(f: Facts, ctx: Context) -> Check:
    """The head confirms the QMS effective for each year, at a management review held that year."""
    years = {year: review_id for review_id, held, year, confirmed in f.reviews
             if confirmed and held and held <= ctx.today and confirmed <= ctx.today}
    year = ctx.today.year
    year_end = dt.date(year, 12, 31)
    if year in years:
        ref = ("review", years[year])
        return Check("confirmation", Result.OK, str(_l("The head confirmed the QMS effective for %(year)s.",
                                                       year=year)), ref, None, (ref,))
    if year - 1 not in years:
        return Check("confirmation", Result.OVERDUE, str(_l(
            "No confirmation of effectiveness by the head is recorded for %(year)s.", year=year - 1)),
            None, dt.date(year - 1, 12, 31))
    ref = ("review", years[year - 1])
    return Check("confirmation", ctx.judge_due(year_end), str(_l(
        "Confirmed for %(last)s; the confirmation for %(year)s is due by %(date)s.", last=year - 1, year=year,
        date=_d(year_end))), ref, year_end, (ref,))


def consultant(f: Facts, ctx: Context) -> Check:
    """A consultant's card allows them to consult for 3 years (TT 26/2014, choice of the consultant)."""
    if not f.consultants:
        return Check("consultant", Result.NOT_APPLICABLE, str(_l("No consultant recorded.")))
    consultant_id, name, expires = min(f.consultants, key=lambda c: c[2])
    ref = ("consultant", consultant_id)
    result = ctx.judge_due(expires)
    if result == Result.OVERDUE:
        reason = _l("The card of consultant %(name)s expired on %(date)s.", name=name, date=_d(expires))
    else:
        reason = _l("The card of consultant %(name)s is valid until %(date)s.", name=name, date=_d(expires))
    return Check("consultant", result, str(reason), ref, expires, (ref,))


# --- rule sets: the rules, each with its legal basis, grouped by the texts in force -----------------

@dataclass(frozen=True)
class Rule:
    key: str
    label: object  # a lazy string
    #: the clause the rule implements
    basis: object  # a lazy string
    judge: Callable[[Facts, Context], Check]


@dataclass(frozen=True)
class RuleSet:
    key: str
    title: object  # a lazy string
    #: the legal texts the set implements
    legal_texts: tuple[object, ...]
    applies_from: dt.date
    applies_until: dt.date | None  # the last day; None while in force
    rules: tuple[Rule, ...]

    def applies_on(self, day: dt.date) -> bool:
        return self.applies_from <= day and (self.applies_until is None or day <= self.applies_until)


#: The rules of Decision 19/2014/QĐ-TTg (in force from 20/04/2014) and its guidance, Circular
#: 26/2014/TT-BKHCN. Each basis names the clause the rule implements (translated: the Vietnamese
#: catalogue cites the texts by their Vietnamese numbers).
QD19_2014 = RuleSet(
    key="qd19-2014",
    title=_l("Decision 19/2014/QD-TTg and Circular 26/2014/TT-BKHCN"),
    legal_texts=(_l("Decision 19/2014/QD-TTg of 05/03/2014 on applying TCVN ISO 9001 in state administrative "
                    "agencies (in force from 20/04/2014)"),
                 _l("Circular 26/2014/TT-BKHCN of 10/10/2014 guiding Decision 19/2014/QD-TTg"),
                 _l("TCVN ISO 9001:2015, to which agencies moved by 30/06/2021")),
    applies_from=dt.date(2014, 4, 20),
    applies_until=None,
    rules=(
        Rule("internal_audit", _l("Internal audit within 12 months"),
             _l("Decision 19/2014/QD-TTg Art. 4; Circular 26/2014/TT-BKHCN: an internal audit at least once a "
                "year (ISO 9001 clause 9.2)"), internal_audit),
        Rule("management_review", _l("Management review within 12 months"),
             _l("Decision 19/2014/QD-TTg Art. 4; Circular 26/2014/TT-BKHCN: a management review at least once a "
                "year (ISO 9001 clause 9.3)"), management_review),
        Rule("declaration", _l("Declaration covering the current scope"),
             _l("Decision 19/2014/QD-TTg Art. 6: the declaration notified in writing to the DOST, posted at the "
                "office and published on the website; declared again when the scope changes"), declaration),
        Rule("edition", _l("TCVN ISO 9001:2015 edition"),
             _l("Transition to TCVN ISO 9001:2015 by 30/06/2021, as stated by the declaration or certificate in "
                "force"), edition),
        Rule("legal_changes", _l("Legal changes applied within 3 months"),
             _l("Circular 26/2014/TT-BKHCN: the QMS updated within 3 months of a legal change taking effect"),
             legal_changes),
        Rule("inspection_actions", _l("Corrective-action report after an inspection"),
             _l("Circular 26/2014/TT-BKHCN Art. 39: corrective actions reported to the inspecting body within 2 "
                "months of the minutes"), inspection_actions),
        Rule("actions", _l("Nonconformities and corrective actions on time"),
             _l("ISO 9001 clause 10.2: nonconformities and their corrective actions completed by their due "
                "dates"), overdue_actions),
        Rule("other_actions", _l("Actions on risks and review decisions on time"),
             _l("ISO 9001 clauses 6.1 and 9.3.3: actions on risks and on management review decisions completed "
                "by their due dates"), other_actions),
        Rule("document_reviews", _l("Documents reviewed on time"),
             _l("ISO 9001 clause 7.5.2: documents reviewed by their periodic review date"), document_reviews),
        Rule("certification", _l("Surveillance and recertification"),
             _l("Voluntary certification (Decision 19/2014/QD-TTg): surveillance audits in years 1 and 2, "
                "recertification before the certificate expires"), certification),
        Rule("data_calls", _l("Data calls answered on time"),
             _l("Circular 26/2014/TT-BKHCN Art. 33-34: reports requested by the overseeing body sent by their "
                "deadline"), data_calls),
        Rule("confirmation", _l("Head's confirmation of effectiveness"),
             _l("Circular 26/2014/TT-BKHCN Art. 36: the head's confirmation that the QMS is effective, each "
                "year"), confirmation),
        Rule("consultant", _l("Consultant's card valid"),
             _l("Circular 26/2014/TT-BKHCN Art. 36: the choice of consultant, whose card is valid for 3 years"),
             consultant),
    ),
)

#: Every rule set, oldest first. A text replacing QĐ 19/2014 is a new set appended here (ending the
#: old one the day before it applies), never an edit of the old one: past days keep their judgement.
RULE_SETS: list[RuleSet] = [QD19_2014]


class NoRuleSet(LookupError):
    """No rule set applies on the day asked for (before QĐ 19/2014 took effect)."""


def rule_set_on(day: dt.date) -> RuleSet:
    for rule_set in reversed(RULE_SETS):
        if rule_set.applies_on(day):
            return rule_set
    raise NoRuleSet(day)


def current_rules() -> tuple[Rule, ...]:
    return rule_set_on(today()).rules


#: The rules in force today, as (key, label, judge), for the views' columns.
RULES: list[tuple[str, object, Callable[[Facts, Context], Check]]] = [
    (r.key, r.label, r.judge) for r in rule_set_on(dt.date.today()).rules]
RULE_LABELS = {r.key: r.label for rule_set in RULE_SETS for r in rule_set.rules}
RULE_BASIS = {r.key: r.basis for rule_set in RULE_SETS for r in rule_set.rules}


@dataclass(frozen=True)
class Status:
    tenant_id: int
    level: Level
    checks: list[Check]
    facts: Facts | None = None
    on: dt.date | None = None
    rule_set: RuleSet | None = None

    @property
    def counts(self) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for check in self.checks:
            out[check.result] += 1
        return dict(out)

    def check(self, rule: str) -> Check | None:
        return next((c for c in self.checks if c.rule == rule), None)

    @property
    def edition(self) -> str | None:
        """The edition applied on the day judged (from the declaration or certificate in force)."""
        found = self.facts.edition_on(self.on) if self.facts and self.on else None
        return found[0] if found else None


def level_of(checks: list[Check]) -> Level:
    results = {c.result for c in checks}
    if Result.OVERDUE in results:
        return Level.RED
    return Level.AMBER if Result.DUE_SOON in results else Level.GREEN


def context(on: dt.date | None = None) -> Context:
    """The day the rules judge against (today by default) and the configured "due soon" window."""
    return Context(on or today(), int(current_app.config.get("COMPLIANCE_DUE_SOON_DAYS", 30)))


def judge(f: Facts, ctx: Context, rule_set: RuleSet | None = None) -> list[Check]:
    rule_set = rule_set or rule_set_on(ctx.today)
    return [rule.judge(f, ctx) for rule in rule_set.rules]


def evaluate(tenant_ids: list[int], on: dt.date | None = None) -> dict[int, Status]:
    """The status of each agency in *tenant_ids* on *on*, by the rule set in force that day. Callers
    pass the agencies that existed that day (``Tenant.exists_on``; ``tenancy.services.in_scope_on``)."""
    ctx = context(on)
    rule_set = rule_set_on(ctx.today)
    facts = gather(tenant_ids, ctx.today, ctx.due_soon_days)
    statuses = {}
    for tenant_id, f in facts.items():
        checks = judge(f, ctx, rule_set)
        statuses[tenant_id] = Status(tenant_id, level_of(checks), checks, f, ctx.today, rule_set)
    return statuses
