from __future__ import annotations

import csv
import io
import json

from sqlalchemy import select

from govqms.activity.services import filtered_query
from govqms.core.activity import ActivityEntry
from govqms.core.exports import csv_row
from govqms.core.i18n import format_datetime
from govqms.extensions import db
from govqms.jobs.services import task

BATCH = 500


@task("activity.export_csv")
def export_csv(job, tenant_id: int, entity: str | None = None) -> None:
    """The tenant's activity log as CSV (UTF-8 with BOM, so Excel keeps the diacritics)."""
    query = filtered_query(tenant_id, entity)
    # The ids first, then the entries batch by batch, each batch let go once written: memory stays
    # flat over a long log, and no cursor stays open across the batches.
    ids = db.session.scalars(query.with_only_columns(ActivityEntry.id)).all()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["at", "actor", "entity", "entity_id", "action", "changes", "note"])
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        entries = {e.id: e for e in db.session.scalars(select(ActivityEntry).where(ActivityEntry.id.in_(chunk)))}
        for entry_id in chunk:
            entry = entries[entry_id]
            writer.writerow(csv_row([format_datetime(entry.at), entry.actor_label, entry.entity, entry.entity_id,
                                     entry.action, json.dumps(entry.changes, ensure_ascii=False),
                                     entry.note or ""]))
        for entry in entries.values():  # keep memory flat over a long log
            db.session.expunge(entry)
        job.progress(start + len(chunk), len(ids))
    job.set_result(("\ufeff" + out.getvalue()).encode("utf-8"), f"activity-{tenant_id}.csv", "text/csv")

