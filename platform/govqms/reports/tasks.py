"""Official documents as jobs: the page's buttons queue them, the overseer follows the progress and
downloads the file (``govqms report`` makes the same documents without a job)."""
from __future__ import annotations

from flask_babel import force_locale, gettext as _

from govqms.extensions import db
from govqms.jobs.services import task
from govqms.reports.documents import produce
from govqms.tenancy.models import Jurisdiction

#: The kinds the first reports page sent, for jobs queued before this version and run again.
FORMER_KINDS = {"annual": "yearly", "inspections": "inspection-summary"}


@task("oversight.yearly_report", oversight=True)
def year_document(job, jurisdiction_id: int, year: int, kind: str = "yearly", fmt: str = "docx",
                  locale: str = "vi") -> None:
    """A document of the jurisdiction's year: the yearly report (annex II of QĐ 19/2014), the
    November inspection summary, or the inspection plan (Mẫu 19 KHKT), as DOCX or XLSX."""
    jurisdiction = db.session.get(Jurisdiction, jurisdiction_id)
    with force_locale(locale):
        job.progress(1, 3, _("Computing the figures of every agency"))
        document = produce(jurisdiction, FORMER_KINDS.get(kind, kind), fmt, year=year)
        job.progress(2, 3, _("Saving"))
    job.set_result(document.data, document.file_name, document.mimetype)


@task("official.inspection_document", oversight=True)
def inspection_document(job, jurisdiction_id: int, inspection_id: int, kind: str, locale: str = "vi") -> None:
    """A document of one inspection: the decision (Mẫu 20 QĐKT), the minutes (Mẫu 21 BBKT), or the
    written request for the report of a paper inspection."""
    jurisdiction = db.session.get(Jurisdiction, jurisdiction_id)
    with force_locale(locale):
        job.progress(1, 2, _("Writing the document"))
        document = produce(jurisdiction, kind, "docx", inspection_id=inspection_id)
    job.set_result(document.data, document.file_name, document.mimetype)
