"""Training and competence: where each member works, their qualifications, requirements per job title."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError

from govqms.competence import services
from govqms.competence.models import QUALIFICATION_LABELS, Qualification
from govqms.competence.schemas import ProfileSchema, QualificationSchema, RequirementSchema
from govqms.core.forms import archive_flow
from govqms.core.permissions import Action
from govqms.core.schemas import first_errors
from govqms.core.web import record_or_404, requires
from govqms.extensions import db
from govqms.tenancy.blueprints import workspace_blueprint
from govqms.tenancy.services import active_units, members

bp = workspace_blueprint("competence", __name__, "/competence")


@bp.app_context_processor
def _labels():
    return {"QUALIFICATION_LABELS": QUALIFICATION_LABELS}


def _page(errors=None, form=None, status: int = 200):
    found = services.overview(g.tenant.id)
    return render_template("competence/index.html", people=members(g.tenant.id), profiles=found.profiles,
                           qualifications=found.qualifications, requirements=found.requirements,
                           units=active_units(g.tenant.id), errors=errors or {}, form=form or {}), status


@bp.route("/")
@requires(Action.IMPROVEMENT_VIEW)
def index():
    return _page()


def _load(schema):
    form = request.form.to_dict()
    try:
        data = schema.load(form)
        if "user_id" in data and data["user_id"] not in {p.id for p in members(g.tenant.id)}:
            raise ValidationError({"user_id": [_("Choose a member of the agency.")]})
        if data.get("unit_id") is not None and not services.is_unit_of(g.tenant.id, data["unit_id"]):
            raise ValidationError({"unit_id": [_("Choose a unit from the list.")]})
    except ValidationError as err:
        return None, _page(first_errors(err.messages), form, 400)
    return data, None


@bp.route("/profiles", methods=["POST"])
@requires(Action.COMPETENCE_MANAGE)
def profile():
    data, refused = _load(ProfileSchema())
    if refused:
        return refused
    services.save_profile(g.tenant.id, **data)
    db.session.commit()
    flash(_("Saved."), "success")
    return redirect(url_for(".index"))


@bp.route("/qualifications", methods=["POST"])
@requires(Action.COMPETENCE_MANAGE)
def qualification():
    data, refused = _load(QualificationSchema())
    if refused:
        return refused
    services.add_qualification(g.tenant.id, **data)
    db.session.commit()
    flash(_("Qualification recorded."), "success")
    return redirect(url_for(".index"))


@bp.route("/requirements", methods=["POST"])
@requires(Action.COMPETENCE_MANAGE)
def requirement():
    data, refused = _load(RequirementSchema())
    if refused:
        return refused
    services.add_requirement(g.tenant.id, **data)
    db.session.commit()
    flash(_("Requirement recorded."), "success")
    return redirect(url_for(".index"))


@bp.route("/qualifications/<int:qualification_id>/archive", methods=["GET", "POST"])
@requires(Action.COMPETENCE_MANAGE)
def archive_qualification(qualification_id: int):
    item = record_or_404(Qualification, qualification_id)
    return archive_flow(item, title=_("Archive this qualification?"), message=item.course, done=_("Archived."))
