"""The notification jobs the schedule runs (govqms.jobs.cron) and the views enqueue."""
from __future__ import annotations

from flask_babel import gettext as _

from govqms.core.clock import today
from govqms.extensions import db
from govqms.jobs.services import cleanup_step, task
from govqms.notifications import reminders, services
from govqms.notifications.models import DeliveryMode
from govqms.tenancy.services import active_tenant_ids

BATCH = 100


@task("notifications.reminders", read_only=False, system=True)
def send_reminders(job) -> None:
    """Today's reminders for every active agency, then the immediate emails."""
    day = today()
    tenants = active_tenant_ids()
    for start in range(0, len(tenants), BATCH):
        reminders.remind(tenants[start:start + BATCH], day)
        db.session.commit()  # each batch stands on its own: a retry skips what is recorded
        job.progress(start + BATCH, len(tenants) + 1, f"{min(start + BATCH, len(tenants))}/{len(tenants)}")
    for step in reminders.DAILY_STEPS:
        step(day)
    db.session.commit()
    services.send_pending(DeliveryMode.IMMEDIATE)
    # what every attempt of this job did (a retry after a crash finds the first attempt's work done)
    job.note(_("%(n)s notification(s), %(m)s email(s)", n=services.created_by(job.id),
               m=services.emails_sent_by(job.id)))


@task("notifications.deliver", read_only=False, system=True)
def deliver(job) -> None:
    """Email the notifications waiting for users who want them at once."""
    services.send_pending(DeliveryMode.IMMEDIATE, job)
    job.note(_("%(m)s email(s)", m=services.emails_sent_by(job.id)))


@task("notifications.digest", read_only=False, system=True)
def digest(job) -> None:
    """One email per user who chose the daily digest, with everything since the last one."""
    services.send_pending(DeliveryMode.DIGEST, job)
    job.note(_("%(m)s email(s)", m=services.emails_sent_by(job.id)))


@cleanup_step
def interrupted_emails(now) -> str:
    """Emails left "sending" by a worker that died: sent again, or reported failed after the last
    attempt (every delivery does this first; the nightly cleanup too, for a quiet day)."""
    again, failed = services.retry_interrupted(now)
    return _("%(n)s interrupted email(s) to send again, %(m)s reported failed", n=again, m=failed)
