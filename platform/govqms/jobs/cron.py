"""The periodic schedule, in one place. `govqms cron` (or `rq cron govqms.jobs.cron`) runs RQ's
CronScheduler, a process beside the worker, which puts each entry on the queue at its time; the
worker then records and runs the named task like any other job.

Times are UTC cron expressions; the comments give the time in Vietnam (UTC+7).
"""
from __future__ import annotations

import os

from rq import cron

#: (task, cron expression): what runs by itself, and when.
SCHEDULE = [
    ("compliance.snapshot", "15 17 * * *"),      # 00:15: every agency's status for the day, for the trends
    ("oversight.warm_standings", "20 17 * * *"), # 00:20: today's comparison rows cached before the morning
    ("maintenance.cleanup", "0 19 * * *"),       # 02:00: expired links, old downloads, interrupted emails
    ("notifications.reminders", "0 0 * * *"),    # 07:00: reminders of what comes due, and escalations
    ("notifications.digest", "30 0 * * *"),      # 07:30: the daily digest for those who chose it
    ("notifications.deliver", "*/5 * * * *"),    # every 5 minutes: emails of new notifications
    ("webhooks.enqueue_due", "* * * * *"),      # every minute: webhook deliveries due again (retries)
]
QUEUE = os.environ.get("GOVQMS_JOB_QUEUE", "govqms")


def enqueue_scheduled(task_name: str) -> str:
    """Run by the worker (inside the app) when the schedule fires: record the job and queue it. The
    queue being there, the jobs that waited for it in the outbox go too (at the latest five minutes
    after Redis is back: the emails' entry fires that often), and any the queue lost go back to the
    outbox first."""
    from govqms.jobs.services import enqueue, recheck_relayed

    recheck_relayed()
    return enqueue(task_name, tenant_id=None, user_id=None).id


for _task, _expression in SCHEDULE:
    cron.register(enqueue_scheduled, queue_name=QUEUE, args=(_task,), cron=_expression, name=_task)
