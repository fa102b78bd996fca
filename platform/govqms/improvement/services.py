"""The corrective-action workflow and the actions everyone owns.

open → analysed (correction and root cause) → actions planned → implemented (every action done)
→ verified effective → closed. A verification that finds the actions ineffective sends the
nonconformity back to "analysed", counted as reopened, for new actions.
"""
from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from govqms.core import activity
from govqms.core.clock import today
from govqms.core.errors import Refused
from govqms.extensions import db
from govqms.improvement.models import Action, ActionStatus, NcStatus, Nonconformity


class ImprovementRefused(Refused):
    """The step is not possible now; the message says why."""


def raise_nonconformity(tenant_id: int, **values) -> Nonconformity:
    nc = Nonconformity(tenant_id=tenant_id, **values)
    db.session.add(nc)
    db.session.flush()
    return nc


def analyse(nc: Nonconformity, correction: str, root_cause: str) -> Nonconformity:
    if nc.status not in (NcStatus.OPEN, NcStatus.ANALYSED, NcStatus.ACTIONS_PLANNED):
        raise ImprovementRefused(_l("The analysis can no longer change at this stage."))
    if not root_cause.strip():
        raise ImprovementRefused(_l("Record the root cause (e.g. with five whys)."))
    nc.correction, nc.root_cause = correction, root_cause
    if nc.status == NcStatus.OPEN:
        nc.status = NcStatus.ANALYSED
    activity.label(nc, "analyse")
    db.session.flush()
    return nc


def add_action(tenant_id: int, *, description: str, owner_id: int | None, due_on: dt.date,
               nonconformity: Nonconformity | None = None, risk_id: int | None = None, review_id: int | None = None,
               category: str | None = None) -> Action:
    if nonconformity is not None and nonconformity.status not in (NcStatus.ANALYSED, NcStatus.ACTIONS_PLANNED):
        raise ImprovementRefused(_l("Analyse the cause before planning actions."))
    action = Action(tenant_id=tenant_id, description=description, owner_id=owner_id, due_on=due_on,
                    nonconformity_id=nonconformity.id if nonconformity else None, risk_id=risk_id,
                    review_id=review_id, category=category)
    db.session.add(action)
    if nonconformity is not None:
        nonconformity.status = NcStatus.ACTIONS_PLANNED
        db.session.flush()
        db.session.expire(nonconformity, ["actions"])
    db.session.flush()
    return action


def complete_action(action: Action, note: str, on: dt.date | None = None) -> Action:
    if action.status == ActionStatus.DONE:
        raise ImprovementRefused(_l("This action is already done."))
    action.status, action.done_on, action.note = ActionStatus.DONE, on or today(), note
    activity.label(action, "complete")
    db.session.flush()
    if action.nonconformity_id is not None:
        nc = db.session.get(Nonconformity, action.nonconformity_id)
        db.session.expire(nc, ["actions"])
        if nc.status == NcStatus.ACTIONS_PLANNED and all(a.status == ActionStatus.DONE for a in nc.actions):
            nc.status = NcStatus.IMPLEMENTED
            db.session.flush()
    return action


def verify(nc: Nonconformity, *, effective: bool, note: str, user_id: int, on: dt.date | None = None):
    if nc.status != NcStatus.IMPLEMENTED:
        raise ImprovementRefused(_l("Effectiveness is verified once every action is done."))
    if not note.strip():
        raise ImprovementRefused(_l("Say what the verification found."))
    nc.verified_on, nc.verified_by_id, nc.verification_note = on or today(), user_id, note
    if effective:
        nc.status = NcStatus.VERIFIED
        activity.label(nc, "verify_effective", note=note)
    else:
        nc.status, nc.reopened = NcStatus.ANALYSED, nc.reopened + 1
        activity.label(nc, "reopen", note=note)
    db.session.flush()
    return nc


def close(nc: Nonconformity, on: dt.date | None = None) -> Nonconformity:
    if nc.status != NcStatus.VERIFIED:
        raise ImprovementRefused(_l("Only a nonconformity verified effective can be closed."))
    nc.status, nc.closed_on = NcStatus.CLOSED, on or today()
    activity.label(nc, "close")
    db.session.flush()
    return nc


def action_counts(tenant_id: int, on: dt.date | None = None) -> dict[str, int]:
    """Open and overdue actions, open nonconformities: one query each."""
    on = on or today()
    open_actions = db.session.scalar(select(func.count()).select_from(Action).where(
        Action.tenant_id == tenant_id, Action.status == ActionStatus.OPEN))
    overdue = db.session.scalar(select(func.count()).select_from(Action).where(
        Action.tenant_id == tenant_id, Action.status == ActionStatus.OPEN, Action.due_on < on))
    open_ncs = db.session.scalar(select(func.count()).select_from(Nonconformity).where(
        Nonconformity.tenant_id == tenant_id, Nonconformity.status != NcStatus.CLOSED))
    return {"open_actions": open_actions, "overdue_actions": overdue, "open_nonconformities": open_ncs}
