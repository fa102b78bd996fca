from __future__ import annotations

from flask_babel import force_locale, gettext as _

from govqms.core.imports import ImportRefused
from govqms.core.storage import get_storage
from govqms.extensions import db
from govqms.jobs.services import task
from govqms.procedures.services import import_catalogue


@task("procedures.import", read_only=False)
def import_procedures(job, tenant_id: int, storage_key: str, extension: str, locale: str = "vi") -> None:
    """Import the catalogue uploaded under *storage_key*: all rows, or none and a report."""
    data = get_storage().get(storage_key)
    with force_locale(locale):
        try:
            created, updated = import_catalogue(tenant_id, data, extension, job.progress)
        except ImportRefused as refused:
            db.session.rollback()
            job.set_report([e.as_dict() for e in refused.errors],
                           _("Nothing imported: %(n)s problem(s) in the file.", n=len(refused.errors)))
            return
        job.set_report(None, _("%(created)s procedure(s) added, %(updated)s updated.", created=created,
                               updated=updated))
