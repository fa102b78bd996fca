"""Reminders from the due dates the modules and the compliance engine produce.

Each *due source* turns the records of many agencies into :class:`Due` items with one query (a
fixed few at most), so a run costs the same number of queries per batch of agencies whatever
they hold. For each item the run picks the one step that applies today — the nearest of the
configured days before (``GOVQMS_REMINDER_DAYS``, e.g. 30,7,1), the day itself, or overdue — and
tells the item's people. Overdue escalates: the head of the agency is told as well.

Exactly once: a notification is unique per (user, event, step) and the event key carries the
due date, so a second run on the same day, a retry after a crash, or a run that catches up
after days off tells nobody twice; a new due date is a new event.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable, Iterable

from flask import current_app
from sqlalchemy import select

from govqms.core.permissions import TenantRole
from govqms.extensions import db
from govqms.notifications import services


@dataclass(frozen=True)
class Due:
    kind: str
    key: str               # stable: the record and its due date
    tenant_id: int
    due_on: dt.date
    params: dict
    link: tuple[str, dict]  # endpoint and arguments, tenant_slug added by the run
    owner_ids: tuple[int, ...] = ()  # who answers for it; the ISO secretary when nobody
    #: when set, the overseers of this jurisdiction are told, not the agency's people
    overseen_by: int | None = None


DueSource = Callable[[list[int], dt.date, dt.date], Iterable[Due]]
DUE_SOURCES: list[tuple[str, DueSource]] = []


def due_source(kind: str) -> Callable[[DueSource], DueSource]:
    """Register a source of due dates (the function gets agency ids, today and the last day to
    look at; it returns what is due up to that day, overdue items included)."""

    def decorator(func: DueSource) -> DueSource:
        DUE_SOURCES.append((kind, func))
        return func

    return decorator


def reminder_days() -> list[int]:
    return sorted({d for d in current_app.config.get("REMINDER_DAYS", (30, 7, 1)) if d > 0}, reverse=True)


def step_for(due_on: dt.date, today: dt.date, days: list[int]) -> str | None:
    """The step that applies today: the nearest reminder day already reached, the day, or overdue."""
    if today > due_on:
        return "overdue"
    if today == due_on:
        return "due"
    left = (due_on - today).days
    reached = [d for d in days if d >= left]
    return f"before-{min(reached)}" if reached else None


# --- the sources ---------------------------------------------------------------------------------

@due_source("action")
def _actions(ids, today, until):
    from govqms.improvement.models import Action, ActionStatus

    for action in db.session.scalars(select(Action).where(
            Action.tenant_id.in_(ids), Action.status == ActionStatus.OPEN, Action.due_on <= until)):
        owners = (action.owner_id,) if action.owner_id else ()
        link = (("improvement.nonconformity", {"nc_id": action.nonconformity_id}) if action.nonconformity_id
                else ("improvement.actions", {}))
        yield Due("action", f"action:{action.id}:{action.due_on.isoformat()}", action.tenant_id, action.due_on,
                  {"title": action.description[:200]}, link, owners)


@due_source("nonconformity")
def _nonconformities(ids, today, until):
    from govqms.improvement.models import NcStatus, Nonconformity

    for nc in db.session.scalars(select(Nonconformity).where(
            Nonconformity.tenant_id.in_(ids), Nonconformity.due_on.is_not(None), Nonconformity.due_on <= until,
            Nonconformity.status.not_in([NcStatus.IMPLEMENTED, NcStatus.VERIFIED, NcStatus.CLOSED]))):
        yield Due("nonconformity", f"nc:{nc.id}:{nc.due_on.isoformat()}", nc.tenant_id, nc.due_on,
                  {"title": nc.description[:200]}, ("improvement.nonconformity", {"nc_id": nc.id}))


@due_source("document_review")
def _document_reviews(ids, today, until):
    from govqms.documents.models import Document, DocumentStatus

    for document in db.session.scalars(select(Document).where(
            Document.tenant_id.in_(ids), Document.status == DocumentStatus.EFFECTIVE,
            Document.next_review_on.is_not(None), Document.next_review_on <= until)):
        yield Due("document_review", f"document-review:{document.id}:{document.next_review_on.isoformat()}",
                  document.tenant_id, document.next_review_on, {"title": str(document)},
                  ("documents.detail", {"document_id": document.id}))


@due_source("data_call")
def _data_calls(ids, today, until):
    from govqms.datacalls.models import DataCall, DataCallReply

    for reply, call in db.session.execute(
            select(DataCallReply, DataCall).join(DataCall, DataCall.id == DataCallReply.call_id)
            .where(DataCallReply.tenant_id.in_(ids), DataCallReply.submitted_on.is_(None),
                   DataCall.archived_at.is_(None), DataCall.deadline <= until)):
        yield Due("data_call", f"data-call:{reply.id}:{call.deadline.isoformat()}", reply.tenant_id,
                  call.deadline, {"title": call.title}, ("agency_data_calls.answer", {"reply_id": reply.id}))


@due_source("inspection_report")
def _inspection_reports(ids, today, until):
    """The overseer waits for each inspected agency's corrective-action report (2 months)."""
    from govqms.inspections.models import Inspection, InspectionPlan
    from govqms.tenancy.models import Jurisdiction

    for inspection, plan, code in db.session.execute(
            select(Inspection, InspectionPlan, Jurisdiction.code)
            .join(InspectionPlan, InspectionPlan.id == Inspection.plan_id)
            .join(Jurisdiction, Jurisdiction.id == InspectionPlan.jurisdiction_id)
            .where(Inspection.tenant_id.in_(ids), Inspection.report_due_on.is_not(None),
                   Inspection.report_received_on.is_(None), Inspection.report_due_on <= until)):
        yield Due("inspection_report", f"inspection-report:{inspection.id}:{inspection.report_due_on.isoformat()}",
                  inspection.tenant_id, inspection.report_due_on, {"title": plan.year},
                  ("inspections.detail", {"inspection_id": inspection.id, "jurisdiction_code": code}),
                  overseen_by=plan.jurisdiction_id)


#: Compliance rules whose due dates the sources above already remind item by item.
_COVERED_RULES = {"actions", "other_actions", "document_reviews", "data_calls", "inspection_actions"}


@due_source("rule")
def _compliance(ids, today, until):
    from govqms.compliance.engine import evaluate

    for tenant_id, status in evaluate(ids, today).items():
        for check in status.checks:
            if check.rule in _COVERED_RULES or check.due_on is None or check.due_on > until:
                continue
            yield Due("rule", f"rule:{check.rule}:{tenant_id}:{check.due_on.isoformat()}", tenant_id, check.due_on,
                      {"rule": check.rule}, ("compliance.status", {}))


# --- the run -------------------------------------------------------------------------------------

ESCALATE_TO = (TenantRole.HEAD,)
KEEPERS = (TenantRole.ISO_SECRETARY, TenantRole.QMR)


def keepers(roles: dict[str, list[int]]) -> list[int]:
    """The ISO secretary; the management representative when the agency has none."""
    for role in KEEPERS:
        if roles.get(role):
            return roles[role]
    return roles.get(TenantRole.HEAD, [])


def remind(tenant_ids: list[int], today: dt.date) -> int:
    """Record today's reminders for these agencies; returns how many notifications were new."""
    from govqms.tenancy.models import Tenant

    days = reminder_days()
    until = today + dt.timedelta(days=max(days, default=0))
    tenants = {t.id: t for t in db.session.scalars(select(Tenant).where(Tenant.id.in_(tenant_ids)))}
    roles = services.recipients_with_role(tenant_ids, [*KEEPERS, *ESCALATE_TO])
    active_users = _active(tenant_ids)
    due_today = [(due, step) for _kind, source in DUE_SOURCES for due in source(list(tenant_ids), today, until)
                 if due.tenant_id in tenants and (step := step_for(due.due_on, today, days)) is not None]
    overseers = services.overseers_of({due.overseen_by for due, _ in due_today if due.overseen_by is not None})
    items = []
    for due, step in due_today:
        tenant = tenants[due.tenant_id]
        endpoint, args = due.link
        if due.overseen_by is not None:
            people = set(overseers.get(due.overseen_by, []))
        else:
            here = roles.get(tenant.id, {})
            people = {o for o in due.owner_ids if o in active_users} or set(keepers(here))
            if step == "overdue":  # escalation: the secretary and the head as well
                people |= set(keepers(here)) | {u for role in ESCALATE_TO for u in here.get(role, [])}
            args = {**args, "tenant_slug": tenant.slug}
        params = {**due.params, "agency": tenant.name}
        for user_id in sorted(people):
            items.append((user_id, due.kind, due.key, step, params, due.due_on, (endpoint, args)))
    return services.notify_many(items)


def _active(tenant_ids: list[int]) -> set[int]:
    """Users who may still be told about these agencies' records: active members."""
    from govqms.accounts.models import User
    from govqms.tenancy.models import Membership

    return set(db.session.scalars(select(Membership.user_id).join(User, User.id == Membership.user_id)
                                  .where(Membership.tenant_id.in_(tenant_ids), User.active.is_(True))))


def data_call_deadlines(today: dt.date) -> int:
    """Tell the sender of each data call whose deadline passed yesterday how many agencies did not reply."""
    from sqlalchemy import func

    from govqms.datacalls.models import DataCall, DataCallReply

    rows = db.session.execute(
        select(DataCall, func.count(DataCallReply.id))
        .join(DataCallReply, DataCallReply.call_id == DataCall.id)
        .where(DataCall.archived_at.is_(None), DataCall.deadline < today,
               DataCall.deadline >= today - dt.timedelta(days=7), DataCallReply.submitted_on.is_(None))
        .group_by(DataCall.id)).all()
    from govqms.tenancy.models import Jurisdiction

    codes = dict(db.session.execute(select(Jurisdiction.id, Jurisdiction.code).where(
        Jurisdiction.id.in_({call.jurisdiction_id for call, _ in rows}))).all()) if rows else {}
    overseers = services.overseers_of(codes)
    items = []
    for call, missing in rows:
        people = set(overseers.get(call.jurisdiction_id, []))
        if call.created_by_id:
            people.add(call.created_by_id)
        for user_id in people:
            items.append((user_id, "data_call_missing", f"data-call-missing:{call.id}:{call.deadline.isoformat()}",
                          "event", {"title": call.title, "missing": missing}, call.deadline,
                          ("data_calls.detail",
                           {"call_id": call.id, "jurisdiction_code": codes[call.jurisdiction_id]})))
    return services.notify_many(items)
