"""Service results and satisfaction: entry, the monthly listing, and the import from one-stop-shop exports.

The rates and totals shown elsewhere (dashboard, export, review, oversight) come from
``govqms.objectives.valuation``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from govqms.core import layout
from govqms.core.clock import today
from govqms.core.db import save_record
from govqms.core.imports import ImportRefused, RowError, clean_cell, unstorable
from govqms.core.layout import text_of
from govqms.core.listing import page_of
from govqms.core.text import fold, sort_key
from govqms.extensions import db
from govqms.performance import columns, periods
from govqms.performance.models import SatisfactionSurvey, ServiceResult, on_time_rate
from govqms.performance.periods import Period
from govqms.procedures.models import AdminProcedure

#: The fields of an import, as the mapping step names them.
FIELDS = {
    "period": _l("Period (a column, when each row has its own)"),
    "number": _l("No. (STT)"),
    "field": _l("Field"),
    "procedure_code": _l("Procedure code"),
    "procedure_name": _l("Procedure name"),
    "received": _l("Received"),
    "resolved": _l("Resolved (total)"),
    "resolved_early": _l("Resolved early"),
    "resolved_on_time": _l("Resolved on time"),
    "resolved_late": _l("Resolved late"),
    "pending": _l("Pending"),
}
REQUIRED = ("received", "resolved_early", "resolved_on_time", "resolved_late", "pending")
NUMBERS = ("received", "resolved", "resolved_early", "resolved_on_time", "resolved_late", "pending",
           "pending_not_due", "pending_overdue")
STORED = ("received", "resolved_early", "resolved_on_time", "resolved_late", "pending")
#: No agency handles ten million dossiers in a period: a larger count is a mistake in the sheet.
MAX_COUNT = 10_000_000
IMPORT_BATCH = 1000
_ROMAN = re.compile(r"^(?=[ivxlc]+$)c{0,3}(xc|xl|l?x{0,3})(ix|iv|v?i{0,3})$")
_DATE_LINE = re.compile(r"ngay\s*\.*\s*\d*\s*thang")


def parse_period(value: Any) -> tuple[int, int] | None:
    """``03/2025``, ``3-2025``, ``2025-03`` or a spreadsheet date → (year, month) of a one-month period
    (the survey form); None if unknown."""
    try:
        period = periods.parse(value)
    except periods.PeriodError:
        return None
    return (period.year, period.first_month) if period.length == 1 else None


def _count(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = str(value).strip().replace(".", "").replace(",", "").replace(" ", "") if value is not None else ""
    return int(text) if re.fullmatch(r"-?\d+", text) else None


@dataclass
class Row:
    number: int  # as the spreadsheet numbers it
    period: Period
    field: str
    procedure_code: str
    counts: dict[str, int]


@dataclass
class Skipped:
    row: int
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "reason": self.reason}


@dataclass
class Outcome:
    """What an import stores, or would store (a dry run), and what it skipped and replaced."""

    rows: list[Row] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    replaced: int = 0
    replaced_periods: list[str] = field(default_factory=list)
    stored: int = 0
    layout: layout.Layout | None = None

    @property
    def periods(self) -> list[Period]:
        return sorted({r.period for r in self.rows})

    @property
    def totals(self) -> dict[str, int]:
        return {key: sum(r.counts[key] for r in self.rows) for key in STORED}

    def as_dict(self) -> dict[str, Any]:
        """The JSON of ``govqms import-results --json`` (keys fixed: other tools read them)."""
        found = self.periods
        period = ({"start": min(p.start for p in found).isoformat(), "end": max(p.end for p in found).isoformat()}
                  if found else None)
        totals = self.totals
        return {"period": period, "stored": self.stored, "replaced": self.replaced,
                "totals": {"received": totals["received"], "early": totals["resolved_early"],
                           "on_time": totals["resolved_on_time"], "late": totals["resolved_late"],
                           "pending": totals["pending"]},
                "skipped": [s.as_dict() for s in self.skipped], "errors": []}


SKIP_REASONS = {
    "blank": _l("blank row"),
    "column_numbers": _l("the row of column numbers under the header"),
    "total": _l("total row (checked against the rows above it)"),
    "group": _l("field heading or subtotal (checked against its procedures)"),
    "signature": _l("signature block below the table"),
    "no_figures": _l("no figures in the row"),
}


def read_sheet(data: bytes, extension: str, limit: int | None = None) -> list[list[Any]]:
    """The rows of the first sheet, merged cells filled with their value (XLSX) — at most *limit* rows,
    read within the limits of ``core.spreadsheets``."""
    from govqms.core.spreadsheets import MAX_COLUMNS, check_workbook, read_rows

    rows = read_rows(data, extension, limit)
    if extension == "xlsx":
        layout.fill_merged(rows, layout.merged_ranges(data, check_workbook(data).path, len(rows), MAX_COLUMNS))
    return rows


def period_in_title(found: layout.Layout | None) -> Period | None:
    """The period the title block names ("Kỳ báo cáo: từ ngày 15/06/2026 đến ngày 14/09/2026", "Quý III năm
    2026"), not the place-and-date line of the form."""
    for line in (found.title if found else []):
        folded = fold(line)
        if _DATE_LINE.search(folded) and "ky bao cao" not in folded:
            continue
        try:
            period = periods.find(line)
        except periods.PeriodError:
            continue
        if period is not None:
            return period
    return None


def analyse(rows: list[list[Any]]) -> layout.Layout | None:
    return layout.detect(rows, columns.match, REQUIRED[:4], known=(
        "pending", "pending_not_due", "pending_overdue", "period", "field", "procedure_code", "number"))





def plan(tenant_id: int, rows: list[list[Any]], mapping: dict[str, int] | None = None,
         period: Period | None = None, found: layout.Layout | None = None, preview: bool = False) -> Outcome:
    """Read and check every row; the rows to store, or ImportRefused naming every problem (row as the
    spreadsheet numbers it, and column). Nothing is written. A *preview* (the first rows of the file,
    for the mapping step) leaves out the checks that need every row: totals, subtotals, what is stored."""
    found = found or analyse(rows)
    if found is None and mapping is None:
        raise ImportRefused([RowError(1, "", str(_l(
            "no header row found: the sheet needs columns for received, early, on time, late and pending "
            "dossiers")))])
    if mapping is None:
        mapping = found.mapping
    start = found.data_start if found else 1
    header_labels_ = found.labels if found else [str(c or "") for c in rows[0]]
    # every column mapped is named (the split pending columns too: their errors name them)
    labels = {f: (header_labels_[i] if i < len(header_labels_) and header_labels_[i] else str(FIELDS.get(f, f)))
              for f, i in mapping.items()} | {f: str(v) for f, v in FIELDS.items() if f not in mapping}
    split_pending = "pending" not in mapping and ("pending_not_due" in mapping or "pending_overdue" in mapping)
    errors = [RowError(found.row_number(found.header_rows[-1]) if found else 1, labels[f],
                       str(_l("no column chosen for this field"))) for f in REQUIRED
              if f not in mapping and not (f == "pending" and split_pending)]
    if errors:
        raise ImportRefused(errors)
    file_period = period or (None if "period" in mapping else period_in_title(found))
    if file_period is None and "period" not in mapping:
        raise ImportRefused([RowError(1, str(FIELDS["period"]), str(_l(
            "no period found in the title of the sheet: type the period (a month, a quarter, a half-year, a "
            "year or a date range)")))])
    outcome = Outcome(layout=found)
    outcome.skipped = [Skipped(found.row_number(i), str(SKIP_REASONS[r])) for i, r in found.skipped] if found else []
    catalogue = dict(db.session.execute(select(AdminProcedure.code, AdminProcedure.field).where(
        AdminProcedure.tenant_id == tenant_id)).all())
    by_code = "procedure_code" in mapping
    group_field, group = "", None  # the field heading above procedures, and its subtotal row
    groups: list[tuple[int, dict[str, int], list[Row]]] = []
    totals: list[tuple[int, dict[str, int], list[Row]]] = []
    seen: dict[tuple, int] = {}
    parsed: list[dict[str, int]] = []  # every data row's figures that could be read, valid or not: for totals
    now = today()

    def value(raw, key):
        index = mapping.get(key)
        return clean_cell(raw[index]) if index is not None and index < len(raw) else None

    def figures(raw, number) -> tuple[dict[str, int], list[RowError]]:
        counts, problems = {}, []
        for key in NUMBERS:
            if key not in mapping:
                continue
            cell = value(raw, key)
            if cell is None or text_of(cell) in ("", "-", "–"):
                counts[key] = 0  # the forms leave a cell blank, or dash it, for none
                continue
            count = _count(cell)
            if count is None:
                problems.append(RowError(number, labels[key], str(_l("not a whole number: %(value)s",
                                                                     value=text_of(cell)))))
            elif count < 0:
                problems.append(RowError(number, labels[key], str(_l("negative number"))))
            elif count > MAX_COUNT:
                problems.append(RowError(number, labels[key], str(_l(
                    "%(value)s dossiers is beyond any agency's period (at most %(max)s)", value=count,
                    max=MAX_COUNT))))
            else:
                counts[key] = count
        if split_pending:
            counts["pending"] = counts.get("pending_not_due", 0) + counts.get("pending_overdue", 0)
        return counts, problems

    in_signature = False
    for index in range(start, len(rows)):
        raw, number = rows[index], index + 1
        if in_signature:
            outcome.skipped.append(Skipped(number, str(SKIP_REASONS["signature"])))
            continue
        if layout.is_blank(raw):
            outcome.skipped.append(Skipped(number, str(SKIP_REASONS["blank"])))
            continue
        label_cells = [value(raw, k) for k in ("number", "field", "procedure_name", "procedure_code")
                       if k in mapping] or raw[:2]
        has_figures = any(text_of(value(raw, k)) not in ("", "-", "–") for k in NUMBERS if k in mapping)
        numbers_present = any(_count(value(raw, k)) is not None for k in NUMBERS if k in mapping)
        if layout.is_signature(raw) and not numbers_present:
            in_signature = True
            outcome.skipped.append(Skipped(number, str(SKIP_REASONS["signature"])))
            continue
        counts, problems = figures(raw, number)
        problems += unstorable(number, {k: value(raw, k) for k in mapping if k in labels}, labels)
        if layout.is_total(label_cells):
            errors.extend(problems)
            totals.append((number, counts, list(parsed)))
            outcome.skipped.append(Skipped(number, str(SKIP_REASONS["total"])))
            continue
        code = text_of(value(raw, "procedure_code"))[:64]
        stt = fold(text_of(value(raw, "number")))
        name = text_of(value(raw, "field")) or (text_of(value(raw, "procedure_name")) if not by_code else "")
        if _ROMAN.match(stt) or fold(name).startswith("cong ") or (by_code and not code):
            # a field heading (I, II… or a row without a procedure code above the procedures)
            group_field = text_of(value(raw, "field")) or text_of(value(raw, "procedure_name")) or group_field
            if fold(group_field).startswith("cong "):
                group_field = group_field[5:].strip()
            errors.extend(problems)
            group = (number, counts if has_figures else {}, [])  # its procedures' figures follow
            groups.append(group)
            outcome.skipped.append(Skipped(number, str(SKIP_REASONS["group"])))
            continue
        if not has_figures:
            outcome.skipped.append(Skipped(number, str(SKIP_REASONS["no_figures"])))
            continue
        try:
            row_period = periods.parse(value(raw, "period")) if "period" in mapping else file_period
        except periods.PeriodError as err:
            problems.append(RowError(number, labels["period"], str(err)))
            row_period = None
        if row_period is not None and row_period.start > now:
            problems.append(RowError(number, labels.get("period", str(FIELDS["period"])),
                                     str(_l("a period that has not begun: %(period)s", period=row_period.label()))))
        if not problems:
            early, on_time, late = counts["resolved_early"], counts["resolved_on_time"], counts["resolved_late"]
            if "resolved" in mapping and counts["resolved"] != early + on_time + late:
                problems.append(RowError(number, labels["resolved"], str(_l(
                    "resolved %(resolved)s is not early + on time + late = %(sum)s", resolved=counts["resolved"],
                    sum=early + on_time + late))))
            if counts["received"] < early + on_time + late + counts["pending"]:
                problems.append(RowError(number, labels["received"], str(_l(
                    "received %(received)s is less than resolved + pending = %(sum)s", received=counts["received"],
                    sum=early + on_time + late + counts["pending"]))))
        field_name = (name if not by_code else (group_field or catalogue.get(code) or ""))[:255]
        if row_period is not None and not problems:
            key = (row_period, fold(field_name), code)
            if key in seen:
                problems.append(RowError(number, labels.get("procedure_code") or labels.get("field") or "",
                                         str(_l("the same period, field and procedure as row %(row)s",
                                                row=seen[key]))))
            seen.setdefault(key, number)
        errors.extend(problems)
        parsed.append(counts)
        if group is not None:
            group[2].append(counts)
        if not problems:
            outcome.rows.append(Row(number, row_period, field_name, code, {k: counts[k] for k in STORED}))
    # forms that split the dossiers in progress into "not yet due" and "overdue" without a total column:
    # pending is their sum
    for number, counts, group_rows in ([] if preview else [*groups, *totals]):
        for key in STORED:
            if key not in counts or not group_rows or any(key not in r for r in group_rows):
                continue  # a figure of the rows could not be read: that row's error says so
            if counts[key] != sum(r[key] for r in group_rows):
                errors.append(RowError(number, labels[key], str(_l(
                    "the total %(total)s is not the sum of the rows it totals, %(sum)s", total=counts[key],
                    sum=sum(r[key] for r in group_rows)))))
    spans = sorted({r.period for r in outcome.rows})
    for a, b in zip(spans, spans[1:], strict=False):
        if a.overlaps(b):
            first = next(r.number for r in outcome.rows if r.period == b)
            errors.append(RowError(first, labels.get("period", ""), str(_l(
                "%(one)s and %(other)s overlap: a file gives each dossier one period", one=a.label(),
                other=b.label()))))
    if not errors and not outcome.rows:
        errors.append(RowError(start + 1, "", str(_l("no row of figures below the header"))))
    if errors:
        raise ImportRefused(sorted(errors, key=lambda e: (e.row, e.column)))
    if not preview:
        _check_stored(tenant_id, outcome, labels)
    return outcome


def _stored_overlapping(tenant_id: int, found: list[Period]):
    years = sorted({p.year for p in found})
    overlapping: dict[tuple, bool] = {}  # per stored period, not per row: a file has few periods

    def overlaps(r: ServiceResult) -> bool:
        span = (r.year, r.first_month, r.last_month)
        if span not in overlapping:
            overlapping[span] = any(r.period.overlaps(p) for p in found)
        return overlapping[span]

    return [r for r in db.session.scalars(select(ServiceResult).where(
        ServiceResult.tenant_id == tenant_id, ServiceResult.year.in_(years))) if overlaps(r)]


def _check_stored(tenant_id: int, outcome: Outcome, labels: dict[str, str]) -> None:
    """A new period replaces what is stored within it; a stored period it covers only in part is refused
    (its dossiers could not be told apart from the new ones)."""
    problems = []
    first_row: dict[Period, int] = {}
    for row in outcome.rows:
        first_row.setdefault(row.period, row.number)
    stored_periods = {r.period for r in _stored_overlapping(tenant_id, list(first_row))}
    for stored in sorted(stored_periods):
        for period in first_row:
            if stored.overlaps(period) and not period.contains(stored):
                problems.append(RowError(first_row[period], labels.get("period", ""), str(_l(
                    "%(stored)s is already recorded and only partly within %(period)s: correct or remove it first",
                    stored=stored.label(), period=period.label()))))
    if problems:
        raise ImportRefused(sorted(problems, key=lambda e: (e.row, e.column)))


def store(tenant_id: int, outcome: Outcome, progress: Callable[[int, int], None] | None = None) -> Outcome:
    """Replace what the periods cover and write the rows (with their activity entries), in batches of
    IMPORT_BATCH, in the caller's transaction: committed once, by the caller."""
    replaced = _stored_overlapping(tenant_id, outcome.periods)
    outcome.replaced = len(replaced)
    outcome.replaced_periods = sorted({r.period.label() for r in replaced})
    for result in replaced:
        db.session.delete(result)
    db.session.flush()
    total = max(1, len(outcome.rows))
    for done, row in enumerate(outcome.rows, start=1):
        result = ServiceResult(tenant_id=tenant_id, field=row.field, procedure_code=row.procedure_code, **row.counts)
        result.period = row.period
        db.session.add(result)
        if done % IMPORT_BATCH == 0:
            db.session.flush()
            if progress:
                progress(total // 2 + done // 2, total)
    db.session.flush()
    outcome.stored = len(outcome.rows)
    return outcome


def import_service_results(tenant_id: int, data: bytes, extension: str, mapping: dict[str, int] | None = None,
                           progress: Callable[[int, int], None] | None = None, period: Period | None = None,
                           dry_run: bool = False) -> Outcome:
    """Read, check and (unless *dry_run*) store a one-stop report: every row valid, or ImportRefused
    and nothing written. *mapping* as the user confirmed it (detected when None); *period* as typed
    (else from a period column, else from the title)."""
    rows = read_sheet(data, extension)
    outcome = plan(tenant_id, rows, mapping, period)
    if progress:
        progress(1, 2)
    if dry_run:  # what it would replace and store, nothing written
        replaced = _stored_overlapping(tenant_id, outcome.periods)
        outcome.replaced, outcome.stored = len(replaced), len(outcome.rows)
        outcome.replaced_periods = sorted({r.period.label() for r in replaced})
        return outcome
    return store(tenant_id, outcome, progress)


def save_result(tenant_id: int, result: ServiceResult | None, period: Period, data: dict) -> ServiceResult | str:
    """One period's figures typed in the form; the message when another stored period overlaps it."""
    for stored in _stored_overlapping(tenant_id, [period]):
        if result is not None and stored.id == result.id:
            continue
        same = stored.period == period and stored.procedure_code == data.get("procedure_code", "") \
            and stored.field == data.get("field", "")
        if same:
            return str(_l("This period is already recorded; edit it instead."))
        if stored.period != period:
            return str(_l("%(stored)s is already recorded and overlaps %(period)s: a dossier is counted in one period "
                          "only.", stored=stored.period.label(), period=period.label()))
    target = result or ServiceResult(tenant_id=tenant_id)
    target.period = period
    return save_record(target, data)


def results_of_year(tenant_id: int, year: int):
    """The totals of each reporting period of the year (all fields and procedures together), with the
    period: one query."""
    rows = db.session.execute(
        select(ServiceResult.first_month, ServiceResult.last_month, func.min(ServiceResult.period_start),
               func.max(ServiceResult.period_end), func.sum(ServiceResult.received),
               func.sum(ServiceResult.resolved_early), func.sum(ServiceResult.resolved_on_time),
               func.sum(ServiceResult.resolved_late), func.sum(ServiceResult.pending), func.count())
        .where(ServiceResult.tenant_id == tenant_id, ServiceResult.year == year)
        .group_by(ServiceResult.first_month, ServiceResult.last_month)
        .order_by(ServiceResult.first_month, ServiceResult.last_month)).all()
    return [(Period(year, first, last, start, end), *figures) for first, last, start, end, *figures in rows]


def results_page(tenant_id: int, args: dict, per_page: int = 50):
    """A page of the stored results as reported, by period then field and procedure (the agency as a whole
    first): those of ``args["year"]``, of one ``field`` or ``procedure_code`` when given."""
    query = select(ServiceResult).where(ServiceResult.tenant_id == tenant_id, ServiceResult.year == args["year"])
    if args.get("field") is not None:
        query = query.where(ServiceResult.field == args["field"])
    if args.get("procedure_code") is not None:
        query = query.where(ServiceResult.procedure_code == args["procedure_code"])
    return page_of(query.order_by(ServiceResult.first_month, ServiceResult.last_month, ServiceResult.field,
                                  ServiceResult.procedure_code, ServiceResult.id), args, per_page=per_page)


@dataclass(frozen=True)
class FieldFigures:
    """A field's dossiers over the year, and the procedures of the agency's catalogue in that field."""

    field: str
    received: int
    early: int
    on_time: int
    late: int
    pending: int
    procedures_reported: int
    procedures_in_catalogue: int

    @property
    def on_time_rate(self) -> float | None:
        return on_time_rate(self.early, self.on_time, self.late)


def fields_of_year(tenant_id: int, year: int) -> list[FieldFigures]:
    """The agency's fields (lĩnh vực): those its reports named this year and those of its procedures
    catalogue, with the year's dossiers of each (two queries). Results for the agency as a whole have
    no field and are not listed here."""
    reported = {field: figures for field, *figures in db.session.execute(
        select(ServiceResult.field, func.sum(ServiceResult.received), func.sum(ServiceResult.resolved_early),
               func.sum(ServiceResult.resolved_on_time), func.sum(ServiceResult.resolved_late),
               func.sum(ServiceResult.pending),
               func.count(func.distinct(func.nullif(ServiceResult.procedure_code, ""))))
        .where(ServiceResult.tenant_id == tenant_id, ServiceResult.year == year, ServiceResult.field != "")
        .group_by(ServiceResult.field))}
    catalogue = dict(db.session.execute(
        select(AdminProcedure.field, func.count()).where(AdminProcedure.tenant_id == tenant_id,
                                                         AdminProcedure.archived_at.is_(None),
                                                         AdminProcedure.field != "")
        .group_by(AdminProcedure.field)).all())
    out = []
    for name in sorted(set(reported) | set(catalogue), key=sort_key):
        figures = [int(n or 0) for n in reported.get(name, [0] * 6)]
        out.append(FieldFigures(name, *figures, catalogue.get(name, 0)))
    return out


def surveys_of_year(tenant_id: int, year: int) -> list[SatisfactionSurvey]:
    return list(db.session.scalars(select(SatisfactionSurvey).where(
        SatisfactionSurvey.tenant_id == tenant_id, SatisfactionSurvey.year == year).order_by(SatisfactionSurvey.month)))


def save_survey(tenant_id: int, survey: SatisfactionSurvey | None, year: int, month: int,
                data: dict) -> SatisfactionSurvey | str:
    """One month's survey typed in the form; the message when the month is already recorded."""
    clash = db.session.scalar(select(SatisfactionSurvey.id).where(
        SatisfactionSurvey.tenant_id == tenant_id, SatisfactionSurvey.year == year, SatisfactionSurvey.month == month))
    if clash is not None and (survey is None or clash != survey.id):
        return str(_l("This month is already recorded; edit it instead."))
    target = survey or SatisfactionSurvey(tenant_id=tenant_id)
    target.year, target.month = year, month
    return save_record(target, data)
