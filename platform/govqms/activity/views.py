"""The tenant's activity log: browse, filter, export (as a job)."""
from __future__ import annotations

from flask import g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from govqms.core.activity import ActivityEntry
from govqms.core.permissions import Action
from govqms.core.web import page_number, requires
from govqms.extensions import db
from govqms.jobs.services import enqueue
from govqms.tenancy.blueprints import workspace_blueprint

bp = workspace_blueprint("activity", __name__, "/activity")


def filtered_query(tenant_id: int, entity: str | None):
    query = select(ActivityEntry).where(ActivityEntry.tenant_id == tenant_id)
    if entity:
        query = query.where(ActivityEntry.entity == entity)
    return query.order_by(ActivityEntry.at.desc(), ActivityEntry.id.desc())


@bp.route("/")
@requires(Action.ACTIVITY_VIEW)
def index():
    entity = request.args.get("entity") or None
    page = db.paginate(filtered_query(g.tenant.id, entity), page=page_number(), per_page=50, error_out=False)
    entities = db.session.scalars(
        select(ActivityEntry.entity).where(ActivityEntry.tenant_id == g.tenant.id).distinct()
        .order_by(ActivityEntry.entity)).all()
    return render_template("activity/index.html", page=page, entity=entity, entities=entities)


@bp.route("/export", methods=["POST"])
@requires(Action.ACTIVITY_EXPORT)
def export():
    entity = request.form.get("entity") or None
    job = enqueue("activity.export_csv", tenant_id=g.tenant.id, user_id=current_user.id, entity=entity)
    return redirect(url_for("jobs.show", job_id=job.id))
