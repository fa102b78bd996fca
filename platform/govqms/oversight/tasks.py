"""Jobs of the oversight views: the comparison as a spreadsheet, the morning's cache (the yearly reports
are official documents: :mod:`govqms.reports.tasks`)."""
from __future__ import annotations

import datetime as dt
from io import BytesIO

from flask_babel import force_locale, gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from govqms.compliance.engine import LEVEL_LABELS, RESULT_LABELS, RULES
from govqms.core.exports import append_row
from govqms.core.listing import filters_of, list_args
from govqms.extensions import db
from govqms.jobs.services import task
from govqms.oversight import comparison
from govqms.oversight.schemas import ComparisonFilter
from govqms.tenancy.models import KIND_LABELS, Jurisdiction

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FILLS = {"overdue": "F1AEB5", "due_soon": "FFF3CD", "ok": "D1E7DD"}


def _day(value: dt.date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


@task("oversight.export_comparison", oversight=True)
def export_comparison(job, jurisdiction_id: int, on: str, locale: str = "vi", **filters: str | None) -> None:
    """Every agency of the jurisdiction with its figures and checks, as the view shows them, in XLSX."""
    jurisdiction = db.session.get(Jurisdiction, jurisdiction_id)
    day = dt.date.fromisoformat(on)
    rows = comparison.filtered(comparison.compare(jurisdiction, day),
                                filters_of(list_args(ComparisonFilter, filters)))
    book = Workbook()
    sheet = book.active
    with force_locale(locale):
        job.progress(1, 2, _("Writing the spreadsheet"))
        sheet.title = _("Agencies")[:31]
        append_row(sheet, [jurisdiction.name, _("Situation on %(date)s", date=_day(day))])
        header = [_("Agency"), _("Kind of agency"), _("Edition"), _("Declared on"), _("Certificate until"),
                  _("Last internal audit"), _("Last management review"), _("Next external audit"),
                  _("Open actions"), _("Overdue actions"), _("Objectives achieved"), _("On-time rate"),
                  _("Satisfaction rate"), _("Overall level")]
        sheet.append(header + [str(label) for _key, label, _rule in RULES])
        for cell in sheet[2]:
            cell.font = Font(bold=True)
        for row in rows:
            values = [row.tenant.name, str(KIND_LABELS.get(row.tenant.kind, row.tenant.kind)), row.edition or "",
                      _day(row.declared_on), _day(row.certificate_expires), _day(row.last_audit),
                      _day(row.last_review), _day(row.next_external), row.actions_open, row.actions_overdue,
                      f"{row.objectives_on_track}/{row.objectives_total}",
                      round(row.on_time_rate, 1) if row.on_time_rate is not None else None,
                      round(row.satisfaction_rate, 1) if row.satisfaction_rate is not None else None,
                      str(LEVEL_LABELS[row.level]) if row.level in LEVEL_LABELS else _("Merged")]
            append_row(sheet, values + [str(RESULT_LABELS[row.checks[key].result]) for key, _label, _rule in RULES])
            for offset, (key, _label, _rule) in enumerate(RULES):
                fill = FILLS.get(row.checks[key].result)
                if fill:
                    sheet.cell(row=sheet.max_row, column=len(values) + offset + 1).fill = PatternFill(
                        "solid", fgColor=fill)
    out = BytesIO()
    book.save(out)
    job.set_result(out.getvalue(), f"so-sanh-{jurisdiction.code}-{day:%Y%m%d}.xlsx", XLSX)


@task("oversight.warm_standings", system=True)
def warm_standings(job) -> None:
    """Compute today's standing of every agency in the default language, after midnight, so the
    morning's first overseer reads the comparison from the cache instead of computing it."""
    from flask import current_app
    from sqlalchemy import select

    roots = list(db.session.scalars(select(Jurisdiction).where(Jurisdiction.parent_id.is_(None))))
    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "vi")):
        for done, root in enumerate(roots, start=1):
            comparison.compare(root)
            job.progress(done, len(roots))
