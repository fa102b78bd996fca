"""The agency workspace: home, units, members."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError
from sqlalchemy import func, select

from govqms.accounts.models import User
from govqms.core.permissions import Action
from govqms.core.schemas import first_errors
from govqms.core.web import page_number, record_or_404, requires
from govqms.extensions import db
from govqms.tenancy import services
from govqms.tenancy.blueprints import workspace_blueprint
from govqms.tenancy.models import Membership, Tenant, Unit
from govqms.tenancy.schemas import UnitSchema

workspace = workspace_blueprint("workspace", __name__)
blueprints = [workspace]


@workspace.route("/")
@requires(Action.WORKSPACE_VIEW)
def home():
    tenant = g.tenant
    unit_count = db.session.scalar(select(func.count()).select_from(Unit).where(
        Unit.tenant_id == tenant.id, Unit.archived_at.is_(None)))
    member_count = db.session.scalar(select(func.count(func.distinct(Membership.user_id))).where(
        Membership.tenant_id == tenant.id))
    predecessors = db.session.scalars(select(Tenant).where(Tenant.merged_into_id == tenant.id)
                                      .order_by(Tenant.name)).all()
    return render_template("tenancy/workspace_home.html", tenant=tenant, unit_count=unit_count,
                           member_count=member_count, predecessors=predecessors)


# --- units ----------------------------------------------------------------------------------

@workspace.route("/units/")
@requires(Action.WORKSPACE_VIEW)
def units():
    show_archived = request.args.get("archived") == "1"
    query = select(Unit).where(Unit.tenant_id == g.tenant.id).order_by(Unit.code)
    if not show_archived:
        query = query.where(Unit.archived_at.is_(None))
    page = db.paginate(query, page=page_number(), per_page=25, error_out=False)
    return render_template("tenancy/units.html", page=page, show_archived=show_archived)




def _unit_form(unit: Unit | None):
    form = {"code": unit.code, "name": unit.name} if unit else {}
    errors, status = {}, 200
    if request.method == "POST":
        form = request.form.to_dict()
        try:
            data = UnitSchema().load(form)
        except ValidationError as err:
            errors = first_errors(err.messages)
        else:
            if services.unit_code_taken(g.tenant, data["code"], except_id=unit.id if unit else None):
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
        status = 400
    return render_template("tenancy/unit_form.html", unit=unit, form=form, errors=errors), status


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
    query = (select(User, Membership.role).join(Membership, Membership.user_id == User.id)
             .where(Membership.tenant_id == g.tenant.id).order_by(User.name, Membership.role))
    rows = db.session.execute(query).all()
    people: dict[int, tuple[User, list[str]]] = {}
    for user, role in rows:
        people.setdefault(user.id, (user, []))[1].append(role)
    return render_template("tenancy/members.html", people=list(people.values()))
