from __future__ import annotations

import csv
import io
import json

from sqlalchemy import func, select

from govqms.activity.views import filtered_query
from govqms.core.i18n import format_datetime
from govqms.extensions import db
from govqms.jobs.services import task

BATCH = 500


@task("activity.export_csv")
def export_csv(job, tenant_id: int, entity: str | None = None) -> None:
    """The tenant's activity log as CSV (UTF-8 with BOM, so Excel keeps the diacritics)."""
    query = filtered_query(tenant_id, entity)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["at", "actor", "entity", "entity_id", "action", "changes", "note"])
    done = 0
    for entry in db.session.scalars(query.execution_options(yield_per=BATCH)):
        writer.writerow([format_datetime(entry.at), entry.actor_label, entry.entity, entry.entity_id,
                         entry.action, json.dumps(entry.changes, ensure_ascii=False), entry.note or ""])
        done += 1
        if done % BATCH == 0:
            job.progress(done, total)
    job.set_result(("\ufeff" + out.getvalue()).encode("utf-8"), f"activity-{tenant_id}.csv", "text/csv")

