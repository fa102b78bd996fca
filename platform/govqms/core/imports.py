"""Tabular imports (CSV, XLSX): read, map the columns, validate every row, report every error.

An import is all-or-nothing: rows are validated first, and if any row is wrong nothing is
written and the report lists each problem with its row number (as the spreadsheet shows it)
and column. A cell's text loses the invisible control characters a pasted text carries; one
holding a NUL character (which the database cannot store) is a problem of its row.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError

from govqms.core import layout
from govqms.core.errors import Refused
from govqms.core.schemas import PASTED_BREAKS, PASTED_CONTROLS
from govqms.core.text import fold

UNSTORABLE = _l("This text contains a character that cannot be stored.")


@dataclass(frozen=True)
class RowError:
    row: int          # 1-based, header included, as in the spreadsheet
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


def clean_cell(value: Any) -> Any:
    """A cell's text without the control characters a pasted text carries (its line and page breaks
    become line ends); a NUL stays, for :func:`unstorable` to report. Other values unchanged."""
    if isinstance(value, str):
        return PASTED_CONTROLS.sub("", PASTED_BREAKS.sub("\n", value))
    return value


def unstorable(number: int, values: dict[str, Any], labels: dict[str, str]) -> list[RowError]:
    """The problems of row *number* whose cells (field: value) hold text the database cannot store."""
    return [RowError(number, str(labels.get(name, name)), str(UNSTORABLE)) for name, value in values.items()
            if isinstance(value, str) and "\x00" in value]


class ImportRefused(Refused):
    def __init__(self, errors: list[RowError]):
        super().__init__(f"{len(errors)} error(s)")
        self.errors = errors


def read_table(data: bytes, extension: str) -> list[list[Any]]:
    """All rows of the first sheet (XLSX) or of the file (CSV, UTF-8, comma, semicolon or tab), read
    within the limits of ``core.spreadsheets`` (refused before a bomb is expanded)."""
    from govqms.core.spreadsheets import read_rows  # it imports this module's errors

    return read_rows(data, extension)


def delimiter_of(text: str) -> str:
    """The separator of a CSV: of comma, semicolon and tab, the one a line of the first fifty uses most
    (a title line above the table has none, which confuses a sniffer that wants every line alike)."""
    lines = text[:65536].splitlines()[:50]
    return max(",;\t", key=lambda d: (max((line.count(d) for line in lines), default=0), d == ","))


def header_labels(header: list[Any], mapping: dict[str, int], fallback: dict[str, str]) -> dict[str, str]:
    """Each field named as the file's own header row names it (what the user sees in the spreadsheet)."""
    return {field: (str(header[index]) if index < len(header) and header[index] not in (None, "")
                    else str(fallback.get(field, field)))
            for field, index in mapping.items()} | {f: str(v) for f, v in fallback.items() if f not in mapping}


def map_columns(header: list[Any], aliases: dict[str, tuple[str, ...]], required: tuple[str, ...],
                labels: dict[str, str] | None = None):
    """Which column holds which field, by header name (Vietnamese or English, any accents)."""
    folded = [fold(str(h)) if h is not None else "" for h in header]
    mapping, errors = {}, []
    for field, names in aliases.items():
        wanted = {fold(n) for n in (field, *names)}
        for index, name in enumerate(folded):
            if name in wanted:
                mapping[field] = index
                break
    for field in required:
        if field not in mapping:
            name = (labels or {}).get(field) or (aliases[field][0] if aliases[field] else field)
            errors.append(RowError(1, str(name), str(_l("column missing from the header row"))))
    return mapping, errors


@dataclass(frozen=True)
class Table:
    """Where a file's table is: which column holds which field, the header row(s) and the first
    data row (found below any title block, as government forms have it)."""

    mapping: dict[str, int]
    header: list[Any]       # the header as the file names its columns (labels of merged rows joined)
    start: int              # index of the first data row
    key: str | None = None  # a field every data row has: a row without it may end the table


def locate(rows: list[list[Any]], aliases: dict[str, tuple[str, ...]], required: tuple[str, ...],
           labels: dict[str, str] | None = None) -> tuple[Table, list[RowError]]:
    """The table of *rows*: its header found among the first rows (``core.layout``), its columns by
    header name (Vietnamese or English, any accents); the first row is taken when none matches, so
    the errors name the columns missing from it."""
    wanted = {field: {fold(n) for n in (field, *names)} for field, names in aliases.items()}

    def match(parts: list[str]) -> str | None:
        for field, names in wanted.items():
            if parts[-1] in names or " / ".join(parts) in names:
                return field
        return None

    found = layout.detect(rows, match, required)
    if found is not None and all(field in found.mapping for field in required):
        return Table(found.mapping, found.labels, found.data_start, required[0] if required else None), []
    mapping, errors = map_columns(rows[0] if rows else [], aliases, required, labels)
    return Table(mapping, rows[0] if rows else [], 1, required[0] if required else None), errors


def cells(rows: list[list[Any]], mapping: dict[str, int], start: int = 1, key: str | None = None):
    """Each data row as ``(row number, {field: raw value})``, numbered as the spreadsheet numbers it;
    blank lines are skipped. With *key*, a row without that field is skipped when it is a total row,
    and ends the table when it is a line of the signature block under it."""
    for index in range(start, len(rows)):
        row = rows[index]
        if all(cell in (None, "") for cell in row):
            continue  # blank lines in a spreadsheet are not data
        values = {field: (row[i] if i < len(row) else None) for field, i in mapping.items()}
        values = {k: (clean_cell(v).strip() if isinstance(v, str) else v) for k, v in values.items()}
        if key is not None and values.get(key) in (None, ""):
            if layout.is_signature(row):
                return
            if layout.is_total(row):
                continue
        yield index + 1, values


def validate_rows(rows: list[list[Any]], mapping: dict[str, int], schema: Schema,
                  labels: dict[str, str], start: int = 1,
                  key: str | None = None) -> tuple[list[tuple[int, dict]], list[RowError]]:
    """Load every data row through *schema*; return the good rows with their numbers, and errors."""
    good, errors = [], []
    for number, values in cells(rows, mapping, start, key):
        if problems := unstorable(number, values, labels):
            errors.extend(problems)
            continue
        try:
            good.append((number, schema.load({k: v for k, v in values.items() if v not in (None, "")})))
        except ValidationError as err:
            for field, messages in err.messages.items():
                message = messages[0] if isinstance(messages, list) else messages
                errors.append(RowError(number, labels.get(field, field), str(message)))
    return good, errors
