"""One way to run background work.

``enqueue(task_name, tenant_id=…, user_id=…, **ids)`` records a :class:`Job` in the transaction of
the write that asks for it (the outbox), commits them together, then either hands it to RQ (when
``GOVQMS_REDIS_URL`` is set) or runs it at once, inline. With Redis out, the write still stands and
the job waits in the outbox (``relayed_at`` empty); :func:`relay` delivers it when Redis is back (the
next enqueue, and the schedule every minute, call it). Tasks are
plain functions registered with :func:`task`; they receive a :class:`JobHandle` and the
ids they were given, and run inside the tenant scope recorded on the job, as the user who
started it. A task must be idempotent: RQ retries a failed job.

A task's writes are one transaction, committed by the runner once the task has returned: a task
that fails, or a worker that dies, leaves nothing behind, and its retry starts from the same
state as the first attempt. Progress reports are not part of that transaction (see
:meth:`JobHandle.progress`). A task commits by itself only where its work leaves the database
and cannot be undone: the notification jobs commit their claim before an email goes out, and
each batch of reminders, so that a retry skips what is done instead of repeating it.
"""
from __future__ import annotations

import datetime as dt
import logging
import traceback
import uuid
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Callable

from flask import current_app
from flask_babel import force_locale, gettext as _
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.orm.attributes import flag_modified

from govqms.core import logs, tenancy
from govqms.core.activity import SYSTEM, Actor, acting_as
from govqms.core.db import utcnow
from govqms.core.errors import Refused
from govqms.core.tenancy import TenantScope, scoped
from govqms.extensions import db
from govqms.jobs.models import Job, JobStatus

log = logging.getLogger(__name__)

RUNNER = "govqms.jobs.services.run_job"

#: The job whose task is running (None outside a job): what a task records can say which job did it.
_current_job: ContextVar[str | None] = ContextVar("govqms_current_job", default=None)


def current_job_id() -> str | None:
    return _current_job.get()


class JobRefused(Refused):
    """An operator's step on a job that its state does not allow."""


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
    """What a task sees of its job: progress reporting and the outcome.

    The outcome (:meth:`note`, :meth:`set_report`, :meth:`set_result`) is kept here and written
    to the job by the runner in the task's own commit, so it stands or falls with the task's
    data, and the task's transaction never writes (nor locks) the job row before its end.
    """

    #: How long a progress report waits for the job row before it is skipped (PostgreSQL).
    PROGRESS_LOCK_TIMEOUT = "1s"

    def __init__(self, job: Job):
        self._id = job.id
        self.outcome: dict[str, Any] = {}

    @property
    def id(self) -> str:
        return self._id

    def progress(self, done: int, total: int, message: str | None = None) -> None:
        """Show how far the task is, without committing anything of the task's own.

        On PostgreSQL the job row is updated in a short transaction of its own, on a separate
        connection, so the job page follows the task while the task's writes stay uncommitted.
        That connection gets the scope every new transaction gets (``core.tenancy``'s begin hook):
        it touches only the job row, by id, which the job's policy lets the job's own scope write.
        On SQLite (the embedded default, where jobs run inline inside the request that waits for
        them) a second writer would wait for the task's own write lock, so nothing is persisted
        until the task's end: the runner then records 100 %.
        """
        if db.engine.dialect.name != "postgresql":
            return
        values: dict[str, Any] = {"progress": 100 if total <= 0 else max(0, min(99, int(done * 100 / total)))}
        if message is not None:
            values["message"] = message[:255]
        try:
            with db.engine.begin() as connection:
                # The task does not hold the row (see the class docstring); anyone else holding it
                # only costs this report, never the task.
                connection.execute(text("select set_config('lock_timeout', :timeout, true)"),
                                   {"timeout": self.PROGRESS_LOCK_TIMEOUT})
                connection.execute(update(Job).where(Job.id == self._id).values(**values))
        except OperationalError as err:
            log.warning("job %s: progress not recorded (%s)", self._id, str(err).splitlines()[0])

    def note(self, message: str) -> None:
        """A line for the job page and the back office: what the job did."""
        self.outcome["message"] = message[:255]

    def set_report(self, rows: list[dict[str, Any]] | None, message: str | None = None) -> None:
        self.outcome["report"] = rows
        if message is not None:
            self.outcome["message"] = message[:255]

    def set_result(self, data: bytes, filename: str, mimetype: str) -> None:
        self.outcome.update(result=data, result_name=filename, result_mimetype=mimetype)


def redis_connection():
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    from redis import Redis

    return Redis.from_url(url)


def queue(connection=None):
    from rq import Queue

    connection = connection or redis_connection()
    if connection is None:
        return None
    return Queue(current_app.config["JOB_QUEUE"], connection=connection)


#: How long a request waits for Redis before leaving its job in the outbox (seconds).
RELAY_TIMEOUT = 2
#: A job the queue took this long ago and still "queued" with no trace in Redis is handed over again.
RELAY_RECHECK = dt.timedelta(minutes=10)


def _relay_queue():
    """The queue, on a connection that gives up quickly (a request must not hang on Redis)."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    from redis import Redis

    connections = current_app.extensions.setdefault("govqms.relay_redis", {})
    if url not in connections:  # one pool per process, as the worker has
        connections[url] = Redis.from_url(url, socket_connect_timeout=RELAY_TIMEOUT, socket_timeout=RELAY_TIMEOUT)
    return queue(connections[url])


def _queue_out() -> tuple[type[BaseException], ...]:
    """The errors that mean the queue cannot be reached now."""
    from redis.exceptions import ConnectionError as RedisConnectionError, TimeoutError as RedisTimeoutError

    return (RedisConnectionError, RedisTimeoutError, OSError)


def _push(rq_queue, job_id: str, task_name: str) -> None:
    from rq import Retry

    delays = list(current_app.config.get("JOB_RETRY_DELAYS") or ())
    retry = Retry(max=len(delays), interval=delays) if delays else None
    rq_queue.enqueue(RUNNER, job_id, job_id=job_id, retry=retry,
                     job_timeout=current_app.config.get("JOB_TIMEOUT", 3600), description=task_name)


def enqueue(task_name: str, *, tenant_id: int | None, user_id: int | None, **params: Any) -> Job:
    """Record a job, commit it with the writes of the session (they stand or fall together), then run
    it: on the queue when Redis is configured, otherwise now. If the queue cannot be reached, the job
    waits in the outbox (:attr:`Job.waiting_for_queue`) and :func:`relay` delivers it later: the
    caller's write is never lost nor repeated because Redis is out."""
    if task_name not in _registry:
        raise KeyError(f"unknown task {task_name!r}")
    for key, value in params.items():
        if not isinstance(value, (int, str, bool, type(None))):
            raise TypeError(f"job parameter {key} must be an id or a plain value, not {type(value).__name__}")
    job_id = str(uuid.uuid4())
    inline = not current_app.config.get("REDIS_URL")
    job = Job(id=job_id, task=task_name, params=params, tenant_id=tenant_id, user_id=user_id,
              read_only=_registry[task_name].read_only, relayed_at=utcnow() if inline else None)
    db.session.add(job)
    # Commit ends the transaction; nothing below may reopen it before the job has run,
    # or an inline job would run while this session still holds the database.
    db.session.commit()
    if inline:
        _run_inline(job_id)
        db.session.refresh(job)
    elif relay([job_id]):
        relay()  # the queue is there: deliver what waited for it too
        db.session.refresh(job)
    return job


def _run_inline(job_id: str) -> None:
    """Run the job now, in a fresh session as a worker would have (the caller has committed and must
    not reopen its transaction before); the caller's scope is then restored in the database."""
    with current_app.app_context():
        try:
            run_job(job_id)
        except Exception:  # rolled back and recorded on the job as failed; the user sees it there
            log.exception("inline job %s failed", job_id)
    tenancy.refresh_database_scope(db.session)


def relay(job_ids: list[str] | None = None, limit: int = 200) -> int:
    """Hand the jobs waiting in the outbox (those of *job_ids*, or the oldest *limit*) to the queue;
    returns how many it delivered. Each job is claimed (``relayed_at`` set, committed) before it is
    pushed, so two relays never push one job twice; a push that fails gives the claim back and leaves
    the rest waiting. A job claimed by a relay that died before pushing is found again by
    :func:`recheck_relayed`."""
    rq_queue = _relay_queue()
    if rq_queue is None:
        return 0
    # Queued jobs are readable from any scope (the job table's policy), so any request relays the outbox.
    query = select(Job.id, Job.task).where(Job.relayed_at.is_(None), Job.status == JobStatus.QUEUED)
    if job_ids is not None:
        query = query.where(Job.id.in_(job_ids))
    waiting = db.session.execute(query.order_by(Job.created_at).limit(limit)).all()
    db.session.commit()
    delivered = 0
    for job_id, task_name in waiting:
        claimed = db.session.execute(update(Job).where(Job.id == job_id, Job.relayed_at.is_(None))
                                     .values(relayed_at=utcnow())).rowcount
        db.session.commit()
        if not claimed:
            continue  # another relay took it
        try:
            _push(rq_queue, job_id, task_name)
        except _queue_out() as err:
            db.session.execute(update(Job).where(Job.id == job_id).values(relayed_at=None))
            db.session.commit()
            log.warning("job %s waits in the outbox: the queue is out (%s)", job_id, err)
            break
        delivered += 1
    if delivered:
        log.info("relayed %s job(s) to the queue", delivered)
    return delivered


def recheck_relayed(now: dt.datetime | None = None) -> int:
    """Jobs the outbox handed over long ago, still queued, that the queue does not know (a relay died
    between its claim and its push, or Redis lost its data): back to the outbox. Returns how many."""
    rq_queue = _relay_queue()
    if rq_queue is None:
        return 0
    from rq.job import Job as QueuedJob

    cutoff = (now or utcnow()) - RELAY_RECHECK
    stale = db.session.scalars(select(Job.id).where(Job.status == JobStatus.QUEUED, Job.relayed_at < cutoff)
                               .limit(500)).all()
    lost = [job_id for job_id in stale if not QueuedJob.exists(job_id, connection=rq_queue.connection)]
    if lost:
        db.session.execute(update(Job).where(Job.id.in_(lost), Job.status == JobStatus.QUEUED)
                           .values(relayed_at=None))
    db.session.commit()
    return len(lost)


#: A job queued or running this much longer than it should is stuck (the back office lists it).
STUCK_AFTER = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class StuckJobs:
    #: recorded while the queue was out, not delivered yet
    waiting: list[Job]
    #: on the queue for STUCK_AFTER and not started: no worker takes the queue
    queued: list[Job]
    #: started longer ago than the job timeout allows: its worker died and RQ has not retried it
    started: list[Job]


def stuck_jobs(now: dt.datetime | None = None, limit: int = 100) -> StuckJobs:
    """The jobs stuck in a state, oldest first, in one query."""
    now = now or utcnow()
    late = now - STUCK_AFTER
    overdue = now - dt.timedelta(seconds=current_app.config.get("JOB_TIMEOUT", 3600)) - STUCK_AFTER
    rows = db.session.scalars(select(Job).where(
        ((Job.status == JobStatus.QUEUED) & (Job.relayed_at.is_(None) | (Job.relayed_at < late)))
        | ((Job.status == JobStatus.STARTED) & (Job.started_at < overdue))).order_by(Job.created_at).limit(limit)).all()
    return StuckJobs(waiting=[j for j in rows if j.waiting_for_queue],
                     queued=[j for j in rows if j.status == JobStatus.QUEUED and not j.waiting_for_queue],
                     started=[j for j in rows if j.status == JobStatus.STARTED])


def _forget_on_queue(job_id: str) -> None:
    """Take the job off the queue if it is there (best effort: the queue may be out)."""
    rq_queue = _relay_queue()
    if rq_queue is None:
        return
    from rq.job import Job as QueuedJob

    try:
        if QueuedJob.exists(job_id, connection=rq_queue.connection):
            QueuedJob.fetch(job_id, connection=rq_queue.connection).delete()
    except _queue_out() as err:
        log.warning("job %s: not taken off the queue (%s)", job_id, err)


def run_again(job: Job) -> Job:
    """An operator runs a stuck, failed or cancelled job again: back in the outbox, then relayed (or run
    inline). Tasks are idempotent, so what an earlier attempt did is not done twice."""
    if job.status == JobStatus.FINISHED:
        raise JobRefused(_("This job has finished; start a new one instead."))
    job_id = job.id
    _forget_on_queue(job_id)
    inline = not current_app.config.get("REDIS_URL")
    job.status, job.progress, job.message, job.error = JobStatus.QUEUED, 0, None, None
    job.started_at = job.finished_at = None
    job.relayed_at = utcnow() if inline else None
    # Commit ends the transaction; nothing below may reopen it before the job has run (see enqueue).
    db.session.commit()
    if inline:
        _run_inline(job_id)
    else:
        relay([job_id])
    db.session.refresh(job)
    return job


def cancel(job: Job, by: str) -> Job:
    """An operator stops a job that has not finished: it will not run (a worker that takes it skips it)."""
    if job.done:
        raise JobRefused(_("This job has already ended."))
    _forget_on_queue(job.id)
    job.status, job.finished_at = JobStatus.CANCELLED, utcnow()
    job.message = _("Cancelled by an operator.")[:255]
    job.error = f"cancelled by {by}"
    db.session.commit()
    return job


def waiting_in_outbox() -> int:
    """How many jobs wait for the queue (the health check and the back office show it)."""
    return db.session.scalar(select(func.count()).select_from(Job).where(
        Job.relayed_at.is_(None), Job.status == JobStatus.QUEUED)) or 0


#: The domains' nightly housekeeping, run by ``maintenance.cleanup`` in order: each step removes what
#: has expired on *now* and returns one translated line saying what it did. A domain registers its
#: step in its ``tasks`` module (discovered like every task).
CLEANUP_STEPS: list[Callable[[dt.datetime], str]] = []


def cleanup_step(func: Callable[[dt.datetime], str]) -> Callable[[dt.datetime], str]:
    CLEANUP_STEPS.append(func)
    return func


#: What jobs need from the packages above them, given by those packages (jobs import no domain):
#: the actor a user id stands for (accounts), and the read-only scope of a job on a jurisdiction,
#: refused when its user no longer oversees it (tenancy). Set from their ``tasks`` modules.
_ACTOR_OF: list[Callable[[int], Actor | None]] = []
_OVERSIGHT_SCOPE: list[Callable[[int, int | None], TenantScope]] = []


def actor_of_user(func: Callable[[int], Actor | None]):
    _ACTOR_OF[:] = [func]
    return func


def oversight_scope(func: Callable[[int, int | None], TenantScope]):
    """*func(jurisdiction_id, user_id)*: the scope, or PermissionError when the user may not see it."""
    _OVERSIGHT_SCOPE[:] = [func]
    return func


def _job_scope(job: Job, spec: TaskSpec) -> TenantScope:
    if spec.oversight:
        # Checked again when the job runs: a role withdrawn meanwhile fails the job.
        return _OVERSIGHT_SCOPE[0](job.params["jurisdiction_id"], job.user_id)
    if job.tenant_id is None:
        return TenantScope.system() if spec.system else TenantScope.none()
    return TenantScope.tenant(job.tenant_id, read_only=job.read_only)


@logs.job_logging  # what the task logs carries the job id and, once known, its tenant id
def run_job(job_id: str) -> str | None:
    """Run one recorded job; safe to call again for a job that already finished.

    The task's writes and its outcome are committed together, once, when it returns. If it
    raises, they are rolled back, and the job is recorded as failed with a message for the user
    (the traceback is kept for the operators) before the error goes back to RQ, which retries
    it; a value the database refuses (``DataError``) would be refused again, so that job is
    not retried.
    """
    with scoped(TenantScope.system()):
        job = db.session.get(Job, job_id)
        if job is None:
            log.warning("job %s not found", job_id)
            return None
        if job.status in (JobStatus.FINISHED, JobStatus.CANCELLED):
            return job.status
        spec = _registry[job.task]
        logs.bind_job(tenant_id=job.tenant_id)
        # A retry starts afresh: what an earlier attempt showed is not this attempt's progress.
        job.status, job.started_at, job.error = JobStatus.STARTED, utcnow(), None
        job.progress, job.message = 0, None
        job.attempts += 1
        db.session.commit()
        actor = _actor_for(job)
    try:
        with scoped(_job_scope(job, spec)), acting_as(actor):
            # The scope changed after the transaction began: refresh it for PostgreSQL.
            tenancy.refresh_database_scope(db.session)
            ids = {"tenant_id": job.tenant_id} if job.tenant_id is not None else {}
            handle = JobHandle(job)
            token = _current_job.set(job_id)
            try:
                spec.func(handle, **ids, **job.params)
            finally:
                _current_job.reset(token)
            # A progress message told the step under way; a finished job shows the task's outcome.
            for key, value in {"message": None, **handle.outcome}.items():
                setattr(job, key, value)
            flag_modified(job, "message")  # progress may have written it on another connection
            job.status, job.progress, job.finished_at = JobStatus.FINISHED, 100, utcnow()
            db.session.commit()
    except Exception as error:
        db.session.rollback()
        _record_failure(job_id, error)
        if isinstance(error, DataError):
            log.warning("job %s failed: the database refused a value; not retried", job_id, exc_info=True)
            return JobStatus.FAILED
        raise
    return job.status


def _record_failure(job_id: str, error: Exception) -> None:
    with scoped(TenantScope.system()):
        job = db.session.get(Job, job_id)
        job.status, job.finished_at = JobStatus.FAILED, utcnow()
        job.error = operator_error(error)
        with force_locale(job.params.get("locale") or current_app.config["BABEL_DEFAULT_LOCALE"]):
            job.message = failure_message(error)[:255]
        db.session.commit()


def operator_error(error: Exception) -> str:
    """What the operators read in the back office: the error's first line, then where it happened.
    (A database error's full text repeats every parameter of a multi-row INSERT: not that.)"""
    lines = str(error).splitlines()
    summary = f"{type(error).__module__}.{type(error).__qualname__}: {lines[0] if lines else ''}"[:1000]
    return (summary + "\n" + "".join(traceback.format_tb(error.__traceback__, limit=-20)))[:4000]


def failure_message(error: Exception) -> str:
    """What the user reads about a failed job: the kind of problem, never the traceback."""
    if isinstance(error, DataError):
        return _("The database refused a value (a number out of range, or text it cannot store), so "
                 "nothing was saved. Correct the data and try again.")
    if isinstance(error, IntegrityError):
        return _("The data conflicts with records already stored (a duplicate or a missing reference), so "
                 "nothing was saved. You can try again.")
    return _("The job stopped on an error and nothing was saved. The error has been recorded for the "
             "operators; you can try again.")


def _actor_for(job: Job) -> Actor:
    if job.user_id is None:
        return SYSTEM
    return _ACTOR_OF[0](job.user_id) or SYSTEM


def visible_job(job_id: str, user) -> Job | None:
    job = db.session.get(Job, job_id)
    if job is None or not user.is_authenticated:
        return None
    if job.user_id != user.id and not user.is_operator:
        return None
    return job
