"""Declarations of conformity, certification history, steering committee and consultants: one page."""
from __future__ import annotations

from io import BytesIO

from flask import abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from govqms.conformity import services
from govqms.conformity.models import (
    CERTIFICATE_END_LABELS,
    EXTERNAL_AUDIT_LABELS,
    Certificate,
    Consultant,
    Declaration,
    SteeringCommittee,
)
from govqms.conformity.schemas import (
    CertificateEndSchema,
    CertificateSchema,
    ConsultantSchema,
    DeclarationSchema,
    ExternalAuditSchema,
    SteeringSchema,
)
from govqms.core.permissions import Action
from govqms.core.schemas import first_errors
from govqms.core.storage import get_storage
from govqms.core.uploads import UploadRefused, check_upload
from govqms.core.web import record_or_404, requires
from govqms.extensions import db
from govqms.procedures.models import AdminProcedure
from govqms.tenancy.blueprints import workspace_blueprint

bp = workspace_blueprint("conformity", __name__, "/conformity")


@bp.app_context_processor
def _labels():
    return {"EXTERNAL_AUDIT_LABELS": EXTERNAL_AUDIT_LABELS, "CERTIFICATE_END_LABELS": CERTIFICATE_END_LABELS}


def _page(errors=None, form=None, section=None, status: int = 200):
    tenant_id = g.tenant.id
    declarations = db.session.scalars(select(Declaration).where(Declaration.tenant_id == tenant_id,
                                                                Declaration.archived_at.is_(None))
                                      .options(selectinload(Declaration.procedures))
                                      .order_by(Declaration.decided_on.desc())).all()
    procedures = db.session.scalar(select(db.func.count()).select_from(AdminProcedure).where(
        AdminProcedure.tenant_id == tenant_id, AdminProcedure.archived_at.is_(None)))
    certificates = db.session.scalars(select(Certificate).where(Certificate.tenant_id == tenant_id)
                                      .options(selectinload(Certificate.audits))
                                      .order_by(Certificate.issued_on.desc())).all()
    committees = db.session.scalars(select(SteeringCommittee).where(SteeringCommittee.tenant_id == tenant_id)
                                    .order_by(SteeringCommittee.decided_on.desc())).all()
    consultants = db.session.scalars(select(Consultant).where(Consultant.tenant_id == tenant_id,
                                                              Consultant.archived_at.is_(None))).all()
    return render_template("conformity/index.html", declarations=declarations, procedures=procedures,
                           certificates=certificates, committees=committees, consultants=consultants,
                           errors=errors or {}, form=form or {}, section=section), status


@bp.route("/")
@requires(Action.IMPROVEMENT_VIEW)
def index():
    return _page()


def _save(schema, section: str, store, anchor: str | None = None):
    form = request.form.to_dict()
    try:
        data = schema.load(form)
        store(data)
    except ValidationError as err:
        db.session.rollback()
        return _page(first_errors(err.messages), form, section, 400)
    except UploadRefused as err:
        db.session.rollback()
        return _page({"file": str(err)}, form, section, 400)
    db.session.commit()
    flash(_("Saved."), "success")
    return redirect(url_for(".index") + f"#{anchor or section}")


@bp.route("/declarations", methods=["POST"])
@requires(Action.REVIEWS_MANAGE)
def declare():
    def store(data):
        upload = request.files.get("file")
        checked = check_upload(upload, ("pdf", "docx", "odt")) if upload and upload.filename else None
        services.declare(g.tenant.id, file=checked, **data)

    return _save(DeclarationSchema(), "declarations", store)


@bp.route("/declarations/<int:declaration_id>/file")
@requires(Action.IMPROVEMENT_VIEW)
def declaration_file(declaration_id: int):
    declaration = db.session.scalar(select(Declaration).where(Declaration.id == declaration_id,
                                                              Declaration.tenant_id == g.tenant.id))
    if declaration is None or declaration.file_key is None:
        abort(404)
    return send_file(BytesIO(get_storage().get(declaration.file_key)), as_attachment=True,
                     download_name=declaration.file_name)


@bp.route("/certificates", methods=["POST"])
@requires(Action.REVIEWS_MANAGE)
def certificate():
    return _save(CertificateSchema(), "certificates",
                 lambda data: db.session.add(Certificate(tenant_id=g.tenant.id, **data)))




@bp.route("/certificates/<int:certificate_id>/audits", methods=["POST"])
@requires(Action.REVIEWS_MANAGE)
def external_audit(certificate_id: int):
    found = record_or_404(Certificate, certificate_id)
    return _save(ExternalAuditSchema(), "certificates", lambda data: services.record_external_audit(found, **data))


@bp.route("/certificates/<int:certificate_id>/end", methods=["POST"])
@requires(Action.REVIEWS_MANAGE)
def end_certificate(certificate_id: int):
    """Mark a certificate withdrawn or not renewed, from a day: certification becomes history."""
    found = record_or_404(Certificate, certificate_id)
    if found.ended_on is not None:
        flash(_("This certificate is already marked as ended."), "warning")
        return redirect(url_for(".index") + "#certificates")
    return _save(CertificateEndSchema(), f"certificate-{found.id}",
                 lambda data: services.end_certificate(found, **data), anchor="certificates")


@bp.route("/steering", methods=["POST"])
@requires(Action.REVIEWS_MANAGE)
def steering():
    return _save(SteeringSchema(), "steering",
                 lambda data: db.session.add(SteeringCommittee(tenant_id=g.tenant.id, **data)))


@bp.route("/consultants", methods=["POST"])
@requires(Action.REVIEWS_MANAGE)
def consultant():
    return _save(ConsultantSchema(), "consultants",
                 lambda data: db.session.add(Consultant(tenant_id=g.tenant.id, **data)))
