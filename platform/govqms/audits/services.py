"""Planning and recording internal audits; findings of nonconformity open a nonconformity."""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from govqms.audits.clauses import clause_title, clauses
from govqms.audits.models import NONCONFORMITIES, Audit, AuditStatus, ChecklistItem, Finding
from govqms.competence.services import qualified_auditors, units_of
from govqms.core.db import save_record
from govqms.core.errors import Refused
from govqms.documents.models import Document, DocumentKind, DocumentStatus
from govqms.extensions import db
from govqms.improvement.models import NcSource
from govqms.improvement.services import raise_nonconformity
from govqms.tenancy.models import Unit


class AuditRefused(Refused):
    """The audit plan breaks a rule; the message says which."""


def audits_of_year(tenant_id: int, year: int) -> list[Audit]:
    """The audit programme of *year*: the audits not archived, by planned start, with their lead auditors."""
    return list(db.session.scalars(select(Audit).where(Audit.tenant_id == tenant_id, Audit.year == year,
                                                       Audit.archived_at.is_(None))
                                   .options(selectinload(Audit.lead_auditor)).order_by(Audit.planned_start)))


def process_choices(tenant_id: int) -> list[Document]:
    """The processes an audit may cover: the procedures (system and work) not obsolete, by code."""
    return list(db.session.scalars(select(Document).where(
        Document.tenant_id == tenant_id, Document.status != DocumentStatus.OBSOLETE,
        Document.kind.in_([DocumentKind.SYSTEM_PROCEDURE, DocumentKind.WORK_PROCEDURE])).order_by(Document.code)))


def processes_of(audit: Audit) -> list[Document]:
    """The processes in the audit's scope, by code (obsolete since included: the audit covered them)."""
    return list(db.session.scalars(select(Document).where(Document.tenant_id == audit.tenant_id,
                                                          Document.id.in_(audit.process_ids or [0]))
                                   .order_by(Document.code)))


def units_in_scope(audit: Audit) -> dict[int, Unit]:
    """The units in the audit's scope by id, archived ones included: an old audit still names them."""
    return {u.id: u for u in db.session.scalars(select(Unit).where(Unit.tenant_id == audit.tenant_id,
                                                                   Unit.id.in_(audit.unit_ids or [0])))}


def check_team(tenant_id: int, lead_id: int | None, team_ids: list[int], unit_ids: list[int]) -> None:
    """The team are trained internal auditors, the lead is one of them, and no one audits their own unit."""
    members = set(team_ids) | ({lead_id} if lead_id else set())
    if not lead_id:
        raise AuditRefused(_l("Choose the lead auditor."))
    qualified = {u.id: u for u in qualified_auditors(tenant_id)}
    untrained = members - qualified.keys()
    if untrained:
        raise AuditRefused(_l("Only trained internal auditors can be on the team."))
    homes = units_of(tenant_id, sorted(members))
    for user_id in sorted(members):
        if homes.get(user_id) is not None and homes[user_id] in unit_ids:
            raise AuditRefused(_l("%(name)s cannot audit their own unit.", name=qualified[user_id].name))


def save_audit(audit: Audit, *, edition: str, lead_auditor_id: int | None, team_ids: list[int], unit_ids: list[int],
               clauses_: list[str], process_ids: list[int], **values) -> Audit:
    known = {code for code, _, _ in clauses(edition)}
    unknown = [c for c in clauses_ if c not in known]
    if unknown:
        raise AuditRefused(_l("Not a clause of ISO 9001:%(edition)s: %(clauses)s", edition=edition,
                              clauses=", ".join(unknown)))
    check_team(audit.tenant_id, lead_auditor_id, team_ids, unit_ids)
    audit.lead_auditor_id, audit.team_ids = lead_auditor_id, sorted(set(team_ids) - {lead_auditor_id})
    audit.unit_ids, audit.clauses, audit.process_ids = sorted(unit_ids), clauses_, sorted(process_ids)
    return save_record(audit, values)


def build_checklist(audit: Audit, edition: str, locale: str = "vi") -> int:
    """A checklist from the clauses and processes in scope (only when the audit has none yet)."""
    if audit.checklist:
        return 0
    items = [(code, f"{code} {clause_title(edition, code, locale)}") for code in audit.clauses]
    items += [("", f"{d.code} {d.title}") for d in processes_of(audit)]
    for position, (code, question) in enumerate(items, start=1):
        db.session.add(ChecklistItem(tenant_id=audit.tenant_id, audit_id=audit.id, position=position, clause=code,
                                     question=question))
    db.session.flush()
    db.session.expire(audit, ["checklist"])
    return len(items)


class ChecklistConflict(AuditRefused):
    """The checklist changed since the form showed it."""


def save_checklist(audit: Audit, results: Mapping[int, str], shown: Mapping[int, str] | None = None) -> None:
    """The results typed against the audit's checklist, by item id (an item not in *results* keeps its own).
    With *shown* (what the form showed of each item), an item the user did not change is left alone, and
    one someone else changed since the form was shown is refused: nothing is saved, the clauses named."""
    items = db.session.scalars(select(ChecklistItem).where(ChecklistItem.tenant_id == audit.tenant_id,
                                                           ChecklistItem.audit_id == audit.id)).all()
    updates, stale = {}, []
    for item in items:
        value = results.get(item.id)
        if value is None or value.strip() == item.result:
            continue
        before = (shown or {}).get(item.id)
        if before is not None and before.strip() == value.strip():
            continue  # not changed in this form: someone else's newer result stays
        if before is not None and before.strip() != item.result:
            stale.append(item.clause)
        updates[item] = value.strip()[:5000]
    if stale:
        raise ChecklistConflict(_l("Someone saved results for %(clauses)s after you opened this page, so "
                                   "your checklist was not saved; it is kept below. Check the current results, "
                                   "then save again.", clauses=", ".join(sorted(stale))))
    for item, value in updates.items():
        item.result = value
    db.session.flush()


def add_finding(audit: Audit, *, type: str, clause: str, unit_id: int | None, description: str,
                evidence: str) -> Finding:
    """Record a finding; a major or minor nonconformity opens a nonconformity at once."""
    if audit.status == AuditStatus.REPORTED:
        raise AuditRefused(_l("The audit has been reported: its findings are final."))
    finding = Finding(tenant_id=audit.tenant_id, audit_id=audit.id, type=type, clause=clause, unit_id=unit_id,
                      description=description, evidence=evidence)
    if type in NONCONFORMITIES:
        nc = raise_nonconformity(audit.tenant_id, source=NcSource.INTERNAL_AUDIT,
                                 found_on=audit.actual_start or audit.planned_start,
                                 description=description, clause=clause, unit_id=unit_id, severity=type)
        finding.nonconformity_id = nc.id
    if audit.status == AuditStatus.PLANNED:
        audit.status = AuditStatus.IN_PROGRESS
    db.session.add(finding)
    db.session.flush()
    db.session.expire(audit, ["findings"])
    return finding


def report(audit: Audit, conclusion: str, actual_start: dt.date, actual_end: dt.date) -> Audit:
    if actual_end < actual_start:
        raise AuditRefused(_l("The audit cannot end before it starts."))
    audit.status, audit.conclusion = AuditStatus.REPORTED, conclusion
    audit.actual_start, audit.actual_end = actual_start, actual_end
    db.session.flush()
    return audit
