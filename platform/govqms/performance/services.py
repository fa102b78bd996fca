"""Service results and satisfaction: entry, the monthly listing, and the import from one-stop-shop exports.

The rates and totals shown elsewhere (dashboard, export, review, oversight) come from
``govqms.objectives.valuation``.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any, Callable

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from govqms.core.imports import ImportRefused, RowError, cells, header_labels, map_columns, read_table
from govqms.documents.services import today
from govqms.extensions import db
from govqms.performance.columns import HEADERS
from govqms.performance.models import ServiceResult

#: The fields of an import, as the interface names them.
FIELDS = {
    "period": _l("Month (mm/yyyy)"),
    "procedure_code": _l("Procedure code"),
    "received": _l("Received"),
    "resolved_early": _l("Resolved early"),
    "resolved_on_time": _l("Resolved on time"),
    "resolved_late": _l("Resolved late"),
    "pending": _l("Pending"),
}
REQUIRED = ("period", "received", "resolved_early", "resolved_on_time", "resolved_late", "pending")
NUMBERS = ("received", "resolved_early", "resolved_on_time", "resolved_late", "pending")
_PERIOD = re.compile(r"^\s*(?:(\d{1,2})\s*[/.-]\s*(\d{4})|(\d{4})\s*[/.-]\s*(\d{1,2}))\s*$")


def parse_period(value: Any) -> tuple[int, int] | None:
    """``03/2025``, ``3-2025``, ``2025-03`` or a spreadsheet date → (year, month); None if unknown."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.year, value.month
    match = _PERIOD.match(str(value or ""))
    if not match:
        return None
    month, year = (match.group(1), match.group(2)) if match.group(1) else (match.group(4), match.group(3))
    year, month = int(year), int(month)
    return (year, month) if 1 <= month <= 12 and 2000 <= year else None


def _count(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = str(value).strip().replace(".", "").replace(",", "") if value is not None else ""
    return int(text) if re.fullmatch(r"-?\d+", text) else None


def guess_mapping(header: list[Any]) -> dict[str, int]:
    mapping, _ = map_columns(header, HEADERS, required=())
    return mapping


def import_service_results(tenant_id: int, data: bytes, extension: str, mapping: dict[str, int],
                           progress: Callable[[int, int], None] | None = None) -> tuple[int, int]:
    """Validate every row, then create or update (all or nothing). Returns (created, updated)."""
    rows = read_table(data, extension)
    labels = header_labels(rows[0] if rows else [], mapping, FIELDS)
    errors = [RowError(1, labels[f], str(_l("no column chosen for this field"))) for f in REQUIRED if f not in mapping]
    if errors:
        raise ImportRefused(errors)
    now = today()
    good, seen = [], {}
    total = max(1, len(rows) - 1)
    for number, raw in cells(rows, mapping):
        row_errors = []
        period = parse_period(raw.get("period"))
        if period is None:
            row_errors.append(RowError(number, labels["period"], str(_l("unknown period %(value)s (use mm/yyyy)",
                                                                        value=raw.get("period")))))
        elif (period[0], period[1]) > (now.year, now.month):
            row_errors.append(RowError(number, labels["period"], str(_l("a period in the future"))))
        counts = {}
        for field in NUMBERS:
            value = _count(raw.get(field))
            if value is None:
                row_errors.append(RowError(number, labels[field], str(_l("not a whole number"))))
            elif value < 0:
                row_errors.append(RowError(number, labels[field], str(_l("negative number"))))
            else:
                counts[field] = value
        if len(counts) == len(NUMBERS):
            parts = counts["resolved_early"] + counts["resolved_on_time"] + counts["resolved_late"] + counts["pending"]
            if parts != counts["received"]:
                row_errors.append(RowError(number, labels["received"], str(_l(
                    "totals do not add up: early + on time + late + pending = %(parts)s, received %(received)s",
                    parts=parts, received=counts["received"]))))
        code = str(raw.get("procedure_code") or "").strip()[:64]
        if period and not row_errors:
            key = (period[0], period[1], code)
            if key in seen:
                row_errors.append(RowError(number, labels["period"], str(_l("same period and procedure as row %(row)s",
                                                                            row=seen[key]))))
            seen.setdefault(key, number)
        errors.extend(row_errors)
        if not row_errors:
            good.append((period, code, counts))
        if progress and number % 1000 == 0:
            progress(number // 2, total)  # validating is the first half of the work
    if errors:
        raise ImportRefused(errors)
    existing = {(r.year, r.month, r.procedure_code): r for r in db.session.scalars(
        select(ServiceResult).where(ServiceResult.tenant_id == tenant_id))}
    created = updated = 0
    for done, ((year, month), code, counts) in enumerate(good, start=1):
        result = existing.get((year, month, code))
        if result is None:
            result = ServiceResult(tenant_id=tenant_id, year=year, month=month, procedure_code=code)
            db.session.add(result)
            created += 1
        else:
            updated += 1
        for field, value in counts.items():
            setattr(result, field, value)
        if done % 1000 == 0:
            db.session.flush()
            if progress:
                progress(total // 2 + done // 2, total)
    db.session.flush()
    return created, updated


def results_of_year(tenant_id: int, year: int):
    """Month totals of the year (all procedures together): one query."""
    return db.session.execute(
        select(ServiceResult.month, func.sum(ServiceResult.received), func.sum(ServiceResult.resolved_early),
               func.sum(ServiceResult.resolved_on_time), func.sum(ServiceResult.resolved_late),
               func.sum(ServiceResult.pending), func.count())
        .where(ServiceResult.tenant_id == tenant_id, ServiceResult.year == year)
        .group_by(ServiceResult.month).order_by(ServiceResult.month)).all()
