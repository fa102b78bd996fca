"""What improvement reminds people of: open actions and nonconformities coming due."""
from __future__ import annotations

from sqlalchemy import select

from govqms.extensions import db
from govqms.improvement.models import Action, ActionStatus, NcStatus, Nonconformity
from govqms.notifications.reminders import Due, due_source


@due_source("action")
def _actions(ids, today, until):
    for action in db.session.scalars(select(Action).where(
            Action.tenant_id.in_(ids), Action.status == ActionStatus.OPEN, Action.due_on <= until)):
        owners = (action.owner_id,) if action.owner_id else ()
        link = (("improvement.nonconformity", {"nc_id": action.nonconformity_id}) if action.nonconformity_id
                else ("improvement.actions", {}))
        yield Due("action", f"action:{action.id}:{action.due_on.isoformat()}", action.tenant_id, action.due_on,
                  {"title": action.description[:200]}, link, owners)


@due_source("nonconformity")
def _nonconformities(ids, today, until):
    for nc in db.session.scalars(select(Nonconformity).where(
            Nonconformity.tenant_id.in_(ids), Nonconformity.due_on.is_not(None), Nonconformity.due_on <= until,
            Nonconformity.status.not_in([NcStatus.IMPLEMENTED, NcStatus.VERIFIED, NcStatus.CLOSED]))):
        yield Due("nonconformity", f"nc:{nc.id}:{nc.due_on.isoformat()}", nc.tenant_id, nc.due_on,
                  {"title": nc.description[:200]}, ("improvement.nonconformity", {"nc_id": nc.id}))
