from __future__ import annotations

from flask_babel import force_locale, gettext as _

from govqms.core.imports import ImportRefused
from govqms.core.storage import get_storage, storage_key
from govqms.extensions import db
from govqms.jobs.services import task
from govqms.performance import periods, services


@task("performance.import_service_results", read_only=False)
def import_service_results(job, tenant_id: int, digest: str, extension: str, locale: str = "vi", period: str = "",
                           **columns) -> None:
    """Import an uploaded one-stop report: every row valid, or nothing written and a report. The rows
    skipped (headings, totals, signatures) are listed in the report, with why."""
    mapping = {key.removeprefix("col_"): index for key, index in columns.items() if key.startswith("col_")}
    data = get_storage().get(storage_key(tenant_id, digest))
    with force_locale(locale):
        try:
            typed = periods.parse(period) if period else None
            outcome = services.import_service_results(tenant_id, data, extension, mapping or None, job.progress,
                                                      period=typed)
        except periods.PeriodError as err:
            job.set_report([{"row": 0, "column": _("Period"), "message": str(err)}],
                           _("Nothing imported: the period typed could not be read."))
            return
        except ImportRefused as refused:
            db.session.rollback()
            job.set_report([e.as_dict() for e in refused.errors],
                           _("Nothing imported: %(n)s problem(s) in the file.", n=len(refused.errors)))
            return
        labels = ", ".join(p.label() for p in outcome.periods)
        message = _("%(stored)s row(s) stored for %(periods)s.", stored=outcome.stored, periods=labels)
        if outcome.replaced:
            message += " " + _("They replace %(n)s row(s) stored before for %(periods)s.", n=outcome.replaced,
                               periods=", ".join(outcome.replaced_periods))
        job.set_report([{"row": s.row, "column": "", "message": s.reason} for s in outcome.skipped] or None, message)
