"""The job that verifies a stored PDF's signatures (asked for by :func:`govqms.signatures.services.request_check`)."""
from __future__ import annotations

from flask_babel import gettext as _

from govqms.extensions import db
from govqms.jobs.services import task
from govqms.signatures import services

#: results verified again per transaction
BATCH = 200


@task("signatures.verify", read_only=False)
def verify(job, tenant_id: int, digest: str) -> None:
    """Verify the agency's stored file *digest* and keep the result: run again, it computes it again."""
    check = services.record_check(tenant_id, digest)
    job.note(f"{check.status}: {check.signer or '-'}")


@task("signatures.recheck_outdated", read_only=False, system=True)
def recheck_outdated(job) -> None:
    """After the operator changed the trust anchors: every agency's results computed with other anchors are
    verified again. Each batch commits, so a retry (or a second run) skips what is done already."""
    checked, after = 0, 0
    while batch := services.results_after(after, BATCH):
        after = batch[-1].id
        checked += sum(services.recheck(check) for check in batch)
        db.session.commit()
    job.note(_("%(n)s file(s) checked again with today's trust anchors.", n=checked))
