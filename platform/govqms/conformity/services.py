"""Declarations of conformity, certificates and their external audits, steering committees, consultants."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from govqms.conformity.models import (
    Certificate,
    Consultant,
    Declaration,
    DeclarationProcedure,
    ExternalAudit,
    SteeringCommittee,
)
from govqms.core.storage import get_storage
from govqms.core.uploads import CheckedFile
from govqms.extensions import db
from govqms.improvement.models import NcSource
from govqms.improvement.services import raise_nonconformity
from govqms.procedures.models import AdminProcedure
from govqms.signatures.services import request_check_of_upload


@dataclass(frozen=True)
class Overview:
    """What the conformity page shows."""

    declarations: list[Declaration]
    #: current administrative procedures: the scope a declaration covers by default
    procedure_count: int
    certificates: list[Certificate]
    committees: list[SteeringCommittee]
    consultants: list[Consultant]


def overview(tenant_id: int) -> Overview:
    """The agency's declarations in force, certificates (with their audits), steering committees and
    consultants, newest first: a fixed number of queries."""
    declarations = db.session.scalars(
        select(Declaration).where(Declaration.tenant_id == tenant_id, Declaration.archived_at.is_(None))
        .options(selectinload(Declaration.procedures)).order_by(Declaration.decided_on.desc())).all()
    procedure_count = db.session.scalar(select(func.count()).select_from(AdminProcedure).where(
        AdminProcedure.tenant_id == tenant_id, AdminProcedure.archived_at.is_(None)))
    certificates = db.session.scalars(
        select(Certificate).where(Certificate.tenant_id == tenant_id)
        .options(selectinload(Certificate.audits)).order_by(Certificate.issued_on.desc())).all()
    committees = db.session.scalars(
        select(SteeringCommittee).where(SteeringCommittee.tenant_id == tenant_id)
        .order_by(SteeringCommittee.decided_on.desc())).all()
    consultants = db.session.scalars(
        select(Consultant).where(Consultant.tenant_id == tenant_id, Consultant.archived_at.is_(None))).all()
    return Overview(list(declarations), procedure_count, list(certificates), list(committees), list(consultants))


def declare(tenant_id: int, *, procedure_ids: list[int] | None = None, file: CheckedFile | None = None,
            **values) -> Declaration:
    """Record a declaration; its scope is the given procedures, or every current one."""
    declaration = Declaration(tenant_id=tenant_id, **values)
    if file is not None:
        declaration.file_key, declaration.file_name = get_storage().put(tenant_id, file.data), file.filename
    db.session.add(declaration)
    db.session.flush()
    if procedure_ids is None:
        procedure_ids = list(db.session.scalars(select(AdminProcedure.id).where(
            AdminProcedure.tenant_id == tenant_id, AdminProcedure.archived_at.is_(None))))
    db.session.add_all([DeclarationProcedure(tenant_id=tenant_id, declaration_id=declaration.id, procedure_id=pid)
                        for pid in procedure_ids])
    db.session.flush()
    # a signed PDF decision: its signatures are verified (commits the declaration with the job that does it)
    request_check_of_upload(tenant_id, declaration.file_key, declaration.file_name)
    return declaration


def record_external_audit(certificate: Certificate, *, findings: str, **values) -> ExternalAudit:
    """An audit of the certification body; each line of *findings* opens a nonconformity."""
    audit = ExternalAudit(tenant_id=certificate.tenant_id, certificate_id=certificate.id, **values)
    db.session.add(audit)
    for line in (line.strip() for line in findings.splitlines()):
        if line:
            raise_nonconformity(certificate.tenant_id, source=NcSource.CERTIFICATION_AUDIT,
                                found_on=audit.held_on or audit.planned_on, description=line)
    db.session.flush()
    return audit


def edition_applied(tenant_id: int, day: dt.date | None = None) -> str:
    """The edition of TCVN ISO 9001 the agency applies on *day* (today by default): the one of the
    declaration in force or, for a certified unit, of the certificate in force, whichever came last;
    2015 for an agency that has recorded neither yet. The compliance engine judges with the same rule
    (:meth:`govqms.compliance.engine.Facts.edition_on`)."""
    from govqms.core.clock import today

    day = day or today()
    declared = db.session.execute(
        select(Declaration.decided_on, Declaration.edition).where(
            Declaration.tenant_id == tenant_id, Declaration.archived_at.is_(None), Declaration.decided_on <= day)
        .order_by(Declaration.decided_on.desc(), Declaration.id.desc()).limit(1)).first()
    certified = db.session.execute(
        select(Certificate.issued_on, Certificate.edition).where(
            Certificate.tenant_id == tenant_id, Certificate.issued_on <= day, Certificate.expires_on >= day,
            or_(Certificate.ended_on.is_(None), Certificate.ended_on > day))
        .order_by(Certificate.issued_on.desc()).limit(1)).first()
    found = [f for f in (declared, certified) if f is not None]
    return max(found, key=lambda f: f[0])[1] if found else "2015"


def end_certificate(certificate: Certificate, *, ended_on: dt.date, end_reason: str) -> Certificate:
    """Mark a certificate withdrawn by its body or not renewed: from that day it is history."""
    certificate.ended_on, certificate.end_reason = ended_on, end_reason
    db.session.flush()
    return certificate


def add_certificate(tenant_id: int, **values) -> Certificate:
    certificate = Certificate(tenant_id=tenant_id, **values)
    db.session.add(certificate)
    db.session.flush()
    return certificate


def add_steering_committee(tenant_id: int, **values) -> SteeringCommittee:
    committee = SteeringCommittee(tenant_id=tenant_id, **values)
    db.session.add(committee)
    db.session.flush()
    return committee


def add_consultant(tenant_id: int, **values) -> Consultant:
    consultant = Consultant(tenant_id=tenant_id, **values)
    db.session.add(consultant)
    db.session.flush()
    return consultant
