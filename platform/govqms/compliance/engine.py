"""The compliance status of agencies: the rules of QĐ 19/2014 and TT 26/2014, computed, never typed.

``gather`` loads the facts every rule needs for any number of agencies in a fixed number of
queries (one per kind of record, grouped by agency). ``RULES`` declares the rules in one place:
each turns one agency's facts into a :class:`Check` with a result, the reason in words, the
record it rests on and the next due date. ``evaluate`` runs them; the overall level is red when
any check is overdue, amber when any is due soon, green otherwise.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Callable

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, exists, func, select

from govqms.audits.models import Audit, AuditStatus
from govqms.conformity.models import Certificate, Declaration, DeclarationProcedure, ExternalAudit
from govqms.datacalls.models import DataCall, DataCallReply
from govqms.documents.models import Document, DocumentStatus
from govqms.documents.services import add_months, today
from govqms.extensions import db
from govqms.improvement.models import Action, ActionStatus, NcSource, NcStatus, Nonconformity
from govqms.legal.models import UPDATE_WITHIN_MONTHS, LegalChange
from govqms.procedures.models import AdminProcedure
from govqms.reviews.models import ManagementReview
from govqms.tenancy.models import Tenant

#: TT 26/2014 and the 2015 transition: agencies had to move to TCVN ISO 9001:2015 by this day.
TRANSITION_DEADLINE = dt.date(2021, 6, 30)


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


@dataclass(frozen=True)
class Check:
    rule: str
    result: Result
    reason: str
    ref: tuple[str, int] | None = None  # the record it rests on: (kind, id)
    due_on: dt.date | None = None


@dataclass
class Facts:
    """What the rules need to know about one agency."""

    tenant_id: int
    edition: str
    audits: list[tuple[int, dt.date]] = field(default_factory=list)          # reported: (id, ended)
    reviews: list[tuple[int, dt.date, int, bool]] = field(default_factory=list)  # (id, met, year, confirmed)
    declarations: list[tuple[int, dt.date, str]] = field(default_factory=list)   # (id, decided, edition)
    undeclared_procedures: int = 0
    legal_unapplied: list[tuple[int, dt.date]] = field(default_factory=list)     # (id, effective)
    inspection_ncs: list[tuple[int, dt.date]] = field(default_factory=list)      # open: (id, report due)
    actions_open: int = 0
    actions_overdue: int = 0
    actions_due_soon: int = 0
    actions_next_due: dt.date | None = None
    documents_overdue: int = 0
    documents_due_soon: int = 0
    documents_next_due: dt.date | None = None
    certificates: list[tuple[int, dt.date, dt.date]] = field(default_factory=list)  # (id, issued, expires)
    certificate_audits: dict[int, list[tuple[str, dt.date]]] = field(default_factory=dict)  # held audits
    data_calls: list[tuple[int, dt.date, dt.date | None]] = field(default_factory=list)  # (reply, deadline, sent)


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


# --- gathering facts: a fixed number of queries for any number of agencies ----------------------

def gather(tenant_ids: list[int], on: dt.date, due_soon_days: int) -> dict[int, Facts]:
    facts = {tenant_id: Facts(tenant_id, edition) for tenant_id, edition in db.session.execute(
        select(Tenant.id, Tenant.iso_edition).where(Tenant.id.in_(list(tenant_ids) or [0])))}
    ids = list(facts)
    if not ids:
        return facts
    soon = on + dt.timedelta(days=due_soon_days)
    for tenant_id, audit_id, ended in db.session.execute(
            select(Audit.tenant_id, Audit.id, func.coalesce(Audit.actual_end, Audit.actual_start))
            .where(Audit.tenant_id.in_(ids), Audit.status == AuditStatus.REPORTED, Audit.archived_at.is_(None))):
        facts[tenant_id].audits.append((audit_id, ended))
    for tenant_id, review_id, met, year, confirmed in db.session.execute(
            select(ManagementReview.tenant_id, ManagementReview.id, ManagementReview.meeting_on,
                   ManagementReview.year, ManagementReview.effectiveness_confirmed)
            .where(ManagementReview.tenant_id.in_(ids))):
        facts[tenant_id].reviews.append((review_id, met, year, bool(confirmed)))
    latest: dict[int, int] = {}
    for tenant_id, declaration_id, decided, edition in db.session.execute(
            select(Declaration.tenant_id, Declaration.id, Declaration.decided_on, Declaration.edition)
            .where(Declaration.tenant_id.in_(ids), Declaration.archived_at.is_(None))
            .order_by(Declaration.decided_on, Declaration.id)):
        facts[tenant_id].declarations.append((declaration_id, decided, edition))
        latest[tenant_id] = declaration_id
    covered = exists().where(DeclarationProcedure.tenant_id == AdminProcedure.tenant_id,
                             DeclarationProcedure.procedure_id == AdminProcedure.id,
                             DeclarationProcedure.declaration_id.in_(list(latest.values()) or [0]))
    for tenant_id, count in db.session.execute(
            select(AdminProcedure.tenant_id, func.count()).where(
                AdminProcedure.tenant_id.in_(ids), AdminProcedure.archived_at.is_(None), ~covered)
            .group_by(AdminProcedure.tenant_id)):
        facts[tenant_id].undeclared_procedures = count
    for tenant_id, change_id, effective in db.session.execute(
            select(LegalChange.tenant_id, LegalChange.id, LegalChange.effective_on)
            .where(LegalChange.tenant_id.in_(ids), LegalChange.qms_updated_on.is_(None),
                   LegalChange.archived_at.is_(None))):
        facts[tenant_id].legal_unapplied.append((change_id, effective))
    for tenant_id, nc_id, due in db.session.execute(
            select(Nonconformity.tenant_id, Nonconformity.id, Nonconformity.due_on)
            .where(Nonconformity.tenant_id.in_(ids), Nonconformity.source == NcSource.PROVINCIAL_INSPECTION,
                   Nonconformity.status.not_in([NcStatus.VERIFIED, NcStatus.CLOSED, NcStatus.IMPLEMENTED]),
                   Nonconformity.due_on.is_not(None))):
        facts[tenant_id].inspection_ncs.append((nc_id, due))
    for tenant_id, open_, overdue, due_soon, next_due in db.session.execute(
            select(Action.tenant_id, func.count(), func.sum(case((Action.due_on < on, 1), else_=0)),
                   func.sum(case((and_(Action.due_on >= on, Action.due_on <= soon), 1), else_=0)),
                   func.min(Action.due_on))
            .where(Action.tenant_id.in_(ids), Action.status == ActionStatus.OPEN).group_by(Action.tenant_id)):
        f = facts[tenant_id]
        f.actions_open, f.actions_overdue, f.actions_due_soon = open_, int(overdue or 0), int(due_soon or 0)
        f.actions_next_due = next_due
    for tenant_id, overdue, due_soon, next_due in db.session.execute(
            select(Document.tenant_id, func.sum(case((Document.next_review_on < on, 1), else_=0)),
                   func.sum(case((and_(Document.next_review_on >= on, Document.next_review_on <= soon), 1),
                                 else_=0)),
                   func.min(Document.next_review_on))
            .where(Document.tenant_id.in_(ids), Document.status == DocumentStatus.EFFECTIVE)
            .group_by(Document.tenant_id)):
        f = facts[tenant_id]
        f.documents_overdue, f.documents_due_soon, f.documents_next_due = int(overdue or 0), int(due_soon or 0), next_due
    for tenant_id, certificate_id, issued, expires in db.session.execute(
            select(Certificate.tenant_id, Certificate.id, Certificate.issued_on, Certificate.expires_on)
            .where(Certificate.tenant_id.in_(ids), Certificate.withdrawn_on.is_(None))):
        facts[tenant_id].certificates.append((certificate_id, issued, expires))
    for tenant_id, certificate_id, kind, held in db.session.execute(
            select(ExternalAudit.tenant_id, ExternalAudit.certificate_id, ExternalAudit.kind, ExternalAudit.held_on)
            .where(ExternalAudit.tenant_id.in_(ids), ExternalAudit.held_on.is_not(None))):
        facts[tenant_id].certificate_audits.setdefault(certificate_id, []).append((kind, held))
    for tenant_id, reply_id, deadline, submitted in db.session.execute(
            select(DataCallReply.tenant_id, DataCallReply.id, DataCall.deadline, DataCallReply.submitted_on)
            .join(DataCall, DataCall.id == DataCallReply.call_id)
            .where(DataCallReply.tenant_id.in_(ids), DataCall.archived_at.is_(None), DataCall.sent_on <= on)):
        facts[tenant_id].data_calls.append((reply_id, deadline, submitted))
    return facts


# --- the rules ------------------------------------------------------------------------------------

def _within_twelve_months(rule: str, last: tuple[int, dt.date] | None, kind: str, ctx: Context, none_reason,
                          reason) -> Check:
    if last is None:
        return Check(rule, Result.OVERDUE, str(none_reason))
    due = add_months(last[1], 12)
    return Check(rule, ctx.judge_due(due), str(reason(last[1], due)), (kind, last[0]), due)


def internal_audit(f: Facts, ctx: Context) -> Check:
    last = max(((i, d) for i, d in f.audits if d and d <= ctx.today), key=lambda a: a[1], default=None)
    return _within_twelve_months(
        "internal_audit", last, "audit", ctx, _l("No internal audit has been reported."),
        lambda held, due: _l("Last internal audit ended on %(held)s; the next is due by %(due)s.",
                             held=_d(held), due=_d(due)))


def management_review(f: Facts, ctx: Context) -> Check:
    last = max(((i, met) for i, met, _y, _c in f.reviews if met <= ctx.today), key=lambda r: r[1], default=None)
    return _within_twelve_months(
        "management_review", last, "review", ctx, _l("No management review has been held."),
        lambda held, due: _l("Last management review held on %(held)s; the next is due by %(due)s.",
                             held=_d(held), due=_d(due)))


def declaration(f: Facts, ctx: Context) -> Check:
    if not f.declarations:
        return Check("declaration", Result.OVERDUE, str(_l("No declaration of conformity has been recorded.")))
    declaration_id, decided, edition = f.declarations[-1]
    ref = ("declaration", declaration_id)
    if edition != "2015":
        return Check("declaration", Result.OVERDUE, str(_l(
            "The declaration of %(date)s is on TCVN ISO 9001:%(edition)s: declare again on the 2015 edition.",
            date=_d(decided), edition=edition)), ref)
    if f.undeclared_procedures:
        return Check("declaration", Result.OVERDUE, str(_l(
            "%(n)s administrative procedure(s) are outside the scope declared on %(date)s: declare again.",
            n=f.undeclared_procedures, date=_d(decided))), ref)
    return Check("declaration", Result.OK, str(_l("Declared on %(date)s; the scope covers every procedure.",
                                                  date=_d(decided))), ref)


def edition(f: Facts, ctx: Context) -> Check:
    if f.edition == "2015":
        return Check("edition", Result.OK, str(_l("Applies TCVN ISO 9001:2015.")))
    return Check("edition", Result.OVERDUE, str(_l(
        "Still on TCVN ISO 9001:2008; the transition to 2015 was due by %(date)s.",
        date=_d(TRANSITION_DEADLINE))), None, TRANSITION_DEADLINE)


def legal_changes(f: Facts, ctx: Context) -> Check:
    if not f.legal_unapplied:
        return Check("legal_changes", Result.OK, str(_l("Every recorded legal change has been applied.")))
    deadlines = sorted((add_months(effective, UPDATE_WITHIN_MONTHS), change_id)
                       for change_id, effective in f.legal_unapplied)
    first, change_id = deadlines[0]
    late = sum(1 for due, _ in deadlines if due < ctx.today)
    result = ctx.judge_due(first)
    if result == Result.OVERDUE:
        reason = _l("%(n)s legal change(s) not applied within 3 months; the first was due by %(date)s.",
                    n=late, date=_d(first))
    else:
        reason = _l("%(n)s legal change(s) to apply; the first by %(date)s.", n=len(deadlines), date=_d(first))
    return Check("legal_changes", result, str(reason), ("legal", change_id), first)


def inspection_actions(f: Facts, ctx: Context) -> Check:
    if not f.inspection_ncs:
        return Check("inspection_actions", Result.NOT_APPLICABLE,
                     str(_l("No finding of a provincial inspection is waiting for its corrective actions.")))
    nc_id, first = min(f.inspection_ncs, key=lambda n: n[1])
    return Check("inspection_actions", ctx.judge_due(first), str(_l(
        "Corrective actions after the provincial inspection are due by %(date)s (2 months after the minutes).",
        date=_d(first))), ("nonconformity", nc_id), first)


def overdue_actions(f: Facts, ctx: Context) -> Check:
    if f.actions_overdue:
        return Check("actions", Result.OVERDUE, str(_l("%(n)s action(s) past their due date.", n=f.actions_overdue)),
                     ("actions", 0), f.actions_next_due)
    if f.actions_due_soon:
        return Check("actions", Result.DUE_SOON, str(_l("%(n)s action(s) due within %(days)s days.",
                                                         n=f.actions_due_soon, days=ctx.due_soon_days)),
                     ("actions", 0), f.actions_next_due)
    return Check("actions", Result.OK, str(_l("No nonconformity or action is overdue.")), None, f.actions_next_due)


def document_reviews(f: Facts, ctx: Context) -> Check:
    if f.documents_overdue:
        return Check("document_reviews", Result.OVERDUE, str(_l(
            "%(n)s document(s) past their periodic review date.", n=f.documents_overdue)),
            ("documents", 0), f.documents_next_due)
    if f.documents_due_soon:
        return Check("document_reviews", Result.DUE_SOON, str(_l(
            "%(n)s document(s) due for periodic review within %(days)s days.", n=f.documents_due_soon,
            days=ctx.due_soon_days)), ("documents", 0), f.documents_next_due)
    return Check("document_reviews", Result.OK, str(_l("No document is past its review date.")), None,
                 f.documents_next_due)


def certification(f: Facts, ctx: Context) -> Check:
    current = [c for c in f.certificates if c[1] <= ctx.today]
    if not current:
        return Check("certification", Result.NOT_APPLICABLE, str(_l("Not certified by a certification body.")))
    certificate_id, issued, expires = max(current, key=lambda c: c[2])
    ref = ("certificate", certificate_id)
    if expires < ctx.today:
        return Check("certification", Result.OVERDUE, str(_l(
            "The certificate expired on %(date)s: recertification is overdue.", date=_d(expires))), ref, expires)
    held = [d for _kind, d in f.certificate_audits.get(certificate_id, []) if d <= ctx.today]
    basis = max([issued, *held])
    surveillance = add_months(basis, 12)
    if surveillance >= expires:  # the last year of the cycle ends with recertification instead
        return Check("certification", ctx.judge_due(expires), str(_l(
            "Recertification is due before the certificate expires on %(date)s.", date=_d(expires))), ref, expires)
    return Check("certification", ctx.judge_due(surveillance), str(_l(
        "Next surveillance audit due by %(date)s; the certificate expires on %(expires)s.",
        date=_d(surveillance), expires=_d(expires))), ref, surveillance)


def data_calls(f: Facts, ctx: Context) -> Check:
    if not f.data_calls:
        return Check("data_calls", Result.NOT_APPLICABLE, str(_l("No data call has been sent to this agency.")))
    waiting = sorted((deadline, reply_id) for reply_id, deadline, sent in f.data_calls
                     if sent is None or sent > ctx.today)
    if not waiting:
        late = sum(1 for _r, deadline, sent in f.data_calls if sent and sent > deadline)
        reason = (_l("Every data call is answered; %(n)s answered late.", n=late) if late
                  else _l("Every data call was answered on time."))
        return Check("data_calls", Result.OK, str(reason))
    deadline, reply_id = waiting[0]
    result = ctx.judge_due(deadline)
    if result == Result.OVERDUE:
        reason = _l("%(n)s data call(s) not answered; the first was due by %(date)s.",
                    n=sum(1 for d, _r in waiting if d < ctx.today), date=_d(deadline))
    else:
        reason = _l("%(n)s data call(s) to answer; the first by %(date)s.", n=len(waiting), date=_d(deadline))
    return Check("data_calls", result, str(reason), ("data_call", reply_id), deadline)


def confirmation(f: Facts, ctx: Context) -> Check:
    years = {year: review_id for review_id, _met, year, confirmed in f.reviews if confirmed}
    year = ctx.today.year
    year_end = dt.date(year, 12, 31)
    if year in years:
        return Check("confirmation", Result.OK, str(_l("The head confirmed the QMS effective for %(year)s.",
                                                       year=year)), ("review", years[year]))
    if year - 1 not in years:
        return Check("confirmation", Result.OVERDUE, str(_l(
            "No confirmation of effectiveness by the head is recorded for %(year)s.", year=year - 1)),
            None, dt.date(year - 1, 12, 31))
    return Check("confirmation", ctx.judge_due(year_end), str(_l(
        "Confirmed for %(last)s; the confirmation for %(year)s is due by %(date)s.", last=year - 1, year=year,
        date=_d(year_end))), ("review", years[year - 1]), year_end)


#: Every rule the platform computes (DOMAIN.md, "Rules the platform computes"), in one place.
RULES: list[tuple[str, object, Callable[[Facts, Context], Check]]] = [
    ("internal_audit", _l("Internal audit within 12 months"), internal_audit),
    ("management_review", _l("Management review within 12 months"), management_review),
    ("declaration", _l("Declaration covering the current scope"), declaration),
    ("edition", _l("TCVN ISO 9001:2015 edition"), edition),
    ("legal_changes", _l("Legal changes applied within 3 months"), legal_changes),
    ("inspection_actions", _l("Corrective actions within 2 months of an inspection"), inspection_actions),
    ("actions", _l("Nonconformities and actions on time"), overdue_actions),
    ("document_reviews", _l("Documents reviewed on time"), document_reviews),
    ("certification", _l("Surveillance and recertification"), certification),
    ("data_calls", _l("Data calls answered on time"), data_calls),
    ("confirmation", _l("Head's confirmation of effectiveness"), confirmation),
]
RULE_LABELS = {key: label for key, label, _ in RULES}


@dataclass(frozen=True)
class Status:
    tenant_id: int
    level: Level
    checks: list[Check]
    facts: Facts | None = None

    @property
    def counts(self) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for check in self.checks:
            out[check.result] += 1
        return dict(out)


def level_of(checks: list[Check]) -> Level:
    results = {c.result for c in checks}
    if Result.OVERDUE in results:
        return Level.RED
    return Level.AMBER if Result.DUE_SOON in results else Level.GREEN


def context(on: dt.date | None = None) -> Context:
    """The day the rules judge against (today by default) and the configured "due soon" window."""
    return Context(on or today(), int(current_app.config.get("COMPLIANCE_DUE_SOON_DAYS", 30)))


def evaluate(tenant_ids: list[int], on: dt.date | None = None) -> dict[int, Status]:
    """The status of each agency in *tenant_ids* on *on* (callers pass active agencies: a merged
    one is history)."""
    ctx = context(on)
    facts = gather(tenant_ids, ctx.today, ctx.due_soon_days)
    statuses = {}
    for tenant_id, f in facts.items():
        checks = [rule(f, ctx) for _key, _label, rule in RULES]
        statuses[tenant_id] = Status(tenant_id, level_of(checks), checks, f)
    return statuses
