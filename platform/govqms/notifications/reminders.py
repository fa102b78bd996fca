"""Reminders from the due dates the modules and the compliance engine produce.

Each *due source* (registered by its domain with :func:`due_source`, in the domain's ``reminders``
module, discovered like tasks) turns the records of many agencies into :class:`Due` items with one query (a
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
from govqms.tenancy.services import active_member_ids, overseers_of, recipients_with_role


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


DailyStep = Callable[[dt.date], int]
DAILY_STEPS: list[DailyStep] = []


def daily_step(func: DailyStep) -> DailyStep:
    """Register a step the reminders run takes once a day for the whole platform (e.g. telling a data
    call's sender who did not reply); it returns the notifications it made."""
    DAILY_STEPS.append(func)
    return func


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
    roles = recipients_with_role(tenant_ids, [*KEEPERS, *ESCALATE_TO])
    active_users = active_member_ids(tenant_ids)
    due_today = [(due, step) for _kind, source in DUE_SOURCES for due in source(list(tenant_ids), today, until)
                 if due.tenant_id in tenants and (step := step_for(due.due_on, today, days)) is not None]
    overseers = overseers_of({due.overseen_by for due, _ in due_today if due.overseen_by is not None})
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


