"""One way to run background work.

``enqueue(task_name, tenant_id=…, user_id=…, **ids)`` records a :class:`Job` and either
hands it to RQ (when ``GOVQMS_REDIS_URL`` is set) or runs it at once, inline. Tasks are
plain functions registered with :func:`task`; they receive a :class:`JobHandle` and the
ids they were given, and run inside the tenant scope recorded on the job, as the user who
started it. A task must be idempotent: RQ retries a failed job.
"""
from __future__ import annotations

import logging
import traceback
import uuid
from dataclasses import dataclass
from typing import Any, Callable

from flask import current_app

from govqms.core import logs, tenancy
from govqms.core.activity import SYSTEM, Actor, acting_as
from govqms.core.db import utcnow
from govqms.core.tenancy import TenantScope, scoped
from govqms.extensions import db
from govqms.jobs.models import Job, JobStatus

log = logging.getLogger(__name__)

RUNNER = "govqms.jobs.services.run_job"


@dataclass(frozen=True)
class TaskSpec:
    name: str
    func: Callable[..., Any]
    read_only: bool
    #: runs across every agency (platform-wide work such as the daily snapshot), never for a user
    system: bool = False
    #: runs read-only over the agencies of the jurisdiction given as ``jurisdiction_id``
    oversight: bool = False


_registry: dict[str, TaskSpec] = {}


def task(name: str, *, read_only: bool = True, system: bool = False, oversight: bool = False):
    """Register a task under a stable name (the name is stored on the job)."""

    def decorator(func):
        if name in _registry and _registry[name].func is not func:
            raise ValueError(f"task {name!r} registered twice")
        _registry[name] = TaskSpec(name, func, read_only, system, oversight)
        return func

    return decorator


def registered_tasks() -> dict[str, TaskSpec]:
    return dict(_registry)


class JobHandle:
    """What a task sees of its job: progress reporting and the result."""

    def __init__(self, job: Job):
        self._job = job

    @property
    def id(self) -> str:
        return self._job.id

    def progress(self, done: int, total: int, message: str | None = None) -> None:
        percent = 100 if total <= 0 else max(0, min(99, int(done * 100 / total)))
        self._job.progress = percent
        if message is not None:
            self._job.message = message[:255]
        db.session.commit()

    def note(self, message: str) -> None:
        """A line for the job page and the back office: what the job did."""
        self._job.message = message[:255]

    def set_report(self, rows: list[dict[str, Any]], message: str | None = None) -> None:
        self._job.report = rows
        if message is not None:
            self._job.message = message[:255]

    def set_result(self, data: bytes, filename: str, mimetype: str) -> None:
        self._job.result = data
        self._job.result_name = filename
        self._job.result_mimetype = mimetype


def redis_connection():
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    from redis import Redis

    return Redis.from_url(url)


def queue():
    from rq import Queue

    connection = redis_connection()
    if connection is None:
        return None
    return Queue(current_app.config["JOB_QUEUE"], connection=connection)


def enqueue(task_name: str, *, tenant_id: int | None, user_id: int | None, **params: Any) -> Job:
    """Record a job and run it: on the queue when Redis is configured, otherwise now."""
    if task_name not in _registry:
        raise KeyError(f"unknown task {task_name!r}")
    for key, value in params.items():
        if not isinstance(value, (int, str, bool, type(None))):
            raise TypeError(f"job parameter {key} must be an id or a plain value, not {type(value).__name__}")
    job_id = str(uuid.uuid4())
    job = Job(id=job_id, task=task_name, params=params, tenant_id=tenant_id, user_id=user_id,
              read_only=_registry[task_name].read_only)
    db.session.add(job)
    # Commit ends the transaction; nothing below may reopen it before the job has run,
    # or an inline job would run while this session still holds the database.
    db.session.commit()
    rq_queue = queue()
    if rq_queue is None:
        with current_app.app_context():  # a fresh session, as a worker would have
            try:
                run_job(job_id)
            except Exception:  # recorded on the job as failed; the user sees it there
                log.exception("inline job %s failed", job_id)
        tenancy.refresh_database_scope(db.session)
        db.session.refresh(job)
    else:
        from rq import Retry

        delays = list(current_app.config.get("JOB_RETRY_DELAYS") or ())
        retry = Retry(max=len(delays), interval=delays) if delays else None
        rq_queue.enqueue(RUNNER, job_id, job_id=job_id, retry=retry,
                         job_timeout=current_app.config.get("JOB_TIMEOUT", 3600), description=task_name)
    return job


def _job_scope(job: Job, spec: TaskSpec) -> TenantScope:
    if spec.oversight:
        from govqms.accounts.models import User
        from govqms.core.permissions import Action
        from govqms.tenancy.models import Jurisdiction, Tenant
        from govqms.tenancy.services import oversight_access, subtree_tenants_query

        jurisdiction = db.session.get(Jurisdiction, job.params["jurisdiction_id"])
        user = db.session.get(User, job.user_id) if job.user_id is not None else None
        # Checked again when the job runs: a role withdrawn meanwhile fails the job.
        if jurisdiction is None or (user is not None and not oversight_access(user, jurisdiction).can(
                Action.OVERSIGHT_VIEW)):
            raise PermissionError(f"job {job.id}: no oversight of jurisdiction {job.params['jurisdiction_id']}")
        return TenantScope.readonly(db.session.scalars(subtree_tenants_query(jurisdiction)
                                                       .with_only_columns(Tenant.id)).all())
    if job.tenant_id is None:
        return TenantScope.system() if spec.system else TenantScope.none()
    return TenantScope.tenant(job.tenant_id, read_only=job.read_only)


@logs.job_logging  # what the task logs carries the job id and, once known, its tenant id
def run_job(job_id: str) -> str | None:
    """Run one recorded job; safe to call again for a job that already finished."""
    with scoped(TenantScope.system()):
        job = db.session.get(Job, job_id)
        if job is None:
            log.warning("job %s not found", job_id)
            return None
        if job.status == JobStatus.FINISHED:
            return job.status
        spec = _registry[job.task]
        logs.bind_job(tenant_id=job.tenant_id)
        job.status, job.started_at, job.error = JobStatus.STARTED, utcnow(), None
        job.attempts += 1
        db.session.commit()
        actor = _actor_for(job)
    try:
        with scoped(_job_scope(job, spec)), acting_as(actor):
            # The scope changed after the transaction began: refresh it for PostgreSQL.
            tenancy.refresh_database_scope(db.session)
            ids = {"tenant_id": job.tenant_id} if job.tenant_id is not None else {}
            spec.func(JobHandle(job), **ids, **job.params)
            job.status, job.progress, job.finished_at = JobStatus.FINISHED, 100, utcnow()
            db.session.commit()
    except Exception:
        db.session.rollback()
        with scoped(TenantScope.system()):
            job = db.session.get(Job, job_id)
            job.status, job.finished_at = JobStatus.FAILED, utcnow()
            job.error = traceback.format_exc(limit=20)[-4000:]
            db.session.commit()
        raise
    return job.status


def _actor_for(job: Job) -> Actor:
    if job.user_id is None:
        return SYSTEM
    from govqms.accounts.models import User

    user = db.session.get(User, job.user_id)
    return Actor(user.id, user.email) if user else SYSTEM


def visible_job(job_id: str, user) -> Job | None:
    job = db.session.get(Job, job_id)
    if job is None or not user.is_authenticated:
        return None
    if job.user_id != user.id and not user.is_operator:
        return None
    return job
