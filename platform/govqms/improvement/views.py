"""Nonconformities with their corrective actions, "my actions", and the risk register."""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import ValidationError

from govqms.core.clock import today
from govqms.core.forms import archive_flow, conflict_errors, form_status, process_form
from govqms.core.listing import list_args
from govqms.core.permissions import Action as Permission
from govqms.core.schemas import first_errors
from govqms.core.web import record_or_404, requires
from govqms.extensions import db
from govqms.improvement import services
from govqms.improvement.models import DECISION_LABELS, NC_STATUS_LABELS, SOURCE_LABELS, Action, Nonconformity, Risk
from govqms.improvement.schemas import (
    ActionFilter,
    ActionSchema,
    AnalysisSchema,
    CompleteSchema,
    NonconformityFilter,
    NonconformitySchema,
    RiskSchema,
    VerifySchema,
)
from govqms.tenancy.blueprints import workspace_blueprint
from govqms.tenancy.services import active_units, members

bp = workspace_blueprint("improvement", __name__, "/improvement")


@bp.app_context_processor
def _labels():
    return {"NC_STATUS_LABELS": NC_STATUS_LABELS, "NC_SOURCE_LABELS": SOURCE_LABELS,
            "DECISION_LABELS": DECISION_LABELS}


def _units():
    return active_units(g.tenant.id)


# --- nonconformities ---------------------------------------------------------------------------

@bp.route("/nonconformities/")
@requires(Permission.IMPROVEMENT_VIEW)
def nonconformities():
    args = list_args(NonconformityFilter)
    return render_template("improvement/nonconformities.html", page=services.nonconformities_page(g.tenant.id, args),
                           status=args["status"], overdue=args["overdue"],
                           counts=services.action_counts(g.tenant.id), today=today())


@bp.route("/nonconformities/new", methods=["GET", "POST"])
@requires(Permission.NONCONFORMITIES_MANAGE)
def new_nonconformity():
    units = _units()

    def on_valid(data):
        if data["unit_id"] is not None and data["unit_id"] not in {u.id for u in units}:
            return {"unit_id": _("Choose a unit from the list.")}
        nc = services.raise_nonconformity(g.tenant.id, **data)
        db.session.commit()
        flash(_("Nonconformity recorded."), "success")
        return redirect(url_for(".nonconformity", nc_id=nc.id))

    form, errors, done = process_form(NonconformitySchema(), {"found_on": today().strftime("%d/%m/%Y"),
                                                              "source": "self_found"}, on_valid)
    if done is not None:
        return done
    return render_template("improvement/nc_form.html", form=form, errors=errors, units=units), 400 if errors else 200


def _nc_page(nc: Nonconformity, errors: dict | None = None, form: dict | None = None, status: int = 200):
    return render_template("improvement/nonconformity.html", nc=nc, errors=errors or {}, form=form or {},
                           people=members(g.tenant.id), today=today()), status


@bp.route("/nonconformities/<int:nc_id>")
@requires(Permission.IMPROVEMENT_VIEW)
def nonconformity(nc_id: int):
    return _nc_page(record_or_404(Nonconformity, nc_id))


def _nc_step(nc_id: int, schema, run, success: str, *, edits: bool = False):
    """One step on a nonconformity: record first (404), then the form, then the workflow's rules.
    A step the workflow refuses is one whose form the page no longer shows: the refusal goes to the
    app-wide handler, back to the page with its message. A form that *edits* what the page showed is
    refused if someone saved the nonconformity since (the page again, with the input)."""
    nc = record_or_404(Nonconformity, nc_id)
    form = request.form.to_dict()
    conflict = conflict_errors(nc) if edits else {}
    if conflict:
        return _nc_page(nc, conflict, form, form_status(conflict))
    try:
        data = schema.load(form)
        run(nc, data)
    except ValidationError as err:
        return _nc_page(nc, first_errors(err.messages), form, 400)
    db.session.commit()
    flash(success, "success")
    return redirect(url_for(".nonconformity", nc_id=nc_id))


@bp.route("/nonconformities/<int:nc_id>/analysis", methods=["POST"])
@requires(Permission.NONCONFORMITIES_MANAGE)
def analyse(nc_id: int):
    return _nc_step(nc_id, AnalysisSchema(), lambda nc, d: services.analyse(nc, d["correction"], d["root_cause"]),
                    _("Analysis recorded."), edits=True)


@bp.route("/nonconformities/<int:nc_id>/actions", methods=["POST"])
@requires(Permission.NONCONFORMITIES_MANAGE)
def add_action(nc_id: int):
    def run(nc, data):
        _check_owner(data["owner_id"])
        services.add_action(g.tenant.id, nonconformity=nc, description=data["description"],
                            owner_id=data["owner_id"], due_on=data["due_on"])

    return _nc_step(nc_id, ActionSchema(), run, _("Action planned."))


def _check_owner(owner_id: int | None) -> None:
    if owner_id is not None and owner_id not in {p.id for p in members(g.tenant.id)}:
        raise ValidationError({"owner_id": [_("Choose a member of the agency.")]})


@bp.route("/nonconformities/<int:nc_id>/verify", methods=["POST"])
@requires(Permission.NONCONFORMITIES_VERIFY)
def verify(nc_id: int):
    return _nc_step(nc_id, VerifySchema(), lambda nc, d: services.verify(nc, effective=d["effective"], note=d["note"],
                                                                        user_id=current_user.id),
                    _("Verification recorded."))


@bp.route("/nonconformities/<int:nc_id>/close", methods=["POST"])
@requires(Permission.NONCONFORMITIES_VERIFY)
def close(nc_id: int):
    return _nc_step(nc_id, CompleteSchema(), lambda nc, d: services.close(nc), _("Nonconformity closed."))


# --- actions -------------------------------------------------------------------------------------

@bp.route("/actions/")
@requires(Permission.IMPROVEMENT_VIEW)
def actions():
    args = list_args(ActionFilter)
    return render_template("improvement/actions.html", page=services.actions_page(g.tenant.id, current_user.id, args),
                           mine=not args["everyone"], today=today())


@bp.route("/actions/<int:action_id>/complete", methods=["POST"])
@requires(Permission.ACTIONS_UPDATE_OWN)
def complete(action_id: int):
    action = record_or_404(Action, action_id)
    # Owners update their own actions; keepers of the QMS may record it for anyone.
    if action.owner_id != current_user.id and not g.access.can(Permission.NONCONFORMITIES_MANAGE):
        abort(403)
    try:
        data = CompleteSchema().load(request.form.to_dict())
    except ValidationError as err:
        # the form is a line on the list: each field's message, as a sentence (never the raw dict)
        for message in first_errors(err.messages).values():
            flash(message, "danger")
        return redirect(request.referrer or url_for(".actions")), 303
    services.complete_action(action, data["note"])  # a refusal: the app-wide handler, back with its message
    db.session.commit()
    flash(_("Action marked done."), "success")
    target = (url_for(".nonconformity", nc_id=action.nonconformity_id) if action.nonconformity_id
              else url_for(".actions"))
    return redirect(target)


# --- risks ---------------------------------------------------------------------------------------

@bp.route("/risks/")
@requires(Permission.IMPROVEMENT_VIEW)
def risks():
    return render_template("improvement/risks.html", risks=services.risk_register(g.tenant.id), today=today())


def _risk_form(risk: Risk | None):
    units = _units()
    keys = ("kind", "description", "process", "unit_id", "likelihood", "impact", "treatment")
    initial = {k: ("" if getattr(risk, k) is None else getattr(risk, k)) for k in keys} if risk else {
        "kind": "risk", "likelihood": 3, "impact": 3}

    def on_valid(data):
        if data["unit_id"] is not None and data["unit_id"] not in {u.id for u in units}:
            return {"unit_id": _("Choose a unit from the list.")}
        services.save_risk(g.tenant.id, risk, data)
        db.session.commit()
        flash(_("Saved."), "success")
        return redirect(url_for(".risks"))

    form, errors, done = process_form(RiskSchema(), initial, on_valid, record=risk)
    if done is not None:
        return done
    return render_template("improvement/risk_form.html", risk=risk, form=form, errors=errors, units=units,
                           people=members(g.tenant.id)), form_status(errors)


@bp.route("/risks/new", methods=["GET", "POST"])
@requires(Permission.RISKS_MANAGE)
def new_risk():
    return _risk_form(None)


@bp.route("/risks/<int:risk_id>/edit", methods=["GET", "POST"])
@requires(Permission.RISKS_MANAGE)
def edit_risk(risk_id: int):
    return _risk_form(record_or_404(Risk, risk_id))


@bp.route("/risks/<int:risk_id>/actions", methods=["POST"])
@requires(Permission.RISKS_MANAGE)
def risk_action(risk_id: int):
    risk = record_or_404(Risk, risk_id)
    try:
        data = ActionSchema().load(request.form.to_dict())
        _check_owner(data["owner_id"])
        services.add_action(g.tenant.id, risk_id=risk.id, description=data["description"],
                            owner_id=data["owner_id"], due_on=data["due_on"])
    except ValidationError as err:
        for message in first_errors(err.messages).values():
            flash(message, "danger")
        return risks(), 400
    db.session.commit()
    flash(_("Action planned."), "success")
    return redirect(url_for(".risks"))


@bp.route("/risks/<int:risk_id>/archive", methods=["GET", "POST"])
@requires(Permission.RISKS_MANAGE)
def archive_risk(risk_id: int):
    risk = record_or_404(Risk, risk_id)
    return archive_flow(risk, title=_("Archive this entry?"), message=risk.description,
                        done=_("Archived."), back=".risks")
