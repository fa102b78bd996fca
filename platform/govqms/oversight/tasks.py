"""Jobs of the oversight views: the comparison as a spreadsheet, the yearly reports, the morning's cache."""
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


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
REPORT_KINDS = ("annual", "inspections")


def _figure_lines(figures) -> list[tuple[str, object]]:
    c, i, d = figures.counts, figures.inspection_counts, figures.data_calls
    return [
        (_("Agencies applying the QMS (in scope on %(date)s)", date=_day(figures.on)), c["in_scope"]),
        (_("With a declaration of conformity"), c["declared"]),
        (_("Applying TCVN ISO 9001:2015"), c["on_2015"]),
        (_("Internal audit done in %(year)s", year=figures.year), c["audited_this_year"]),
        (_("Management review held in %(year)s", year=figures.year), c["reviewed_this_year"]),
        (_("Head's confirmation of effectiveness for %(year)s", year=figures.year), c["confirmed_this_year"]),
        (_("With overdue corrective actions"), c["with_overdue_actions"]),
        (_("Inspected on paper"), i["inspected_on_paper"]),
        (_("Inspected on site"), i["inspected_on_site"]),
        (_("Data calls sent"), d["sent"]),
        (_("Replies on time / late / missing"), f"{d['on_time']} / {d['late']} / {d['missing']}"),
    ]


def _inspection_lines(figures) -> list[tuple[str, object]]:
    i = figures.inspection_counts
    return [
        (_("Agencies in the inspection plan"), i["planned"]),
        (_("Planned on site"), i["planned_on_site"]),
        (_("Inspected on paper"), i["inspected_on_paper"]),
        (_("Inspected on site"), i["inspected_on_site"]),
        (_("Findings to correct"), i["findings"]),
        (_("Corrective-action reports received"), i["reports_received"]),
        (_("Reports accepted"), i["reports_accepted"]),
        (_("Cost (VND)"), i["cost"]),
    ]


def _title(kind: str, year: int) -> str:
    if kind == "annual":
        return _("Report on the application of the QMS under TCVN ISO 9001 in %(year)s", year=year)
    return _("Summary of the %(year)s inspections of QMS application", year=year)


def _agency_table(figures) -> tuple[list[str], list[list]]:
    header = [_("Agency"), _("Edition"), _("Declared on"), _("Last internal audit"), _("Last management review"),
              _("Overdue actions"), _("Overall level")]
    body = [[r.tenant.name, r.edition or "", _day(r.declared_on), _day(r.last_audit), _day(r.last_review),
             r.actions_overdue, str(LEVEL_LABELS[r.level])] for r in figures.rows]
    return header, body


def _inspection_table(figures) -> tuple[list[str], list[list]]:
    from govqms.inspections.models import FORM_LABELS, STATUS_LABELS

    header = [_("Agency"), _("Form of inspection"), _("Inspected on"), _("Findings"), _("Report due"),
              _("Progress")]
    body = [[t.name, str(FORM_LABELS[i.form]), _day(i.held_on), len(i.findings), _day(i.report_due_on),
             str(STATUS_LABELS[i.status])] for i, t in figures.inspections]
    return header, body


@task("oversight.yearly_report", oversight=True)
def yearly_report(job, jurisdiction_id: int, year: int, kind: str = "annual", fmt: str = "docx",
                  locale: str = "vi") -> None:
    """The jurisdiction's yearly report, computed from the records, as DOCX or XLSX."""
    from govqms.oversight.report import figures as year_figures

    jurisdiction = db.session.get(Jurisdiction, jurisdiction_id)
    with force_locale(locale):
        job.progress(1, 4, _("Computing the figures of every agency"))
        figures = year_figures(jurisdiction, year)
        job.progress(2, 4, _("Writing the report"))
        title = _title(kind, year)
        lines = _figure_lines(figures) if kind == "annual" else _inspection_lines(figures)
        header, body = _agency_table(figures) if kind == "annual" else _inspection_table(figures)
        out = BytesIO()
        if fmt == "xlsx":
            book = Workbook()
            summary = book.active
            summary.title = _("Figures")[:31]
            append_row(summary, [jurisdiction.name])
            append_row(summary, [title])
            summary.append([])
            for label, value in lines:
                append_row(summary, [label, value])
            summary.column_dimensions["A"].width = 60
            detail = book.create_sheet(_("Agencies")[:31])
            detail.append(header)
            for cell in detail[1]:
                cell.font = Font(bold=True)
            for row in body:
                append_row(detail, row)
            book.save(out)
            mimetype, extension = XLSX, "xlsx"
        else:
            from docx import Document as Docx

            doc = Docx()
            doc.add_paragraph(jurisdiction.name.upper())
            doc.add_heading(title, level=1)
            doc.add_paragraph(_("Situation on %(date)s, computed by GovQMS from the records of each agency.",
                                date=_day(figures.on)))
            doc.add_heading(_("I. Figures"), level=2)
            table = doc.add_table(rows=0, cols=2)
            table.style = "Table Grid"
            for label, value in lines:
                cells = table.add_row().cells
                cells[0].text, cells[1].text = str(label), str(value)
            doc.add_heading(_("II. By agency") if kind == "annual" else _("II. By inspection"), level=2)
            table = doc.add_table(rows=1, cols=len(header))
            table.style = "Table Grid"
            for cell, text in zip(table.rows[0].cells, header, strict=True):
                cell.text = str(text)
            for row in body:
                for cell, value in zip(table.add_row().cells, row, strict=True):
                    cell.text = "" if value is None else str(value)
            doc.save(out)
            mimetype, extension = DOCX, "docx"
        job.progress(3, 4, _("Saving"))
    name = "bao-cao-nam" if kind == "annual" else "tong-hop-kiem-tra"
    job.set_result(out.getvalue(), f"{name}-{jurisdiction.code}-{year}.{extension}", mimetype)


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
