"""What the back office reads and changes. The operator works across agencies (the request's scope is
the system scope), so these functions take ids or records and filter by nothing else; the changes
themselves are the domains' own (``govqms.tenancy.merge``, ``govqms.accounts.services``,
``govqms.jobs.services``)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select

from govqms.accounts.models import User
from govqms.core.db import utcnow, vi_order
from govqms.extensions import db
from govqms.jobs.models import Job, JobStatus
from govqms.notifications.models import EmailState, Notification
from govqms.tenancy.models import Jurisdiction, Membership, Tenant, TenantMerge, TenantStatus

#: How far back the back office lists failed jobs.
FAILURES_SHOWN = dt.timedelta(days=7)
#: How many of those failures the schedule page lists.
FAILURES_LISTED = 20


def _count(model, *conditions) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


# --- the index --------------------------------------------------------------------------------

def counts() -> dict[str, int]:
    """What the back office's index counts: agencies, accounts, jurisdictions."""
    return {"tenants": _count(Tenant), "users": _count(User), "jurisdictions": _count(Jurisdiction)}


def _recently_failed():
    return (Job.status == JobStatus.FAILED, Job.created_at >= utcnow() - FAILURES_SHOWN)


def recent_failure_count() -> int:
    """Jobs that failed within FAILURES_SHOWN."""
    return _count(Job, *_recently_failed())


# --- actions on selected rows ------------------------------------------------------------------

def _ids(ids: Iterable) -> list[int]:
    """The row ids Flask-Admin posts for an action, as numbers."""
    return [int(i) for i in ids]


def users_by_ids(ids: Iterable) -> list[User]:
    return list(db.session.scalars(select(User).where(User.id.in_(_ids(ids)))))


def merges_by_ids(ids: Iterable) -> list[TenantMerge]:
    return list(db.session.scalars(select(TenantMerge).where(TenantMerge.id.in_(_ids(ids)))))


# --- the schedule ------------------------------------------------------------------------------

def last_runs(task_names: Iterable[str]) -> dict[str, Job]:
    """The latest job of each named task (one query, whatever the number of tasks)."""
    latest = (select(Job.task, func.max(Job.created_at).label("at")).where(Job.task.in_(list(task_names)))
              .group_by(Job.task).subquery())
    return {job.task: job for job in db.session.scalars(
        select(Job).join(latest, (Job.task == latest.c.task) & (Job.created_at == latest.c.at)))}


def job_or_none(job_id: str) -> Job | None:
    """The job of *job_id* (any user's: operators see every job), or None for an id no job has."""
    return db.session.get(Job, job_id) if len(job_id) <= 36 else None


def recent_failures(limit: int = FAILURES_LISTED) -> list[Job]:
    """The latest jobs that failed within FAILURES_SHOWN, newest first."""
    return list(db.session.scalars(select(Job).where(*_recently_failed())
                                   .order_by(Job.created_at.desc()).limit(limit)))


def email_backlog() -> dict[str, int]:
    """Notification emails waiting to be sent and those that failed, by state."""
    return dict(db.session.execute(select(Notification.email_state, func.count())
                                   .where(Notification.email_state.in_([EmailState.FAILED, EmailState.PENDING]))
                                   .group_by(Notification.email_state)).all())


# --- merging -----------------------------------------------------------------------------------

def active_tenants() -> list[Tenant]:
    """The agencies that may be merged (or merged into), by name."""
    return list(db.session.scalars(select(Tenant).where(Tenant.status == TenantStatus.ACTIVE)
                                   .order_by(vi_order(Tenant.name))))


def tenant_by_id(tenant_id: int) -> Tenant | None:
    return db.session.get(Tenant, tenant_id)


@dataclass(frozen=True)
class MergePreview:
    """What the confirmation of a merge says will happen."""

    source: Tenant
    successor: Tenant
    on: dt.date
    #: the memberships that will move to the successor
    members: int


def merge_preview(source: Tenant, successor: Tenant, on: dt.date) -> MergePreview:
    return MergePreview(source, successor, on, _count(Membership, Membership.tenant_id == source.id))
