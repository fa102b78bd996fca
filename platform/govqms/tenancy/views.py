"""The agency workspace: home, units, members."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError

from govqms.core.forms import conflict_errors, form_status
from govqms.core.listing import list_args
from govqms.core.permissions import Action
from govqms.core.schemas import first_errors
from govqms.core.web import record_or_404, requires
from govqms.extensions import db
from govqms.tenancy import services
from govqms.tenancy.blueprints import workspace_blueprint
from govqms.tenancy.models import Unit
from govqms.tenancy.schemas import UnitFilter, UnitSchema

workspace = workspace_blueprint("workspace", __name__)
blueprints = [workspace]


@workspace.route("/")
@requires(Action.WORKSPACE_VIEW)
def home():
    figures = services.home_figures(g.tenant)
    return render_template("tenancy/workspace_home.html", tenant=g.tenant, unit_count=figures.unit_count,
                           member_count=figures.member_count, predecessors=figures.predecessors)


# --- units ----------------------------------------------------------------------------------

@workspace.route("/units/")
@requires(Action.WORKSPACE_VIEW)
def units():
    args = list_args(UnitFilter)
    return render_template("tenancy/units.html", page=services.units_page(g.tenant.id, args),
                           show_archived=args["archived"])


def _unit_form(unit: Unit | None):
    form = {"code": unit.code, "name": unit.name} if unit else {}
    errors = {}
    if request.method == "POST":
        form = request.form.to_dict()
        errors = conflict_errors(unit)
        try:
            data = None if errors else UnitSchema().load(form)
        except ValidationError as err:
            errors = first_errors(err.messages)
        else:
            if data is None:
                pass  # saved by someone else meanwhile: the form again, with its input
            elif services.unit_code_taken(g.tenant, data["code"], except_id=unit.id if unit else None):
                errors = {"code": _("Another unit already uses this code.")}
            elif unit is None:
                services.create_unit(g.tenant, **data)
                db.session.commit()
                flash(_("Unit %(code)s created.", code=data["code"]), "success")
                return redirect(url_for(".units"))
            else:
                services.update_unit(unit, **data)
                db.session.commit()
                flash(_("Unit %(code)s saved.", code=data["code"]), "success")
                return redirect(url_for(".units"))
    return render_template("tenancy/unit_form.html", unit=unit, form=form, errors=errors), form_status(errors)


@workspace.route("/units/new", methods=["GET", "POST"])
@requires(Action.UNITS_MANAGE)
def unit_new():
    return _unit_form(None)


@workspace.route("/units/<int:unit_id>/edit", methods=["GET", "POST"])
@requires(Action.UNITS_MANAGE)
def unit_edit(unit_id: int):
    return _unit_form(record_or_404(Unit, unit_id))


@workspace.route("/units/<int:unit_id>/archive", methods=["GET", "POST"])
@requires(Action.UNITS_MANAGE)
def unit_archive(unit_id: int):
    unit = record_or_404(Unit, unit_id)
    if request.method == "GET":  # confirmation page
        return render_template("tenancy/unit_archive.html", unit=unit)
    services.archive_unit(unit)
    db.session.commit()
    flash(_("Unit %(code)s archived. It can be restored from the archived list.", code=unit.code), "info")
    return redirect(url_for(".units"))


@workspace.route("/units/<int:unit_id>/restore", methods=["POST"])
@requires(Action.UNITS_MANAGE)
def unit_restore(unit_id: int):
    unit = record_or_404(Unit, unit_id)
    services.restore_unit(unit)
    db.session.commit()
    flash(_("Unit %(code)s restored.", code=unit.code), "success")
    return redirect(url_for(".units"))


# --- members --------------------------------------------------------------------------------

@workspace.route("/members/")
@requires(Action.MEMBERS_VIEW)
def members():
    return render_template("tenancy/members.html", people=services.member_roles(g.tenant.id))
