"""The compliance engine's dates in the schedule: surveillance audits and recertifications due."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from govqms.calendars.schedule import Event, source
from govqms.compliance.engine import certification, context, gather_certification


@source("certification_due", _l("Surveillance or recertification due"))
def _certification_due(ids, start, end):
    ctx = context()
    for tenant_id, facts in gather_certification(ids, ctx.today).items():
        check = certification(facts, ctx)  # this one rule, not the whole evaluation
        if check.due_on and start <= check.due_on <= end:
            yield Event("certification_due", check.due_on, tenant_id, check.reason,
                        f"certification-due-{tenant_id}-{check.due_on:%Y%m%d}", link=("conformity.index", {}))
