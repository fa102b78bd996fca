"""The audit programme of a year, each audit with its scope, team, checklist, findings and report."""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _
from flask_login import current_user
from marshmallow import ValidationError

from govqms.audits import services
from govqms.audits.clauses import clauses
from govqms.audits.models import AUDIT_STATUS_LABELS, FINDING_LABELS, Audit
from govqms.audits.schemas import AuditSchema, FindingSchema, ReportSchema
from govqms.competence.services import qualified_auditors
from govqms.conformity.services import edition_applied
from govqms.core.clock import today
from govqms.core.forms import conflict_errors, form_data, form_status
from govqms.core.permissions import Action
from govqms.core.schemas import first_errors
from govqms.core.web import record_or_404, requires, year_arg
from govqms.extensions import db
from govqms.jobs.services import enqueue
from govqms.tenancy.blueprints import workspace_blueprint
from govqms.tenancy.services import active_units

bp = workspace_blueprint("audits", __name__, "/audits")
LIST_FIELDS = ("team_ids", "unit_ids", "process_ids", "clauses")


@bp.app_context_processor
def _labels():
    return {"AUDIT_STATUS_LABELS": AUDIT_STATUS_LABELS, "FINDING_LABELS": FINDING_LABELS}


@bp.route("/")
@requires(Action.IMPROVEMENT_VIEW)
def index():
    year = year_arg()
    return render_template("audits/index.html", year=year, audits=services.audits_of_year(g.tenant.id, year))


def _choices():
    """What the plan form offers: units not archived, procedures not obsolete, trained auditors, clauses."""
    edition = edition_applied(g.tenant.id)
    return {"units": active_units(g.tenant.id), "processes": services.process_choices(g.tenant.id),
            "auditors": qualified_auditors(g.tenant.id), "clauses": clauses(edition), "edition": edition}


def _form(audit: Audit | None):
    choices = _choices()
    if audit is not None:
        form = {"year": audit.year, "title": audit.title, "planned_start": audit.planned_start.strftime("%d/%m/%Y"),
                "planned_end": audit.planned_end.strftime("%d/%m/%Y"), "lead_auditor_id": audit.lead_auditor_id,
                "team_ids": [str(i) for i in audit.team_ids], "unit_ids": [str(i) for i in audit.unit_ids],
                "process_ids": [str(i) for i in audit.process_ids], "clauses": list(audit.clauses)}
    else:
        form = {"year": year_arg(), "clauses": [c for c, _, _ in choices["clauses"] if "." not in c]}
    errors = {}
    if request.method == "POST":
        form = form_data(LIST_FIELDS)
        errors = conflict_errors(audit)
    if request.method == "POST" and not errors:
        try:
            data = AuditSchema().load(form)
            unit_ids = {u.id for u in choices["units"]}
            process_ids = {p.id for p in choices["processes"]}
            if set(data["unit_ids"]) - unit_ids or set(data["process_ids"]) - process_ids:
                raise ValidationError({"unit_ids": [_("Choose units and processes from the lists.")]})
            saved = services.save_audit(
                audit or Audit(tenant_id=g.tenant.id), edition=choices["edition"],
                lead_auditor_id=data.pop("lead_auditor_id"), team_ids=data.pop("team_ids"),
                unit_ids=data.pop("unit_ids"), clauses_=data.pop("clauses"), process_ids=data.pop("process_ids"),
                **data)
        except ValidationError as err:
            errors = first_errors(err.messages)
        except services.AuditRefused as err:
            db.session.rollback()
            errors = {"team_ids": str(err)}
        else:
            services.build_checklist(saved, choices["edition"], str(get_locale()))
            db.session.commit()
            flash(_("Audit saved."), "success")
            return redirect(url_for(".detail", audit_id=saved.id))
    return render_template("audits/form.html", audit=audit, form=form, errors=errors, **choices), \
        form_status(errors)


@bp.route("/new", methods=["GET", "POST"])
@requires(Action.AUDITS_MANAGE)
def create():
    return _form(None)


@bp.route("/<int:audit_id>/edit", methods=["GET", "POST"])
@requires(Action.AUDITS_MANAGE)
def edit(audit_id: int):
    audit = record_or_404(Audit, audit_id)
    if audit.status == "reported":
        abort(403)
    return _form(audit)


def _detail(audit: Audit, errors: dict | None = None, form: dict | None = None, status: int = 200):
    team = [u for u in qualified_auditors(g.tenant.id) if u.id in audit.team_ids]
    return render_template("audits/detail.html", audit=audit, units=services.units_in_scope(audit),
                           processes=services.processes_of(audit), team=team,
                           errors=errors or {}, form=form or {}, today=today(),
                           clause_list=clauses(edition_applied(g.tenant.id, audit.planned_start))), status


@bp.route("/<int:audit_id>")
@requires(Action.IMPROVEMENT_VIEW)
def detail(audit_id: int):
    return _detail(record_or_404(Audit, audit_id))


@bp.route("/<int:audit_id>/checklist", methods=["POST"])
@requires(Action.AUDITS_MANAGE)
def checklist(audit_id: int):
    audit = record_or_404(Audit, audit_id)
    if audit.status == "reported":
        abort(403)
    try:
        services.save_checklist(audit, _checklist_results(request.form), _checklist_results(request.form, "shown-"))
    except services.ChecklistConflict as err:  # the page again, with what was typed
        flash(str(err), "danger")
        return _detail(audit, {}, request.form.to_dict(), 409)
    db.session.commit()
    flash(_("Checklist saved."), "success")
    return redirect(url_for(".detail", audit_id=audit_id))


def _checklist_results(form, prefix: str = "result-") -> dict[int, str]:
    """The checklist form's ``result-<item id>`` fields (or ``shown-…``, what it showed), by item id."""
    results = {}
    for key, value in form.items():
        item_id = key.removeprefix(prefix)
        if item_id != key and item_id.isascii() and item_id.isdigit():
            results[int(item_id)] = value
    return results


@bp.route("/<int:audit_id>/findings", methods=["POST"])
@requires(Action.AUDITS_MANAGE)
def finding(audit_id: int):
    """A finding; the one refusal (the audit reported, when the page no longer shows this form) is
    answered by the app-wide handler."""
    audit = record_or_404(Audit, audit_id)
    form = request.form.to_dict()
    try:
        data = FindingSchema().load(form)
        if data["unit_id"] is not None and data["unit_id"] not in audit.unit_ids:
            raise ValidationError({"unit_id": [_("Choose a unit in the audit's scope.")]})
        created = services.add_finding(audit, **data)
    except ValidationError as err:
        return _detail(audit, first_errors(err.messages), form, 400)
    db.session.commit()
    flash(_("Finding recorded; a nonconformity was opened for it.") if created.nonconformity_id
          else _("Finding recorded."), "success")
    return redirect(url_for(".detail", audit_id=audit_id))


@bp.route("/<int:audit_id>/report", methods=["POST"])
@requires(Action.AUDITS_MANAGE)
def report(audit_id: int):
    audit = record_or_404(Audit, audit_id)
    form = request.form.to_dict()
    try:
        data = ReportSchema().load(form)
        services.report(audit, data["conclusion"], data["actual_start"], data["actual_end"])
    except ValidationError as err:
        return _detail(audit, first_errors(err.messages), form, 400)
    except services.AuditRefused as err:  # dates out of order: the form again, with the conclusion typed
        db.session.rollback()
        flash(str(err), "danger")
        return _detail(audit, {}, form, 409)
    db.session.commit()
    flash(_("The audit is reported."), "success")
    return redirect(url_for(".detail", audit_id=audit_id))


@bp.route("/<int:audit_id>/docx", methods=["POST"])
@requires(Action.IMPROVEMENT_VIEW)
def docx(audit_id: int):
    audit = record_or_404(Audit, audit_id)
    job = enqueue("audits.report_docx", tenant_id=g.tenant.id, user_id=current_user.id, audit_id=audit.id,
                  locale=str(get_locale()))
    return redirect(url_for("jobs.show", job_id=job.id))
