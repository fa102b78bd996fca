"""Declarations of conformity, certification history, steering committee and consultants: one page."""
from __future__ import annotations

from io import BytesIO

from flask import abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError

from govqms.conformity import services
from govqms.conformity.models import CERTIFICATE_END_LABELS, EXTERNAL_AUDIT_LABELS, Certificate, Declaration
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
from govqms.signatures.services import checks_of_records
from govqms.tenancy.blueprints import workspace_blueprint

bp = workspace_blueprint("conformity", __name__, "/conformity")


@bp.app_context_processor
def _labels():
    return {"EXTERNAL_AUDIT_LABELS": EXTERNAL_AUDIT_LABELS, "CERTIFICATE_END_LABELS": CERTIFICATE_END_LABELS}


def _page(errors=None, form=None, section=None, status: int = 200):
    found = services.overview(g.tenant.id)
    return render_template("conformity/index.html", declarations=found.declarations,
                           signed=checks_of_records(g.tenant.id, found.declarations),
                           procedures=found.procedure_count, certificates=found.certificates,
                           committees=found.committees, consultants=found.consultants,
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
    declaration = record_or_404(Declaration, declaration_id)
    if declaration.file_key is None:
        abort(404)
    return send_file(BytesIO(get_storage().get(declaration.file_key)), as_attachment=True,
                     download_name=declaration.file_name)


@bp.route("/certificates", methods=["POST"])
@requires(Action.REVIEWS_MANAGE)
def certificate():
    return _save(CertificateSchema(), "certificates", lambda data: services.add_certificate(g.tenant.id, **data))


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
                 lambda data: services.add_steering_committee(g.tenant.id, **data))


@bp.route("/consultants", methods=["POST"])
@requires(Action.REVIEWS_MANAGE)
def consultant():
    return _save(ConsultantSchema(), "consultants",
                 lambda data: services.add_consultant(g.tenant.id, **data))
