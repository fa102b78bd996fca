"""The API's housekeeping: idempotency keys are kept a day."""
from __future__ import annotations

from flask_babel import gettext as _

from govqms.api.idempotency import forget_expired
from govqms.jobs.services import cleanup_step


@cleanup_step
def expired_idempotency_keys(now) -> str:
    return _("%(n)s expired idempotency key(s) removed", n=forget_expired(now))
