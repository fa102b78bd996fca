"""The corrective-action workflow and the actions everyone owns.

open → analysed (correction and root cause) → actions planned → implemented (every action done)
→ verified effective → closed. A verification that finds the actions ineffective sends the
nonconformity back to "analysed", counted as reopened, for new actions.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, select
from sqlalchemy.orm import selectinload

from govqms.core import activity
from govqms.core.clock import today
from govqms.core.db import save_record
from govqms.core.errors import Refused
from govqms.core.listing import page_of
from govqms.extensions import db
from govqms.improvement.models import Action, ActionStatus, NcStatus, Nonconformity, Risk
from govqms.improvement.schemas import NOT_CLOSED
from govqms.webhooks.services import emit


class ImprovementRefused(Refused):
    """The step is not possible now; the message says why."""


def raise_nonconformity(tenant_id: int, **values) -> Nonconformity:
    nc = Nonconformity(tenant_id=tenant_id, **values)
    db.session.add(nc)
    db.session.flush()
    emit("nonconformity.opened", tenant_id=tenant_id, data=lambda links: _nc_event(nc, links))
    return nc


def _nc_event(nc: Nonconformity, links) -> dict:
    """What a webhook tells of a nonconformity."""
    return {"nonconformity": {
        "id": nc.id, "source": nc.source, "description": nc.description, "clause": nc.clause,
        "found_on": nc.found_on.isoformat(), "due_on": nc.due_on.isoformat() if nc.due_on else None,
        "closed_on": nc.closed_on.isoformat() if nc.closed_on else None, "status": nc.status,
        "url": links.agency("improvement.nonconformity", nc_id=nc.id)}}


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
    emit("nonconformity.closed", tenant_id=nc.tenant_id, data=lambda links: _nc_event(nc, links))
    return nc


def overdue_on(on: dt.date):
    """An action overdue on *on*, as a query condition: :meth:`Action.overdue` in SQL."""
    return and_(Action.status == ActionStatus.OPEN, Action.due_on < on)


def action_counts(tenant_id: int, on: dt.date | None = None) -> dict[str, int]:
    """Open and overdue actions, open nonconformities: one query each."""
    on = on or today()
    open_actions = db.session.scalar(select(func.count()).select_from(Action).where(
        Action.tenant_id == tenant_id, Action.status == ActionStatus.OPEN))
    overdue = db.session.scalar(select(func.count()).select_from(Action).where(
        Action.tenant_id == tenant_id, overdue_on(on)))
    open_ncs = db.session.scalar(select(func.count()).select_from(Nonconformity).where(
        Nonconformity.tenant_id == tenant_id, Nonconformity.status != NcStatus.CLOSED))
    return {"open_actions": open_actions, "overdue_actions": overdue, "open_nonconformities": open_ncs}


# --- lists ---------------------------------------------------------------------------------------

def nonconformities_page(tenant_id: int, args: Mapping, on: dt.date | None = None, per_page: int = 25):
    """The agency's nonconformities, latest found first (``args`` from ``NonconformityFilter``): of one
    status, or every one not closed; with ``overdue``, only those with an action overdue on *on* (today)."""
    query = (select(Nonconformity).where(Nonconformity.tenant_id == tenant_id)
             .options(selectinload(Nonconformity.unit), selectinload(Nonconformity.actions)))
    status = args.get("status")
    if status == NOT_CLOSED:
        query = query.where(Nonconformity.status != NcStatus.CLOSED)
    elif status:
        query = query.where(Nonconformity.status == status)
    if args.get("overdue"):
        late_actions = select(Action.nonconformity_id).where(Action.tenant_id == tenant_id,
                                                             overdue_on(on or today()))
        query = query.where(Nonconformity.id.in_(late_actions))
    return page_of(query, args, per_page=per_page,
                   orderings={"found": (Nonconformity.found_on.desc(), Nonconformity.id.desc())})


def actions_page(tenant_id: int, user_id: int, args: Mapping, per_page: int = 50):
    """The agency's actions, open ones first then by due date (``args`` from ``ActionFilter``): the
    user's own unless ``everyone``, the open ones only unless ``open_only`` is false, only the overdue
    ones with ``overdue``."""
    query = select(Action).where(Action.tenant_id == tenant_id).options(selectinload(Action.owner))
    if not args.get("everyone"):
        query = query.where(Action.owner_id == user_id)
    if args.get("open_only", True):
        query = query.where(Action.status == ActionStatus.OPEN)
    if args.get("overdue"):
        query = query.where(overdue_on(today()))
    return page_of(query, args, per_page=per_page, orderings={"due": (Action.status.desc(), Action.due_on)})


# --- risks ---------------------------------------------------------------------------------------

def risk_register(tenant_id: int) -> list[Risk]:
    """The agency's risks and opportunities not archived, highest level first."""
    risks = db.session.scalars(select(Risk).where(Risk.tenant_id == tenant_id, Risk.archived_at.is_(None))
                               .options(selectinload(Risk.unit),
                                        selectinload(Risk.actions).selectinload(Action.owner))).all()
    return sorted(risks, key=lambda r: (-r.level, r.id))


def save_risk(tenant_id: int, risk: Risk | None, data: Mapping) -> Risk:
    """*risk* (a new one of the agency when None) with the values of the loaded ``RiskSchema`` *data*."""
    return save_record(risk or Risk(tenant_id=tenant_id), data)
