"""The administrative-procedure catalogue: list, edit, archive, import from CSV or XLSX."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _
from flask_login import current_user

from govqms.core.forms import archive_flow, form_status, process_form
from govqms.core.listing import filters_of, list_args
from govqms.core.permissions import Action
from govqms.core.spreadsheets import SpreadsheetRefused, check_spreadsheet
from govqms.core.storage import get_storage
from govqms.core.uploads import UploadRefused, check_upload
from govqms.core.web import record_or_404, requires
from govqms.extensions import db
from govqms.jobs.services import enqueue
from govqms.procedures import services
from govqms.procedures.columns import HEADERS
from govqms.procedures.models import AdminProcedure
from govqms.procedures.schemas import ProcedureFilter, ProcedureSchema
from govqms.tenancy.blueprints import workspace_blueprint

bp = workspace_blueprint("procedures", __name__, "/procedures")


@bp.route("/")
@requires(Action.DOCUMENTS_VIEW)
def index():
    args = list_args(ProcedureFilter)
    return render_template("procedures/index.html", page=services.procedures_page(g.tenant.id, args),
                           args=filters_of(args), fields=services.fields(g.tenant.id))


def _work_procedures():
    return services.work_procedures(g.tenant.id)


def _form(procedure: AdminProcedure | None):
    initial = ({"code": procedure.code, "name": procedure.name, "field": procedure.field,
                "work_procedure_id": procedure.work_procedure_id or ""} if procedure else {})
    choices = _work_procedures()

    def on_valid(data):
        if data["work_procedure_id"] is not None and data["work_procedure_id"] not in {d.id for d in choices}:
            return {"work_procedure_id": _("Choose a work procedure from the list.")}
        if services.code_taken(g.tenant.id, data["code"], except_id=procedure.id if procedure else None):
            return {"code": _("Another procedure already uses this code.")}
        services.save(procedure or AdminProcedure(tenant_id=g.tenant.id), **data)
        db.session.commit()
        flash(_("Procedure %(code)s saved.", code=data["code"]), "success")
        return redirect(url_for(".index"))

    form, errors, done = process_form(ProcedureSchema(), initial, on_valid, record=procedure)
    if done is not None:
        return done
    return render_template("procedures/form.html", procedure=procedure, form=form, errors=errors,
                           choices=choices), form_status(errors)




@bp.route("/new", methods=["GET", "POST"])
@requires(Action.CATALOGUES_MANAGE)
def create():
    return _form(None)


@bp.route("/<int:procedure_id>/edit", methods=["GET", "POST"])
@requires(Action.CATALOGUES_MANAGE)
def edit(procedure_id: int):
    return _form(record_or_404(AdminProcedure, procedure_id))


@bp.route("/<int:procedure_id>/archive", methods=["GET", "POST"])
@requires(Action.CATALOGUES_MANAGE)
def archive(procedure_id: int):
    procedure = record_or_404(AdminProcedure, procedure_id)
    return archive_flow(procedure, title=_("Archive procedure %(code)s?", code=procedure.code),
                        message=_("It leaves the catalogue; the record and its history are kept."),
                        done=_("Procedure %(code)s archived.", code=procedure.code))


@bp.route("/import", methods=["GET", "POST"])
@requires(Action.CATALOGUES_MANAGE)
def import_file():
    if request.method == "POST":
        try:
            checked = check_upload(request.files.get("file"), ("csv", "xlsx"))
            check_spreadsheet(checked.data, checked.extension)  # a bomb is refused here, not in the job
        except (UploadRefused, SpreadsheetRefused) as err:
            flash(str(err), "danger")
            return render_template("procedures/import.html", columns=services.COLUMNS, headers=HEADERS), 400
        key = get_storage().put(g.tenant.id, checked.data)
        job = enqueue("procedures.import", tenant_id=g.tenant.id, user_id=current_user.id, storage_key=key,
                      extension=checked.extension, locale=str(get_locale()))
        return redirect(url_for("jobs.show", job_id=job.id))
    return render_template("procedures/import.html", columns=services.COLUMNS, headers=HEADERS)
