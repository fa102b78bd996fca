"""The tenant's activity log: browse, filter, export (as a job)."""
from __future__ import annotations

from flask import g, redirect, render_template, request, url_for
from flask_login import current_user

from govqms.activity import services
from govqms.core.permissions import Action
from govqms.core.web import page_number, requires
from govqms.extensions import db
from govqms.jobs.services import enqueue
from govqms.tenancy.blueprints import workspace_blueprint

bp = workspace_blueprint("activity", __name__, "/activity")


@bp.route("/")
@requires(Action.ACTIVITY_VIEW)
def index():
    entity = request.args.get("entity") or None
    page = db.paginate(services.filtered_query(g.tenant.id, entity), page=page_number(), per_page=50, error_out=False)
    entities = services.entities(g.tenant.id)
    return render_template("activity/index.html", page=page, entity=entity, entities=entities)


@bp.route("/export", methods=["POST"])
@requires(Action.ACTIVITY_EXPORT)
def export():
    entity = request.form.get("entity") or None
    job = enqueue("activity.export_csv", tenant_id=g.tenant.id, user_id=current_user.id, entity=entity)
    return redirect(url_for("jobs.show", job_id=job.id))
