"""The tenant's activity log: browse, filter, export (as a job)."""
from __future__ import annotations

from flask import g, redirect, render_template, request, url_for
from flask_login import current_user

from govqms.activity import services
from govqms.activity.schemas import ActivityFilter
from govqms.core.listing import list_args
from govqms.core.permissions import Action
from govqms.core.web import requires
from govqms.jobs.services import enqueue
from govqms.tenancy.blueprints import workspace_blueprint

bp = workspace_blueprint("activity", __name__, "/activity")


@bp.route("/")
@requires(Action.ACTIVITY_VIEW)
def index():
    args = list_args(ActivityFilter)
    return render_template("activity/index.html", page=services.log_page(g.tenant.id, args), entity=args["entity"],
                           entities=services.entities(g.tenant.id))


@bp.route("/export", methods=["POST"])
@requires(Action.ACTIVITY_EXPORT)
def export():
    entity = list_args(ActivityFilter, request.form)["entity"]
    job = enqueue("activity.export_csv", tenant_id=g.tenant.id, user_id=current_user.id, entity=entity)
    return redirect(url_for("jobs.show", job_id=job.id))
