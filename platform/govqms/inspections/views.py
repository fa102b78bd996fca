"""Inspections: the overseer's yearly plan and records; the agency's view of its own."""
from __future__ import annotations

from io import BytesIO

from flask import abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError

from govqms.core.clock import today
from govqms.core.forms import conflict_errors, form_status
from govqms.core.permissions import Action
from govqms.core.schemas import first_errors
from govqms.core.storage import get_storage
from govqms.core.uploads import UploadRefused, check_upload
from govqms.core.web import record_or_404, requires, year_arg
from govqms.extensions import db
from govqms.improvement.services import ImprovementRefused
from govqms.inspections import (
    schedule as _schedule,  # noqa: F401  (registers the timeline sources)
    services,
)
from govqms.inspections.checklist import ART36, ART36_KEYS, RESULTS
from govqms.inspections.models import FORM_LABELS, STATUS_LABELS, Inspection, InspectionPlan, InspectionStatus
from govqms.inspections.prefill import judged_on, prefill
from govqms.inspections.schemas import (
    MinutesSchema,
    PlanningSchema,
    PlanSchema,
    ReportSchema,
    RequestSchema,
    parse_findings,
)
from govqms.signatures.services import checks_of_records
from govqms.tenancy.blueprints import oversight_blueprint, workspace_blueprint
from govqms.tenancy.models import Tenant

bp = oversight_blueprint("inspections", __name__, "/inspections")
agency = workspace_blueprint("agency_inspections", __name__, "/inspections")
blueprints = [bp, agency]
LABELS = {"FORM_LABELS": FORM_LABELS, "STATUS_LABELS": STATUS_LABELS, "ART36": ART36, "RESULTS": RESULTS}


@bp.route("/")
@requires(Action.OVERSIGHT_VIEW)
def index():
    year = year_arg()
    plan = services.plan_for(g.jurisdiction, year)
    lines = services.plan_lines(plan, today()) if plan else []
    missing = len(services.missing_from_plan(plan, g.jurisdiction)) if plan else 0
    on_site, total, enough = services.on_site_share([line.inspection for line in lines])
    return render_template("inspections/plan.html", year=year, plan=plan, lines=lines, missing=missing,
                           on_site=on_site, total=total, enough=enough,
                           cost=sum(line.inspection.cost for line in lines),
                           not_recorded=sum(1 for line in lines if line.not_yet_recorded),
                           can_manage=g.access.can(Action.INSPECTIONS_MANAGE), errors={}, **LABELS)


@bp.route("/plan", methods=["POST"])
@requires(Action.INSPECTIONS_MANAGE)
def plan():
    year = year_arg(request.form)
    existing = services.plan_for(g.jurisdiction, year)
    step = request.form.get("step")
    if step == "create" and existing is None:
        created = services.create_plan(g.jurisdiction, year)
        db.session.commit()
        flash(_("The %(year)s plan lists %(n)s agencies, each on paper: choose which are inspected on site.",
                year=year, n=services.plan_size(created)), "success")
    elif step == "add_missing" and existing is not None:
        added = services.add_missing_agencies(existing, g.jurisdiction)
        db.session.commit()
        flash(_("%(n)s agencies added to the plan.", n=added), "success")
    elif step == "decision" and existing is not None:
        try:
            data = PlanSchema().load(request.form)
        except ValidationError as error:
            for message in first_errors(error.messages).values():
                flash(message, "danger")
            return redirect(url_for(".index", year=year))
        services.approve_plan(existing, decision_number=data["decision_number"], approved_on=data["approved_on"])
        db.session.commit()
        flash(_("Plan saved."), "success")
    else:
        abort(400)
    return redirect(url_for(".index", year=year))


@bp.route("/<int:inspection_id>/", methods=["GET", "POST"])
@requires(Action.OVERSIGHT_VIEW)
def detail(inspection_id: int):
    found = services.inspection_in_reach(g.jurisdiction, inspection_id)
    if found is None:
        abort(404)
    inspection, tenant, plan_ = found
    errors: dict[str, str] = {}
    step = request.form.get("step")
    status = 200
    if request.method == "POST":
        if not g.access.can(Action.INSPECTIONS_MANAGE):
            abort(403)
        errors = conflict_errors(inspection)
        if errors:  # saved by someone else since the page was opened: the page again, with the input
            return _detail_page(inspection, tenant, plan_, errors=errors, step=step, status=form_status(errors))
        try:
            _apply(step, inspection)
            db.session.commit()
            flash(_("Inspection saved."), "success")
            return redirect(url_for(".detail", inspection_id=inspection.id))
        except ValidationError as error:
            errors, status = first_errors(error.messages), 422
        except ImprovementRefused as refused:
            db.session.rollback()
            flash(_("This step is not possible now: %(reason)s", reason=str(refused)), "warning")
            return redirect(url_for(".detail", inspection_id=inspection.id))
    return _detail_page(inspection, tenant, plan_, errors=errors, step=step, status=status)


def _detail_page(inspection: Inspection, tenant: Tenant, plan_: InspectionPlan, *, errors: dict[str, str],
                 step: str | None, status: int):
    # a planned inspection's checklist is suggested by the records; a signed one shows what was saved
    prefilled_on = judged_on(inspection) if inspection.status == InspectionStatus.PLANNED else None
    suggestions = prefill(inspection, tenant, prefilled_on) if prefilled_on else {}
    return render_template("inspections/detail.html", inspection=inspection, tenant=tenant, plan=plan_,
                           errors=errors, step=step, form=request.form, keys=ART36_KEYS,
                           suggestions=suggestions, prefilled_on=prefilled_on,
                           not_yet_recorded=services.not_yet_recorded(inspection, today()),
                           successor=tenant.merged_into,
                           droppable=services.drop_refusal(inspection, tenant, plan_) is None,
                           signed_checks=_signed_checks(inspection.tenant_id, [inspection]),
                           can_manage=g.access.can(Action.INSPECTIONS_MANAGE), **LABELS), status


@bp.route("/<int:inspection_id>/drop", methods=["GET", "POST"])
@requires(Action.INSPECTIONS_MANAGE)
def drop(inspection_id: int):
    """Take a merged agency's never-held inspection out of the plan: GET asks, POST with the
    confirmation does it."""
    found = services.inspection_in_reach(g.jurisdiction, inspection_id)
    if found is None:
        abort(404)
    inspection, tenant, plan_ = found
    refusal = services.drop_refusal(inspection, tenant, plan_)
    if refusal is None and request.method == "POST" and request.form.get("confirm") == "1":
        try:
            services.drop_merged_agency(inspection)
        except ImprovementRefused as refused:
            db.session.rollback()
            refusal = str(refused)
        else:
            db.session.commit()
            flash(_("%(name)s was dropped from the %(year)s inspection plan.", name=tenant.name, year=plan_.year),
                  "success")
            return redirect(url_for(".index", year=plan_.year))
    if refusal:
        flash(_("This step is not possible now: %(reason)s", reason=refusal), "warning")
        if request.method == "GET":
            return redirect(url_for(".detail", inspection_id=inspection.id))
        return _detail_page(inspection, tenant, plan_, errors={}, step=None, status=409)
    return render_template("inspections/drop.html", inspection=inspection, tenant=tenant, plan=plan_,
                           successor=tenant.merged_into), 200 if request.method == "GET" else 400


def _apply(step: str | None, inspection: Inspection) -> None:
    if step == "planning":
        services.replan(inspection, **PlanningSchema().load(request.form))
    elif step == "minutes":
        data = MinutesSchema().load(request.form)
        checklist = {key: {"result": request.form.get(f"check-{key}", ""), "note": request.form.get(f"note-{key}", "")
                           .strip()[:2000]} for key in ART36_KEYS if request.form.get(f"check-{key}") in RESULTS}
        services.update(inspection, held_on=data["held_on"], conclusion=data["conclusion"], checklist=checklist)
        services.sign_minutes(inspection, minutes_on=data["minutes_on"], findings=parse_findings(data["findings"]))
    elif step == "request":
        services.replan(inspection, **RequestSchema().load(request.form))
    elif step == "report":
        data = ReportSchema().load(request.form)
        if data["outcome"] == "received":
            services.receive_report(inspection, data["on"])
        else:
            services.decide_report(inspection, accepted=data["outcome"] == "accepted", on=data["on"], note=data["note"])
    else:
        abort(400)


# --- the minutes signed digitally (Mẫu 21 BBKT as a signed PDF) -----------------------------------

def _signed_checks(tenant_id: int, inspections) -> dict:
    """The signature checks of the inspections' signed minutes, by inspection id (one query)."""
    return checks_of_records(tenant_id, inspections, "signed_minutes_key", "signed_minutes_name")


def _signed_minutes_file(inspection: Inspection):
    if inspection.signed_minutes_key is None:
        abort(404)
    return send_file(BytesIO(get_storage().get(inspection.signed_minutes_key)), mimetype="application/pdf",
                     as_attachment=True, download_name=inspection.signed_minutes_name or "minutes.pdf")


@bp.route("/<int:inspection_id>/signed-minutes")
@requires(Action.OVERSIGHT_VIEW)
def signed_minutes(inspection_id: int):
    found = services.inspection_in_reach(g.jurisdiction, inspection_id)
    if found is None:
        abort(404)
    return _signed_minutes_file(found[0])


@bp.route("/<int:inspection_id>/signed-minutes", methods=["POST"])
@requires(Action.INSPECTIONS_MANAGE)
def upload_signed_minutes(inspection_id: int):
    """The overseer uploads the signed minutes' PDF into the agency's file, once the minutes are recorded;
    its signatures are verified."""
    found = services.inspection_in_reach(g.jurisdiction, inspection_id)
    if found is None:
        abort(404)
    inspection, tenant, plan_ = found
    try:
        services.attach_signed_minutes(inspection, check_upload(request.files.get("file"), ("pdf",)))
    except UploadRefused as refused:
        db.session.rollback()
        return _detail_page(inspection, tenant, plan_, errors={"signed_minutes": str(refused)}, step=None,
                            status=400)
    except ImprovementRefused as refused:
        db.session.rollback()
        flash(_("This step is not possible now: %(reason)s", reason=str(refused)), "warning")
        return redirect(url_for(".detail", inspection_id=inspection_id))
    db.session.commit()
    flash(_("The signed minutes are uploaded into the agency's file."), "success")
    return redirect(url_for(".detail", inspection_id=inspection_id) + "#signed-minutes")


@bp.route("/<int:inspection_id>/signed-minutes/check", methods=["POST"])
@requires(Action.INSPECTIONS_MANAGE)
def check_signed_minutes(inspection_id: int):
    """Verify the signed minutes' signatures again (after the trust anchors changed, say)."""
    found = services.inspection_in_reach(g.jurisdiction, inspection_id)
    if found is None:
        abort(404)
    try:
        services.check_signed_minutes_again(found[0])
    except ImprovementRefused:
        abort(404)
    db.session.commit()
    flash(_("The signatures were checked again."), "success")
    return redirect(url_for(".detail", inspection_id=inspection_id) + "#signed-minutes")


# --- the agency's side ---------------------------------------------------------------------------

@agency.route("/")
@requires(Action.IMPROVEMENT_VIEW)
def index_for_agency():
    rows = services.inspections_of(g.tenant.id)
    day = today()
    return render_template("inspections/agency.html", rows=rows,
                           not_yet_recorded={i.id for i, _plan in rows if services.not_yet_recorded(i, day)},
                           signed_checks=_signed_checks(g.tenant.id, [i for i, _plan in rows]), **LABELS)


@agency.route("/<int:inspection_id>/signed-minutes")
@requires(Action.IMPROVEMENT_VIEW)
def signed_minutes_for_agency(inspection_id: int):
    return _signed_minutes_file(record_or_404(Inspection, inspection_id))
