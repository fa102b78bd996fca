"""Reading an agency's activity log: the filtered list (page and CSV export) and what it may be filtered by."""
from __future__ import annotations

from sqlalchemy import select

from govqms.core.activity import ActivityEntry
from govqms.core.listing import page_of
from govqms.extensions import db


def log_page(tenant_id: int, args: dict):
    """A page of the agency's log, newest first, of the kind of record ``args["entity"]`` if given."""
    return page_of(filtered_query(tenant_id, args["entity"]), args, per_page=50)


def filtered_query(tenant_id: int, entity: str | None):
    query = select(ActivityEntry).where(ActivityEntry.tenant_id == tenant_id)
    if entity:
        query = query.where(ActivityEntry.entity == entity)
    return query.order_by(ActivityEntry.at.desc(), ActivityEntry.id.desc())


def entities(tenant_id: int) -> list[str]:
    """The kinds of record the agency's log holds entries for (the filter's choices)."""
    return list(db.session.scalars(select(ActivityEntry.entity).where(ActivityEntry.tenant_id == tenant_id)
                                   .distinct().order_by(ActivityEntry.entity)))
