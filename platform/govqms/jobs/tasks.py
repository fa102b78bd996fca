"""Housekeeping the schedule runs every night."""
from __future__ import annotations

import datetime as dt

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import update

from govqms.core.db import utcnow
from govqms.extensions import db
from govqms.jobs.models import Job, JobStatus
from govqms.jobs.services import CLEANUP_STEPS, task


@task("maintenance.cleanup", read_only=False, system=True)
def cleanup(job) -> None:
    """Old download results go; then each domain's own step (expired invitation links, old sign-in
    attempts, interrupted emails…, registered with :func:`govqms.jobs.services.cleanup_step`)."""
    now = utcnow()
    keep_results = dt.timedelta(days=current_app.config["JOB_RESULT_DAYS"])
    results = db.session.execute(
        update(Job).where(Job.result.is_not(None), Job.finished_at < now - keep_results,
                          Job.status == JobStatus.FINISHED)
        .values(result=None)).rowcount or 0
    lines = [_("%(r)s old download(s) removed", r=results)] + [step(now) for step in CLEANUP_STEPS]
    job.note("; ".join(lines) + ".")
