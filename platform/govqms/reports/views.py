"""The overseer's reports and official documents: the year's figures, who issues and signs the
documents, the narrative of the yearly reports, the templates (download the default, replace it, go
back to it), and the buttons that queue a document."""
from __future__ import annotations

from io import BytesIO

from flask import abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale, gettext as _
from flask_login import current_user
from marshmallow import ValidationError

from govqms.core.forms import confirm_page, form_status, process_form
from govqms.core.permissions import Action
from govqms.core.schemas import first_errors
from govqms.core.uploads import UploadRefused, check_upload
from govqms.core.web import requires, year_arg
from govqms.extensions import db
from govqms.jobs.services import enqueue
from govqms.official import issuing, render, services as official
from govqms.official.models import PROFILE_FIELDS, TEMPLATE_MAX_BYTES
from govqms.reports import documents, services
from govqms.reports.models import NARRATIVE_FIELDS
from govqms.reports.schemas import InspectionDocumentSchema, ProfileSchema, ReportTextSchema, YearDocumentSchema
from govqms.tenancy.blueprints import oversight_blueprint

bp = oversight_blueprint("reports", __name__)


def _kind_or_404(kind: str) -> str:
    if kind not in render.KINDS:
        abort(404)
    return kind


def kind_titles() -> dict[str, str]:
    """Each kind of document with its title, as the forms name them (in Vietnamese: they are the
    documents' own names)."""
    return {kind: render.form(kind).get("title", kind) for kind in render.KINDS}


@bp.route("/reports/")
@requires(Action.OVERSIGHT_VIEW)
def reports():
    """The year's figures and the buttons that make the yearly report and the November summary."""
    from govqms.oversight.report import figures

    year = year_arg()
    return render_template("reports/reports.html", year=year, figures=figures(g.jurisdiction, year),
                           texts={kind: documents.report_text(g.jurisdiction, year, kind)
                                  for kind in documents.NARRATED_KINDS},
                           titles=kind_titles(), can_manage=g.access.can(Action.INSPECTIONS_MANAGE))


@bp.route("/official/", methods=["GET", "POST"])
@requires(Action.OVERSIGHT_VIEW)
def settings():
    """Who issues and signs the jurisdiction's documents, and its templates."""
    can_manage = g.access.can(Action.INSPECTIONS_MANAGE)
    if request.method == "POST" and not can_manage:
        abort(403)
    profile = issuing.profile_of(g.jurisdiction)
    initial = {field: getattr(profile, field) for field in PROFILE_FIELDS} if profile else {}

    def on_valid(data):
        official.save_profile(g.jurisdiction, data)
        db.session.commit()
        flash(_("Saved: the next documents are issued with these details."), "success")
        return redirect(url_for(".settings"))

    form, errors, done = process_form(ProfileSchema(), initial, on_valid, record=profile)
    if done is not None:
        return done
    return render_template("reports/settings.html", form=form, errors=errors, profile=profile,
                           defaults=issuing.default_profile(g.jurisdiction), can_manage=can_manage,
                           templates=official.templates_in_use(g.jurisdiction), titles=kind_titles(),
                           max_mb=TEMPLATE_MAX_BYTES // (1024 * 1024)), form_status(errors)


@bp.route("/official/templates/<kind>/default.docx")
@requires(Action.OVERSIGHT_VIEW)
def default_template(kind: str):
    """The default template of a kind, to open in Word and change."""
    return send_file(BytesIO(render.default_template(_kind_or_404(kind))), mimetype=render.DOCX, as_attachment=True,
                     download_name=f"mau-{kind}.docx")


@bp.route("/official/templates/<kind>/current.docx")
@requires(Action.OVERSIGHT_VIEW)
def current_template(kind: str):
    """The template in use: the jurisdiction's own, or the default."""
    _kind_or_404(kind)
    replaced = issuing.template_in_use(g.jurisdiction.id, kind)
    data = replaced.data if replaced else render.default_template(kind)
    return send_file(BytesIO(data), mimetype=render.DOCX, as_attachment=True,
                     download_name=replaced.file_name if replaced else f"mau-{kind}.docx")


@bp.route("/official/templates/<kind>", methods=["POST"])
@requires(Action.INSPECTIONS_MANAGE)
def upload_template(kind: str):
    """Replace the template of a kind: kept only if it renders with this jurisdiction's figures."""
    _kind_or_404(kind)
    try:
        checked = check_upload(request.files.get("file"), ("docx",), max_bytes=TEMPLATE_MAX_BYTES)
        official.replace_template(g.jurisdiction, kind, checked, user_id=current_user.id,
                                  sample=services.sample_context(g.jurisdiction, kind, year_arg()))
    except (UploadRefused, official.TemplateRefused) as refused:
        db.session.rollback()
        flash(str(refused), "danger")
        return redirect(url_for(".settings", _anchor=f"template-{kind}"))
    db.session.commit()
    flash(_("The template of “%(title)s” is replaced: the next documents use it.", title=kind_titles()[kind]),
          "success")
    return redirect(url_for(".settings", _anchor=f"template-{kind}"))


@bp.route("/official/templates/<kind>/reset", methods=["GET", "POST"])
@requires(Action.INSPECTIONS_MANAGE)
def reset_template(kind: str):
    _kind_or_404(kind)
    if issuing.template_in_use(g.jurisdiction.id, kind) is None:
        flash(_("This document already uses the default template."), "info")
        return redirect(url_for(".settings"))
    if request.method == "GET":
        return confirm_page(title=_("Go back to the default template?"),
                            message=_("“%(title)s” will be made with the platform's template again. The template you "
                                      "uploaded is archived, not deleted.", title=kind_titles()[kind]),
                            action_label=_("Use the default template"), cancel_url=url_for(".settings"))
    official.archive_templates(g.jurisdiction, kind)
    db.session.commit()
    flash(_("“%(title)s” uses the default template again.", title=kind_titles()[kind]), "info")
    return redirect(url_for(".settings"))


@bp.route("/official/reports/<kind>/<int:year>", methods=["GET", "POST"])
@requires(Action.OVERSIGHT_VIEW)
def report_text(kind: str, year: int):
    """The overseer's words in a yearly report (its number and narrative sections), written before
    the report is made."""
    if kind not in documents.NARRATED_KINDS or not 2000 <= year <= 2100:
        abort(404)
    can_manage = g.access.can(Action.INSPECTIONS_MANAGE)
    if request.method == "POST" and not can_manage:
        abort(403)
    saved = documents.report_text(g.jurisdiction, year, kind)
    initial = {field: getattr(saved, field) for field in ("number", *NARRATIVE_FIELDS)} if saved else {}

    def on_valid(data):
        services.save_report_text(g.jurisdiction, year, kind, data)
        db.session.commit()
        flash(_("Saved: the report is made with this text."), "success")
        return redirect(url_for(".reports", year=year))

    form, errors, done = process_form(ReportTextSchema(), initial, on_valid, record=saved)
    if done is not None:
        return done
    return render_template("reports/report_text.html", kind=kind, year=year, form=form, errors=errors, saved=saved,
                           title=kind_titles()[kind], can_manage=can_manage,
                           fields=[field for field in NARRATIVE_FIELDS
                                   if kind == "yearly" or field != "direction"]), form_status(errors)


@bp.route("/official/documents", methods=["POST"])
@requires(Action.OVERSIGHT_VIEW)
def make_year_document():
    """Queue a document of the jurisdiction's year (the reports page's and the plan's buttons)."""
    try:
        data = YearDocumentSchema().load(request.form)
    except ValidationError:
        abort(400)
    if data["kind"] == "inspection-plan":
        from govqms.inspections.services import plan_for

        if plan_for(g.jurisdiction, data["year"]) is None:
            flash(_("There is no inspection plan for %(year)s yet: make it first.", year=data["year"]), "warning")
            return redirect(url_for("inspections.index", year=data["year"]))
    job = enqueue("oversight.yearly_report", tenant_id=None, user_id=current_user.id,
                  jurisdiction_id=g.jurisdiction.id, year=data["year"], kind=data["kind"], fmt=data["fmt"],
                  locale=str(get_locale()))
    return redirect(url_for("jobs.show", job_id=job.id))


@bp.route("/official/inspections/<int:inspection_id>/document", methods=["POST"])
@requires(Action.OVERSIGHT_VIEW)
def make_inspection_document(inspection_id: int):
    """Queue a document of one inspection of this jurisdiction's plans (another's: 404)."""
    from govqms.inspections.services import inspection_in_reach

    if inspection_in_reach(g.jurisdiction, inspection_id) is None:
        abort(404)
    try:
        data = InspectionDocumentSchema().load(request.form)
    except ValidationError as error:
        flash(" ".join(first_errors(error.messages).values()), "danger")
        return redirect(url_for("inspections.detail", inspection_id=inspection_id))
    job = enqueue("official.inspection_document", tenant_id=None, user_id=current_user.id,
                  jurisdiction_id=g.jurisdiction.id, inspection_id=inspection_id, kind=data["kind"],
                  locale=str(get_locale()))
    return redirect(url_for("jobs.show", job_id=job.id))
