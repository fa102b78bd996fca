"""The objectives dashboard's export: the year's objectives with their results, and the service results."""
from __future__ import annotations

from io import BytesIO

from flask_babel import force_locale, gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from govqms.core.clock import today
from govqms.core.exports import append_row
from govqms.jobs.services import task
from govqms.objectives import rules, services as objectives
from govqms.objectives.valuation import valuate

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _bold(sheet) -> None:
    for cell in sheet[1]:
        cell.font = Font(bold=True)


@task("objectives.export_year")
def export_year(job, tenant_id: int, year: int, locale: str = "vi") -> None:
    """The year's objectives with their results, and the monthly service results, as XLSX."""
    book = Workbook()
    with force_locale(locale):
        sheet = book.active
        sheet.title = _("Objectives")[:31]
        sheet.append([_("Objective"), _("Indicator"), _("Unit"), _("Target"), _("Latest value"), _("Period"),
                      _("Achievement"), _("Status"), _("Reason")])
        _bold(sheet)
        objective_list = objectives.objectives_of_year(tenant_id, year)
        valued = valuate([tenant_id], year, today())[tenant_id]
        judgements = valued.judgements()
        for objective in objective_list:
            j = judgements[objective.id]
            append_row(sheet, [objective.statement, objective.indicator, objective.unit.name if objective.unit else "",
                               f"{objective.comparator} {objective.target:g} {objective.unit_of_measure}".strip(),
                               j.latest_value, j.latest_period.label(objective.frequency) if j.latest_period else "",
                               j.achievement, str(rules.STATUS_LABELS[j.status]), j.reason])
        results = book.create_sheet(_("Service results")[:31])
        results.append([_("Period"), _("Received"), _("Resolved early"), _("Resolved on time"), _("Resolved late"),
                        _("Pending"), _("On-time rate (%)")])
        _bold(results)
        for (first, last), figures in sorted(valued.results.items()):
            period = f"{first:02d}/{year}" if first == last else f"{first:02d}–{last:02d}/{year}"
            results.append([period, figures.received, figures.early, figures.on_time, figures.late,
                            figures.pending, figures.on_time_rate])
    out = BytesIO()
    book.save(out)
    job.set_result(out.getvalue(), f"muc-tieu-ket-qua-{year}.xlsx" if locale == "vi" else f"objectives-{year}.xlsx",
                   XLSX)
