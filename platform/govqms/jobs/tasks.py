"""Housekeeping the schedule runs every night."""
from __future__ import annotations

import datetime as dt

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, select, update

from govqms.core.db import utcnow
from govqms.extensions import db
from govqms.jobs.models import Job, JobStatus
from govqms.jobs.services import task


@task("maintenance.cleanup", read_only=False, system=True)
def cleanup(job) -> None:
    """Expired invitation links, old download results and sign-in attempts go; interrupted emails
    are reported."""
    from govqms.accounts.models import Invitation, LoginAttempt
    from govqms.notifications.services import report_interrupted

    now = utcnow()
    # Deleted through the ORM, one by one, so each removal is in the activity log.
    invitations = db.session.scalars(select(Invitation).where(Invitation.used_at.is_(None),
                                                              Invitation.expires_at < now)).all()
    for invitation in invitations:
        db.session.delete(invitation)
    keep_results = dt.timedelta(days=current_app.config["JOB_RESULT_DAYS"])
    results = db.session.execute(
        update(Job).where(Job.result.is_not(None), Job.finished_at < now - keep_results,
                          Job.status == JobStatus.FINISHED)
        .values(result=None)).rowcount or 0
    attempts = db.session.execute(delete(LoginAttempt).where(LoginAttempt.at < now - dt.timedelta(days=90))).rowcount
    interrupted = report_interrupted(now)
    job.note(_("%(i)s expired invitation(s), %(r)s old download(s), %(a)s sign-in record(s) removed; "
               "%(e)s interrupted email(s) reported.", i=len(invitations), r=results, a=attempts or 0, e=interrupted))
