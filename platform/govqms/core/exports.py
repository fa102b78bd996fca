"""Spreadsheet exports that cannot run what a user typed (CSV/formula injection, OWASP).

A title, a name or a note is typed by one user and opened by another in Excel or LibreOffice. Text
that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by a spreadsheet as a
formula: ``=HYPERLINK("http://…","Open")`` in a document title became a live link in the register.

- XLSX has types, so the text stays exactly as typed: openpyxl turns any ``str`` that begins with
  ``=`` into a formula cell, so such a value is written as a string cell instead, with Excel's own
  "quote prefix" mark, so that editing the cell in Excel or LibreOffice does not turn it into a
  formula either. Reading the workbook back gives the original text.
- CSV has no types: whatever the cell holds, Excel parses it on opening. The text is neutralised
  the way OWASP recommends, with a single quote in front (``'=HYPERLINK(…)``); a reader of the CSV
  sees that quote, which is the accepted price.

Only ``str`` values are touched: numbers (negative ones too), dates and ``None`` pass unchanged.
"""
from __future__ import annotations

from collections.abc import Iterable

from openpyxl.cell import Cell
from openpyxl.worksheet.worksheet import Worksheet

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def formula_like(value: object) -> bool:
    """Whether a spreadsheet would read *value* as the start of a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def text_cell(sheet: Worksheet, text: str) -> Cell:
    """A string cell holding *text* unchanged, even if it looks like a formula."""
    cell = Cell(sheet, value=text)
    cell.data_type = "s"  # openpyxl typed a leading "=" as a formula when binding the value
    cell.quotePrefix = True
    return cell


def append_row(sheet: Worksheet, values: Iterable) -> None:
    """``sheet.append(values)``, with every formula-like text kept as text."""
    sheet.append([text_cell(sheet, value) if formula_like(value) else value for value in values])


def csv_value(value: object) -> object:
    """*value* for a CSV cell: formula-like text behind a single quote, anything else unchanged."""
    return "'" + value if formula_like(value) else value


def csv_row(values: Iterable) -> list:
    """A row for ``csv.writer.writerow`` with every formula-like text neutralised."""
    return [csv_value(value) for value in values]
