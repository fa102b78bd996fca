from __future__ import annotations

from sqlalchemy import select

from govqms.conformity.models import Certificate, Declaration, DeclarationProcedure, ExternalAudit
from govqms.core.storage import get_storage
from govqms.core.uploads import CheckedFile
from govqms.extensions import db
from govqms.improvement.models import NcSource
from govqms.improvement.services import raise_nonconformity
from govqms.procedures.models import AdminProcedure


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
