from __future__ import annotations

from govqms.compliance.services import snapshot
from govqms.jobs.services import task
from govqms.tenancy.services import active_tenant_ids


@task("compliance.snapshot", read_only=False, system=True)
def daily_snapshot(job) -> None:
    """Today's status of every active agency, kept for trends (run daily by the schedule)."""
    tenants = active_tenant_ids()
    batch = 200
    for start in range(0, len(tenants), batch):
        snapshot(tenants[start:start + batch])
        job.progress(start + batch, len(tenants))
