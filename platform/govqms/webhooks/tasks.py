"""The delivery jobs: one per delivery, and the schedule's sweep of what is due again."""
from __future__ import annotations

from flask_babel import gettext as _

from govqms.jobs.services import task
from govqms.webhooks import services


@task("webhooks.deliver", read_only=False, system=True)
def deliver(job, delivery_id: int) -> None:
    """One attempt of one delivery (a second job for the same attempt does nothing)."""
    delivery = services.deliver(delivery_id)
    if delivery is not None:
        job.note(_("Attempt %(n)s: %(state)s", n=delivery.attempts, state=delivery.state.value))


@task("webhooks.enqueue_due", read_only=False, system=True)
def enqueue_due(job) -> None:
    """Every minute: a job for each delivery whose next attempt is due."""
    job.note(_("%(n)s delivery(ies) to attempt", n=services.enqueue_due()))
