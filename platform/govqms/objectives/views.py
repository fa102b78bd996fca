"""Quality policy and quality objectives: the year's list, an objective with its periods, evaluations."""
from __future__ import annotations

from io import BytesIO

from flask import abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale, gettext as _
from flask_login import current_user
from marshmallow import ValidationError

from govqms.core.clock import today
from govqms.core.forms import archive_flow, confirm_page, form_status, process_form
from govqms.core.permissions import Action
from govqms.core.schemas import first_errors
from govqms.core.storage import get_storage
from govqms.core.uploads import UploadRefused, check_upload
from govqms.core.web import record_or_404, requires, year_arg
from govqms.extensions import db
from govqms.jobs.services import enqueue
from govqms.objectives import rules, services
from govqms.objectives.models import SOURCE_LABELS, Measurement, Objective
from govqms.objectives.schemas import EvaluationSchema, MeasurementSchema, ObjectiveSchema, PolicySchema
from govqms.objectives.valuation import valuate
from govqms.performance import charts
from govqms.tenancy.blueprints import workspace_blueprint
from govqms.tenancy.services import active_units, members

bp = workspace_blueprint("objectives", __name__, "/objectives")
policy_bp = workspace_blueprint("policy", __name__, "/policy")
dashboard_bp = workspace_blueprint("dashboard", __name__, "/dashboard")
blueprints = [bp, policy_bp, dashboard_bp]
EVIDENCE = ("pdf", "docx", "xlsx", "odt")


@bp.app_context_processor
def _labels():
    return {"FREQUENCY_LABELS": rules.FREQUENCY_LABELS, "OBJECTIVE_STATUS_LABELS": rules.STATUS_LABELS,
            "SOURCE_LABELS": SOURCE_LABELS}



@bp.route("/")
@requires(Action.OBJECTIVES_VIEW)
def index():
    year = year_arg()
    objectives = services.objectives_of_year(g.tenant.id, year)
    judgements = valuate([g.tenant.id], year, today())[g.tenant.id].judgements()
    return render_template("objectives/index.html", year=year, objectives=objectives, judgements=judgements)




def _choices():
    units = active_units(g.tenant.id)
    people = members(g.tenant.id)
    return units, people


def _form(objective: Objective | None):
    units, people = _choices()
    keys = ("year", "unit_id", "statement", "indicator", "comparator", "target", "unit_of_measure", "frequency",
            "source", "owner_id", "plan")
    if objective is not None:
        initial = {k: ("" if getattr(objective, k) is None else getattr(objective, k)) for k in keys}
    else:
        initial = {"year": year_arg(), "comparator": ">=", "frequency": "quarterly", "source": "typed"}

    def on_valid(data):
        if data["unit_id"] is not None and data["unit_id"] not in {u.id for u in units}:
            return {"unit_id": _("Choose a unit from the list.")}
        if data["owner_id"] is not None and data["owner_id"] not in {p.id for p in people}:
            return {"owner_id": _("Choose a member of the agency.")}
        saved = services.save_objective(objective or Objective(tenant_id=g.tenant.id), **data)
        db.session.commit()
        flash(_("Objective saved."), "success")
        return redirect(url_for(".detail", objective_id=saved.id))

    form, errors, done = process_form(ObjectiveSchema(), initial, on_valid, record=objective)
    if done is not None:
        return done
    return render_template("objectives/form.html", objective=objective, form=form, errors=errors, units=units,
                           people=people), form_status(errors)


@bp.route("/new", methods=["GET", "POST"])
@requires(Action.OBJECTIVES_MANAGE)
def create():
    return _form(None)


@bp.route("/<int:objective_id>/edit", methods=["GET", "POST"])
@requires(Action.OBJECTIVES_MANAGE)
def edit(objective_id: int):
    return _form(record_or_404(Objective, objective_id))


@bp.route("/<int:objective_id>/archive", methods=["GET", "POST"])
@requires(Action.OBJECTIVES_MANAGE)
def archive(objective_id: int):
    objective = record_or_404(Objective, objective_id)
    return archive_flow(objective, title=_("Archive this objective?"),
                        message=_("%(statement)s leaves the list of %(year)s; its measurements are kept.",
                                  statement=objective.statement, year=objective.year),
                        done=_("Objective archived."))


@bp.route("/copy", methods=["GET", "POST"])
@requires(Action.OBJECTIVES_MANAGE)
def copy_year():
    year = year_arg()
    if request.method == "GET":
        return confirm_page(title=_("Copy the objectives of %(year)s into %(next)s?", year=year, next=year + 1),
                            message=_("Statements, targets, owners and plans are copied, without measurements. "
                                      "Objectives already in %(next)s are left alone.", next=year + 1),
                            action_label=_("Copy"), cancel_url=url_for(".index", year=year), danger=False)
    copied = services.copy_year(g.tenant.id, year)
    db.session.commit()
    flash(_("%(n)s objective(s) copied into %(year)s.", n=copied, year=year + 1), "success")
    return redirect(url_for(".index", year=year + 1))


def _detail_page(objective: Objective, errors: dict | None = None, form: dict | None = None):
    valued = valuate([g.tenant.id], objective.year, today(), objective_ids=[objective.id])[g.tenant.id]
    measurements = {m.period_index: m for m in objective.measurements}
    evaluations = services.evaluations_of(objective)
    return render_template("objectives/detail.html", objective=objective, periods=rules.periods(
        objective.year, objective.frequency), values=valued.objectives[objective.id].values,
        judgement=valued.objectives[objective.id].judgement(),
        measurements=measurements, evaluations=evaluations, today=today(), errors=errors or {}, form=form or {},
        achievement=rules.achievement)


@bp.route("/<int:objective_id>")
@requires(Action.OBJECTIVES_VIEW)
def detail(objective_id: int):
    return _detail_page(record_or_404(Objective, objective_id))


@bp.route("/<int:objective_id>/measurements", methods=["POST"])
@requires(Action.MEASUREMENTS_RECORD)
def measure(objective_id: int):
    objective = record_or_404(Objective, objective_id)
    form = request.form.to_dict()
    try:
        data = MeasurementSchema().load(form)
        evidence = request.files.get("evidence")
        checked = check_upload(evidence, EVIDENCE) if evidence and evidence.filename else None
        services.record_measurement(objective, user_id=current_user.id, evidence=checked, **data)
    except ValidationError as err:
        return _detail_page(objective, first_errors(err.messages), form), 400
    except (UploadRefused, services.MeasurementRefused) as err:
        db.session.rollback()
        flash(str(err), "danger")
        return _detail_page(objective, {}, form), 400
    db.session.commit()
    flash(_("Measurement recorded."), "success")
    return redirect(url_for(".detail", objective_id=objective_id))


@bp.route("/<int:objective_id>/evaluations", methods=["POST"])
@requires(Action.OBJECTIVES_MANAGE)
def evaluate(objective_id: int):
    objective = record_or_404(Objective, objective_id)
    try:
        data = EvaluationSchema().load(request.form.to_dict())
        services.evaluate(objective, data["kind"], data["comment"], current_user.id)
    except ValidationError as err:
        return _detail_page(objective, first_errors(err.messages)), 400
    db.session.commit()
    flash(_("Evaluation recorded."), "success")
    return redirect(url_for(".detail", objective_id=objective_id))


@bp.route("/evidence/<int:measurement_id>")
@requires(Action.OBJECTIVES_VIEW)
def evidence(measurement_id: int):
    measurement = record_or_404(Measurement, measurement_id)
    if measurement.evidence_key is None:
        abort(404)
    return send_file(BytesIO(get_storage().get(measurement.evidence_key)), mimetype=measurement.evidence_mimetype,
                     as_attachment=True, download_name=measurement.evidence_name)


# --- quality policy -------------------------------------------------------------------------

@policy_bp.route("/", methods=["GET", "POST"])
@requires(Action.OBJECTIVES_VIEW)
def policy():
    versions = services.policy_versions(g.tenant.id)
    if request.method == "POST" and not g.access.can(Action.PERFORMANCE_MANAGE):
        abort(403)

    def on_valid(data):
        services.issue_policy(g.tenant.id, **data)
        db.session.commit()
        flash(_("New version of the quality policy recorded."), "success")
        return redirect(url_for(".policy"))

    initial = {"text": versions[0].text, "issued_by": versions[0].issued_by} if versions else {}
    form, errors, done = process_form(PolicySchema(), initial, on_valid)
    if done is not None:
        return done
    return render_template("objectives/policy.html", versions=versions, form=form, errors=errors), \
        400 if errors else 200


# --- the dashboard ------------------------------------------------------------------------------

@dashboard_bp.route("/")
@requires(Action.OBJECTIVES_VIEW)
def dashboard():
    year = year_arg()
    objective_list = services.objectives_of_year(g.tenant.id, year)
    valued = valuate([g.tenant.id], year, today())[g.tenant.id]
    judgements = valued.judgements()
    series = valued.month_rates()
    at_risk = [o for o in objective_list if judgements[o.id].status != "on_track"]
    return render_template("objectives/dashboard.html", year=year, objectives=objective_list,
                           judgements=judgements, at_risk=at_risk, valued=valued,
                           on_time_chart=charts.month_chart(series["on_time"]),
                           satisfaction_chart=charts.month_chart(series["satisfaction"]), series=series)


@dashboard_bp.route("/export", methods=["POST"])
@requires(Action.OBJECTIVES_VIEW)
def export():
    job = enqueue("objectives.export_year", tenant_id=g.tenant.id, user_id=current_user.id,
                  year=year_arg(request.form), locale=str(get_locale()))
    return redirect(url_for("jobs.show", job_id=job.id))
